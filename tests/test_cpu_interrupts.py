"""Interrupts, HALT and the run()/step()/trap API of the CPU core, from documented behaviour
(Zilog Z80 CPU User Manual UM0080: interrupt response timings and modes; NMOS LD A,I/R
erratum; "The Undocumented Z80 Documented" for WZ after interrupts)."""
from __future__ import annotations

from z80emu.cpu import STOP_BREAKPOINT, STOP_BUDGET, STOP_HALT, STOP_TRAP, Z80

NOP, EI, DI, HALT = 0x00, 0xFB, 0xF3, 0x76


def make_cpu(code: bytes, at: int = 0x100) -> Z80:
    cpu = Z80()
    cpu.load(at, code)
    cpu.pc = at
    cpu.sp = 0x8000
    return cpu


def test_im1_accepted_after_the_instruction_following_ei():
    cpu = make_cpu(bytes([EI, NOP, NOP, NOP]))
    cpu.im = 1
    cpu.irq()
    cpu.step()                        # EI
    assert cpu.pc == 0x101 and cpu.iff1 == 1
    cpu.step()                        # NOP: the EI delay keeps the interrupt out
    assert cpu.pc == 0x102
    t0, r0 = cpu.tstates, cpu.r
    cpu.step()                        # interrupt acknowledge
    assert cpu.pc == 0x38
    assert cpu.tstates - t0 == 13
    assert cpu.r == (r0 + 1) & 0x7F
    assert cpu.iff1 == 0 and cpu.iff2 == 0
    assert cpu.pop() == 0x102
    assert cpu.wz == 0x38
    assert not cpu.irq_pending


def test_consecutive_ei_keep_delaying():
    cpu = make_cpu(bytes([EI, EI, EI, NOP, NOP]))
    cpu.im = 1
    cpu.irq()
    for expected_pc in (0x101, 0x102, 0x103, 0x104):
        cpu.step()
        assert cpu.pc == expected_pc
    cpu.step()
    assert cpu.pc == 0x38


def test_di_masks_the_interrupt():
    cpu = make_cpu(bytes([DI, NOP, NOP, NOP]))
    cpu.iff1 = cpu.iff2 = 1
    cpu.im = 1
    cpu.step()                        # DI (interrupt not yet raised)
    cpu.irq()
    cpu.run(12)
    assert cpu.pc == 0x104 and cpu.irq_pending


def test_im2_reads_vector_from_i_and_bus_byte():
    cpu = make_cpu(bytes([NOP] * 4))
    cpu.im = 2
    cpu.i = 0x12
    cpu.iff1 = cpu.iff2 = 1
    cpu.mem[0x1234] = 0x78
    cpu.mem[0x1235] = 0x56
    cpu.irq(0x34)
    cpu.step()
    assert cpu.pc == 0x5678
    assert cpu.tstates == 19
    assert cpu.wz == 0x5678
    assert cpu.pop() == 0x100


def test_im0_executes_rst_from_the_bus():
    cpu = make_cpu(bytes([NOP] * 4))
    cpu.im = 0
    cpu.iff1 = cpu.iff2 = 1
    cpu.irq(0xEF)                     # RST 28h
    cpu.step()
    assert cpu.pc == 0x28
    assert cpu.tstates == 13
    assert cpu.pop() == 0x100


def test_nmi_ignores_iff1_and_ei_delay_and_retn_restores_iff1():
    cpu = make_cpu(bytes([EI, NOP]))
    cpu.load(0x66, bytes([0xED, 0x45]))        # RETN
    cpu.step()                        # EI
    cpu.nmi()
    t0 = cpu.tstates
    cpu.step()                        # NMI accepted right after EI
    assert cpu.pc == 0x66
    assert cpu.tstates - t0 == 11
    assert cpu.iff1 == 0 and cpu.iff2 == 1
    cpu.step()                        # RETN
    assert cpu.pc == 0x101 and cpu.iff1 == 1


def test_nmi_accepted_with_interrupts_disabled():
    cpu = make_cpu(bytes([NOP, NOP]))
    cpu.iff1 = cpu.iff2 = 0
    cpu.nmi()
    cpu.step()
    assert cpu.pc == 0x66 and cpu.iff2 == 0


def test_halt_stops_run_and_interrupt_resumes_after_it():
    cpu = make_cpu(bytes([EI, HALT, NOP]))
    cpu.im = 1
    assert cpu.run(1000) == STOP_HALT
    assert cpu.halted == 1
    assert cpu.pc == 0x102            # PC already points past HALT
    t = cpu.tstates
    assert t == 8
    assert cpu.run(1000) == STOP_HALT and cpu.tstates == t   # nothing to do while halted
    cpu.irq()
    cpu.step()
    assert cpu.halted == 0
    assert cpu.pc == 0x38
    assert cpu.pop() == 0x102
    assert cpu.tstates == t + 13


def test_nmi_wakes_halt():
    cpu = make_cpu(bytes([HALT, NOP]))
    assert cpu.run(100) == STOP_HALT
    cpu.nmi()
    cpu.step()
    assert cpu.pc == 0x66 and cpu.halted == 0
    assert cpu.pop() == 0x101


def test_ld_a_i_and_a_r_copy_iff2_to_parity():
    for opcode in (0x57, 0x5F):       # LD A,I / LD A,R
        for iff2 in (0, 1):
            cpu = make_cpu(bytes([0xED, opcode]))
            cpu.iff2 = iff2
            cpu.i = 0x80
            cpu.f = 0
            cpu.step()
            assert bool(cpu.f & 0x04) == bool(iff2), (hex(opcode), iff2)
            assert cpu.tstates == 9


def test_interrupt_right_after_ld_a_i_clears_parity():
    # NMOS Z80 erratum: an interrupt accepted right after LD A,I/R makes P/V read as 0
    cpu = make_cpu(bytes([0xED, 0x57, NOP]))
    cpu.iff1 = cpu.iff2 = 1
    cpu.im = 1
    cpu.step()
    assert cpu.f & 0x04
    cpu.irq()
    cpu.step()
    assert cpu.pc == 0x38
    assert not cpu.f & 0x04


def test_trap_stops_before_the_instruction_and_resumes():
    # CALL 0005h; NOP; HALT -- the trap at 0005h plays the BDOS
    cpu = make_cpu(bytes([0xCD, 0x05, 0x00, NOP, HALT]))
    cpu.set_trap(0x0005)
    assert cpu.run(10_000) == STOP_TRAP
    assert cpu.pc == 0x0005 and cpu.tstates == 17
    cpu.pc = cpu.pop()                # the handler returns
    assert cpu.run(10_000) == STOP_HALT
    assert cpu.pc == 0x105 and cpu.instructions == 3


def test_run_never_stops_on_its_first_instruction():
    cpu = make_cpu(bytes([NOP, NOP, HALT]))
    cpu.set_trap(0x100)
    cpu.set_breakpoint(0x101)
    assert cpu.run(1000) == STOP_BREAKPOINT and cpu.pc == 0x101
    assert cpu.run(1000) == STOP_HALT
    cpu.set_breakpoint(0x101, False)
    cpu.set_trap(0x100, False)
    cpu.pc = 0x100
    cpu.halted = 0
    assert cpu.run(1000) == STOP_HALT


def test_budget_stops_at_first_boundary_at_or_after_it():
    cpu = make_cpu(bytes([0x21, 0, 0] * 100))      # LD HL,0 (10 T each)
    assert cpu.run(25) == STOP_BUDGET
    assert cpu.tstates == 30
    assert cpu.step() == STOP_BUDGET
    assert cpu.tstates == 40 and cpu.instructions == 4


def test_push_pop_and_register_views():
    cpu = Z80()
    cpu.sp = 0x0001
    cpu.push(0xBEEF)
    assert cpu.sp == 0xFFFF and cpu.mem[0xFFFF] == 0xEF and cpu.mem[0x0000] == 0xBE
    assert cpu.pop() == 0xBEEF and cpu.sp == 0x0001
    cpu.ix = 0x1234
    cpu.ixl = 0xAB
    assert cpu.ix == 0x12AB and cpu.ixh == 0x12
    cpu.hl = 0x5678
    assert (cpu.h, cpu.l) == (0x56, 0x78)
    cpu.af = 0x1FF
    assert cpu.a == 0x01 and cpu.f == 0xFF


def test_budget_running_out_right_before_a_trap_reports_the_trap():
    # LD HL,0 (10 T); CALL 0005h: the budget ends exactly when PC reaches the trap
    cpu = make_cpu(bytes([0x21, 0, 0, 0xCD, 0x05, 0x00]))
    cpu.set_trap(0x0005)
    assert cpu.run(27) == STOP_TRAP
    assert cpu.pc == 0x0005 and cpu.tstates == 27


def test_step_reports_arrival_on_a_trap():
    cpu = make_cpu(bytes([NOP, NOP]))
    cpu.set_trap(0x101)
    assert cpu.step() == STOP_TRAP and cpu.pc == 0x101
    assert cpu.step() == STOP_BUDGET and cpu.pc == 0x102


def test_interrupt_vector_trap_is_reported():
    cpu = make_cpu(bytes([NOP, NOP]))
    cpu.im = 1
    cpu.iff1 = cpu.iff2 = 1
    cpu.set_trap(0x38)
    cpu.irq()
    assert cpu.run(100) == STOP_TRAP and cpu.pc == 0x38 and cpu.tstates == 13


def test_budget_used_up_by_an_interrupt_acceptance_stops_there():
    cpu = make_cpu(bytes([NOP, NOP]))
    cpu.load(0x38, bytes([NOP]))
    cpu.im = 1
    cpu.iff1 = cpu.iff2 = 1
    cpu.irq()
    assert cpu.run(1) == STOP_BUDGET
    assert cpu.pc == 0x38 and cpu.tstates == 13      # the NOP at 38h has not run
    halted = make_cpu(bytes([HALT, NOP]))
    halted.load(0x66, bytes([NOP]))
    assert halted.run(100) == STOP_HALT and halted.tstates == 4
    halted.nmi()
    assert halted.run(11) == STOP_BUDGET
    assert halted.pc == 0x66 and halted.tstates == 15


def test_huge_budgets_run_until_a_stop_instead_of_overflowing():
    cpu = make_cpu(bytes([NOP] * 16 + [HALT]))
    cpu.tstates = 1000
    assert cpu.run(2 ** 63 - 1) == STOP_HALT and cpu.pc == 0x111
    cpu = make_cpu(bytes([NOP] * 16 + [HALT]))
    assert cpu.run(10 ** 20) == STOP_HALT and cpu.tstates == 16 * 4 + 4
