"""GPU check: one full-profile experiment per SSL method on UWave and UCI HAR, on CUDA, with a summary.

Called by ``benchmarks/gpu_check.sh`` on a CUDA machine (issue 19, "GPU, checked"); ``--device cpu
--tiny`` runs the same plumbing in seconds on the CPU (``tests/test_gpu_check.py``).

Every run is built the way the book builds it: ``sslts.params.resolve(chapter, "full")`` of the
method's own chapter (``sslts.wiring.METHOD_CHAPTER``), ``sslts.wiring.experiment_config`` and
``sslts.experiment.run_experiment``. Mixed precision needs nothing here: ``TrainConfig.amp`` is on
by default and the training loop autocasts to float16 on CUDA only (``sslts.train``).

To stay within the check's 8 minutes two settings may depart from the full profile; both are named
in the summary (``"scaled"``) and on every run (``"deviations"``):

* ``--budget-scale S``: pre-training budget (series passes of the auto-epochs setting) times ``S``,
  applied only where it changes the epochs. UWave's 120 series hit the 200-epoch cap at either
  budget, so its runs keep the full configuration; HAR's 7352 series train 29 epochs in full.
* ``--search-max N``: the probes search their C on at most N training series, then refit on all
  (``ExperimentConfig.search_max``); applied only where the training split is larger (HAR). On the
  CPU the SVM/linear searches take about half of a HAR run's evaluation, and they stay on the CPU.

``--budget-scale 1 --search-max 0`` runs the exact full-profile configurations.

Output (``--out``): ``gpu_check_summary.json`` (rewritten atomically after every run, so a run that
is stopped by its timeout still leaves what finished), and each run's record under ``records/``.
The summary holds per run: method, dataset, config hash, wall time, pre-training samples/s, peak GPU
memory, accuracies (linear/SVM/kNN at all labels, fine-tuning) beside the CPU record of the same
configuration under ``results/full`` when one exists (else the full-profile configuration the run
stands for, else the nearest record of that method and dataset, saying which); provenance; and an
estimate of the whole book's full profile on this device against the 30-minute goal.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SUMMARY_NAME = "gpu_check_summary.json"
DEFAULT_DATASETS = ("uwave", "har")
GOAL_S = 30 * 60  # issue 19: the whole full profile of the book on one GPU in at most 30 minutes
# The time the 16 runs may take inside gpu_check.sh's 8 minutes (installing torch, the CUDA unit
# tests and start-up take the rest).
TARGET_RUNS_S = 6 * 60
# results/benchmarks/pretrain_throughput.json has CPU numbers only (2 cores). Assumed speed-up of
# pre-training on an H100/H200-class GPU over them: the CNNs are small (0.1-3 M parameters) and a
# 128-series batch is launch-bound on a GPU, so 10x rather than the 50-100x of large models.
ASSUMED_GPU_SPEEDUP = 10.0
# Share of TARGET_RUNS_S given to pre-training: the rest is start-up and evaluation (fine-tuning on
# the GPU; the probes' searches on the CPU, capped by --search-max).
PRETRAIN_SHARE = 0.4
DEFAULT_SEARCH_MAX = 1000
TINY = {"epochs": 1, "finetune_epochs": 1}
TINY_CAP = 64


def _fail(message: str) -> "NoReturn":  # noqa: F821
    """Stop with one readable line (no traceback)."""
    print(f"gpu_check: error: {message}", file=sys.stderr, flush=True)
    raise SystemExit(2)


# --------------------------------------------------------------------------------- configurations
def full_config(method: str, dataset: str, seed: int, overrides: dict[str, Any]):
    """The book's full-profile configuration of ``method`` on ``dataset`` (its own chapter's parameters)."""
    from sslts.params import resolve
    from sslts.wiring import METHOD_CHAPTER, experiment_config

    chapter = METHOD_CHAPTER.get(method, "simclr")
    P = resolve(chapter, "full", **overrides)
    P["dataset"] = [dataset]
    return experiment_config(method, dataset, seed, P)


def pool_sizes(config) -> tuple[int, int]:
    """``(training series, pre-training pool series)`` of ``config`` (capped as configured)."""
    from sslts.experiment import load_splits, pretrain_pool

    train, _, _ = load_splits(config)
    pool, _ = pretrain_pool(config, train)
    return len(train.y), len(pool)


def scaled_config(config, scale: float, search_max: int, n_train: int, n_pool: int):
    """``config`` with its pre-training budget scaled and its probes' search capped, only where that
    changes the run; returns ``(config, deviations)``."""
    from sslts.experiment import auto_epochs

    deviations: dict[str, Any] = {}
    if scale < 1.0:
        if config.epochs:  # a fixed number of epochs
            epochs = max(1, round(config.epochs * scale))
            if epochs != config.epochs:
                deviations["epochs"] = {"full": config.epochs, "run": epochs}
                config = replace(config, epochs=epochs)
        else:
            budget = max(100, round(config.pretrain_budget * scale))
            full_epochs, run_epochs = auto_epochs(n_pool, config.pretrain_budget), auto_epochs(n_pool, budget)
            if run_epochs != full_epochs:
                deviations["pretrain_budget"] = {"full": config.pretrain_budget, "run": budget,
                                                 "epochs_full": full_epochs, "epochs_run": run_epochs}
                config = replace(config, pretrain_budget=budget)
    if search_max and n_train > search_max and not config.search_max:
        deviations["search_max"] = {"full": 0, "run": search_max}
        config = replace(config, search_max=search_max)
    return config, deviations


# ---------------------------------------------------------------------------------- CPU records
def load_cpu_records(root: Path) -> list[tuple[Path, dict[str, Any]]]:
    if not root.is_dir():
        return []
    out = []
    for path in sorted(root.rglob("*.json")):
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if record.get("kind") == "experiment":
            out.append((path, record))
    return out


def _flat(config: dict[str, Any]) -> dict[str, Any]:
    flat = {k: v for k, v in config.items() if not isinstance(v, dict)}
    for key in ("method_params", "encoder_params"):
        flat.update({f"{key}.{k}": v for k, v in config.get(key, {}).items()})
    return flat


def _differences(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    fa, fb = _flat(a), _flat(b)
    return sorted(k for k in set(fa) | set(fb) if fa.get(k) != fb.get(k))


def cpu_match(run_config: dict[str, Any], full: dict[str, Any], records: list[tuple[Path, dict[str, Any]]],
              root: Path) -> dict[str, Any] | None:
    """The CPU record to set beside a run, and how it matches.

    Records store the configured ``device`` (``"auto"`` for the sweep's records; the hardware is in
    the record's ``"device"`` entry), so a CUDA run's configuration is looked up with the device
    replaced by each value the records use. ``match`` is ``"exact"`` (same configuration as this
    run), ``"full_profile_config"`` (the unscaled configuration this run stands for) or ``"nearest"``
    (same method and dataset, fewest differing settings: listed in ``differs_in``).
    """
    from sslts.results import config_hash

    cpu = [(p, r) for p, r in records if str(r.get("device", "")).startswith("cpu")]
    by_hash: dict[str, tuple[Path, dict[str, Any]]] = {}
    for path, record in cpu:
        by_hash.setdefault(config_hash(record["config"]), (path, record))
    devices = sorted({r["config"].get("device", "auto") for _, r in cpu} | {"auto", "cpu"})
    for kind, config in (("exact", run_config), ("full_profile_config", full)):
        for device in devices:
            hit = by_hash.get(config_hash({**config, "device": device}))
            if hit:
                return _describe_record(kind, hit, root, [])
    same = [(p, r) for p, r in cpu if r["config"]["method"] == run_config["method"]
            and r["config"]["dataset"] == run_config["dataset"]]
    if not same:
        return None
    def distance(item: tuple[Path, dict[str, Any]]) -> tuple[int, int, str]:
        diff = [k for k in _differences(item[1]["config"], full) if k != "device"]
        return (len(diff), int(item[1]["config"]["seed"] != full["seed"]), item[1].get("started_at", ""))
    best = min(same, key=distance)
    return _describe_record("nearest", best, root,
                            [k for k in _differences(best[1]["config"], full) if k != "device"])


def accuracies(record: dict[str, Any]) -> dict[str, float]:
    return {e["protocol"]: round(float(e["accuracy"]), 4) for e in record["evaluations"]
            if e.get("label_fraction") == 1.0}


def _describe_record(kind: str, hit: tuple[Path, dict[str, Any]], root: Path, differs: list[str]) -> dict[str, Any]:
    from sslts.results import config_hash

    path, record = hit
    try:
        shown = str(path.relative_to(ROOT))
    except ValueError:
        shown = str(path)
    out = {"match": kind, "path": shown, "config_hash": config_hash(record["config"]),
           "device": record.get("device"), "git_commit": record.get("git_commit"),
           "accuracy": accuracies(record), "timing": record.get("timing", {}),
           "pretrain_epochs": record.get("pretrain_epochs")}
    if differs:
        out["differs_in"] = differs
    return out


# ------------------------------------------------------------------------------------------ runs
def run_one(config_dict: dict[str, Any], records_dir: str, threads: int | None) -> dict[str, Any]:
    """One experiment (in this process or a worker): its record plus wall time and peak GPU memory."""
    import torch

    from sslts.experiment import ExperimentConfig, run_experiment

    if threads:
        torch.set_num_threads(threads)
    config = ExperimentConfig.from_dict(config_dict)
    cuda = config.device.startswith("cuda") or (config.device == "auto" and torch.cuda.is_available())
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    result = run_experiment(config, records_dir, progress=False)
    wall = time.perf_counter() - started
    peak = torch.cuda.max_memory_allocated() / 2**20 if cuda else None
    return {"record": result.record, "wall_s": wall, "peak_gpu_memory_mb_whole_run": peak}


def _run_row(config, full, deviations: dict[str, Any], out: dict[str, Any], cpu: dict[str, Any] | None) -> dict[str, Any]:
    from sslts.results import config_hash

    record = out["record"]
    timing = record["timing"]
    finetune = next((e for e in record["evaluations"] if e["protocol"] == "finetune"), {})
    row = {
        "method": config.method, "dataset": config.dataset, "seed": config.seed,
        "config_hash": config_hash(record["config"]),
        "full_profile_config_hash": config_hash(full.to_dict()),
        "scaled": bool(deviations), "deviations": deviations,
        "wall_s": round(out["wall_s"], 2),
        "pretrain_s": timing.get("pretrain_s"), "eval_s": timing.get("eval_s"),
        "finetune_s": None if not finetune else round(float(finetune.get("finetune_s", 0.0)), 2),
        "pretrain_epochs": record.get("pretrain_epochs"),
        "pretrain_series": record["data"]["pretrain_series"],
        "pretrain_samples_per_s": timing.get("samples_per_s"),
        # torch.cuda.max_memory_allocated: of the pre-training call (the record's), and of the whole
        # run including evaluation and fine-tuning (reset before the run); None on the CPU.
        "peak_gpu_memory_mb_pretrain": timing.get("peak_memory_mb") if out["peak_gpu_memory_mb_whole_run"] is not None else None,
        "peak_gpu_memory_mb": None if out["peak_gpu_memory_mb_whole_run"] is None else round(out["peak_gpu_memory_mb_whole_run"], 1),
        "accuracy": accuracies(record),
        "device": record.get("device"),
        "cpu_record": cpu,
    }
    if cpu:
        row["accuracy_minus_cpu"] = {k: round(v - cpu["accuracy"][k], 4) for k, v in row["accuracy"].items()
                                     if k in cpu["accuracy"]}
        cpu_total = cpu["timing"].get("total_s")
        if cpu_total and cpu["match"] != "nearest" and not deviations:
            row["speedup_vs_cpu_record"] = round(cpu_total / out["wall_s"], 2)
    return row


# ------------------------------------------------------------------------------ default budget scale
def default_budget_scale(records: list[tuple[Path, dict[str, Any]]], methods: list[str],
                         datasets: list[str]) -> dict[str, Any]:
    """The budget scale that gives pre-training ``PRETRAIN_SHARE`` of ``TARGET_RUNS_S``, estimated.

    Full-profile samples per (method, dataset): ``samples_per_s x pretrain_s`` of the committed CPU
    records (median). Speed: the CPU samples/s of ``results/benchmarks/pretrain_throughput.json``
    (the book's encoder of each method) times ``ASSUMED_GPU_SPEEDUP``; without a row, 500 samples/s.
    """
    import statistics

    bench = ROOT / "results" / "benchmarks" / "pretrain_throughput.json"
    cpu_rate: dict[tuple[str, str], float] = {}
    gpu_rows = False
    if bench.is_file():
        data = json.loads(bench.read_text())
        for row in data.get("rows", []):
            if row.get("encoder") == "dilated":
                continue
            gpu_rows |= str(row.get("device", "")).startswith("cuda")
            cpu_rate[(row["method"], row["dataset"])] = max(cpu_rate.get((row["method"], row["dataset"]), 0.0),
                                                            float(row["samples_per_s"]))
    seconds, samples_total = 0.0, 0.0
    for method in methods:
        for dataset in datasets:
            samples = [r["timing"]["samples_per_s"] * r["timing"]["pretrain_s"] for _, r in records
                       if r["config"]["method"] == method and r["config"]["dataset"] == dataset
                       and r["config"]["profile"] == "full" and r["timing"].get("samples_per_s")]
            n = statistics.median(samples) if samples else 220_000.0
            samples_total += n
            seconds += n / (cpu_rate.get((method, dataset), 500.0) * ASSUMED_GPU_SPEEDUP)
    budget = PRETRAIN_SHARE * TARGET_RUNS_S
    scale = 1.0 if seconds <= budget else max(0.05, math.floor(budget / seconds * 20) / 20)
    return {"budget_scale": scale, "estimated_full_pretrain_s": round(seconds, 1),
            "full_pretrain_samples": round(samples_total), "pretrain_time_budget_s": budget,
            "assumed_gpu_speedup_over_2core_cpu": ASSUMED_GPU_SPEEDUP,
            "throughput_source": f"{bench.relative_to(ROOT)} ({'has GPU rows' if gpu_rows else 'CPU rows only'})"}


# ------------------------------------------------------------------------------- book estimate
def _book_grids() -> dict[str, tuple[list[str], list[str]]]:
    """Methods and compare-methods of each chapter's ``run_method_grid`` call, read from ``book/*.md``."""
    from sslts.wiring import METHOD_CHAPTER

    grids: dict[str, tuple[list[str], list[str]]] = {}
    pattern = re.compile(r"run_method_grid\(\[([^\]]*)\],\s*P(?:,\s*compare=\(([^)]*)\))?")
    for chapter in sorted(set(METHOD_CHAPTER.values())):
        path = ROOT / "book" / f"{chapter}.md"
        match = pattern.search(path.read_text()) if path.is_file() else None
        if match is None:
            continue
        methods = re.findall(r"['\"](\w+)['\"]", match.group(1))
        compare = re.findall(r"['\"](\w+)['\"]", match.group(2)) if match.group(2) is not None else ["random_init"]
        grids[chapter] = (methods, compare)
    return grids


def book_plan() -> list[dict[str, Any]]:
    """The book's full-profile training work: one entry per distinct experiment and extra pre-training.

    Method chapters: every dataset x seed x (methods + compare methods) of their ``run_method_grid``
    call, deduplicated by record path (a compare run identical to another chapter's is reused).
    Extras: the MAE mask-ratio sweep, the SS-GAN chapter's plain GAN, the dissection chapter's
    pre-trainings and supervised CNN. Not counted (small or unmeasured here): CLIP's zero-shot
    alignments, TTT's test-time adaptation, SS-GAN's sample-quality classifier, the NC-VQVAE demo;
    the comparison, transfer and cleaning chapters read committed records.
    """
    from sslts.params import resolve
    from sslts.results import record_path
    from sslts.wiring import experiment_config

    seen: set[str] = set()
    plan: list[dict[str, Any]] = []

    def add(source: str, config, kind: str) -> None:
        key = str(record_path("", config.to_dict()))
        if key in seen:
            return
        seen.add(key)
        plan.append({"source": source, "method": config.method, "dataset": config.dataset, "kind": kind,
                     "config": config})

    for chapter, (methods, compare) in _book_grids().items():
        P = resolve(chapter, "full")
        for dataset in P["dataset"]:
            for seed in range(P["seed"], P["seed"] + P["n_seeds"]):
                for method in [*methods, *compare]:
                    add(chapter, experiment_config(method, dataset, seed, {**P, "dataset": [dataset]}), "experiment")
        if chapter == "mae":
            runs = [(P["encoder"], r) for r in P["mask_ratios"]] + [(P["encoder"], None)]
            if P["sweep_cnn"] and P["encoder"] != "cnn":
                runs += [("cnn", None), ("cnn", P["mask_ratio"])]
            for encoder, ratio in runs:
                method = "random_init" if ratio is None else "mae"
                cfg = experiment_config(method, P["sweep_dataset"], P["seed"],
                                        {**P, "encoder": encoder, "mask_ratio": P["mask_ratio"] if ratio is None else ratio})
                add("mae sweep", replace(cfg, pretrain_budget=P["sweep_budget"], protocols=("linear", "svm"),
                                         label_fractions=(1.0,), finetune_epochs=0), "probes_only")
        if chapter == "ssgan" and P["plain_gan"]:
            for dataset in P["dataset"]:
                for seed in range(P["seed"], P["seed"] + P["n_seeds"]):
                    cfg = experiment_config("ssgan", dataset, seed, {**P, "dataset": [dataset], "alpha": 0.0, "beta": 0.0})
                    add("ssgan plain GAN", replace(cfg, protocols=("linear",), label_fractions=(1.0,), finetune_epochs=0),
                        "probes_only")
    D = resolve("dissection", "full")
    for dataset in D["dataset"]:
        for method in D["methods"]:
            if method == "random_init":
                continue
            entry = {"source": "dissection", "method": method, "dataset": dataset, "config": None,
                     "kind": "supervised" if method == "supervised" else "pretrain_only",
                     "epochs": D["supervised_epochs"] if method == "supervised" else None,
                     "pretrain_budget": D["pretrain_budget"]}
            plan.append(entry)
    return plan


def book_estimate(rows: list[dict[str, Any]], jobs: int) -> dict[str, Any]:
    """The book's full profile on this device, from the measured runs (see :func:`book_plan`).

    Per entry: pre-training = full-profile epochs x pool / the measured samples/s of that method and
    dataset; evaluation = the measured eval_s (random_init: the dataset's mean eval_s; probes-only
    runs: eval_s - finetune_s; the supervised CNN: finetune_s x its epochs / 30). Evaluation measured
    with a capped probe search (--search-max) under-estimates a full-profile one.
    """
    from sslts.experiment import auto_epochs

    measured = {(r["method"], r["dataset"]): r for r in rows}
    by_dataset: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_dataset.setdefault(r["dataset"], []).append(r)
    total, counted, missing, parts = 0.0, 0, {}, {}
    for entry in book_plan():
        m = measured.get((entry["method"], entry["dataset"]))
        same = by_dataset.get(entry["dataset"], [])
        seconds = None
        if entry["kind"] == "supervised" and same:
            ft = [r["finetune_s"] for r in same if r.get("finetune_s")]
            seconds = (sum(ft) / len(ft)) * entry["epochs"] / 30 if ft else None
        elif entry["method"] == "random_init" and same:
            seconds = sum(r["eval_s"] for r in same) / len(same)
        elif m is not None and m.get("pretrain_samples_per_s"):
            cfg = entry["config"]
            n_pool = m["pretrain_series"]
            budget = cfg.pretrain_budget if cfg is not None else entry["pretrain_budget"]
            epochs = (cfg.epochs if cfg is not None and cfg.epochs else auto_epochs(n_pool, budget))
            seconds = epochs * n_pool / m["pretrain_samples_per_s"]
            if entry["kind"] == "experiment":
                seconds += m["eval_s"]
            elif entry["kind"] == "probes_only":
                seconds += max(0.0, m["eval_s"] - (m.get("finetune_s") or 0.0))
        if seconds is None:
            name = f"{entry['source']}: {entry['method']} on {entry['dataset']}"
            missing[name] = missing.get(name, 0) + 1
            continue
        total += seconds
        counted += 1
        parts[entry["source"]] = parts.get(entry["source"], 0.0) + seconds
    out = {
        "runs_counted": counted, "runs_not_measured": missing,  # entry -> count; not in the sum
        "sequential_s": round(total, 1), "goal_s": GOAL_S,
        "meets_goal_sequential": total <= GOAL_S,
        "by_source_s": {k: round(v, 1) for k, v in sorted(parts.items())},
        "method": book_estimate.__doc__.split("\n\n", 1)[1].strip().replace("\n    ", " "),
        "not_counted": "CLIP zero-shot alignments, TTT test-time adaptation, SS-GAN sample quality, NC-VQVAE demo",
    }
    if jobs > 1:
        # The runs were measured while `jobs` shared the device; the book's runs can share it the
        # same way (sslts sweep --engine ray with a fraction of a GPU per task).
        out["with_jobs"] = jobs
        out["parallel_s"] = round(total / jobs, 1)
        out["meets_goal_parallel"] = total / jobs <= GOAL_S
    return out


# ------------------------------------------------------------------------------------------- main
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda", help="cuda (default), cuda:N, cpu or auto")
    parser.add_argument("--methods", default=None, help="comma-separated (default: every method in sslts.methods.METHODS; "
                        "--tiny: simclr,vicreg)")
    parser.add_argument("--datasets", default=",".join(DEFAULT_DATASETS), help="comma-separated (default uwave,har)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--budget-scale", type=float, default=None,
                        help="fraction of the full pre-training budget (default: estimated so the runs fit ~6 min)")
    parser.add_argument("--search-max", type=int, default=DEFAULT_SEARCH_MAX,
                        help=f"cap on the series the probes' C search sees (default {DEFAULT_SEARCH_MAX}; 0 = full profile)")
    parser.add_argument("--jobs", type=int, default=1, help="runs at once, each in its own process (default 1)")
    parser.add_argument("--tiny", action="store_true", help="CPU smoke test: 1 epoch, 1 fine-tuning epoch, capped splits")
    parser.add_argument("--max-train", type=int, default=None, help=f"cap on training series (--tiny: {TINY_CAP})")
    parser.add_argument("--max-test", type=int, default=None, help=f"cap on test series (--tiny: {TINY_CAP})")
    parser.add_argument("--cpu-records", default=str(ROOT / "results" / "full"), help="committed CPU records")
    parser.add_argument("--out", default=os.environ.get("OUT") or str(ROOT / "benchmarks" / "results" / "gpu_check"))
    parser.add_argument("--no-book-estimate", action="store_true", help="skip the whole-book estimate")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        _fail("--jobs must be at least 1")
    if args.budget_scale is not None and not 0 < args.budget_scale <= 1:
        _fail(f"--budget-scale must be in (0, 1], got {args.budget_scale}")
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    # The device first, with the project's own check (one readable line, before any data is loaded).
    from sslts.params.chapters import _check_device
    from sslts.params import ParameterError

    if args.device != "auto" and not re.fullmatch(r"cpu|cuda(:\d+)?", args.device):
        _fail(f"--device must be cuda, cuda:N, cpu or auto, got {args.device!r}")
    try:
        _check_device(args.device)
    except ValueError as error:
        _fail(str(error))

    import torch

    from sslts.atomic import atomic_write_json
    from sslts.methods import METHODS
    from sslts.provenance import environment

    methods = [m.strip() for m in (args.methods or ("simclr,vicreg" if args.tiny else ",".join(METHODS))).split(",") if m.strip()]
    unknown = [m for m in methods if m not in METHODS and m != "random_init"]
    if unknown:
        _fail(f"unknown method {unknown[0]!r}; known: {', '.join(METHODS)}")
    datasets = [d.strip() for d in args.datasets.split(",") if d.strip()]
    out_dir = Path(args.out)
    records_dir = out_dir / "records"
    summary_path = out_dir / SUMMARY_NAME
    cpu_root = Path(args.cpu_records)
    cpu_records = load_cpu_records(cpu_root)

    overrides: dict[str, Any] = {"device": args.device}
    if args.tiny:
        overrides.update(TINY)
    for name, value, tiny in (("max_train", args.max_train, TINY_CAP), ("max_test", args.max_test, TINY_CAP)):
        if value is not None or args.tiny:
            overrides[name] = value if value is not None else tiny
    if args.budget_scale is not None:
        scale_info = {"budget_scale": args.budget_scale, "chosen_by": "--budget-scale"}
    elif args.tiny:
        scale_info = {"budget_scale": 1.0, "chosen_by": "--tiny (1 epoch instead)"}
    else:
        scale_info = {**default_budget_scale(cpu_records, methods, datasets), "chosen_by": "estimate"}
    scale = float(scale_info["budget_scale"])

    # Configurations first: every error (parameters, data) before any training.
    plans = []
    sizes: dict[tuple, tuple[int, int]] = {}
    try:
        for dataset in datasets:
            for method in methods:
                full = full_config(method, dataset, args.seed, overrides)
                key = (full.dataset, full.extra_pool, full.max_train, full.seed)
                if key not in sizes:
                    sizes[key] = pool_sizes(full)
                config, deviations = scaled_config(full, scale, args.search_max, *sizes[key])
                plans.append((config, full, deviations))
    except (ParameterError, ValueError) as error:
        _fail(str(error).splitlines()[0])
    # Longest first (HAR before UWave), so parallel jobs finish together.
    plans.sort(key=lambda p: -sizes[(p[1].dataset, p[1].extra_pool, p[1].max_train, p[1].seed)][1])

    cuda = torch.cuda.is_available() and args.device != "cpu"
    gpu = {}
    if cuda:
        props = torch.cuda.get_device_properties(0)
        gpu = {"name": props.name, "total_memory_mb": round(props.total_memory / 2**20), "capability": f"{props.major}.{props.minor}",
               "torch_cuda": torch.version.cuda, "cudnn": torch.backends.cudnn.version()}
    from sslts.train import TrainConfig

    summary: dict[str, Any] = {
        "kind": "gpu_check",
        "created_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.argv[0]).name, *(argv if argv is not None else sys.argv[1:])]),
        "device": args.device, "gpu": gpu,
        "mixed_precision": bool(cuda and TrainConfig().amp),
        "mixed_precision_note": "float16 autocast + GradScaler in pre-training when TrainConfig.amp (default True) and on CUDA",
        "jobs": args.jobs,
        "tiny": args.tiny,
        "scaled": {**scale_info, "search_max": args.search_max,
                   "note": ("SCALED: not the exact full profile where a run lists 'deviations' (pre-training budget "
                            "x budget_scale where it changes the epochs; probes' C search on at most search_max "
                            "series). Runs without deviations are full-profile configurations."
                            + (" TINY smoke test: 1 epoch, capped splits; numbers mean nothing." if args.tiny else ""))},
        "overrides": overrides,
        "cpu_records_root": str(cpu_root),
        "runs": [], "failures": [],
        "provenance": environment(args.device if args.device != "auto" else None),
    }
    threads = max(1, (os.cpu_count() or 1) // args.jobs) if args.jobs > 1 else None
    started = time.perf_counter()

    def finish(config, full, deviations, out: dict[str, Any] | None, error: str | None) -> None:
        if error is not None:
            summary["failures"].append({"method": config.method, "dataset": config.dataset, "error": error})
            print(f"[gpu_check] FAILED {config.method} on {config.dataset}: {error}", flush=True)
        else:
            cpu = cpu_match(out["record"]["config"], full.to_dict(), cpu_records, cpu_root)
            row = _run_row(config, full, deviations, out, cpu)
            summary["runs"].append(row)
            cpu_note = "no CPU record" if cpu is None else f"CPU ({cpu['match']}) {cpu['accuracy']}"
            sps = row["pretrain_samples_per_s"]
            print(f"[gpu_check] {config.method} on {config.dataset}: {row['wall_s']:.1f} s, "
                  f"{'-' if sps is None else f'{sps:.0f}'} samples/s, peak GPU {row['peak_gpu_memory_mb']} MB, "
                  f"acc {row['accuracy']} | {cpu_note}", flush=True)
        # The estimate after every run, so a run stopped by gpu_check.sh's timeout still has one.
        if not args.no_book_estimate and summary["runs"]:
            try:
                summary["book_estimate"] = book_estimate(summary["runs"], args.jobs)
                if args.tiny or overrides.get("max_train") or overrides.get("max_test"):
                    summary["book_estimate"]["note"] = "measured on capped/tiny runs: the estimate means nothing"
            except Exception as error:  # noqa: BLE001 - the estimate must not lose the runs
                summary["book_estimate"] = {"error": f"{type(error).__name__}: {error}"}
        summary["wall_s"] = round(time.perf_counter() - started, 1)
        atomic_write_json(summary_path, summary)

    print(f"[gpu_check] {len(plans)} runs on {args.device} (budget scale {scale}, search_max {args.search_max}, "
          f"jobs {args.jobs}) -> {summary_path}", flush=True)
    if args.jobs == 1:
        for config, full, deviations in plans:
            try:
                finish(config, full, deviations, run_one(config.to_dict(), str(records_dir), None), None)
            except Exception as error:  # noqa: BLE001 - one failed run must not hide the others
                finish(config, full, deviations, None, f"{type(error).__name__}: {error}")
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        with ProcessPoolExecutor(args.jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = {pool.submit(run_one, c.to_dict(), str(records_dir), threads): (c, f, d) for c, f, d in plans}
            for future in as_completed(futures):
                config, full, deviations = futures[future]
                try:
                    finish(config, full, deviations, future.result(), None)
                except Exception as error:  # noqa: BLE001
                    finish(config, full, deviations, None, f"{type(error).__name__}: {error}")

    summary["wall_s"] = round(time.perf_counter() - started, 1)
    atomic_write_json(summary_path, summary)
    estimate = summary.get("book_estimate", {})
    print(f"[gpu_check] {len(summary['runs'])} runs, {len(summary['failures'])} failed, {summary['wall_s']} s; "
          f"book full profile estimated at {estimate.get('sequential_s', '?')} s sequential "
          f"(goal {GOAL_S} s{'; tiny/capped runs: the estimate means nothing' if 'note' in estimate else ''}); "
          f"summary {summary_path}", flush=True)
    return summary


if __name__ == "__main__":
    result = main()
    sys.exit(1 if result["failures"] or not result["runs"] else 0)
