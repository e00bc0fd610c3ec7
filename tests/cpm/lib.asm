; lib.asm: helpers included at the end of every test program (after its own code).
; Each helper keeps BC, DE and HL as they were (the BDOS may change them).
bdos    equ 0005h
fcb1    equ 005Ch
fcb2    equ 006Ch
tbuf    equ 0080h

; call BDOS function C with DE, keeping BC DE HL; result in A
sys:    push bc
        push de
        push hl
        call bdos
        pop hl
        pop de
        pop bc
        ret

; putc: print the character in A
putc:   push af
        push de
        push bc
        ld e,a
        ld c,2
        call sys
        pop bc
        pop de
        pop af
        ret

; puts: print the '$'-terminated string at DE
puts:   push bc
        ld c,9
        call sys
        pop bc
        ret

; crlf: print CR LF
crlf:   push af
        ld a,13
        call putc
        ld a,10
        call putc
        pop af
        ret

; space: print one blank
space:  push af
        ld a,' '
        call putc
        pop af
        ret

; hex8: print A as two hex digits
hex8:   push af
        rrca
        rrca
        rrca
        rrca
        call hexdig
        pop af
        push af
        call hexdig
        pop af
        ret
hexdig: and 0Fh
        add a,'0'
        cp '9'+1
        jr c,hexout
        add a,7
hexout: jp putc

; hex16: print HL as four hex digits
hex16:  push af
        ld a,h
        call hex8
        ld a,l
        call hex8
        pop af
        ret

; label: print the string at DE, then A in hex, then a blank ("open=00 ")
label:  push af
        call puts
        pop af
        call hex8
        jp space

; dump: print B bytes from HL in hex, separated by blanks
dump:   push af
        push bc
        push hl
dumpl:  ld a,(hl)
        call hex8
        call space
        inc hl
        djnz dumpl
        pop hl
        pop bc
        pop af
        ret

; clrfcb: zero the 36-byte FCB at HL (keeps HL)
clrfcb: push bc
        push hl
        ld b,36
clrl:   ld (hl),0
        inc hl
        djnz clrl
        pop hl
        pop bc
        ret

; setname: copy 12 bytes (drive + 8.3 name) from DE into the FCB at HL, zeroing the rest
setname: push bc
        push de
        push hl
        call clrfcb
        ex de,hl
        ld bc,12
        ldir
        pop hl
        pop de
        pop bc
        ret

; fillbuf: fill the 128 bytes at tbuf with A
fillbuf: push bc
        push hl
        ld hl,tbuf
        ld b,128
filll:  ld (hl),a
        inc hl
        djnz filll
        pop hl
        pop bc
        ret

; pname: print the 11-byte name at HL as NAME.TYP (attribute bits stripped)
pname:  push bc
        push hl
        ld b,8
pnl1:   ld a,(hl)
        and 7Fh
        cp ' '
        call nz,putc
        inc hl
        djnz pnl1
        ld a,'.'
        call putc
        ld b,3
pnl2:   ld a,(hl)
        and 7Fh
        cp ' '
        call nz,putc
        inc hl
        djnz pnl2
        pop hl
        pop bc
        ret

; fcbcall: call BDOS function C with DE = the FCB at 'fcb', print "<string at HL>=A "
fcbcall: push de
        ld de,fcb
        call sys
        ex de,hl
        call label
        ex de,hl
        pop de
        ret

; fcb: a scratch FCB for the programs
fcb:    ds 36
