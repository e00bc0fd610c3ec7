; bigfile: 300 records (37.5 KB, three 16 KB extents) written and read sequentially,
; extent/current-record fields across extents, opening a later extent, random access.
        org 100h
        ld hl,fcb
        ld de,n_big
        call setname
        ld c,22
        ld hl,m_make
        call fcbcall
        ld de,0                 ; DE = record number
wloop:  ld a,e
        call fillbuf
        ld a,d
        ld (tbuf+1),a           ; byte 1 holds the high byte of the record number
        push de
        ld de,fcb
        ld c,21
        call sys
        pop de
        or a
        jp nz,werr
        inc de
        ld a,d
        cp 1
        jr nz,wloop
        ld a,e
        cp 44                   ; 256 + 44 = 300 records
        jr nz,wloop
        ld de,m_ext
        ld a,(fcb+12)
        call label              ; ex=02 after writing record 299
        ld a,(fcb+32)
        ld de,m_cr
        call label              ; cr=2C
        ld c,16
        ld hl,m_close
        call fcbcall
        call crlf
; read everything back, checking each record's number
        ld hl,fcb
        ld de,n_big
        call setname
        ld c,15
        ld hl,m_open
        call fcbcall
        ld a,(fcb+15)
        ld de,m_rc
        call label              ; rc=80: the first extent is full
        ld de,0
rloop:  push de
        ld de,fcb
        ld c,20
        call sys
        pop de
        or a
        jr nz,rend
        ld a,(tbuf)
        cp e
        jp nz,rbad
        ld a,(tbuf+1)
        cp d
        jp nz,rbad
        inc de
        jr rloop
rend:   push de
        ld de,m_cnt
        call label              ; the read code at the end: 01
        pop hl
        call hex16              ; 012C records read
        call space
        ld a,(fcb+12)
        ld de,m_ext
        call label
        ld a,(fcb+32)
        ld de,m_cr
        call label
        call crlf
; random read of record 200: extent 1, current record 72 (48h)
        ld hl,200
        ld (fcb+33),hl
        ld c,33
        ld hl,m_rr
        call fcbcall
        ld a,(tbuf)
        call hex8
        call space
        ld a,(fcb+12)
        ld de,m_ext
        call label
        ld a,(fcb+32)
        ld de,m_cr
        call label
        ld a,(fcb+15)
        ld de,m_rc
        call label
        call crlf
; open extent 2 directly (44 records), extent 3 does not exist
        ld hl,fcb
        ld de,n_big
        call setname
        ld a,2
        ld (fcb+12),a
        ld c,15
        ld hl,m_open
        call fcbcall
        ld a,(fcb+15)
        ld de,m_rc
        call label
        ld a,3
        ld (fcb+12),a
        ld c,15
        ld hl,m_open
        call fcbcall
        ld c,35
        ld hl,m_size
        call fcbcall
        ld hl,(fcb+33)
        call hex16
        call crlf
        ld c,0
        jp bdos
rbad:   push de
        ld de,m_bad
        call puts
        pop hl
        call hex16
        call crlf
        ld c,0
        jp bdos
werr:   ld de,m_werr
        call label
        ld c,0
        jp bdos

n_big:  db 0,'BIG     DAT'
m_make: db 'make=$'
m_close: db 'close=$'
m_open: db 'open=$'
m_ext:  db 'ex=$'
m_cr:   db 'cr=$'
m_rc:   db 'rc=$'
m_cnt:  db 'end=$'
m_rr:   db 'rr=$'
m_size: db 'size=$'
m_bad:  db 'bad record $'
m_werr: db 'write error $'

        include "lib.asm"       ; helpers shared by the test programs
