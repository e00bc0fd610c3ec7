; type: print the text file named on the command line, like CCP's TYPE,
; stopping at the first ^Z (1Ah). Uses the default FCB at 005Ch.
        org 100h
        ld a,(fcb1+1)
        cp ' '
        jr z,usage
        xor a
        ld (fcb1+32),a          ; current record 0
        ld de,fcb1
        ld c,15
        call sys
        cp 0FFh
        jr z,nofile
next:   ld de,fcb1
        ld c,20
        call sys
        or a
        jr nz,done              ; end of file
        ld hl,tbuf
        ld b,128
char:   ld a,(hl)
        cp 1Ah
        jr z,done
        call putc
        inc hl
        djnz char
        jr next
done:   ld c,0
        jp bdos
nofile: ld de,m_nof
        call puts
        jr done
usage:  ld de,m_use
        call puts
        jr done
m_nof:  db 'No file',13,10,'$'
m_use:  db 'usage: TYPE FILE.TXT',13,10,'$'

        include "lib.asm"       ; helpers shared by the test programs
