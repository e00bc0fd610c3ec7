"""`python -m z80emu PROGRAM.COM [ARGS...]`: run a CP/M 2.2 program.

Owns only the command line: options, choosing the console (terminal or
pipe), the optional model verifier, statistics and exit statuses.  The
machine itself is cpm.machine.CPMMachine.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from pathlib import Path

EPILOG = """\
examples:
  python -m z80emu roms/TINYCHAT.COM            chat at the terminal
  echo "hello" | python -m z80emu roms/TINYCHAT.COM   one scripted exchange
  python -m z80emu --drive B=data ZORK1.COM     A: is the current folder, B: is ./data
  python -m z80emu --mhz 4 --stats GUESS.COM    feel (and measure) a real 4 MHz Z80

drives: A: is the current directory unless --drive A=PATH says otherwise. Host
  files appear under 8.3 upper-case names (foo.txt is FOO.TXT); programs can
  only reach regular files directly inside their drive folders.

console: at a terminal, line input has editing and history; Ctrl-C goes to the
  program as 03h, and a second Ctrl-C within a second leaves the emulator.
  With piped stdin the run is scripted: each line is typed when the program
  asks for one, and the run ends cleanly when the program waits at end of input.

exit status:
  0    the program ended (warm boot, or it waited for input after the pipe ended)
  1    bad usage or input: unknown option, missing/unreadable/oversized .COM, bad --drive
  2    emulation error: unknown BDOS function (see --lenient), CPU halted for good
  3    model verification mismatch (a printed character differs from the reference)
  4    the --max-tstates budget was exhausted
  5    the output could not be written (e.g. stdout on a full disk)
  130  stopped by Ctrl-C
  141  stdout was closed before the program ended (e.g. piped into `head`)
"""


def _parse_drive(text: str) -> tuple[str, Path]:
    letter, sep, path = text.partition("=")
    letter = letter.strip().rstrip(":").upper()
    if not sep or len(letter) != 1 or not "A" <= letter <= "P" or not path:
        raise argparse.ArgumentTypeError(f"expected LETTER=FOLDER with LETTER in A..P, got {text!r}")
    folder = Path(path)
    if not folder.is_dir():
        raise argparse.ArgumentTypeError(f"drive {letter}: folder {path!r} does not exist")
    return letter, folder


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be above 0, got {text!r}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text.replace("_", ""), 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be above 0, got {text!r}")
    return value


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # usage errors exit 1, as --help documents (argparse uses 2)
        self.print_usage(sys.stderr)
        message = message.replace("PROGRAM.COM, ARGS", "PROGRAM.COM")  # ARGS may be empty
        self.exit(1, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="python -m z80emu",
        description="Run a CP/M 2.2 .COM program on an emulated 64 KB Z80 system. "
                    "Options go before the program; everything after it is the program's "
                    "command line, as you would type it at the CP/M prompt.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("program", metavar="PROGRAM.COM", help="the CP/M program to run (.COM may be left off)")
    p.add_argument("args", nargs=argparse.REMAINDER, metavar="ARGS",
                   help="the program's command tail (upper-cased; the first two become FCBs)")
    p.add_argument("--drive", action="append", default=[], type=_parse_drive, metavar="X=PATH",
                   help="use host folder PATH as drive X: (repeatable; A: defaults to the current directory)")
    p.add_argument("--mhz", type=_positive_float, metavar="F",
                   help="throttle to a real clock rate of F MHz (e.g. 4); default: as fast as possible")
    p.add_argument("--stats", action="store_true",
                   help="after the run, print T-states, instructions, wall time, emulated MHz and "
                        "the time a real 4 MHz Z80 takes, to stderr")
    p.add_argument("--stats-json", metavar="FILE", type=Path, help="write the same statistics as JSON to FILE")
    p.add_argument("--max-tstates", type=_positive_int, metavar="N",
                   help="stop with exit status 4 after N T-states (a budget for scripted runs)")
    p.add_argument("--trace-bdos", metavar="FILE", type=Path,
                   help="write one line per BDOS (and BIOS) call to FILE ('-' for stderr)")
    p.add_argument("--lenient", action="store_true",
                   help="unknown BDOS functions return 0 and the run goes on (default: stop, status 2)")
    p.add_argument("--model", metavar="FILE", type=Path,
                   help="verify every printed character against this model (.npz); default: "
                        "PROGRAM.npz beside the .COM if it exists")
    p.add_argument("--no-verify", action="store_true", help="do not verify against a model, even if one is found")
    p.add_argument("--no-translate", action="store_true",
                   help="at a terminal, pass VT52/ADM-3A escape codes through instead of translating them to ANSI")
    return p


def _find_program(name: str) -> Path:
    path = Path(name)
    if not path.exists() and not path.suffix:
        for suffix in (".COM", ".com"):
            if path.with_suffix(suffix).exists():
                return path.with_suffix(suffix)
    return path


COMPILE_NOTE = "compiling the Z80 core (numba), once per install: this takes about half a minute..."


def _core_cache_exists() -> bool:
    """Whether numba's on-disk cache of the run loop exists (a fresh install has none)."""
    try:
        from z80emu._core import run_core
        return Path(run_core._cache._cache_file._index_path).exists()
    except Exception:  # numba internals moved: fall back to the timer alone
        return True


def _warm_up(cpu, note_after: float = 8.0) -> None:
    """Run a throwaway CPU once, so that loading (or, on a first run, compiling) the numba core
    happens before the program starts and stays out of measured wall times.  Say why the user
    waits when there is no compiled core yet, or when loading it takes more than `note_after`
    seconds (a stale cache is recompiled)."""
    import threading
    timer = threading.Timer(note_after, _error, [COMPILE_NOTE])
    timer.daemon = True
    if _core_cache_exists():
        timer.start()
    else:
        _error(COMPILE_NOTE)
    try:
        cpu.mem[0] = 0x76  # HALT
        cpu.pc = 0
        cpu.run(100)
    finally:
        timer.cancel()


def _error(text: str) -> None:
    print(f"z80emu: {text}", file=sys.stderr)


def _make_verifier(args, com_path: Path):
    """The model verifier, or None (with a note) when there is none to use."""
    if args.no_verify:
        return None
    model_path = args.model
    if model_path is None:
        beside = com_path.with_suffix(".npz")
        if not beside.exists():
            if _is_model_build(com_path):
                _error(f"note: not verified: no {beside.name} beside {com_path.name} "
                       "(name the model with --model FILE)")
            return None
        model_path = beside
    elif not model_path.is_file():
        raise ValueError(f"--model {model_path}: no such file")
    try:  # through sys.modules, so that a stand-in verifier (tests) or a missing one is honoured
        verify = importlib.import_module("model.verify")
    except ImportError as err:
        _error(f"note: model verification not available ({err}); running unverified")
        return None
    return verify.Verifier(model_path, com_path)


def _silence_stdout() -> None:
    """stdout failed: point it at /dev/null so that Python's own flush at exit stays quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def _is_model_build(com_path: Path) -> bool:
    """Whether the .sym beside the program says `python -m model build` made it."""
    try:
        return "LAYERS EQU" in com_path.with_suffix(".sym").read_text(errors="replace")
    except OSError:
        return False


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:  # e.g. Ctrl-C while Python is still starting up
        _error("stopped by Ctrl-C")
        return 130
    except OSError as err:  # writing stdout failed outside the run (the run reports its own)
        _silence_stdout()
        if isinstance(err, BrokenPipeError):
            _error("output closed (broken pipe)")
            return 141
        _error(f"cannot write the output ({err.strerror or err})")
        return 5


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    com_path = _find_program(args.program)

    from cpm.console import OutputFailed, PipedConsole, TerminalConsole
    from cpm.machine import EXIT_USAGE, CPMMachine, ProgramError, RunAborted, read_program

    try:
        program = read_program(com_path)
    except ProgramError as err:
        _error(str(err))
        return EXIT_USAGE

    drives = {"A": Path(".")}
    for letter, folder in args.drive:
        drives[letter] = folder

    try:
        verifier = _make_verifier(args, com_path)
    except RunAborted as err:
        _error(err.message)
        return err.exit_status
    except Exception as err:  # a bad model file must not end in a traceback
        _error(f"cannot use the model for verification: {err}; "
               "name the right one with --model FILE, or run unverified with --no-verify")
        return EXIT_USAGE

    if args.stats_json is not None and not args.stats_json.parent.is_dir():
        _error(f"--stats-json {args.stats_json}: folder {args.stats_json.parent} does not exist")
        return EXIT_USAGE

    trace = None
    if args.trace_bdos is not None:
        try:
            trace = sys.stderr if str(args.trace_bdos) == "-" else open(args.trace_bdos, "w", encoding="utf-8")
        except OSError as err:
            _error(f"--trace-bdos {args.trace_bdos}: {err.strerror}")
            return EXIT_USAGE

    try:
        from cpm.machine import make_cpu
        cpu = make_cpu()
        _warm_up(make_cpu())
    except ImportError as err:
        _error(f"the Z80 CPU core is not available: {err}")
        return 2

    interactive = sys.stdin.isatty()
    console = None
    try:
        if interactive:
            console = TerminalConsole(sys.stdin, sys.stdout.buffer,
                                      translate=not args.no_translate and sys.stdout.isatty())
        else:
            console = PipedConsole(sys.stdin.buffer, sys.stdout.buffer)
        machine = CPMMachine(drives=drives, console=console, lenient=args.lenient,
                             observers=[verifier] if verifier is not None else [],
                             trace=trace, max_tstates=args.max_tstates, mhz=args.mhz, cpu=cpu)

        def live_note(text: str) -> None:
            console.flush()
            _error(text)

        machine.on_note = live_note
        machine.load(program, args.args)
        try:
            result = machine.run()
        except Exception as err:  # a bug of ours: one line, not a traceback
            try:
                console.flush()
            except OutputFailed:
                pass
            _error(f"internal error at PC={machine.cpu.pc:04X}h: {type(err).__name__}: {err} "
                   "(please report it with --trace-bdos output)")
            return 2
    finally:
        if console is not None:
            try:
                console.close()
            except OutputFailed:
                pass  # the run has reported it
        if trace is not None and trace is not sys.stderr:
            trace.close()
    if console.output_failed is not None:
        _silence_stdout()

    if interactive and result.message:
        sys.stdout.buffer.write(b"\r\n")
        sys.stdout.flush()
    if result.message:
        _error(result.message)
    if verifier is not None and hasattr(verifier, "summary"):
        summary = verifier.summary()
        if summary:
            _error(summary)
    if args.stats:
        print(result.stats_line(), file=sys.stderr)
    if args.stats_json is not None:
        try:
            args.stats_json.write_text(json.dumps(result.stats_dict(), indent=2) + "\n")
        except OSError as err:
            _error(f"--stats-json {args.stats_json}: {err.strerror}")
            return EXIT_USAGE
    return result.exit_status


if __name__ == "__main__":
    sys.exit(main())
