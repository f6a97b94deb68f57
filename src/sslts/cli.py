"""Command line: ``sslts run``, ``sslts book``, ``sslts params``, ``sslts fetch``, ``sslts sweep``,
``sslts compare``, ``sslts cleaning``, ``sslts transfer``, ``sslts vqvae``, ``sslts dissect``,
``sslts scarce``.

Each command is one small handler in :data:`HANDLERS`; the options every resumable sweep shares
(``--max-runs``, ``--no-progress``, ``--engine``, ``--address``) are declared once. Every error a
user can act on ends in one line starting with ``error:`` and exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from typing import Callable

from .data.errors import DataError
from .params import PROFILES, ParameterError


def _sweep_options(parser: argparse.ArgumentParser, out: str, what: str) -> None:
    """The options of every resumable sweep: where records go, how many, progress and engine."""
    parser.add_argument("--out", default=out, help=f"record folder (default {out})")
    parser.add_argument("--max-runs", type=int, default=None, help="stop after this many new runs")
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("--engine", choices=("local", "ray"), default="local",
                        help=f"local: one {what} at a time here; ray: each {what} a Ray task (this machine's cores, or --address)")
    parser.add_argument("--address", default=None, help="a Ray cluster to join (with --engine ray), e.g. auto")


def _chapter_commands(sub: argparse._SubParsersAction) -> None:
    run = sub.add_parser("run", help="execute one chapter into build/executed/CHAPTER.ipynb")
    run.add_argument("chapter")
    run.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                     help="override a parameter (repeatable); lists are comma-separated")
    run.add_argument("--profile", choices=PROFILES, default="quick")
    run.add_argument("--output-dir", default=None, help="where the executed notebook goes")
    run.add_argument("--no-progress", action="store_true")

    book = sub.add_parser("book", help="execute every chapter and build the HTML book")
    book.add_argument("--profile", choices=PROFILES, default="quick")
    book.add_argument("--no-execute", action="store_true", help="render the already executed notebooks")
    book.add_argument("--strict", action="store_true", help="treat Sphinx warnings as errors")

    params = sub.add_parser("params", help="list a chapter's parameters")
    params.add_argument("chapter")

    reference = sub.add_parser("reference", help="refresh the nbval reference notebooks in tests/notebooks (smoke profile)")
    reference.add_argument("chapters", nargs="*", help="default: every chapter")

    fetch = sub.add_parser("fetch", help="get, verify and cache datasets (e.g. before going offline)")
    fetch.add_argument("datasets", nargs="+")


def _study_commands(sub: argparse._SubParsersAction) -> None:
    sweep = sub.add_parser("sweep", help="run the full-profile experiments that have no record yet")
    sweep.add_argument("--methods", default=None, help="default: every registered SSL method and random_init")
    sweep.add_argument("--datasets", default="uwave,har")
    sweep.add_argument("--seeds", default="0,1,2,3,4")
    sweep.add_argument("--profile", choices=PROFILES, default="full")
    sweep.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                       help="override a chapter parameter for every run (e.g. -p epochs 100)")
    sweep.add_argument("--checkpoints", default="results/checkpoints",
                       help="folder for pre-training checkpoints, so a stopped run resumes (default "
                            "results/checkpoints, ignored by git; one file per run, at most about 35 MB "
                            "with the full profile's models)")
    sweep.add_argument("--no-checkpoints", action="store_true", help="keep no checkpoints (a stopped run starts over)")
    _sweep_options(sweep, "results/full", "run")

    compare = sub.add_parser("compare", help="run what the comparison chapter still lacks (resumable)")
    compare.add_argument("--methods", default=None, help="default: every SSL method, random_init and the baselines")
    compare.add_argument("--datasets", default=None, help="default: the suite (sslts.comparison.SUITE)")
    compare.add_argument("--seeds", default="0,1,2,3,4")
    compare.add_argument("--few-shot", action="store_true",
                         help="run the few-shot records instead (1, 2, 5 labels per class; sslts.fewshot)")
    _sweep_options(compare, "results/comparison", "run")

    clean = sub.add_parser("cleaning", help="run what the cleaning study still lacks (resumable)")
    clean.add_argument("--seeds", default="0,1,2,3,4")
    clean.add_argument("--claims", default=None, help="default: every claim (sslts.cleaning_study.CLAIMS)")
    _sweep_options(clean, "results/cleaning", "run")

    transfer = sub.add_parser("transfer", help="run what the transfer chapter still lacks (resumable)")
    transfer.add_argument("--targets", default=None, help="default: uwave,har (sslts.transfer.TARGETS)")
    transfer.add_argument("--sources", default=None, help="default: every source of each target")
    transfer.add_argument("--methods", default=None, help="default: simclr,vicreg (sslts.transfer.METHODS)")
    transfer.add_argument("--seeds", default="0,1,2,3,4")
    _sweep_options(transfer, "results/transfer", "run")

    vqvae = sub.add_parser("vqvae", help="run what the NC-VQVAE chapter still lacks (resumable)")
    vqvae.add_argument("--datasets", default=None, help="default: sslts.vqvae.sweep.DATASETS")
    vqvae.add_argument("--seeds", default="0,1,2,3,4")
    vqvae.add_argument("--ssl-losses", default=None, help="default: vibcreg,barlow_twins")
    vqvae.add_argument("--augmentations", default=None, help="default: every thesis augmentation")
    vqvae.add_argument("--profile", choices=("cpu", "smoke"), default="cpu",
                       help="cpu: the CPU-sized VQVAEConfig defaults; smoke: a seconds-long wiring check")
    _sweep_options(vqvae, "results/vqvae", "run")

    dissect = sub.add_parser("dissect", help="run what the dissection chapter's seed table still lacks (resumable)")
    dissect.add_argument("--datasets", default=None, help="default: uwave,har (sslts.dissection_sweep.DATASETS)")
    dissect.add_argument("--methods", default=None,
                         help="default: random_init,supervised,simclr,vicreg (sslts.dissection_sweep.ENCODERS)")
    dissect.add_argument("--seeds", default="0,1,2,3,4")
    _sweep_options(dissect, "results/dissection", "run")

    scarce = sub.add_parser("scarce", help="the label-scarce study: describe a corpus, or run a sweep lane (resumable)")
    scarce_sub = scarce.add_subparsers(dest="scarce_command", required=True)
    corpus = scarce_sub.add_parser("corpus", help="load an unlabelled corpus and print its record")
    corpus.add_argument("name", help="uwave-pool, uwave-pool-500/1000/2000, har-train, xd-a, xd-b or train:<problem>")
    lane = scarce_sub.add_parser("sweep", help="run study tasks without a record; start one lane per core")
    lane.add_argument("--lane", type=int, default=0, help="this lane's number (progress bar position)")
    lane.add_argument("--out", default="results/scarce", help="record folder (default results/scarce)")
    lane.add_argument("--max-tasks", type=int, default=None, help="stop after this many tasks")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sslts", description="Self-supervised learning for time series: run the book's chapters.")
    sub = parser.add_subparsers(dest="command", required=True)
    _chapter_commands(sub)
    _study_commands(sub)
    return parser


def _seeds(text: str) -> list[int]:
    try:
        return [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise ParameterError(f"--seeds must be comma-separated integers, e.g. 0,1,2; got {text!r}") from None


def _names(text: str | None) -> list[str] | None:
    return None if text is None else [n.strip() for n in text.split(",") if n.strip()]


def _engine(args: argparse.Namespace) -> dict:
    """The keyword arguments every sweep takes from the shared options."""
    return {"progress": not args.no_progress, "engine": args.engine, "address": args.address}


def _run(args: argparse.Namespace) -> None:
    from .runner import run_chapter

    overrides = dict(args.parameter)
    if "profile" in overrides:
        raise ParameterError("Set the profile with --profile, not -p profile.")
    path = run_chapter(args.chapter, args.profile, overrides, args.output_dir, progress=not args.no_progress)
    print(f"executed notebook: {path}")


def _book(args: argparse.Namespace) -> None:
    from .runner import build_book

    print(f"book: {build_book(args.profile, execute=not args.no_execute, strict=args.strict)}")


def _reference(args: argparse.Namespace) -> None:
    from .runner import chapters, project_root, run_chapter, strip_to_checked_outputs

    out_dir = project_root() / "tests" / "notebooks"
    for chapter in args.chapters or chapters():
        path = run_chapter(chapter, "smoke", output_dir=out_dir, progress=False)
        strip_to_checked_outputs(path)
        print(f"reference notebook: {path}")


def _sweep(args: argparse.Namespace) -> None:
    from .methods import METHODS
    from .sweep import run_sweep

    methods = args.methods.split(",") if args.methods else [*METHODS, "random_init"]
    written = run_sweep(methods, args.datasets.split(","), _seeds(args.seeds), args.out, args.profile,
                        dict(args.parameter), args.max_runs, checkpoint_dir=None if args.no_checkpoints else args.checkpoints,
                        **_engine(args))
    print(f"{len(written)} new records in {args.out}")


def _compare(args: argparse.Namespace) -> None:
    from .comparison import run_comparison
    from .fewshot import run_few_shot

    done = (run_few_shot if args.few_shot else run_comparison)(
        _names(args.methods), _names(args.datasets), _seeds(args.seeds), args.out, args.max_runs, **_engine(args))
    print(f"{done} new records in {args.out}")


def _cleaning(args: argparse.Namespace) -> None:
    from .cleaning_study import CLAIMS, all_runs, run_study

    claims = _names(args.claims)
    if claims and set(claims) - set(CLAIMS):
        raise ParameterError(f"unknown claim {sorted(set(claims) - set(CLAIMS))[0]!r}; known: {', '.join(CLAIMS)}")
    done = run_study(args.out, all_runs(_seeds(args.seeds), claims=claims), args.max_runs, **_engine(args))
    print(f"{done} new records in {args.out}")


def _transfer(args: argparse.Namespace) -> None:
    from .transfer import configs, run_transfer_sweep

    selection = (_names(args.targets), _names(args.sources), _names(args.methods), _seeds(args.seeds))
    try:
        configs(*selection)  # an unknown target, source or method fails here, before any run
    except ValueError as error:
        raise ParameterError(str(error)) from None
    done = run_transfer_sweep(*selection, args.out, args.max_runs, **_engine(args))
    print(f"{done} new records in {args.out}")


def _vqvae(args: argparse.Namespace) -> None:
    from .vqvae.config import AUGMENTATIONS
    from .vqvae.sweep import DATASETS, SSL_LOSSES_SWEPT, run_vqvae_sweep, sweep_tasks, variants

    grid = variants(tuple(_names(args.ssl_losses) or SSL_LOSSES_SWEPT), tuple(_names(args.augmentations) or AUGMENTATIONS))
    try:  # an unknown loss or augmentation fails here, before any run
        tasks = sweep_tasks(tuple(_names(args.datasets) or DATASETS), tuple(_seeds(args.seeds)), args.profile, grid)
    except ValueError as error:
        raise ParameterError(str(error)) from None
    done = run_vqvae_sweep(tasks, args.out, args.max_runs, **_engine(args))
    print(f"{done} new records in {args.out}")


def _dissect(args: argparse.Namespace) -> None:
    from .data import load_dataset
    from .dissection_sweep import run_dissection_sweep, tasks

    try:  # an unknown encoder fails here, before any run
        planned = tasks(_names(args.datasets), _names(args.methods), _seeds(args.seeds))
    except ValueError as error:
        raise ParameterError(str(error)) from None
    for name in dict.fromkeys(t.dataset for t in planned):
        load_dataset(name, "train")  # an unknown or unreachable dataset: one DataError line, before any run
    done = run_dissection_sweep(planned, args.out, args.max_runs, **_engine(args))
    print(f"{done} new records in {args.out}")


def _scarce(args: argparse.Namespace) -> None:
    from .scarce.corpora import CorpusError, load_corpus

    try:
        if args.scarce_command == "corpus":
            import json

            print(json.dumps(load_corpus(args.name).describe(), indent=2))
        else:
            from .scarce.sweep import sweep

            print(f"{sweep(args.lane, args.out, max_tasks=args.max_tasks)} tasks run; records in {args.out}")
    except CorpusError as error:
        raise ParameterError(str(error)) from None


def _params(args: argparse.Namespace) -> None:
    from .params import describe

    print(describe(args.chapter))


def _fetch(args: argparse.Namespace) -> None:
    from .data import load_dataset

    for name in args.datasets:
        for split in ("train", "test"):
            data = load_dataset(name, split)
            print(f"{name} {split}: {data.X.shape[0]} series x {data.X.shape[1]} channels x {data.X.shape[2]} steps, "
                  f"{data.n_classes} classes")


HANDLERS: dict[str, Callable[[argparse.Namespace], None]] = {
    "run": _run, "book": _book, "reference": _reference, "params": _params, "fetch": _fetch, "sweep": _sweep,
    "compare": _compare, "cleaning": _cleaning, "transfer": _transfer, "vqvae": _vqvae, "dissect": _dissect,
    "scarce": _scarce,
}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        HANDLERS[args.command](args)
    except (ParameterError, DataError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # chapter failures carry their own readable message
        from .runner import ChapterError

        if isinstance(error, ChapterError):
            print(f"error: {error}", file=sys.stderr)
            return 2
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
