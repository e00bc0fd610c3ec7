; bios: the page-zero vectors and BIOS entries called directly through the
; jump table whose WBOOT address is at 0001h; ends with JP 0 (warm boot).
; Piped input: "q".
        org 100h
        ld hl,(6)
        ld de,m_bdos
        call puts
        call hex16              ; BDOS entry = top of the TPA
        call space
        ld hl,(1)
        ld de,m_wboot
        call puts
        call hex16
        call crlf
        ld c,'X'
        ld a,4
        call bios               ; CONOUT
        call crlf
        ld a,2
        call bios               ; CONST: piped, no key waiting
        ld de,m_const
        call label
        ld c,0
        ld a,9
        call bios               ; SELDSK A: -> its DPH
        ld de,m_dph
        call puts
        call hex16
        call space
        ld e,(hl)               ; the DPH's DPB pointer (offset 10) matches BDOS 31
        ld bc,10
        add hl,bc
        ld e,(hl)
        inc hl
        ld d,(hl)
        ex de,hl
        ld de,m_dpb
        call puts
        call hex16
        call space
        ld c,5
        ld a,9
        call bios               ; SELDSK F: -> 0000 (not mounted)
        ld de,m_dph
        call puts
        call hex16
        call crlf
        ld bc,7
        ld a,16
        call bios               ; SECTRAN: no skew
        ld de,m_tran
        call puts
        call hex16
        call space
        ld a,15
        call bios               ; LISTST
        ld de,m_list
        call label
        ld a,7
        call bios               ; READER
        ld de,m_rdr
        call label
        ld a,3
        call bios               ; CONIN (no echo)
        ld de,m_conin
        call label
        call crlf
        jp 0

; bios: call BIOS entry number A (0 = BOOT) with BC as its argument
bios:   push bc
        ld hl,(1)               ; address of the WBOOT entry (number 1)
        dec hl
        dec hl
        dec hl
        ld b,a
        add a,a
        add a,b                 ; 3 bytes per entry
        ld c,a
        ld b,0
        add hl,bc
        pop bc
        jp (hl)

m_bdos: db 'bdos=$'
m_wboot: db 'wboot=$'
m_const: db 'const=$'
m_dph:  db 'dph=$'
m_dpb:  db 'dpb=$'
m_tran: db 'sectran=$'
m_list: db 'listst=$'
m_rdr:  db 'reader=$'
m_conin: db 'conin=$'

        include "lib.asm"       ; helpers shared by the test programs
