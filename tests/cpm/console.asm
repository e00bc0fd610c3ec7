; console: BDOS 1..12 with piped input "khello world long\ntwo\r\nz" then end of input.
        org 100h
        ld c,12
        call bdos               ; (not sys: it keeps HL)
        push hl
        ld de,m_ver
        call label              ; A = 22h
        pop hl
        call hex16              ; HL = 0022h
        call space
        ld c,7
        call sys
        ld de,m_iob
        call label
        ld e,0
        ld c,8
        call sys
        ld c,7
        call sys
        ld de,m_iob
        call label
        ld c,3
        call sys
        ld de,m_rdr
        call label              ; no reader: 1Ah
        ld e,'P'
        ld c,4
        call sys                ; punch: dropped
        ld e,'L'
        ld c,5
        call sys                ; list: dropped
        ld c,11
        call sys
        ld de,m_st
        call label              ; piped: no key waiting (00) although input remains
        call crlf
; BDOS 2 expands tabs to the next multiple of 8; BDOS 6 output does not
        ld e,'a'
        ld c,2
        call sys
        ld e,9
        ld c,2
        call sys
        ld e,'b'
        ld c,2
        call sys
        ld e,9
        ld c,6
        call sys
        ld e,'c'
        ld c,6
        call sys
        call crlf
; BDOS 1 reads and echoes one key
        ld de,m_key
        call puts
        ld c,1
        call sys
        call space
        call hex8
        call crlf
; BDOS 10 reads a line; a full buffer ends it
        ld de,m_line
        call puts
        ld de,buf
        ld c,10
        call sys
        call showbuf
        ld de,m_line
        call puts
        ld de,buf
        ld c,10
        call sys
        call showbuf
; BDOS 6 E=FFh: a byte if there is one, 00h at end of input (never blocks)
        ld e,0FFh
        ld c,6
        call sys
        ld de,m_d6
        call label
        ld e,0FFh
        ld c,6
        call sys
        ld de,m_d6
        call label
        call crlf
; waiting for a line at end of input ends the run cleanly
        ld de,m_last
        call puts
        ld de,buf
        ld c,10
        call sys
        ld de,m_never
        call puts
        ld c,0
        jp bdos

; showbuf: print " n=XX [text]" of the line buffer and CR LF
showbuf: ld a,(buf+1)
        ld de,m_n
        call label
        ld a,'['
        call putc
        ld a,(buf+1)
        or a
        jr z,shw2
        ld b,a
        ld hl,buf+2
shw1:   ld a,(hl)
        call putc
        inc hl
        djnz shw1
shw2:   ld a,']'
        call putc
        jp crlf

m_ver:  db 'ver=$'
m_iob:  db 'iobyte=$'
m_rdr:  db 'reader=$'
m_st:   db 'status=$'
m_key:  db 'key? $'
m_line: db 'line? $'
m_n:    db ' n=$'
m_d6:   db 'direct=$'
m_last: db 'last? $'
m_never: db 'not reached$'
buf:    db 10
        ds 12

        include "lib.asm"       ; helpers shared by the test programs
