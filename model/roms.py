"""`python -m model roms`: rebuild the shipped programs in roms/ from their datasets.

Owns only the recipe, one step after another, each the same command a user
would type (so the shipped files are exactly what the documented commands
give):

    python -m model data tinychat -o roms/tinychat.txt --heldout roms/tinychat-heldout.txt
    python -m model train roms/tinychat.txt -o roms/TINYCHAT.npz --heldout roms/tinychat-heldout.txt
    python -m model data guess --topic cat -o roms/guess.txt --heldout roms/guess-heldout.txt
    python -m model train roms/guess.txt -o roms/GUESS.npz --heldout roms/guess-heldout.txt
    python -m model.build --roms

Training is deterministic for a seed on one machine; another CPU or BLAS may
round floats differently and end with other (equally good) weights.  With
`--no-train`, only the .COM files are rebuilt from the shipped models, which
is byte-identical everywhere.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROMS_DIR = Path(__file__).resolve().parent.parent / "roms"

# name -> the `python -m model data` arguments of its dataset
SHIPPED = {
    "TINYCHAT": ["tinychat"],
    "GUESS": ["guess", "--topic", "cat"],
}


def commands(roms: Path = ROMS_DIR, train: bool = True) -> list[list[str]]:
    """The `python -m model` argument lists of the recipe, in order."""
    steps = []
    if train:
        for name, dataset in SHIPPED.items():
            data = roms / f"{name.lower()}.txt"
            held = roms / f"{name.lower()}-heldout.txt"
            steps.append(["data", *dataset, "-o", str(data), "--heldout", str(held)])
            steps.append(["train", str(data), "-o", str(roms / f"{name}.npz"), "--heldout", str(held)])
    return steps


def rebuild(roms: Path = ROMS_DIR, train: bool = True) -> int:
    from model.__main__ import main as model_main
    from model.build import rebuild_roms
    from model.train import checkpoint_path
    for step in commands(roms, train):
        print("$ python -m model " + " ".join(step), file=sys.stderr, flush=True)
        status = model_main(step)
        if status:
            return status
        if step[0] == "train":
            checkpoint_path(Path(step[3])).unlink(missing_ok=True)  # not shipped
    print("$ python -m model.build --roms", file=sys.stderr, flush=True)
    return rebuild_roms(roms)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m model roms",
        description="Rebuild roms/TINYCHAT and roms/GUESS (.txt data, .npz model, .COM, .lst, "
                    ".sym) from the built-in datasets, with the documented commands.",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog="the steps:\n" + __doc__.split("\n\n")[2])
    parser.add_argument("--no-train", action="store_true",
                        help="only rebuild the .COM files from the shipped models (byte-identical)")
    args = parser.parse_args(argv)
    return rebuild(train=not args.no_train)


if __name__ == "__main__":
    sys.exit(main())
