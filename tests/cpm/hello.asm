; hello: BDOS 9 print string, BDOS 2 console output, return by RET (warm boot).
        org 100h
        ld de,msg
        ld c,9
        call bdos
        ld e,'!'
        ld c,2
        call bdos
        ld e,13
        ld c,2
        call bdos
        ld e,10
        ld c,2
        call bdos
        ret
msg:    db 'Hello, CP/M$'

        include "lib.asm"       ; helpers shared by the test programs
