; unknown: calls BDOS function 99, which CP/M 2.2 does not have.
        org 100h
        ld de,m_before
        call puts
        ld c,99
        call bdos
        ld de,m_after
        call label
        call crlf
        ld c,0
        jp bdos
m_before: db 'calling 99 $'
m_after: db 'returned=$'

        include "lib.asm"       ; helpers shared by the test programs
