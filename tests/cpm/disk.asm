; disk: BDOS 13, 14, 24..32, 37 (drives, vectors, DMA, DPB, allocation vector,
; attributes, user number). Run with A: and B: mounted, no C:.
        org 100h
        ld c,13
        call sys
        ld de,m_reset
        call label
        ld c,25
        call sys
        ld de,m_cur
        call label              ; A: = 00
        ld e,1
        ld c,14
        call sys
        ld de,m_sel
        call label              ; select B: = 00
        ld c,25
        call sys
        ld de,m_cur
        call label              ; 01
        ld e,2
        ld c,14
        call sys
        ld de,m_sel
        call label              ; C: is not mounted: FF
        ld c,24
        call bdos
        ld de,m_login
        call puts
        call hex16              ; A: and B: logged in: 0003
        call crlf
; the DPB: 64 records/track, 2 KB blocks, 2048 blocks, 1024 directory entries
        ld c,31
        call bdos
        ld de,m_dpb
        call puts
        ld b,15
        call dump
        call crlf
; the allocation vector: directory blocks and the blocks of B:'s 5000-byte file
        ld c,27
        call bdos
        ld de,m_alv
        call puts
        ld b,4
        call dump
        call crlf
; read-only vector: write-protect B: (making a file there is tried at the end)
        ld c,28
        call sys
        ld c,29
        call bdos
        ld de,m_ro
        call puts
        call hex16
        call space
        ld de,2                 ; reset drive B: clears its R/O bit
        ld c,37
        call sys
        ld c,29
        call bdos
        ld de,m_ro
        call puts
        call hex16
        call crlf
; user number
        ld e,0FFh
        ld c,32
        call sys
        ld de,m_user
        call label
        ld e,5
        ld c,32
        call sys
        ld e,0FFh
        ld c,32
        call sys
        ld de,m_user
        call label
        ld a,(4)
        ld de,m_drv
        call label              ; 0004h: user 5, drive B: = 51h
        call crlf
; file attributes: set SYS (t2') on B:FILE.TXT; search shows it in the directory entry
        ld hl,fcb
        ld de,n_file
        call setname
        ld a,(fcb+10)
        or 80h
        ld (fcb+10),a
        ld c,30
        ld hl,m_attr
        call fcbcall
        ld hl,fcb
        ld de,n_file
        call setname
        ld de,buf               ; DMA elsewhere than 0080h
        ld c,26
        call sys
        ld c,17
        ld hl,m_find
        call fcbcall
        add a,a
        add a,a
        add a,a
        add a,a
        add a,a
        ld l,a
        ld h,0
        ld de,buf+10
        add hl,de
        ld a,(hl)
        ld de,m_t2
        call label              ; D8h: 'X' (of TXT) with the attribute bit
        ld bc,5
        add hl,bc
        ld a,(hl)
        ld de,m_rc
        call label              ; 5000 bytes = 40 records = 28h
        call crlf
; write-protect B: again: making a file there is a BDOS error, "Bdos Err On B: R/O",
; and CP/M 2.2 warm-boots (nothing after this runs)
        ld c,28
        call sys
        ld de,m_make
        call puts
        ld hl,fcb
        ld de,n_new
        call setname
        ld de,fcb
        ld c,22
        call sys
        ld de,m_alive           ; not reached
        call puts
        ld c,0
        jp bdos

n_new:  db 2,'NEW     TXT'
n_file: db 2,'FILE    TXT'
m_reset: db 'reset=$'
m_cur:  db 'disk=$'
m_sel:  db 'select=$'
m_login: db 'login=$'
m_dpb:  db 'dpb: $'
m_alv:  db 'alv: $'
m_ro:   db 'ro=$'
m_make: db 'make=$'
m_alive: db ' still running$'
m_user: db 'user=$'
m_drv:  db 'drive/user=$'
m_attr: db 'attr=$'
m_find: db 'find=$'
m_t2:   db 't2=$'
m_rc:   db 'rc=$'
buf:    ds 128

        include "lib.asm"       ; helpers shared by the test programs
