"""Time to accuracy: seconds from "data loaded" until the frozen encoder reaches a target accuracy.

One pre-training run of one method on one dataset, evaluated at a few epochs on the way (by the
training loop's ``on_epoch_end`` hook, :func:`sslts.train.pretrain`). Each evaluation is the
project's TS2Vec-style SVM protocol (:func:`sslts.evaluate.svm_probe`: RBF SVM, C chosen by
stratified CV on the training split), preceded, as in the comparison, by the choice of a read-out of
the frozen feature map on the training split alone (:func:`sslts.evaluate.readouts.select_readout`).
The test accuracy of every evaluation point is *reported*, never used: the run always trains its
configured epochs, and the time to a target is read afterwards from the log of evaluation points.

Time to a target is the wall time from the end of data loading to the end of the first evaluation
whose test accuracy reaches it. It includes every earlier evaluation, since a run that checks its
accuracy pays for those; ``one_eval_s`` is the same point's time had that been the only evaluation.
Each time is split into setup (scaling, building the model), pre-training and evaluation, and the
evaluation into embedding (the frozen feature maps), the read-out choice and the SVM's C search,
fit and prediction. Data loading (``load_s``) is timed apart: TS2Vec's figures below are whole-process
times, so for a like-for-like comparison add ``load_s`` and the interpreter's start-up (a few seconds).

Two cautions when reading the times. The more evaluation points, the more chances a noisy test
accuracy has to cross a target early (a frozen *random* CNN already scores about 0.90 on UWave with
these read-outs), so keep them few and fixed in advance (``--eval-at``), and look at the last
point's accuracy too. On HAR (7,352 training series) choosing among six read-outs runs six C
searches per evaluation; the ``readout`` column shows what that costs, and ``--readouts none`` (the
encoder's own pooling, the book's default) avoids it without looking at the test split.

Defaults (``--method vicreg``, every other setting the comparison's): settings chosen on training
splits only, by :mod:`sslts.comparison` (``results/comparison/compare/<dataset>/``). Each method's
configuration there is the one :func:`sslts.comparison.chosen_config` picked from its grid by the
training-split score of its chosen read-out; on UWave, VICReg's chosen configuration (``sim_weight``
25, 20,000 series passes = 166 epochs, batch 128, lr 1e-3, the six read-outs) has the highest mean
of those training-split scores over seeds 0-4 among methods whose encoder never sees the labels:
VICReg 0.923, CLIP 0.922, MAE 0.922, SimCLR 0.920, VIbCReg 0.920, Barlow Twins 0.917, SS-GAN 0.893.
(Test-time training scores 0.997, but its encoder trains a classifier on those same training
labels, so its training-split score is not held out.) Where the comparison has no records for a
dataset yet (HAR when this was written), the comparison's configuration at the method's paper value
is used, and the output says so (``config_origin``). The VICReg chapter's best UWave setting (8
max-pooled bins, the extra unlabelled pool of 4,158 series, 220,000 series passes = 51 epochs; 0.920
over 5 seeds, about 20 minutes a seed, ``results/full/full/uwave/``) is the same configuration with
``--encoder-param temporal_bins=8 --encoder-param pooling=max --extra-pool --budget 220000
--readouts none``; a smaller ``--budget`` gives its time-to-accuracy curve at a lower cost.

Targets default to TS2Vec's official code run on this 2-core CPU (issue 19): UWave 0.906 in 186 s
and HAR 0.931 in 190 s; the goals are half of those times, and the book's best UWave accuracy
(0.920) within TS2Vec's time. ``--target ACC[:SECONDS]`` replaces them.

    # UWave, both targets (one run answers both), two threads:
    OMP_NUM_THREADS=2 python benchmarks/bench_time_to_accuracy.py --dataset uwave --threads 2
    # UCI HAR:
    OMP_NUM_THREADS=2 python benchmarks/bench_time_to_accuracy.py --dataset har --threads 2
    # a short check:
    OMP_NUM_THREADS=1 python benchmarks/bench_time_to_accuracy.py --dataset uwave --epochs 2 --threads 1

Prints a table and writes one JSON file (atomically) under ``benchmarks/results/``, naming the
machine, the thread pools, torch and the git commit, the data checksums, the configuration and
the seed (:func:`sslts.provenance.environment`).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch
from threadpoolctl import threadpool_limits
from tqdm import tqdm

from sslts.atomic import atomic_write_json
from sslts.augment import build_pipeline
from sslts.comparison import GRIDS, chosen_config, grid_configs
from sslts.data import DataError
from sslts.evaluate import embed, evaluate_embeddings
from sslts.evaluate.readouts import feature_maps, parse_readout, readout, select_readout
from sslts.experiment import ExperimentConfig, build_model, load_splits, pretrain_pool, train_config_for
from sslts.methods import METHODS
from sslts.paths import results_dir
from sslts.provenance import data_checksums, environment
from sslts.results import config_hash
from sslts.train import TrainingDiverged, pretrain

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_METHOD = "vicreg"
DEFAULT_POINTS = 4  # evaluation points spread over the run when --eval-at is not given
# dataset -> ((target accuracy, goal in seconds), ...). TS2Vec's official code on this 2-core CPU
# (issue 19): UWave 0.906 (SVM) in 186 s, HAR 0.931 (SVM) in 190 s. Goals: half of TS2Vec's time;
# the book's best UWave accuracy, 0.920, within TS2Vec's time.
TARGETS: dict[str, tuple[tuple[float, float | None], ...]] = {
    "uwave": ((0.906, 186 / 2), (0.920, 186.0)),
    "har": ((0.931, 190 / 2),),
}


class UsageError(ValueError):
    """A bad command-line value: printed as one line, no traceback."""


# --- pure helpers (tested in tests/test_bench_time_to_accuracy.py) ------------------------------


def parse_key_values(items: Sequence[str] | None, what: str) -> dict[str, Any]:
    """``["a=1", "b=max", "c=true"]`` -> ``{"a": 1, "b": "max", "c": True}`` (values read as JSON, else text)."""
    out: dict[str, Any] = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"{what} must be KEY=VALUE, got {item!r}")
        try:
            out[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            out[key.strip()] = value
    return out


def parse_targets(items: Sequence[str] | None, dataset: str) -> list[tuple[float, float | None]]:
    """``["0.906:93", "0.92"]`` -> ``[(0.906, 93.0), (0.92, None)]``; the dataset's defaults when empty."""
    if not items:
        if dataset not in TARGETS:
            raise UsageError(f"no default target for dataset {dataset!r} (defaults exist for {', '.join(TARGETS)}); "
                             "pass --target ACCURACY[:SECONDS]")
        return list(TARGETS[dataset])
    targets = []
    for item in items:
        acc, _, goal = item.partition(":")
        try:
            pair = (float(acc), float(goal) if goal else None)
        except ValueError:
            raise UsageError(f"--target must be ACCURACY[:SECONDS], e.g. 0.906:93, got {item!r}") from None
        if not 0 < pair[0] <= 1 or (pair[1] is not None and pair[1] <= 0):
            raise UsageError(f"--target accuracy must be in (0, 1] and seconds positive, got {item!r}")
        targets.append(pair)
    return targets


def eval_points(epochs: int, eval_at: Sequence[int] | None, n_points: int = DEFAULT_POINTS) -> list[int]:
    """Sorted epochs after which to evaluate; the last epoch is always one of them.

    Without ``eval_at``: ``n_points`` epochs spread evenly, ``ceil(epochs * k / n_points)``.

    Raises:
        UsageError: an epoch outside ``1..epochs``.

    >>> eval_points(166, None)
    [42, 83, 125, 166]
    """
    if eval_at is None:
        eval_at = [-(-epochs * k // n_points) for k in range(1, n_points + 1)]
    bad = [e for e in eval_at if not 1 <= e <= epochs]
    if bad:
        raise UsageError(f"--eval-at epochs must be between 1 and the run's {epochs} epochs, got {bad}")
    return sorted({*eval_at, epochs})


def first_reaching(log: Sequence[dict[str, Any]], target: float) -> dict[str, Any] | None:
    """The first evaluation point (in epoch order) whose test accuracy reaches ``target``, or None."""
    return next((row for row in sorted(log, key=lambda r: r["epoch"]) if row["accuracy"] >= target), None)


EVAL_PARTS = ("embed_s", "readout_s", "svm_s")


def time_split(log: Sequence[dict[str, Any]], epoch: int, setup_s: float) -> dict[str, float]:
    """Where the time up to the end of the evaluation at ``epoch`` went.

    ``pretrain_s`` is the pre-training before that point (read from the log), ``eval_s`` the sum of
    the evaluations so far and its parts; ``elapsed_s`` the row's own clock, ``one_eval_s`` the
    time had the evaluation at ``epoch`` been the only one.
    """
    rows = [r for r in log if r["epoch"] <= epoch]
    last = max(rows, key=lambda r: r["epoch"])
    split = {"setup_s": setup_s, "pretrain_s": last["pretrain_s"],
             "eval_s": sum(r["eval_s"] for r in rows),
             **{part: sum(r[part] for r in rows) for part in EVAL_PARTS},
             "elapsed_s": last["elapsed_s"], "one_eval_s": setup_s + last["pretrain_s"] + last["eval_s"]}
    return {k: round(v, 3) for k, v in split.items()}


def summarise(log: Sequence[dict[str, Any]], targets: Sequence[tuple[float, float | None]],
              setup_s: float) -> list[dict[str, Any]]:
    """Per target: the first point that reached it, its time split, and whether the goal was met."""
    out = []
    for accuracy, goal in targets:
        row = first_reaching(log, accuracy)
        split = None if row is None else time_split(log, row["epoch"], setup_s)
        met = None if goal is None else split is not None and split["elapsed_s"] <= goal
        out.append({"target": accuracy, "goal_s": goal, "reached_at_epoch": None if row is None else row["epoch"],
                    "accuracy": None if row is None else row["accuracy"], "split": split, "goal_met": met})
    return out


# --- configuration -------------------------------------------------------------------------------


def build_config(args: argparse.Namespace) -> tuple[ExperimentConfig, str]:
    """The run's :class:`ExperimentConfig` (the comparison's choice, then the overrides) and its origin."""
    method, dataset = args.method, args.dataset
    config = chosen_config(method, dataset, results_dir() / "comparison")
    grid = GRIDS.get(method)
    if config is not None:
        value = f"{grid[0]} = {config.method_params[grid[0]]}, " if grid else ""
        origin = (f"the comparison's configuration of {method} on {dataset} ({value}chosen on the training split; "
                  f"results/comparison/compare/{dataset}/)")
    else:
        config = grid_configs(method, dataset)[0]
        value = f"at the paper's {grid[0]} = {config.method_params[grid[0]]} " if grid else ""
        origin = (f"the comparison's configuration of {method} {value}(no complete comparison grid on "
                  f"{dataset} yet, so nothing was chosen)")
    changes: dict[str, Any] = {"seed": args.seed, "protocols": ("svm",), "label_fractions": (1.0,),
                               "finetune_epochs": 0}
    for field in ("epochs", "batch_size", "lr", "augmentations", "extra_pool", "device", "max_train",
                  "max_test", "search_max"):
        if getattr(args, field) is not None:
            changes[field] = getattr(args, field)
    if args.budget is not None:
        changes["pretrain_budget"] = args.budget
    changes["method_params"] = {**config.method_params, **parse_key_values(args.method_param, "--method-param")}
    encoder_params = parse_key_values(args.encoder_param, "--encoder-param")
    if args.encoder is not None and args.encoder != config.encoder:
        changes["encoder"], changes["encoder_params"] = args.encoder, encoder_params
    else:
        changes["encoder_params"] = {**config.encoder_params, **encoder_params}
    if args.readouts is not None:
        names = () if args.readouts.strip() in ("", "none") else tuple(r.strip() for r in args.readouts.split(","))
        for name in names:
            parse_readout(name)  # raises a readable ValueError
        changes["readouts"] = names
    final = replace(config, **changes)
    before, after = config.to_dict(), final.to_dict()
    changed = [k for k in after if after[k] != before.get(k) and k not in ("seed", *_EVALUATION_ONLY)]
    if changed:
        origin += f"; changed on the command line: {', '.join(changed)}"
    return final, origin


_EVALUATION_ONLY = ("protocols", "label_fractions", "finetune_epochs")  # the probes this benchmark skips


# --- the run ------------------------------------------------------------------------------------


class Probe:
    """The SVM protocol on the frozen encoder, with the read-out chosen on the training split."""

    def __init__(self, X_train: np.ndarray, y_train: np.ndarray, X_test: np.ndarray, y_test: np.ndarray,
                 config: ExperimentConfig) -> None:
        self.X_train, self.y_train, self.X_test, self.y_test = X_train, y_train, X_test, y_test  # (n, C, L), (n,)
        self.readouts, self.seed, self.search_max = config.readouts, config.seed, config.search_max or None

    def __call__(self, model: torch.nn.Module) -> dict[str, Any]:
        t0 = time.perf_counter()
        if self.readouts:
            train_maps, test_maps = feature_maps(model, self.X_train), feature_maps(model, self.X_test)  # (n, D', L')
        else:
            train_z, test_z = embed(model, self.X_train), embed(model, self.X_test)  # (n, D)
        t1 = time.perf_counter()
        choice: dict[str, Any] = {}
        if self.readouts:
            choice = (select_readout(train_maps, self.y_train, self.readouts, self.seed) if len(self.readouts) > 1
                      else {"chosen": self.readouts[0], "scores": {}})
            train_z = readout(train_maps, choice["chosen"]).numpy()  # (n_train, D)
            test_z = readout(test_maps, choice["chosen"]).numpy()  # (n_test, D)
        t2 = time.perf_counter()
        svm = evaluate_embeddings(train_z, self.y_train, test_z, self.y_test, "svm", self.seed,
                                  search_max=self.search_max)["svm"]
        t3 = time.perf_counter()
        return {"accuracy": svm.accuracy, "cv_accuracy": svm.best_params["cv_accuracy"], "C": svm.best_params["C"],
                "readout": choice.get("chosen"), "readout_scores": choice.get("scores", {}),
                "embed_s": t1 - t0, "readout_s": t2 - t1, "svm_s": t3 - t2}


class EvaluateAt:
    """The ``on_epoch_end`` hook: evaluate at the chosen epochs and log each point with its clock."""

    def __init__(self, points: Sequence[int], probe: Callable[[torch.nn.Module], dict[str, Any]],
                 started: float, pretrain_started: float, bar_write: Callable[[str], None] = tqdm.write) -> None:
        self.points, self.probe, self.write = set(points), probe, bar_write
        self.started, self.pretrain_started = started, pretrain_started
        self.log: list[dict[str, Any]] = []

    def __call__(self, epoch: int, method: torch.nn.Module) -> None:
        if epoch not in self.points:
            return
        begin = time.perf_counter()
        flags = {m: m.training for m in method.modules()}
        try:
            row = self.probe(method)
        finally:
            for m, training in flags.items():  # the loop goes on exactly as without the hook
                m.training = training
        end = time.perf_counter()
        spent = sum(r["eval_s"] for r in self.log)
        row = {"epoch": epoch, "pretrain_s": begin - self.pretrain_started - spent, "eval_s": end - begin,
               "elapsed_s": end - self.started, **row}
        self.log.append(row)
        self.write(f"epoch {epoch}: SVM test accuracy {row['accuracy']:.4f} (train CV {_fmt(row['cv_accuracy'])}, "
                   f"read-out {row['readout']}, C={row['C']:g}); evaluation {row['eval_s']:.1f} s, "
                   f"elapsed {row['elapsed_s']:.1f} s")


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def run(config: ExperimentConfig, eval_at: list[int] | None, threads: int | None, progress: bool) -> dict[str, Any]:
    """Load the data, pre-train with evaluations on the way, and return the JSON-ready result."""
    started_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    augment = build_pipeline(config.augmentations)  # a bad spec fails before any work
    loading = time.perf_counter()
    train, test, scaler = load_splits(config)
    pool, extra = pretrain_pool(config, train)
    started = time.perf_counter()  # the clock starts with the data loaded
    X_train, X_test = scaler.transform(train.X), scaler.transform(test.X)
    X_pool = scaler.transform(pool).astype(np.float32)  # (n_pool, C, L)
    model = build_model(config, X_pool.shape[1:], train.n_classes)
    if model.needs_labels and extra:
        raise UsageError(f"{config.method} trains with labels; the unlabelled --extra-pool cannot be used with it")
    # The experiment's own loop settings, so the run is the experiment's run.
    train_config = train_config_for(config, len(X_pool), progress, num_threads=threads)
    epochs = train_config.epochs
    points = eval_points(epochs, eval_at)
    probe = Probe(X_train, train.y, X_test, test.y, config)
    pretrain_started = time.perf_counter()
    hook = EvaluateAt(points, probe, started, pretrain_started)
    pretrain(model, X_pool, build_pipeline(augment, shape=X_pool.shape[1:]), train_config, resume=False,
             y=train.y if model.needs_labels else None, on_epoch_end=hook)
    total_s = time.perf_counter() - started
    setup_s = pretrain_started - started
    return {
        "kind": "time_to_accuracy",
        "pretrain_epochs": epochs,
        "eval_at": points,
        "checkpoints": hook.log,
        "totals": {**time_split(hook.log, epochs, setup_s), "total_s": round(total_s, 3)},
        "setup_s": setup_s,
        "load_s": round(started - loading, 3),
        "data": {"train_shape": list(train.X.shape), "test_shape": list(test.X.shape),
                 "pretrain_series": int(X_pool.shape[0]), "sha256": data_checksums(train, test, *extra)},
        "started_at": started_at,
    }


# --- command line -------------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", default="uwave", help="a dataset name, e.g. uwave, har (default: uwave)")
    p.add_argument("--method", default=DEFAULT_METHOD, choices=sorted(METHODS),
                   help=f"self-supervised method (default: {DEFAULT_METHOD})")
    p.add_argument("--seed", type=int, default=0, help="seed of the run (default: 0)")
    p.add_argument("--threads", type=int, default=None,
                   help="torch and BLAS threads (default: torch's, i.e. OMP_NUM_THREADS or all cores)")
    budget = p.add_argument_group("budget and evaluation (defaults: the comparison's)")
    budget.add_argument("--epochs", type=int, default=None, help="pre-training epochs (0: from --budget)")
    budget.add_argument("--budget", type=int, default=None, help="series passes when --epochs is 0 (comparison: 20000)")
    budget.add_argument("--eval-at", default=None,
                        help=f"comma-separated epochs to evaluate after (default: {DEFAULT_POINTS} evenly spread); "
                             "the last epoch is always evaluated")
    budget.add_argument("--target", action="append", metavar="ACC[:SECONDS]",
                        help="target test accuracy and optional goal in seconds, repeatable "
                             "(default: uwave 0.906:93 and 0.920:186, har 0.931:95)")
    settings = p.add_argument_group("method, encoder and read-out (defaults: the comparison's)")
    settings.add_argument("--method-param", action="append", metavar="KEY=VALUE", help="a method setting, repeatable")
    settings.add_argument("--encoder", default=None, help="encoder name (comparison: cnn)")
    settings.add_argument("--encoder-param", action="append", metavar="KEY=VALUE",
                          help="an encoder setting, repeatable, e.g. temporal_bins=8 or pooling=max")
    settings.add_argument("--readouts", default=None,
                          help="comma-separated read-outs to choose from on the training split, or 'none' for the "
                               "encoder's own pooling (comparison: avg,max,bins4-avg,bins4-max,bins8-avg,bins8-max)")
    settings.add_argument("--search-max", type=int, default=None,
                          help="the SVM searches C on at most this many training series (comparison: 1000; 0: all)")
    settings.add_argument("--batch-size", type=int, default=None)
    settings.add_argument("--lr", type=float, default=None)
    settings.add_argument("--augmentations", default=None, help="augmentation spec, e.g. 'jitter,scaling'")
    settings.add_argument("--extra-pool", action=argparse.BooleanOptionalAction, default=None,
                          help="also pre-train on the dataset's unlabelled pool (UWave has one)")
    other = p.add_argument_group("other")
    other.add_argument("--device", default=None, help="'auto', 'cpu' or 'cuda' (default: auto)")
    other.add_argument("--max-train", type=int, default=None, help="cap the training split (a quick check only)")
    other.add_argument("--max-test", type=int, default=None, help="cap the test split (a quick check only)")
    other.add_argument("--out", default=None, help="JSON output (default: benchmarks/results/time_to_accuracy-...json)")
    other.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def check_args(args: argparse.Namespace) -> list[int] | None:
    """Fail early, with one line, on values the libraries would reject late; return --eval-at as ints.

    An unknown dataset is left to :func:`sslts.data.load_dataset`, whose message suggests names.
    """
    positive = {"--threads": args.threads, "--batch-size": args.batch_size, "--budget": args.budget, "--lr": args.lr}
    non_negative = {"--epochs": args.epochs, "--search-max": args.search_max, "--max-train": args.max_train,
                    "--max-test": args.max_test}
    for name, value in positive.items():
        if value is not None and value <= 0:
            raise UsageError(f"{name} must be positive, got {value}")
    for name, value in non_negative.items():
        if value is not None and value < 0:
            raise UsageError(f"{name} must be 0 or more, got {value}")
    if args.eval_at is None:
        return None
    try:
        return [int(e) for e in args.eval_at.split(",") if e.strip()]
    except ValueError:
        raise UsageError(f"--eval-at must be comma-separated epochs, e.g. 20,40,80, got {args.eval_at!r}") from None


def table(result: dict[str, Any]) -> str:
    """The printed report: one line per evaluation point, then one per target."""
    lines = [f"{'epoch':>5} {'pretrain s':>10} {'eval s':>7} {'(embed':>7} {'readout':>8} {'svm)':>6} "
             f"{'elapsed s':>9}  {'read-out':<10} {'C':>8} {'train CV':>8} {'test acc':>8}"]
    for r in result["checkpoints"]:
        lines.append(f"{r['epoch']:>5} {r['pretrain_s']:>10.1f} {r['eval_s']:>7.1f} {r['embed_s']:>7.1f} "
                     f"{r['readout_s']:>8.1f} {r['svm_s']:>6.1f} {r['elapsed_s']:>9.1f}  {str(r['readout']):<10} "
                     f"{r['C']:>8g} {_fmt(r['cv_accuracy']):>8} {r['accuracy']:>8.4f}")
    for t in result["targets"]:
        goal = "" if t["goal_s"] is None else f" (goal {t['goal_s']:.0f} s: {'met' if t['goal_met'] else 'not met'})"
        if t["split"] is None:
            lines.append(f"target {t['target']:.3f}: not reached in {result['pretrain_epochs']} epochs{goal}")
            continue
        s = t["split"]
        lines.append(f"target {t['target']:.3f}: reached at epoch {t['reached_at_epoch']} in {s['elapsed_s']:.1f} s"
                     f"{goal}: setup {s['setup_s']:.1f} s, pre-training {s['pretrain_s']:.1f} s, evaluation "
                     f"{s['eval_s']:.1f} s (embed {s['embed_s']:.1f}, read-out {s['readout_s']:.1f}, SVM "
                     f"{s['svm_s']:.1f}); {s['one_eval_s']:.1f} s with that evaluation alone")
    tot = result["totals"]
    lines.append(f"whole run: {tot['total_s']:.1f} s after {result['load_s']:.1f} s of data loading = setup "
                 f"{tot['setup_s']:.1f} + pre-training {tot['pretrain_s']:.1f} + evaluation {tot['eval_s']:.1f} s; "
                 f"{result['device']}, torch {result['torch']}, threads {result['thread_pools']}, "
                 f"commit {result['git_commit']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    previous_threads = torch.get_num_threads()
    try:
        eval_at = check_args(args)
        targets = parse_targets(args.target, args.dataset)
        config, origin = build_config(args)
        if args.threads is not None:
            torch.set_num_threads(args.threads)
        with threadpool_limits(limits=args.threads):  # None: leave BLAS as it is
            result = run(config, eval_at, args.threads, progress=not args.no_progress)
            setup_s = result.pop("setup_s")
            result = {**result, "targets": summarise(result["checkpoints"], targets, setup_s),
                      "config": config.to_dict(), "config_origin": origin, "seed": config.seed,
                      "threads_requested": args.threads, "command": " ".join(sys.argv),
                      # read while the run's thread counts are still set
                      **environment(None if config.device == "auto" else config.device)}
    except (UsageError, ValueError, TypeError, DataError, TrainingDiverged) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    finally:
        torch.set_num_threads(previous_threads)
    name = (f"time_to_accuracy-{config.dataset}-{config.method}-s{config.seed}-t{result['thread_pools']['torch']}"
            f"-{config_hash(config.to_dict())}.json")
    out = Path(args.out) if args.out else ROOT / "benchmarks" / "results" / name
    atomic_write_json(out, result)
    print(table(result))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
