; tail: print the command tail at 0080h and the default FCBs as CCP built them.
        org 100h
        ld hl,tbuf
        ld b,(hl)
        ld a,b
        ld de,m_len
        call label
        ld a,'['
        call putc
        inc hl
        ld a,b
        or a
        jr z,tdone
tloop:  ld a,(hl)
        call putc
        inc hl
        djnz tloop
tdone:  ld a,']'
        call putc
        call crlf
        ld de,m_f1
        call puts
        ld hl,fcb1
        ld b,16
        call dump
        call crlf
        ld de,m_f2
        call puts
        ld hl,fcb2
        ld b,16
        call dump
        call crlf
        ld c,0
        jp bdos
m_len:  db 'len=$'
m_f1:   db 'fcb1: $'
m_f2:   db 'fcb2: $'

        include "lib.asm"       ; helpers shared by the test programs
