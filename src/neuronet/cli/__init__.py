"""The ``neuronet`` command: train, evaluate, predict, sample, summary, export.

Errors a user can fix (unknown options, missing or damaged files, data that does not fit the
model) are printed as one line on stderr with exit code 2, never as a traceback; an unexpected
exception keeps its traceback, because it is a bug (see ``user_error``).
"""

from __future__ import annotations

import argparse
import linecache
import os
import sys
from pathlib import Path

from neuronet.cli.config import MODELS, OPTIMIZERS, SCHEDULES, ConfigError

EXAMPLES = {
    "train": "examples:\n  neuronet train\n  neuronet train --model lenet --epochs 10\n"
    "  neuronet train --model gpt --data text:input.txt --steps 2000 --out runs/gpt\n"
    "  neuronet train --data csv:houses.csv --label price --task regression\n"
    "  neuronet train --model lenet --data fashion_mnist:/usr/share/datasets/fashion-mnist "
    "--epochs 3\n"
    "  neuronet train --resume runs/gpt\n"
    "  neuronet train --model lenet --nproc 4",
    "evaluate": "example:\n  neuronet evaluate runs/20261126-101500-mlp-digits",
    "predict": "example:\n  neuronet predict runs/mlp-digits samples.csv --output predictions.csv",
    "sample": "example:\n  neuronet sample runs/gpt --prompt 'def ' --tokens 200 --temperature 0.8",
    "summary": "example:\n  neuronet summary --model resnet",
    "export": "example:\n  neuronet export runs/mlp-digits --format onnx --opset 17",
    "doctor": "examples:\n  neuronet doctor --model lenet --lr 0.5\n"
    "  neuronet doctor runs/20261126-101500-mlp-digits --json\n"
    "exit code 1 when a finding of severity 'error' is reported",
}


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)  # `--epoch` is an error, not `--epochs`
        super().__init__(*args, **kwargs)

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    from neuronet import __version__

    parser = _Parser(
        prog="neuronet",
        description="Train and use neural networks with neuronet.",
        epilog="run `neuronet COMMAND --help` for each command's options",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"neuronet {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    parser.subcommands = {}

    def add(name, help_text):
        parser.subcommands[name] = sub.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=EXAMPLES[name],
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        return parser.subcommands[name]

    t = add("train", "train a model on a dataset (default: an MLP on the bundled digits)")
    t.add_argument("--model", choices=MODELS, help="architecture (default mlp)")
    t.add_argument(
        "--data",
        help="digits | pydoc_text | mnist:DIR | fashion_mnist:DIR | "
        "cifar10:DIR | csv:FILE | text:FILE (default: the model's)",
    )
    t.add_argument("--epochs", type=int)
    t.add_argument("--steps", type=int, help="stop after this many optimizer steps")
    t.add_argument("--batch-size", dest="batch_size", type=int)
    t.add_argument("--lr", type=float, help="learning rate")
    t.add_argument("--optimizer", choices=OPTIMIZERS)
    t.add_argument("--weight-decay", dest="weight_decay", type=float)
    t.add_argument("--schedule", choices=SCHEDULES)
    t.add_argument("--grad-clip", dest="grad_clip", type=float, help="max global gradient norm")
    t.add_argument("--dropout", type=float)
    t.add_argument("--block-size", dest="block_size", type=int, help="context length (text)")
    t.add_argument(
        "--task",
        choices=("auto", "classification", "regression"),
        help="what a CSV label column is (default auto: decided from its values, and printed)",
    )
    t.add_argument("--label", help="the CSV label column: a name from the header or an index")
    t.add_argument("--encoding", help="text encoding of text and CSV files (default utf-8)")
    t.add_argument(
        "--val-every",
        dest="val_every",
        type=int,
        help="validate every N steps (default: 10 times in a --steps run; 0: only at epoch ends)",
    )
    t.add_argument(
        "--tensorboard",
        metavar="DIR",
        help="also write TensorBoard event files to DIR (needs neuronet[tensorboard])",
    )
    t.add_argument("--seed", type=int)
    t.add_argument("--out", help="run folder (default runs/<timestamp>-<model>-<data>)")
    t.add_argument(
        "--resume",
        nargs="?",
        const=True,
        help="continue from a run folder or checkpoint (default: --out)",
    )
    t.add_argument("--overwrite", action="store_true", help="replace the run already in --out")
    t.add_argument("--quiet", action="store_true", help="no progress bars")
    t.add_argument("--config", help="a TOML file with any of these options; flags override it")
    t.add_argument(
        "--nproc",
        type=int,
        help="train data-parallel on N MPI ranks (runs mpiexec -n N; the `mpi` extra); "
        "--batch-size is per rank",
    )

    e = add("evaluate", "evaluate a trained run on its test data (or --data)")
    e.add_argument("run", help="a run folder written by `neuronet train`")
    e.add_argument("--data", help="evaluate on other data of the same kind")

    p = add("predict", "predict the outputs for the samples in a CSV or .npy file")
    p.add_argument("run")
    p.add_argument(
        "input",
        help="CSV (one sample per row, as in the training file: raw values, optional header "
        "and label column) or .npy array",
    )
    p.add_argument(
        "--output",
        metavar="FILE.csv",
        help="write predictions with every class probability to this file instead of stdout",
    )

    s = add("sample", "generate text with a trained language model")
    s.add_argument("run")
    s.add_argument("--prompt", default="\n")
    s.add_argument("--tokens", type=int, default=200)
    s.add_argument("--temperature", type=float, default=0.8)
    s.add_argument("--top-k", dest="top_k", type=int)
    s.add_argument("--seed", type=int, default=0)

    from neuronet.cli.doctor_cmd import add_arguments as add_doctor_arguments

    add_doctor_arguments(
        add("doctor", "run the training doctor on a model and data, or on a run folder"), t
    )

    m = add("summary", "print a model's layers, output shapes and parameter counts")
    m.add_argument("--model", choices=MODELS, default="mlp")
    m.add_argument("--data", help="the data the model is built for (default: the model's)")
    # ---- neuronet export (cli/export_cmd.py) ----
    x = add("export", "write the run's model as model.onnx into the run folder")
    x.add_argument("run", help="a run folder written by `neuronet train`")
    x.add_argument("--format", default="onnx", help="onnx (the only format)")
    x.add_argument("--opset", type=int, help="ONNX opset, 17 to 21 (default 17)")
    return parser


_PACKAGE = str(Path(__file__).resolve().parents[1])


def _raised_by_neuronet(error: BaseException) -> bool:
    """Whether a ``raise`` statement in neuronet's own code raised ``error`` (an argument or
    data check with a message), rather than Python or NumPy failing inside it (a bug)."""
    tb = error.__traceback__
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    filename = tb.tb_frame.f_code.co_filename
    if not str(Path(filename).resolve()).startswith(_PACKAGE):
        return False
    return linecache.getline(filename, tb.tb_lineno).lstrip().startswith("raise ")


def user_error(error: BaseException) -> str | None:
    """The one-line message for an error the user can fix, or None for a bug.

    User errors: ``ConfigError``, ``CheckpointError``, a missing, unreadable or misplaced file,
    and the ``ValueError``/``TypeError``/``KeyError`` that neuronet raises on purpose when an
    argument or the data is wrong. Anything else keeps its traceback.
    """
    from neuronet.io import CheckpointError

    fixable = (
        ConfigError,
        CheckpointError,
        FileNotFoundError,
        IsADirectoryError,
        NotADirectoryError,
        PermissionError,
    )
    if isinstance(error, fixable) or (
        isinstance(error, (ValueError, TypeError, KeyError)) and _raised_by_neuronet(error)
    ):
        text = error.args[0] if isinstance(error, KeyError) and error.args else error
        return " ".join(str(text).split())
    return None


def main(argv=None) -> int:
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # name the subcommand's help, not the top-level one
        owner = parser.subcommands.get(args.command, parser)
        owner.error(f"unrecognized arguments: {' '.join(unknown)}")
    if args.command is None:
        parser.print_help()
        return 2
    from neuronet import backend
    from neuronet.cli import commands, doctor_cmd, export_cmd, train_cmd

    backend.prepare_run()  # malloc tuning, and a note when numba compiles (first run only)

    handlers = {
        "train": train_cmd.train,
        "evaluate": commands.evaluate,
        "predict": commands.predict,
        "sample": commands.sample,
        "summary": commands.summary,
        "export": export_cmd.export,
        "doctor": doctor_cmd.doctor,
    }
    flags = vars(args)
    flags["argv"] = list(sys.argv[1:] if argv is None else argv)  # for --nproc's relaunch
    try:
        return handlers[args.command](flags)
    except KeyboardInterrupt:
        print(f"neuronet {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`neuronet ... | head`): not an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except Exception as err:
        message = user_error(err)
        if message is None:
            raise
        print(f"neuronet {args.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
