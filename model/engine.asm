; engine.asm - the Z80 inference engine of a tinychat .COM (CP/M 2.2).
;
; Computes ../shared/spec/MODEL.md bit-exactly.  model/build.py puts a
; generated header (EQUs: sizes, flags, RAM addresses of the activation
; lists) in front of this file and the generated data (layer descriptors,
; weights, biases, charset, texts) behind it; the three parts are assembled
; as one source, so the listing shows everything.
;
; How it is fast (sums are modulo 2^16, so any order of additions is exact):
; - layer 1's query share (bias + query buckets) is computed once per query
;   into BASE; each step copies BASE and adds only the 21 context n-grams;
; - every layer works column by column over a list of its NONZERO inputs
;   (the previous layer's shift+ReLU pass writes that list), and each column
;   is either three index lists of row numbers (weights +1, -1, -2: zero
;   weights cost nothing) or 2-bit packed (dense, for big models);
; - accumulators live in two page-aligned tables, low bytes in page ACCLO,
;   high bytes in page ACCLO+1, so a row number is just the register E;
; - inputs below 256 (nearly all: ReLU outputs, the +32 context n-grams)
;   take an 8-bit add whose rare carry is propagated out of line;
; - a layer with R rows keeps row i at offset OFF+i, OFF = 256-R, so every
;   row loop ends when the 8-bit index wraps to zero.
;
; Self-modifying code: the shift count (a patched JR into a run of shifts)
; and the column routine (a patched CALL) are set once per layer.
;
; Template: `if NAME` / `endif` (flags GUESS, L1_SPARSE, L1_DENSE) and
; `rept N` / `endm` are expanded by model/build.py, so the generated source
; uses only org/equ/db/dw, labels and plain expressions (pasmo assembles it
; to the same bytes as our assembler).

BDOS    equ 0005h
TAIL    equ 0080h
CR      equ 0Dh
LF      equ 0Ah
MAXCHARS equ 50
LINEMAX equ 200

; ---- RAM above the program (the .COM ends at or below 0A100h) ----
ACCLO   equ 0A1h            ; page: accumulator low bytes (ACCLO+1: high)
BASELO  equ 0A3h            ; page: layer 1 query share (BASELO+1: high)
QXPAGE  equ 0A5h            ; page: query bucket sums, low 0..127, high 128..255
                            ; (zero between queries: tokenize clears what it used)
QBUF    equ 0A600h          ; padded query text
LINEBUF equ 0A700h          ; BDOS 10 buffer: max, len, text
CIN     equ 0A800h          ; context input list: 21 entries + end mark
CTX     equ 0A850h          ; the 8 context bytes
QIN     equ 0A900h          ; query input list: up to 128 entries + end mark
STACKTOP equ 0AB00h         ; stack grows down from here (into 0AA80h..)
VARS    equ 0AB00h
inptr   equ VARS+0          ; apply: next input list entry
curcol  equ VARS+2          ; apply: this layer's column pointer table
gcnt    equ VARS+4          ; gen_list: rows left
xval    equ VARS+5          ; sparse_col: input value (word)
dxp     equ VARS+7          ; dense_col: +x, -x, -2x (words)
dxm     equ VARS+9
dxm2    equ VARS+11
curoff  equ VARS+13         ; this layer's first row offset
curnb   equ VARS+14         ; dense: packed bytes per column
nchars  equ VARS+16         ; characters printed in this answer
layleft equ VARS+17         ; layers still to run in this step
amidx   equ VARS+18         ; argmax: offset of the best row
qnum    equ VARS+19         ; guess: question number
tailmode equ VARS+20        ; 1 when answering the command tail
curinoff equ VARS+21        ; row offset of this layer's inputs
qinend  equ VARS+22         ; tokenize: end of the list QIN so far
RESP    equ VARS+32         ; the answer so far (for the guess game)
ACTBASE equ 0AC00h          ; activation lists of the hidden layers (0400h each)

; layer descriptor fields (16 bytes each, table LAYERS, made by the builder)
D_COLPTR equ 0              ; sparse: column pointer table minus 2*input offset;
                            ; dense: the column data (column j at j*D_NB)
D_COLFN equ 2               ; sparse_col or dense_col
D_BLO   equ 4               ; bias low bytes (rows bytes)
D_BHI   equ 6               ; bias high bytes
D_OFF   equ 8               ; 256 - rows
D_SHIFT equ 9
D_RELU  equ 10              ; 1 hidden, 0 output layer
D_NB    equ 11              ; dense: bytes per column
D_OUT   equ 12              ; activation list this layer writes (hidden)
D_IN    equ 14              ; activation list this layer reads (layers 2..)
D_SIZE  equ 16
D_PREVOFF equ D_SIZE-D_OFF        ; back from a descriptor to the previous one's D_OFF

        org 0100h

start:
        ld sp,STACKTOP
        ld hl,(BDOS+1)          ; the BDOS entry is the top of free memory
        ld de,RAMTOP
        or a
        sbc hl,de
        jr nc,mem_ok
        ld hl,msg_nomem
        call puts
        jp exit
mem_ok:
        call init_cin
        xor a
        ld (qnum),a
        ld (tailmode),a
        ; a command tail with anything but spaces: answer it and exit
        ld hl,TAIL
        ld b,(hl)
        inc hl
        call skip_spaces
        ld a,b
        or a
        jr z,chat
        ld a,1
        ld (tailmode),a
        call answer
exit:
        ld c,0
        jp BDOS

; ---------------------------------------------------------------- chat mode
chat:
        ld hl,msg_banner
        call puts
prompt:
        if GUESS
        ld a,(qnum)
        inc a
        call putdec
        endif
        ld hl,msg_prompt
        call puts
        ld hl,LINEBUF
        ld (hl),LINEMAX
        ex de,hl
        ld c,10
        call BDOS
        ld e,LF                 ; BDOS 10 echoed a bare CR
        call putc
        ld hl,LINEBUF+1
        ld b,(hl)
        inc hl
        ld a,b
        or a
        jr z,prompt             ; empty line: ask again
        ld a,(hl)
        cp 1Ah                  ; Ctrl-Z ends the chat
        jr z,exit
        cp '!'
        jr nz,chat_ask
        ld a,b
        dec a
        jr z,exit               ; the line "!" ends the chat
chat_ask:
        if GUESS
        ld a,(qnum)
        inc a
        ld (qnum),a
        endif
        call answer
        if GUESS
        call guess_rules
        endif
        jr prompt

        if GUESS
; A WIN starts a new game; 20 questions without one reveal the object.
guess_rules:
        ld hl,RESP
        ld a,(nchars)
        ld b,a
gr_scan:
        ld a,b
        cp 3
        jr c,gr_nowin
        ld a,(hl)
        cp 'W'
        jr nz,gr_next
        inc hl
        ld a,(hl)
        dec hl
        cp 'I'
        jr nz,gr_next
        inc hl
        inc hl
        ld a,(hl)
        dec hl
        dec hl
        cp 'N'
        jr z,gr_newgame
gr_next:
        inc hl
        dec b
        jr gr_scan
gr_nowin:
        ld a,(qnum)
        cp 20
        ret c
        ld hl,msg_over
        call puts
        ld hl,msg_topic
        call puts
        ld hl,msg_crlf
        call puts
gr_newgame:
        xor a
        ld (qnum),a
        ret
        endif

; ---------------------------------------------------------------- one answer
; in: HL -> query text, B = its length (after leading spaces)
answer:
        call encode_query
        call layer1_base
        ld hl,CTX
        ld b,8
an_ctx:
        ld (hl),' '
        inc hl
        djnz an_ctx
        xor a
        ld (nchars),a
an_step:
        call step               ; A = class index
an_stepped:
        cp EOSIDX
        jr nc,an_done           ; EOS (or a class past the charset) ends it
        ld e,a
        ld d,0
        ld hl,CHARSET
        add hl,de
        ld a,(hl)
        push af
        ; remember it (guess game) and print it
        ld hl,nchars
        ld e,(hl)
        inc (hl)
        ld hl,RESP
        add hl,de
        ld (hl),a
        ld e,a
        call putc
        ; context: shift left, append the lower-cased character
        ld hl,CTX+1
        ld de,CTX
        ld bc,7
        ldir
        pop af
        cp 'A'
        jr c,an_lower
        cp 'Z'+1
        jr nc,an_lower
        add a,32
an_lower:
        ld (CTX+7),a
        ld a,(nchars)
        cp MAXCHARS
        jr c,an_step
an_done:
        ld hl,msg_crlf
        jp puts

; ---------------------------------------------------------------- tokenizer
; Skip leading spaces: in HL -> text, B = length; out the same, advanced.
skip_spaces:
        ld a,b
        or a
        ret z
        ld a,(hl)
        cp ' '
        ret nz
        inc hl
        dec b
        jr skip_spaces

; Query buckets (MODEL.md): " " + lower(text) + " ", trigram hash
; h = h*31 + c; only h & 127 is used, so 8-bit arithmetic is exact.
; in: HL -> text, B = length.  out: the list QIN of nonzero buckets.
encode_query:
tokenize:
        call skip_spaces
        ld de,QIN
        ld (qinend),de          ; QIN grows by one entry per bucket hit
        ld a,b
        or a
        jr z,eq_done            ; empty query: all inputs zero
        ld de,QBUF
        ld a,' '
        ld (de),a
        inc de
        push bc
eq_copy:
        ld a,(hl)
        cp 'A'
        jr c,eq_put
        cp 'Z'+1
        jr nc,eq_put
        add a,32
eq_put:
        ld (de),a
        inc hl
        inc de
        djnz eq_copy
        ld a,' '
        ld (de),a
        pop bc                  ; B = length = number of trigrams
        ld hl,QBUF
eq_tri:
        push bc
        ld a,(hl)
        inc hl
        push hl
        call m31
        inc hl
        call m31
        and 127
        ld l,a
        ld h,QXPAGE
        ld a,(hl)
        set 7,l
        or (hl)
        res 7,l
        jr nz,eq_seen           ; bucket already listed
        ex de,hl
        ld hl,(qinend)          ; list it: column = bucket
        ld (hl),e
        inc hl
        inc hl
        inc hl
        ld (qinend),hl
        ex de,hl
eq_seen:
        ld a,(hl)               ; bucket += 32
        add a,32
        ld (hl),a
        jr nc,eq_nc
        set 7,l
        inc (hl)
eq_nc:
        pop hl
        pop bc
        djnz eq_tri
        ld hl,QIN               ; copy the sums into the list, clear the buckets
eq_fill:
        ld de,(qinend)
        or a
        sbc hl,de
        add hl,de
        jr z,eq_done
        ld e,(hl)
        ld d,QXPAGE
        inc hl
        ld a,(de)
        ld (hl),a
        xor a
        ld (de),a
        set 7,e
        inc hl
        ld a,(de)
        ld (hl),a
        xor a
        ld (de),a
        inc hl
        jr eq_fill
eq_done:
        ld de,(qinend)
        jp end_list

; A = A*31 + (HL), modulo 256.  Uses C.
m31:
        ld c,a
        rrca
        rrca
        rrca
        and 0E0h                ; A*32
        sub c
        add a,(hl)
        ret

end_list:
        xor a                   ; end mark: an entry with value 0
        ld (de),a
        inc de
        ld (de),a
        inc de
        ld (de),a
        ret

; The 21 context n-grams of CTX as columns of the list CIN (whose +32
; values init_cin wrote once).  Only h & 127 matters, and h*31 + c
; modulo 128 depends only on h modulo 128, so the column byte itself
; (128 + (h & 127)) carries h from one character to the next.
; Start i has h = i*7, i.e. 217*i after the first multiply by 31.
context:
        ld hl,CTX
        ld a,(hl)               ; start 0
        or 128
        ld (CIN+0),a
        inc hl
        ld c,a
        rrca
        rrca
        rrca
        and 0E0h
        sub c
        add a,(hl)
        or 128
        ld (CIN+24),a
        inc hl
        ld c,a
        rrca
        rrca
        rrca
        and 0E0h
        sub c
        add a,(hl)
        or 128
        ld (CIN+45),a
        dec hl
        ld a,(hl)               ; start 1
        add a,217
        or 128
        ld (CIN+3),a
        inc hl
        ld c,a
        rrca
        rrca
        rrca
        and 0E0h
        sub c
        add a,(hl)
        or 128
        ld (CIN+27),a
        inc hl
        ld c,a
        rrca
        rrca
        rrca
        and 0E0h
        sub c
        add a,(hl)
        or 128
        ld (CIN+48),a
        dec hl
        ld a,(hl)               ; start 2
        add a,178
        or 128
        ld (CIN+6),a
        inc hl
        ld c,a
        rrca
        rrca
        rrca
        and 0E0h
        sub c
        add a,(hl)
        or 128
        ld (CIN+30),a
        inc hl
        ld c,a
        rrca
        rrca
        rrca
        and 0E0h
        sub c
        add a,(hl)
        or 128
        ld (CIN+51),a
        dec hl
        ld a,(hl)               ; start 3
        add a,139
        or 128
        ld (CIN+9),a
        inc hl
        ld c,a
        rrca
        rrca
        rrca
        and 0E0h
        sub c
        add a,(hl)
        or 128
        ld (CIN+33),a
        inc hl
        ld c,a
        rrca
        rrca
        rrca
        and 0E0h
        sub c
        add a,(hl)
        or 128
        ld (CIN+54),a
        dec hl
        ld a,(hl)               ; start 4
        add a,100
        or 128
        ld (CIN+12),a
        inc hl
        ld c,a
        rrca
        rrca
        rrca
        and 0E0h
        sub c
        add a,(hl)
        or 128
        ld (CIN+36),a
        inc hl
        ld c,a
        rrca
        rrca
        rrca
        and 0E0h
        sub c
        add a,(hl)
        or 128
        ld (CIN+57),a
        dec hl
        ld a,(hl)               ; start 5
        add a,61
        or 128
        ld (CIN+15),a
        inc hl
        ld c,a
        rrca
        rrca
        rrca
        and 0E0h
        sub c
        add a,(hl)
        or 128
        ld (CIN+39),a
        inc hl
        ld c,a
        rrca
        rrca
        rrca
        and 0E0h
        sub c
        add a,(hl)
        or 128
        ld (CIN+60),a
        dec hl
        ld a,(hl)               ; start 6
        add a,22
        or 128
        ld (CIN+18),a
        inc hl
        ld c,a
        rrca
        rrca
        rrca
        and 0E0h
        sub c
        add a,(hl)
        or 128
        ld (CIN+42),a
        ld a,(hl)               ; start 7
        add a,239
        or 128
        ld (CIN+21),a
        ret

; Once: clear the query buckets; the constant parts of CIN (x = +32 for
; each n-gram, end mark).
init_cin:
        ld hl,QXPAGE*256
        ld b,0
ic_clear:
        ld (hl),0
        inc l
        djnz ic_clear
        ld hl,CIN
        ld b,21
ic_loop:
        inc hl
        ld (hl),32
        inc hl
        ld (hl),0
        inc hl
        djnz ic_loop
        ex de,hl
        jp end_list

; ---------------------------------------------------------------- layers
; Layer 1's query share: BASE = bias1 + W1[:, query buckets] x.
layer1_base:
        ld ix,LAYERS
        call setup_layer
        call load_bias
        ld hl,QIN
        call apply
        ld a,(ix+D_OFF)
        ld l,a
        ld h,ACCLO
        ld e,a
        ld d,BASELO
        push af
        call copy_rows
        pop af
        ld l,a
        ld h,ACCLO+1
        ld e,a
        ld d,BASELO+1
        jp copy_rows

; One inference step: out A = the chosen class.
step:
        call context
layer1:
        ld ix,LAYERS
        call setup_layer
        ld a,(ix+D_OFF)
        ld l,a
        ld h,BASELO
        ld e,a
        ld d,ACCLO
        push af
        call copy_rows
        pop af
        ld l,a
        ld h,BASELO+1
        ld e,a
        ld d,ACCLO+1
        call copy_rows
        if L1_SPARSE
        call ctx_apply
        endif
        if L1_DENSE
        ld hl,CIN
        call apply
        endif
        ld a,NLAYERS
        ld (layleft),a
st_layer:
        ld hl,layleft
        dec (hl)
        jp z,argmax
        call shift_relu
        ld de,D_SIZE
        add ix,de
layer_n:
        call setup_layer
        call load_bias
        ld l,(ix+D_IN)
        ld h,(ix+D_IN+1)
        call apply
        jr st_layer

        if L1_SPARSE
; Layer 1's 21 context columns (sparse layout): x is always +32 (+64 for
; the -2 weights), so no list walking, no 16-bit paths.
ctx_apply:
        ld hl,CIN
        ld b,21
ca_loop:
        push bc
        ld a,(hl)               ; column 128 + bucket
        inc hl
        inc hl
        inc hl
        push hl
        ld l,a
        ld h,0
        add hl,hl
        ld de,(curcol)
        add hl,de
        ld a,(hl)
        inc hl
        ld h,(hl)
        ld l,a
        ld d,ACCLO
        ld c,32
        ld a,(hl)
        inc hl
        or a
        call nz,add_rows
        ld a,(hl)
        inc hl
        or a
        call nz,sub_rows
        ld a,(hl)
        inc hl
        ld c,64
        or a
        call nz,sub_rows
        pop hl
        pop bc
        djnz ca_loop
        ret
        endif

; Per-layer set-up from the descriptor at IX.
setup_layer:
        ld l,(ix+D_COLPTR)
        ld h,(ix+D_COLPTR+1)
        ld (curcol),hl
        ld l,(ix+D_COLFN)
        ld h,(ix+D_COLFN+1)
        ld (ap_call+1),hl
        ld a,(ix+D_OFF)
        ld (curoff),a
        ld a,(ix+D_NB)
        ld (curnb),a
        ld a,(ix-D_PREVOFF)     ; the previous layer's D_OFF (0 before layer 1)
        ld (curinoff),a
        ld a,15                 ; skip 15-shift of the 15 shift pairs
        sub (ix+D_SHIFT)
        add a,a
        add a,a
        ld (sr_jr+1),a
        ld (am_jr+1),a
        ret

; Accumulators = this layer's biases.
load_bias:
        ld a,(ix+D_OFF)
        push af
        ld e,a
        ld d,ACCLO
        ld l,(ix+D_BLO)
        ld h,(ix+D_BLO+1)
        call copy_rows
        pop af
        ld e,a
        ld d,ACCLO+1
        ld l,(ix+D_BHI)
        ld h,(ix+D_BHI+1)
        ; fall into copy_rows

; Copy 256-A bytes from HL to DE (A = row offset), unrolled LDIs.
copy_rows:
        push hl
        ld l,a
        ld h,0
        add hl,hl
        ld bc,ldi_block
        add hl,bc
        ex (sp),hl              ; (SP) = entry point, HL = source
        ret
ldi_block:
        rept 256
        ldi
        endm
        ret

; Add W[:, j] * x into the accumulators for every entry (j, x) of the
; list at HL, up to the end mark (x = 0).
apply:
        ld (inptr),hl
ap_loop:
        ld hl,(inptr)
        ld a,(hl)
        inc hl
        ld c,(hl)
        inc hl
        ld b,(hl)
        inc hl
        ld (inptr),hl
        ld l,a
        ld a,b
        or c
        ret z
        ld a,l
ap_call:
        call sparse_col         ; patched by setup_layer
        jr ap_loop

; Sparse column A (through the pointer table): [n] rows(+1) [n] rows(-1)
; [n] rows(-2); BC = x.
sparse_col:
        ld l,a
        ld h,0
        add hl,hl
        ld de,(curcol)
        add hl,de
        ld a,(hl)
        inc hl
        ld h,(hl)
        ld l,a
        ld d,ACCLO
        ld a,b
        or a
        jr nz,sc_wide
        ; x < 256: 8-bit adds; the rare carry / borrow into the high byte
        ; is a short jump away
        ld a,(hl)
        inc hl
        or a
        call nz,add_rows
        ld a,(hl)
        inc hl
        or a
        call nz,sub_rows
        ld a,(hl)
        or a
        ret z
        ld a,c
        add a,a
        jr c,sc_m2wide          ; 2x >= 256: 16-bit path
        ld c,a
        ld a,(hl)
        inc hl
        jp sub_rows
sc_m2wide:
        ld b,0
        sla c
        rl b
        call neg_bc
        jp gen_list
sc_wide:
        ; x >= 256: 16-bit adds of +x, -x, -2x
        ld (xval),bc
        call gen_list
        ld bc,(xval)
        call neg_bc
        call gen_list
        ld bc,(xval)
        sla c
        rl b
        call neg_bc
        ; fall into gen_list

; Add BC to the accumulator of every row of the list at HL ([n] rows).
gen_list:
        ld a,(hl)
        inc hl
        or a
        ret z
        ld (gcnt),a
gl_loop:
        ld e,(hl)
        inc hl
        ld a,(de)
        add a,c
        ld (de),a
        inc d
        ld a,(de)
        adc a,b
        ld (de),a
        dec d
        ld a,(gcnt)
        dec a
        ld (gcnt),a
        jr nz,gl_loop
        ret

neg_bc:
        ld a,c
        cpl
        ld c,a
        ld a,b
        cpl
        ld b,a
        inc bc
        ret

; Add C to the accumulators of the A (1..255) rows listed at HL; HL moves
; past them.  Unrolled four times, entered Duff-style for A mod 4; the
; rare carry into the high byte is fixed out of line (JR C: 7 T-states
; when not taken).
add_rows:
        ld b,a
        srl b
        srl b
        and 3
        jr z,ar_loop
        inc b
        cp 2
        jr c,ar_1
        jr z,ar_2
        jr ar_3
ar_loop:
        ld e,(hl)
        inc hl
        ld a,(de)
        add a,c
        ld (de),a
        jr c,ar_c0
ar_r0:
ar_3:
        ld e,(hl)
        inc hl
        ld a,(de)
        add a,c
        ld (de),a
        jr c,ar_c1
ar_r1:
ar_2:
        ld e,(hl)
        inc hl
        ld a,(de)
        add a,c
        ld (de),a
        jr c,ar_c2
ar_r2:
ar_1:
        ld e,(hl)
        inc hl
        ld a,(de)
        add a,c
        ld (de),a
        jr c,ar_c3
ar_r3:
        djnz ar_loop
        ret
ar_c0:
        inc d
        ld a,(de)
        inc a
        ld (de),a
        dec d
        jr ar_r0
ar_c1:
        inc d
        ld a,(de)
        inc a
        ld (de),a
        dec d
        jr ar_r1
ar_c2:
        inc d
        ld a,(de)
        inc a
        ld (de),a
        dec d
        jr ar_r2
ar_c3:
        inc d
        ld a,(de)
        inc a
        ld (de),a
        dec d
        jr ar_r3

; Subtract C from the accumulators of the A (1..255) rows listed at HL.
sub_rows:
        ld b,a
        srl b
        srl b
        and 3
        jr z,sb_loop
        inc b
        cp 2
        jr c,sb_1
        jr z,sb_2
        jr sb_3
sb_loop:
        ld e,(hl)
        inc hl
        ld a,(de)
        sub c
        ld (de),a
        jr c,sb_c0
sb_r0:
sb_3:
        ld e,(hl)
        inc hl
        ld a,(de)
        sub c
        ld (de),a
        jr c,sb_c1
sb_r1:
sb_2:
        ld e,(hl)
        inc hl
        ld a,(de)
        sub c
        ld (de),a
        jr c,sb_c2
sb_r2:
sb_1:
        ld e,(hl)
        inc hl
        ld a,(de)
        sub c
        ld (de),a
        jr c,sb_c3
sb_r3:
        djnz sb_loop
        ret
sb_c0:
        inc d
        ld a,(de)
        dec a
        ld (de),a
        dec d
        jr sb_r0
sb_c1:
        inc d
        ld a,(de)
        dec a
        ld (de),a
        dec d
        jr sb_r1
sb_c2:
        inc d
        ld a,(de)
        dec a
        ld (de),a
        dec d
        jr sb_r2
sb_c3:
        inc d
        ld a,(de)
        dec a
        ld (de),a
        dec d
        jr sb_r3


; Dense column A, at curcol + A * curnb (no pointer table): 2 bits per row
; (01 = +1, 11 = -1, 10 = -2, 00 = 0), row OFF+4k+j in bits 2j+1..2j of
; byte k; BC = x.
dense_col:
        ld (dxp),bc
        ld hl,curinoff          ; column number = offset - input offset
        sub (hl)
        ld e,a                  ; HL = A * curnb + curcol
        ld d,0
        ld hl,0
        ld a,(curnb)
        ld b,8
dc_mul:
        add hl,hl
        add a,a
        jr nc,dc_mul1
        add hl,de
dc_mul1:
        djnz dc_mul
        ld de,(curcol)
        add hl,de
        ld bc,(dxp)
        call neg_bc
        ld (dxm),bc
        sla c
        rl b
        ld (dxm2),bc
        ld d,ACCLO
        ld a,(curoff)
        ld e,a
        ld a,(curnb)
        ld b,a
dc_loop:
        ld a,(hl)
        inc hl
        or a
        jr z,dc_zero
        ld c,a
        call dc_field
        call dc_field
        call dc_field
        call dc_field
        djnz dc_loop
        ret
dc_zero:
        ld a,e
        add a,4
        ld e,a
        djnz dc_loop
        ret
dc_field:
        ld a,c
        and 3
        jr z,df_next
        push hl
        ld hl,(dxp)
        cp 1
        jr z,df_add
        ld hl,(dxm)
        cp 3
        jr z,df_add
        ld hl,(dxm2)
df_add:
        ld a,(de)
        add a,l
        ld (de),a
        inc d
        ld a,(de)
        adc a,h
        ld (de),a
        dec d
        pop hl
df_next:
        srl c
        srl c
        inc e
        ret

; Hidden layer: y = max(acc >> shift, 0); the nonzero ones become the list
; (row offset, y low, y high) at D_OUT, closed by an end mark.
shift_relu:
        ld c,(ix+D_OUT)
        ld b,(ix+D_OUT+1)
        ld a,(ix+D_OFF)
        ld l,a
        ld h,ACCLO+1            ; walk the high bytes
sr_loop:
        ld a,(hl)
        or a
        jp m,sr_next            ; negative: ReLU gives 0
        ld d,a
        dec h
        ld e,(hl)
        inc h
sr_jr:
        jr sr_shifts            ; offset patched: skip 15-shift pairs
sr_shifts:
        rept 15
        srl d
        rr e
        endm
        ld a,d
        or e
        jr z,sr_next
        ld a,l
        ld (bc),a
        inc bc
        ld a,e
        ld (bc),a
        inc bc
        ld a,d
        ld (bc),a
        inc bc
sr_next:
        inc l
        jr nz,sr_loop
        ld d,b
        ld e,c
        jp end_list

; Output layer: y = acc >> shift (arithmetic), stored back in place; out
; A = the class with the largest y (signed; the lowest index on ties).
argmax:
        ld a,(ix+D_OFF)
        ld (amidx),a
        ld l,a
        ld h,ACCLO
        ld bc,0                 ; best so far, sign bit flipped: -32768
am_loop:
        inc h
        ld d,(hl)
        dec h
        ld e,(hl)
am_jr:
        jr am_shifts            ; offset patched: skip 15-shift pairs
am_shifts:
        rept 15
        sra d
        rr e
        endm
        ld (hl),e
        inc h
        ld (hl),d
        dec h
        ld a,d
        xor 80h                 ; signed order = unsigned order of y^8000h
        ld d,a
        ld a,c
        sub e
        ld a,b
        sbc a,d
        jr nc,am_next           ; not strictly greater: keep the lower index
        ld b,d
        ld c,e
        ld a,l
        ld (amidx),a
am_next:
        inc l
        jr nz,am_loop
        ld a,(amidx)
        sub (ix+D_OFF)
        ret

; ---------------------------------------------------------------- console
putc:                           ; print E
        push bc
        push de
        push hl
        ld c,2
        call BDOS
        pop hl
        pop de
        pop bc
        ret

puts:                           ; print the 0-terminated text at HL
        ld a,(hl)
        or a
        ret z
        ld e,a
        call putc
        inc hl
        jr puts

putdec:                         ; print A (0..99) in decimal
        ld b,'0'-1
pd_tens:
        inc b
        sub 10
        jr nc,pd_tens
        add a,10+'0'
        push af
        ld a,b
        cp '0'
        jr z,pd_ones
        ld e,b
        call putc
pd_ones:
        pop af
        ld e,a
        jp putc

msg_prompt:
        db "> ",0
msg_crlf:
        db CR,LF,0
msg_nomem:
        db "Not enough memory for the model.",CR,LF,0

; ---------------------------------------------------------------- data
; (generated by model/build.py from here on)
