"""`python -m model` (also `tinychat-model`): datasets, training, evaluation,
chat with the integer reference, and the .COM build (model.build)."""
from __future__ import annotations

import os

# Small matrices: multi-threaded BLAS only fights over the cores (measured 5x
# slower training on a shared 2-core machine).  Must precede numpy's import.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import json
import sys
from pathlib import Path

DESCRIPTION = """\
Tiny 2-bit character model toolkit.

  data   write a dataset (query|answer lines):  python -m model data tinychat -o chat.txt
  train  train a model on a data file:          python -m model train chat.txt -o CHAT.npz
  eval   accuracy of a model on a data file:    python -m model eval CHAT.npz chat.txt
  chat   talk to a model (exact integer model): python -m model chat CHAT.npz
  build  compile a model into a CP/M .COM:      python -m model build CHAT.npz -o CHAT.COM
  roms   rebuild the shipped roms/ from the datasets (data, train, build)
"""


def _int_list(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    if not values or any(v <= 0 for v in values):
        raise argparse.ArgumentTypeError(f"expected positive integers, got {text!r}")
    return values


def _hidden_sizes(text: str) -> list[int]:
    values = _int_list(text)
    # the Z80 engine's limits: a layer's neurons index one 256-byte page, at most 8 layers
    if any(v > 256 for v in values) or len(values) > 7:
        raise argparse.ArgumentTypeError(f"at most 7 hidden layers of 1..256 neurons "
                                         f"(what the Z80 engine runs), got {text!r}")
    return values


def _learning_rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (0.0 < value < 10.0):
        raise argparse.ArgumentTypeError(f"expected a number above 0 (e.g. 0.01), got {text!r}")
    return value


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1, got {text!r}") from None
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text!r}")
    return value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        """One line and a pointer to --help, not a screenful of usage text."""
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    from model.train import TrainConfig
    defaults = TrainConfig()
    parser = _Parser(prog="python -m model", description=DESCRIPTION,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("data", help="write a built-in dataset as query|answer lines",
                       description="Write a built-in dataset (deterministic for a given --seed).")
    p.add_argument("dataset", choices=["tinychat", "guess"],
                   help="tinychat: terse chat bot; guess: 20 Questions about one secret object")
    p.add_argument("-o", "--output", type=Path, help="file to write (required unless --list-topics)")
    p.add_argument("--topic", default="cat",
                   help="guess only: the secret object (default cat; see --list-topics)")
    p.add_argument("--list-topics", action="store_true", help="guess only: print the objects and exit")
    p.add_argument("--heldout", type=Path,
                   help="also write held-out phrasings (not in the output) to this file")
    p.add_argument("--seed", type=int, default=1, help="variant generator seed (default 1)")

    p = sub.add_parser("train", help="train a model on a data file",
                       description="Quantization-aware training; the model kept is the one whose "
                                   "exact INTEGER accuracy on the training pairs is best.")
    p.add_argument("data", type=Path, help="query|answer data file")
    p.add_argument("-o", "--output", required=True, type=Path, help="model file to write (.npz)")
    p.add_argument("--hidden-sizes", type=_hidden_sizes, default=defaults.hidden_sizes,
                   help=f"hidden layer widths (default {','.join(map(str, defaults.hidden_sizes))})")
    p.add_argument("--shifts", type=_int_list, default=None,
                   help="right shift per layer incl. the output layer (default 2 each, format v1)")
    p.add_argument("--epochs", type=_positive, default=defaults.epochs,
                   help=f"passes over the data (default {defaults.epochs})")
    p.add_argument("--sparsity", type=_fraction, default=defaults.sparsity,
                   help=f"target fraction of zero weights per layer (default {defaults.sparsity}); "
                        "zeros cost the Z80 nothing")
    p.add_argument("--query-sparsity", type=_fraction, default=defaults.query_sparsity,
                   help=f"layer 1 query columns, with --context-sparsity: at least this "
                        f"fraction zero (default {defaults.query_sparsity}); paid once per query")
    p.add_argument("--context-sparsity", type=_fraction, default=defaults.context_sparsity,
                   help="layer 1 context columns: fraction zero, with --query-sparsity for the "
                        "query columns (default: one --sparsity threshold for all of layer 1); "
                        "the engine pays context columns 21 times per step")
    p.add_argument("--sparsity-mode", choices=["shrink", "quantile"], default=defaults.sparsity_mode,
                   help="shrink (default): zero weights are those an adaptive L1 pull brings "
                        "below 0.5, which trains stably; quantile: the smallest --sparsity "
                        "fraction per layer (needed for --query/--context-sparsity)")
    p.add_argument("--quant-ramp", type=_fraction, default=defaults.quant_ramp,
                   help=f"fraction of the epochs over which weights move from float to "
                        f"2-bit (default {defaults.quant_ramp})")
    p.add_argument("--lr", type=_learning_rate, default=defaults.lr, help=f"learning rate (default {defaults.lr})")
    p.add_argument("--batch-size", type=_positive, default=defaults.batch_size,
                   help=f"steps per gradient update (default {defaults.batch_size})")
    p.add_argument("--seed", type=int, default=defaults.seed, help="random seed (default 1)")
    p.add_argument("--heldout", type=Path,
                   help="held-out pairs to report (default: hold out --holdout of the queries)")
    p.add_argument("--holdout", type=_fraction, default=defaults.holdout,
                   help=f"fraction of distinct queries held out of training (and reported) when "
                        f"no --heldout file is given (default {defaults.holdout}: train on every pair)")
    p.add_argument("--resume", action="store_true",
                   help="continue from OUTPUT's checkpoint (OUTPUT stem + .ckpt.npz)")
    p.add_argument("--strict", action="store_true", help="malformed data lines are fatal")

    p = sub.add_parser("eval", help="accuracy of a model on a data file",
                       description="Exact-response accuracy, per-character accuracy (teacher-"
                                   "forced), the ceiling given conflicting answers, and the "
                                   "Z80 engine cost (effective MACs per step).")
    p.add_argument("model", type=Path, help="model file (.npz)")
    p.add_argument("data", type=Path, help="query|answer data file")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.add_argument("--strict", action="store_true", help="malformed data lines are fatal")
    p.add_argument("--show-errors", type=int, default=0, metavar="N",
                   help="list up to N queries answered wrongly")

    p = sub.add_parser("chat", help="talk to a model in the terminal",
                       description="Type a query, get the model's greedy answer (the exact integer "
                                   "model). Empty line or Ctrl-D quits.")
    p.add_argument("model", type=Path, help="model file (.npz)")
    p.add_argument("--trace", action="store_true", help="show the chosen class index per step")

    p = sub.add_parser("build", help="compile a model into a CP/M .COM (see build --help)",
                       add_help=False)
    p.add_argument("build_args", nargs=argparse.REMAINDER)

    p = sub.add_parser("roms", help="rebuild roms/ (data, models, .COMs) from the datasets",
                       add_help=False)
    p.add_argument("roms_args", nargs=argparse.REMAINDER)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "build":
        return _build(argv[1:])
    if argv and argv[0] == "roms":
        from model.roms import main as roms_main
        return roms_main(argv[1:])
    args = build_parser().parse_args(argv)
    if args.command is None:
        build_parser().print_help()
        return 2
    handler = {"data": cmd_data, "train": cmd_train, "eval": cmd_eval, "chat": cmd_chat}[args.command]
    from model.data import DataError
    from model.reference import ModelFileError
    from model.train import CheckpointError
    try:
        return handler(args)
    except (DataError, ModelFileError, CheckpointError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # e.g. `... | head -1`: the reader has gone, nothing to say
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _build(argv: list[str]) -> int:
    try:
        from model.build import add_build_arguments, run_build
    except ImportError as exc:
        print(f"error: the .COM builder (model.build) is not available yet ({exc})", file=sys.stderr)
        return 1
    parser = _Parser(prog="python -m model build", description="Compile a model into a CP/M .COM.")
    add_build_arguments(parser)
    return run_build(parser.parse_args(argv))


def cmd_data(args) -> int:
    from model.data import write_pairs
    from model.datasets import guess, tinychat
    from model.reference import is_zip_file
    if args.list_topics:
        print(" ".join(guess.OBJECTS))
        return 0
    if args.output is None:
        print("error: name the file to write with -o FILE", file=sys.stderr)
        return 1
    for target in (args.output, args.heldout):
        if target is not None and target.is_file() and is_zip_file(target):
            print(f"error: {target} is a model file; not overwriting it with data", file=sys.stderr)
            return 1
    if args.dataset == "tinychat":
        rows = tinychat.generate(args.seed)
        held = tinychat.generate_heldout(args.seed) if args.heldout else []
        header = f"tinychat dataset: python -m model data tinychat --seed {args.seed}"
    else:
        if args.topic not in guess.OBJECTS:
            print(f"error: unknown topic {args.topic!r}; choose one of: {' '.join(guess.OBJECTS)}",
                  file=sys.stderr)
            return 1
        rows = guess.generate(args.topic, args.seed)
        held = guess.generate_heldout(args.topic, args.seed) if args.heldout else []
        header = f"20 Questions, secret object: {args.topic} (python -m model data guess --topic {args.topic} --seed {args.seed})"
    count = write_pairs(rows, args.output, header)
    print(f"wrote {count} pairs ({len({a for _, a in rows})} distinct answers) to {args.output}")
    if args.heldout:
        n = write_pairs(held, args.heldout, header + "\nheld-out phrasings: none of these queries is in the training file")
        print(f"wrote {n} held-out pairs to {args.heldout}")
    return 0


def _same_file(a: Path, b: Path | None) -> bool:
    try:
        return b is not None and a.exists() and b.exists() and a.samefile(b)
    except OSError:
        return False


def cmd_train(args) -> int:
    from model.data import data_topic, load_pairs
    from model.evaluate import evaluate
    from model.reference import effective_macs, is_zip_file
    from model.train import TrainConfig, TrainingInterrupted, train
    if args.output.suffix != ".npz":
        print(f"error: the output must be a .npz file, got {args.output}", file=sys.stderr)
        return 1
    for source in (args.data, args.heldout):
        if _same_file(args.output, source):
            print(f"error: the output {args.output} is the data file {source}; "
                  "choose another -o", file=sys.stderr)
            return 1
    if not args.output.parent.is_dir():
        print(f"error: -o {args.output}: folder {args.output.parent} does not exist", file=sys.stderr)
        return 1
    if args.output.exists() and not (args.output.is_file() and is_zip_file(args.output)):
        print(f"error: -o {args.output} exists and is not a model file; not overwriting it",
              file=sys.stderr)
        return 1
    pairs = load_pairs(args.data, strict=args.strict)
    heldout = load_pairs(args.heldout, strict=args.strict) if args.heldout else []
    config = TrainConfig(hidden_sizes=args.hidden_sizes, shifts=args.shifts, epochs=args.epochs,
                         batch_size=args.batch_size, lr=args.lr, sparsity=args.sparsity,
                         seed=args.seed, holdout=args.holdout, query_sparsity=args.query_sparsity,
                         context_sparsity=args.context_sparsity, quant_ramp=args.quant_ramp,
                         sparsity_mode=args.sparsity_mode)
    try:
        config.layer_shifts()
    except ValueError as exc:
        print(f"error: --shifts: {exc}", file=sys.stderr)
        return 1
    try:
        topic = data_topic(args.data)  # a guess game's object: `build` makes the game of it
        model, scores = train(pairs, config, args.output, heldout, resume=args.resume,
                              source=str(args.data), metadata={"topic": topic} if topic else None)
    except TrainingInterrupted:
        print(f"interrupted; best model so far saved to {args.output}", file=sys.stderr)
        return 130
    print(f"saved {args.output}: training pairs {scores.line()}")
    if "heldout_exact" in model.metadata:
        print(f"held-out exact accuracy {model.metadata['heldout_exact']:.2%}")
    print(effective_macs(model, [p.query for p in pairs[:: max(1, len(pairs) // 300)]]).summary())
    return 0


def cmd_eval(args) -> int:
    from model.data import check_charset, load_pairs
    from model.evaluate import evaluate
    from model.reference import effective_macs, generate_batch, load_model
    model = load_model(args.model)
    pairs = load_pairs(args.data, strict=args.strict)
    check_charset(pairs, model.charset, str(args.data))
    scores = evaluate(model, pairs)
    macs = effective_macs(model, [p.query for p in pairs[:: max(1, len(pairs) // 300)]])
    if args.json:
        print(json.dumps({**scores.as_dict(), "effective_macs": macs.__dict__}, indent=2))
    else:
        print(f"{args.data}: {scores.line()}")
        if scores.overflow_steps:
            print(f"warning: {scores.overflow_steps:.2%} of steps overflow int16 somewhere")
        print(macs.summary())
    if args.show_errors:
        responses = generate_batch(model, [p.query for p in pairs])
        shown = 0
        for pair, got in zip(pairs, responses):
            if got != pair.answer and shown < args.show_errors:
                print(f"  line {pair.line}: {pair.query!r} -> {got!r}, expected {pair.answer!r}")
                shown += 1
    return 0


def cmd_chat(args) -> int:
    from model.reference import generate, load_model, trace
    model = load_model(args.model)
    try:
        import readline  # noqa: F401  (line editing and history for input() at a terminal)
    except ImportError:
        pass
    print(f"{args.model}: layers {model.layer_sizes}, charset {model.charset[:-1]!r}. "
          "Empty line or Ctrl-D quits.")
    while True:
        try:
            query = input("> ")
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if not query.strip():
            return 0
        if args.trace:
            steps = trace(model, query)
            print(" ".join(f"{s.index}" for s in steps))
        print(generate(model, query))


if __name__ == "__main__":
    sys.exit(main())
