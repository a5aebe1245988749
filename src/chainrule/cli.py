"""The ``chainrule`` command: train, evaluate and use networks, plot the notes' figures, check gradients.

::

    chainrule train    [--dataset NAME|FILE.csv] [--target COLUMN] [--model NAME] [--config FILE.toml]
                       [--epochs N] [--batch-size N] [--lr X] [--optimizer NAME] [--schedule NAME]
                       [--seed N] [--data-dir DIR] [--out DIR] [--task auto|classification|regression]
                       [--ignore COLUMN[,COLUMN...]]
    chainrule train    --resume RUN_DIR [--epochs N]  (continue an interrupted run, in its own folder)
    chainrule evaluate RUN_DIR [--dataset ...]       chainrule predict RUN_DIR INPUT [INPUT ...]
    chainrule plot     WHAT [RUN_DIR] [--out FILE.png]
    chainrule gradcheck                              chainrule info

Exit status: 0 done; 2 bad input (unknown names, missing or malformed files, NaN in data, labels out of
range, an unusable --out), reported as one line ``chainrule: error: ...`` on standard error; 130 after
Ctrl-C, 143 after SIGTERM and 129 after SIGHUP (``train`` first saves what it has into its run folder: the
last complete epoch with a checkpoint, or the whole run); 1 anything else (a diverged run, a full disk:
one line too; a traceback only for a bug in chainrule).
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback

from ._runconfig import BUILTIN_DATASETS, OPTIMIZERS, SCHEDULES
from .errors import ArgumentError, ChainruleError

PLOTS = ("activations", "losses", "init", "schedules", "curves", "boundary", "confusion")
_RUN_PLOTS = ("curves", "confusion")


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line on stderr and exit status 2, never a usage block
        raise _UsageError(f"{message} (see '{self.prog} --help')")


def _err(message: str) -> None:
    line = " ".join(str(message).split())
    print(f"chainrule: error: {line}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------------ commands
def _train(args) -> int:
    from . import config as tomlconfig
    from ._atomic import stop_signals_interrupt
    from ._runconfig import rebase_paths, resolve
    from ._runner import resume_training, run_training

    if args.resume is not None:
        given = [flag for flag, dest in _RUN_FLAGS if getattr(args, dest) is not None]
        if given:
            raise ArgumentError(f"--resume continues the run as it was configured; {', '.join(given)} cannot be "
                                "given with it (only --epochs, to raise the total)")
        with stop_signals_interrupt():
            return resume_training(args.resume, args.epochs)
    overrides = {
        "data": {"dataset": args.dataset, "target": args.target, "data_dir": args.data_dir, "task": args.task,
                 "ignore": None if args.ignore is None else [c.strip() for c in args.ignore.split(",") if c.strip()]},
        "model": {"name": args.model},
        "optimizer": {"name": args.optimizer, "lr": args.lr},
        "schedule": {"name": args.schedule},
        "train": {"epochs": args.epochs, "batch_size": args.batch_size, "seed": args.seed},
    }
    overrides = {s: {k: v for k, v in t.items() if v is not None} for s, t in overrides.items()}
    overrides = {s: t for s, t in overrides.items() if t}
    _check_data_dir(args.data_dir)
    file_cfg = None
    if args.config:
        file_cfg = rebase_paths(tomlconfig.load(args.config), os.path.dirname(args.config))
    notes: list[str] = []
    cfg = resolve(file_cfg, overrides, notes)
    for note in notes:
        print(f"chainrule: note: {note}", file=sys.stderr, flush=True)
    if args.out is not None and not args.out.strip():
        raise _UsageError("--out: got an empty folder name")
    with stop_signals_interrupt():  # SIGTERM / SIGHUP save the run as Ctrl-C does
        return run_training(cfg, args.out)


_RUN_FLAGS = (("--dataset", "dataset"), ("--target", "target"), ("--model", "model"), ("--config", "config"),
              ("--batch-size", "batch_size"), ("--lr", "lr"), ("--optimizer", "optimizer"),
              ("--schedule", "schedule"), ("--seed", "seed"), ("--data-dir", "data_dir"), ("--out", "out"),
              ("--task", "task"), ("--ignore", "ignore"))


def _check_data_dir(path: str | None) -> None:
    if path is not None and os.path.isfile(path):
        raise ArgumentError(f"--data-dir {path}: is a file; expected the folder holding the MNIST / Fashion-MNIST "
                            "IDX files")


def _evaluate(args) -> int:
    from ._runeval import evaluate_run

    _check_data_dir(args.data_dir)
    for line in evaluate_run(args.run_dir, args.dataset, args.target, args.data_dir):
        print(line)
    return 0


def _predict(args) -> int:
    from ._runeval import predict_run

    print("\n".join(predict_run(args.run_dir, args.inputs)), flush=True)
    return 0


def _plot(args) -> int:
    from . import viz

    what = args.what
    if what not in PLOTS:
        raise ArgumentError(f"unknown plot {what!r}; valid plots: {', '.join(PLOTS)}")
    if what in _RUN_PLOTS and not args.run_dir:
        raise ArgumentError(f"plot {what} needs a run folder: chainrule plot {what} RUN_DIR")
    if args.run_dir and what not in (*_RUN_PLOTS, "boundary"):
        raise ArgumentError(f"plot {what} takes no run folder (got {args.run_dir!r})")
    out = args.out or f"{what}.png"
    if what == "activations":
        viz.plot_activations(out)
    elif what == "losses":
        viz.plot_losses(out)
    elif what == "init":
        viz.plot_init(out)
    elif what == "schedules":
        viz.plot_schedules(out)
    elif what == "curves":
        viz.plot_curves(_history_path(args.run_dir), out)
    elif what == "confusion":
        viz.plot_run_confusion(args.run_dir, out)
    else:
        viz.plot_run_boundary(args.run_dir, out)
    print(f"wrote {os.path.abspath(out)}")
    return 0


def _history_path(run_dir: str) -> str:
    from .errors import MissingFileError

    path = run_dir if run_dir.endswith(".json") else os.path.join(run_dir, "history.json")
    if not os.path.isfile(path):
        raise MissingFileError(f"no history.json in {run_dir!r}; expected a run folder written by chainrule train")
    return path


def _gradcheck(args) -> int:
    from ._gradcheck_catalog import run_all

    rows = run_all(only=args.only)
    if not rows:
        raise ArgumentError(f"gradcheck --only {args.only!r}: no op or layer name contains this text")
    width = max(len(r[0]) for r in rows) if rows else 4
    print(f"{'name':<{width}}  {'max abs err':>11}  {'max rel err':>11}  ok")
    failed = 0
    for name, abs_err, rel_err, ok, note in rows:
        failed += not ok
        nums = f"{abs_err:11.2e}  {rel_err:11.2e}" if abs_err is not None else f"{'-':>11}  {'-':>11}"
        print(f"{name:<{width}}  {nums}  {'yes' if ok else 'NO  ' + note}")
    print(f"{len(rows) - failed} of {len(rows)} gradients agree with central differences")
    return 0 if failed == 0 else 1


def _info(args) -> int:
    from ._sysinfo import info_lines

    print("\n".join(info_lines()))
    return 0


# ------------------------------------------------------------------------------------------ the parser
def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="chainrule", description="Deep learning from first principles on NumPy.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    t = sub.add_parser("train", help="train a network and save its run folder",
                       description="Train a network; with no options, an MLP on the embedded digits.")
    t.add_argument("--dataset", help=f"{', '.join(BUILTIN_DATASETS)}, or a CSV file (default digits)")
    t.add_argument("--target", help="the label column of a CSV dataset")
    t.add_argument("--ignore", metavar="COLUMN[,COLUMN...]",
                   help="columns of a CSV dataset that are not features (an id, a name): never read")
    t.add_argument("--model", help="logreg, shallow, mlp, cnn, lstm or resnet (default mlp)")
    t.add_argument("--config", help="a TOML file describing the run; options override it")
    t.add_argument("--epochs", type=int, help="number of epochs")
    t.add_argument("--batch-size", type=int, dest="batch_size", help="mini-batch size")
    t.add_argument("--lr", type=float, help="learning rate")
    t.add_argument("--optimizer", help=", ".join(OPTIMIZERS))
    t.add_argument("--schedule", help=", ".join(SCHEDULES))
    t.add_argument("--seed", type=int, help="random seed (default 0)")
    t.add_argument("--data-dir", dest="data_dir", help="folder holding the MNIST / Fashion-MNIST IDX files")
    t.add_argument("--out", help="run folder to create (default runs/<dataset>-<model>-<time>, with -2, -3... "
                                 "added when that name is taken)")
    t.add_argument("--task", choices=("auto", "classification", "regression"),
                   help="for a CSV target: auto (default: integers and strings are classes, real numbers "
                        "regression), or force one")
    t.add_argument("--resume", metavar="RUN_DIR",
                   help="continue an interrupted run from its checkpoint.safetensors, with its own settings "
                        "(only --epochs may raise the total); the finished run replaces RUN_DIR")
    t.set_defaults(func=_train)

    e = sub.add_parser("evaluate", help="test accuracy (or mse) of a trained run")
    e.add_argument("run_dir", metavar="RUN_DIR")
    e.add_argument("--dataset", help="evaluate on another dataset: a CSV file other than the run's own is scored "
                                     "on every row (default: the run's own test split)")
    e.add_argument("--target", help="the label column of a CSV dataset")
    e.add_argument("--data-dir", dest="data_dir", help="folder holding the MNIST / Fashion-MNIST IDX files")
    e.set_defaults(func=_evaluate)

    r = sub.add_parser("predict", help="predict the class (or value) of new inputs, one line per sample")
    r.add_argument("run_dir", metavar="RUN_DIR")
    r.add_argument("inputs", metavar="INPUT", nargs="+", help="a .csv file, or .png / .npy image files")
    r.set_defaults(func=_predict)

    g = sub.add_parser("plot", help="draw one of the notes' figures into a PNG file",
                       description="WHAT: " + ", ".join(PLOTS) + "; curves and confusion take a RUN_DIR, "
                                   "boundary an optional one (trained on a 2-D set; moons otherwise).")
    g.add_argument("what", metavar="WHAT", help=", ".join(PLOTS))
    g.add_argument("run_dir", metavar="RUN_DIR", nargs="?", help="a run folder (curves, confusion, boundary)")
    g.add_argument("--out", help="the PNG file to write (default WHAT.png)")
    g.set_defaults(func=_plot)

    c = sub.add_parser("gradcheck", help="check every op's and layer's gradient against central differences")
    c.add_argument("--only", help="check only the entries whose name contains this text")
    c.set_defaults(func=_gradcheck)

    sub.add_parser("info", help="versions, BLAS, threads and optional packages").set_defaults(func=_info)
    return p


def main(argv=None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``) and return its exit status."""
    from ._runner import RunFailure

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if not getattr(args, "func", None):
            parser.print_help()
            return 0
        return int(args.func(args))
    except SystemExit as e:  # --help
        return e.code if isinstance(e.code, int) else 0
    except _UsageError as e:
        _err(e)
        return 2
    except RunFailure as e:
        _err(e)
        return 1
    except ChainruleError as e:
        _err(e)
        return 2
    except KeyboardInterrupt as e:  # Ctrl-C, or SIGTERM / SIGHUP during train
        from ._atomic import exit_status

        print("chainrule: interrupted", file=sys.stderr, flush=True)
        return exit_status(e)
    except BrokenPipeError:  # e.g. `chainrule predict ... | head -1`
        return 1
    except (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError) as e:
        _err(f"{e.strerror or e}: {e.filename}" if e.filename else e)
        return 2
    except OSError as e:  # the system's refusal, e.g. a full disk or a file-size limit: not a bug
        if type(e) is not OSError or not e.strerror:
            traceback.print_exc()
            return 1
        import errno

        writing = e.errno in (errno.ENOSPC, errno.EFBIG, errno.EROFS, getattr(errno, "EDQUOT", errno.ENOSPC))
        where = f"cannot write {e.filename}" if writing else str(e.filename or "system error")
        _err(f"{where}: {e.strerror}")
        return 1
    except Exception:  # a bug: keep the traceback for the report
        traceback.print_exc()
        return 1


if __name__ == "__main__":
    sys.exit(main())
