; ask: read names with BDOS 10 and greet them until an empty line.
        org 100h
again:  ld de,m_ask
        call puts
        ld de,buf
        ld c,10
        call sys
        call crlf
        ld a,(buf+1)
        or a
        jr z,bye
        ld de,m_hello
        call puts
        ld hl,buf+1
        ld b,(hl)
        inc hl
greet:  ld a,(hl)
        call putc
        inc hl
        djnz greet
        ld a,'!'
        call putc
        call crlf
        jr again
bye:    ld de,m_bye
        call puts
        ld c,0
        jp bdos
m_ask:  db 'What is your name? $'
m_hello: db 'Hello, $'
m_bye:  db 'Bye.',13,10,'$'
buf:    db 40
        ds 42

        include "lib.asm"       ; helpers shared by the test programs
