"""The emulator-side verifier: every character a tinychat .COM prints is
checked against the numpy reference (model.reference) as it is printed.

Owns: following the program's console protocol (command tail: the answer is
printed at once; chat: after the input line the program prints LF, then the
answer, then CR LF), comparing each answer character with the reference,
and, on a mismatch, a report naming the query, the step, the expected and
actual characters, and the first layer whose activations in Z80 memory
(found through the .sym file beside the .COM) differ from model.reference.trace.
Does not own the CP/M machine; it is one of its observers
(on_start, on_command_tail, on_input_line, on_output, on_exit).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from model.reference import generate, load_model, trace

CR, LF = 0x0D, 0x0A
EXIT_VERIFY = 3
# RAM pages of the engine (model/engine.asm), used if the .sym lacks them
DEFAULT_ACCLO = 0xA1
DEFAULT_CTX = 0xA850


def _aborted(message: str):
    try:
        from cpm.machine import RunAborted
    except ImportError:          # the verifier can be used without the CP/M package
        return RuntimeError(message)
    return RunAborted(message, exit_status=EXIT_VERIFY)


def read_symbols(path: Path) -> dict:
    from model.build import parse_symbols
    try:
        return parse_symbols(path.read_text(errors="replace"))
    except OSError:
        return {}


class Verifier:
    """CP/M machine observer that checks a tinychat .COM against its model."""

    def __init__(self, model_path, com_path=None) -> None:
        self.model_path = Path(model_path)
        self.model = load_model(self.model_path)
        self.symbols = read_symbols(Path(com_path).with_suffix(".sym")) if com_path else {}
        self.machine = None
        self.state = "idle"          # idle | await_lf | collect
        self.query = b""
        self.expected = ""
        self.pos = 0
        self.answers = 0
        self.chars = 0
        self.failed = False          # a mismatch was reported (the run stops there)

    # -- observer interface --------------------------------------------------------
    def on_start(self, machine) -> None:
        self.machine = machine

    def on_command_tail(self, tail: bytes) -> None:
        if bytes(tail).strip(b" "):
            self._begin(bytes(tail), "collect")

    def on_input_line(self, line: bytes) -> None:
        line = bytes(line)
        if not line or line == b"!" or line[:1] == b"\x1a":
            self.state = "idle"       # re-prompt or exit: no answer follows
            return
        self._begin(line, "await_lf")

    def on_output(self, byte: int) -> None:
        if self.state == "await_lf":
            if byte == LF:
                self.state, self.pos = "collect", 0
            return
        if self.state != "collect":
            return
        if byte == CR:
            if self.pos < len(self.expected):
                self._mismatch(None)
            self.answers += 1
            self.state = "idle"
            return
        if self.pos >= len(self.expected) or ord(self.expected[self.pos]) != byte:
            self._mismatch(byte)
        self.pos += 1
        self.chars += 1

    def on_exit(self, machine) -> None:
        self.machine = machine

    def summary(self) -> str:
        if self.failed:
            return ""                # the mismatch report says it all
        answers = "1 answer" if self.answers == 1 else f"{self.answers} answers"
        chars = "1 character" if self.chars == 1 else f"{self.chars} characters"
        return f"verified {answers} ({chars}) against {self.model_path.name}: no mismatch"

    # -- internals -------------------------------------------------------------------
    def _begin(self, query: bytes, state: str) -> None:
        self.query = query
        self.expected = generate(self.model, query)
        self.pos = 0
        self.state = state

    def _mismatch(self, actual: int | None) -> None:
        exp = self.expected[self.pos] if self.pos < len(self.expected) else None
        show = lambda ch: "end of answer (EOS)" if ch is None else repr(ch)
        lines = [f"model verification failed: query {self.query.decode('latin-1')!r}, "
                 f"step {self.pos}: expected {show(exp)}, the Z80 printed "
                 f"{show(None if actual is None else chr(actual))}",
                 f"  reference answer: {self.expected!r}"]
        lines += self.diagnose()
        self.failed = True
        raise _aborted("\n".join(lines))

    def z80_layers(self, mem) -> list:
        """This step's activations as the Z80 holds them: per hidden layer the
        list at ACTk (zeros elsewhere), then the output layer (shifted, in
        place in the accumulator pages).  None where the symbols are missing."""
        sizes = [w.shape[0] for w in self.model.weights]
        out = []
        for k, rows in enumerate(sizes, start=1):
            off = 256 - rows
            if k < len(sizes):
                addr = self.symbols.get(f"ACT{k}")
                if addr is None:
                    out.append(None)
                    continue
                vec = np.zeros(rows, dtype=np.int64)
                for _ in range(rows + 1):
                    idx, lo, hi = (int(mem[(addr + i) & 0xFFFF]) for i in range(3))
                    if lo == 0 and hi == 0:
                        break
                    if off <= idx:
                        value = lo | hi << 8
                        vec[idx - off] = value - 0x10000 if value & 0x8000 else value
                    addr += 3
                out.append(vec)
            else:
                page = self.symbols.get("ACCLO", DEFAULT_ACCLO)
                lo = np.array([mem[page * 256 + off + i] for i in range(rows)], dtype=np.int64)
                hi = np.array([mem[(page + 1) * 256 + off + i] for i in range(rows)], dtype=np.int64)
                out.append((((hi << 8 | lo) + 0x8000) & 0xFFFF) - 0x8000)
        return out

    def diagnose(self) -> list[str]:
        if self.machine is None:
            return ["  (no machine: cannot read the Z80's activations)"]
        if not self.symbols:
            return ["  (no .sym file beside the .COM: cannot locate the Z80's activations)"]
        steps = trace(self.model, self.query)
        if self.pos >= len(steps):
            return [f"  (the reference has no step {self.pos})"]
        ref = steps[self.pos]
        mem = self.machine.cpu.mem
        ctx_addr = self.symbols.get("CTX", DEFAULT_CTX)
        z_ctx = bytes(int(mem[ctx_addr + i]) for i in range(8))
        lines = [f"  context: reference {ref.context!r}, Z80 {z_ctx.decode('latin-1')!r}"]
        for k, (z, r) in enumerate(zip(self.z80_layers(mem), ref.outputs), start=1):
            if z is None:
                lines.append(f"  layer {k}: not in the symbol file")
                continue
            r = r.astype(np.int64)
            diff = np.nonzero(z != r)[0]
            if diff.size:
                n = int(diff[0])
                lines.append(f"  first differing layer: {k} ({'output' if k == len(ref.outputs) else 'hidden'}), "
                             f"neuron {n}: Z80 {int(z[n])}, reference {int(r[n])} "
                             f"({diff.size} of {r.size} neurons differ)")
                return lines
        lines.append("  all layers agree in memory (the difference is in the output stage)")
        return lines


# ---------------------------------------------------------------- running

def run_program(program, lines=None, args=(), model_path=None, com_path=None, cpu=None,
                max_tstates: int | None = None):
    """Run a .COM (bytes or path) in our CP/M machine with piped input.

    lines: chat input lines (bytes, without line ends); args: the command
    line.  With model_path, a Verifier observes the run.  Returns
    (output bytes, RunResult, verifier or None).  `cpu` lets callers reuse
    one CPU object (its memory is rebuilt by the machine)."""
    import io

    from cpm.console import PipedConsole
    from cpm.machine import CPMMachine

    data = Path(program).read_bytes() if isinstance(program, (str, Path)) else bytes(program)
    if com_path is None and isinstance(program, (str, Path)):
        com_path = Path(program)
    stdin = io.BytesIO(b"".join(bytes(line) + b"\n" for line in (lines or [])))
    stdout = io.BytesIO()
    verifier = Verifier(model_path, com_path) if model_path is not None else None
    machine = CPMMachine(console=PipedConsole(stdin, stdout), cpu=cpu,
                         observers=[verifier] if verifier else [], max_tstates=max_tstates)
    machine.load(data, list(args))
    result = machine.run()
    machine.console.flush()
    return stdout.getvalue(), result, verifier
