; files: sequential and random file I/O, rename, delete, search (BDOS 15..23, 33..36).
; The test creates PART.TXT (130 bytes of 'x'), ALPHA.DAT and beta.dat beforehand.
        org 100h
        ld hl,fcb
        ld de,n_test
        call setname
        ld c,19
        ld hl,m_del
        call fcbcall            ; del=FF: TEST.DAT does not exist yet
        ld c,22
        ld hl,m_make
        call fcbcall            ; make=00
        ld a,'A'
        call wrec
        ld a,'B'
        call wrec
        ld a,'C'
        call wrec
        ld c,16
        ld hl,m_close
        call fcbcall
        call crlf
; read the three records back, then one more (EOF = 01)
        ld hl,fcb
        ld de,n_test
        call setname
        ld c,15
        ld hl,m_open
        call fcbcall
        ld a,(fcb+15)
        ld de,m_rc
        call label
        ld b,4
rdl:    call rrec
        djnz rdl
        call crlf
; file size and random reads
        ld c,35
        ld hl,m_size
        call fcbcall
        ld hl,fcb+33
        ld b,3
        call dump
        call crlf
        ld hl,1
        call rread              ; record 1: 'B'
        call rrec               ; sequential after random re-reads record 1: 'B'
        call rrec               ; then record 2: 'C'
        ld hl,3
        call rread              ; 01: unwritten data in the last extent
        ld hl,200
        call rread              ; 04: extent 1 was never written
        ld a,1
        ld (fcb+35),a
        ld c,33
        ld hl,m_rr
        call fcbcall            ; 06: r2 set, past the end of the disk
        xor a
        ld (fcb+35),a
        call crlf
; random write at record 10 leaves a zero-filled gap
        ld a,'Z'
        call fillbuf
        ld hl,10
        ld (fcb+33),hl
        ld c,34
        ld hl,m_rw
        call fcbcall
        ld c,36
        ld hl,m_setr
        call fcbcall
        ld a,(fcb+33)
        call hex8
        call space
        ld c,35
        ld hl,m_size
        call fcbcall
        ld hl,fcb+33
        ld b,3
        call dump
        ld hl,5
        call rread              ; 00, zeros
        ld hl,10
        call rread              ; 00, 'Z'
        ld c,16
        ld hl,m_close
        call fcbcall
        call crlf
; a 130-byte host file reads as two records, the second padded with 1Ah
        ld hl,fcb
        ld de,n_part
        call setname
        ld c,15
        ld hl,m_open
        call fcbcall
        ld a,(fcb+15)
        ld de,m_rc
        call label
        call rrec
        call rrec
        ld a,(tbuf+1)
        call hex8
        ld a,(tbuf+2)
        call hex8
        ld a,(tbuf+127)
        call hex8
        call space
        call rrec               ; 01: end of file
        call crlf
; rename TEST.DAT to NEW.DAT; renaming onto an existing name is refused
        ld hl,fcb
        ld de,n_test
        call setname
        ld hl,n_new
        ld de,fcb+16
        ld bc,12
        ldir
        ld c,23
        ld hl,m_ren
        call fcbcall            ; 00
        ld hl,fcb
        ld de,n_test
        call setname
        ld c,15
        ld hl,m_open
        call fcbcall            ; FF: the old name is gone
        ld hl,fcb
        ld de,n_new
        call setname
        ld hl,n_alpha
        ld de,fcb+16
        ld bc,12
        ldir
        ld c,23
        ld hl,m_ren
        call fcbcall            ; FF: ALPHA.DAT exists
        call crlf
; search for ????????.DAT: every match, in directory order
        ld hl,fcb
        ld de,n_wild
        call setname
        ld c,17
srch:   ld de,fcb
        call sys
        cp 0FFh
        jr z,sdone
        push af
        call hex8
        call space
        pop af
        add a,a
        add a,a
        add a,a
        add a,a
        add a,a
        ld l,a
        ld h,0
        ld de,tbuf+1
        add hl,de
        call pname
        call space
        ld c,18
        jr srch
sdone:  call crlf
; delete ALPHA.DAT twice: 00 then FF (NEW.DAT stays for the test to inspect)
        ld hl,fcb
        ld de,n_alpha
        call setname
        ld c,19
        ld hl,m_del
        call fcbcall
        ld c,19
        ld hl,m_del
        call fcbcall
        call crlf
        ld c,0
        jp bdos

; wrec: write one record filled with A, print "w=XX "
wrec:   call fillbuf
        ld c,21
        ld hl,m_w
        jp fcbcall
; rrec: read one record, print "r=XX" and its first byte when the read worked
rrec:   push bc
        ld c,20
        ld hl,m_r
        call fcbcall
        or a
        jr nz,rrec1
        ld a,(tbuf)
        call hex8
        call space
rrec1:  pop bc
        ret
; rread: random read of record HL, print "rr=XX" and the first byte when it worked
rread:  ld (fcb+33),hl
        xor a
        ld (fcb+35),a
        ld c,33
        ld hl,m_rr
        call fcbcall
        or a
        ret nz
        ld a,(tbuf)
        call hex8
        jp space

n_test: db 0,'TEST    DAT'
n_new:  db 0,'NEW     DAT'
n_part: db 0,'PART    TXT'
n_alpha: db 0,'ALPHA   DAT'
n_wild: db 0,'????????DAT'
m_del:  db 'del=$'
m_make: db 'make=$'
m_close: db 'close=$'
m_open: db 'open=$'
m_rc:   db 'rc=$'
m_w:    db 'w=$'
m_r:    db 'r=$'
m_size: db 'size=$'
m_rr:   db 'rr=$'
m_rw:   db 'rw=$'
m_setr: db 'setr=$'
m_ren:  db 'ren=$'

        include "lib.asm"       ; helpers shared by the test programs
