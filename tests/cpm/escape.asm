; escape: a program trying to reach files outside its drive folder. Every
; attempt must fail (FFh) and nothing outside the folder may change.
; The test puts LINK.TXT (a symlink to a file outside) and FILE.TXT in A:.
        org 100h
        ld de,n_dots
        ld c,22
        ld hl,m_make
        call try                ; make "../ESCAPE.TXT"
        ld de,n_slash
        ld c,22
        ld hl,m_make
        call try                ; make "A/B.TXT"
        ld de,n_dots
        ld c,15
        ld hl,m_open
        call try
        ld de,n_link
        ld c,15
        ld hl,m_open
        call try                ; the symlink leads out: not a file of this drive
        ld de,n_link
        ld c,22
        ld hl,m_make
        call try                ; nor can it be created over
        ld de,n_link
        ld c,19
        ld hl,m_del
        call try
        ld de,n_drive
        ld c,22
        ld hl,m_make
        call try                ; E: is not mounted
        ld hl,fcb
        ld de,n_file
        call setname
        ld hl,n_dots
        ld de,fcb+16
        ld bc,12
        ldir
        ld c,23
        ld hl,m_ren
        call fcbcall            ; rename FILE.TXT to "../ESCAPE.TXT"
        call crlf
        ld c,0
        jp bdos

; try: set up 'fcb' from the name at DE, call BDOS C, print "<HL string>=A"
try:    push hl
        ld hl,fcb
        call setname
        pop hl
        jp fcbcall

n_dots: db 0,'../ESCAPTXT'
n_slash: db 0,'A/B     TXT'
n_link: db 0,'LINK    TXT'
n_drive: db 5,'NEW     TXT'
n_file: db 0,'FILE    TXT'
m_make: db 'make=$'
m_open: db 'open=$'
m_del:  db 'del=$'
m_ren:  db 'ren=$'

        include "lib.asm"       ; helpers shared by the test programs
