"""Test-time training under distribution shift, at the full profile's training budget.

The TTT chapter's quick preview adapts a briefly trained model on 48 test series, so one series
moves its accuracy by two points. This benchmark trains the jointly supervised TTT model with the
full profile's budget (all training series, 220,000 series passes) and evaluates it on a larger
stratified sample of the test split, clean and under every corruption of :mod:`sslts.shifts` at
each severity, with and without adaptation:

- ``none``: the joint classifier as trained;
- ``batch``: a few gradient steps of the masked-reconstruction loss on each test batch;
- ``series``: the same on each single test series (a batch of random masks of it);
- ``bn_only``: BatchNorm on the test batch's statistics, no gradient step;
- ``batch_bn``: both.

The adaptation settings are the TTT chapter's full-profile parameters; ``--test-cap`` and
``--severities`` size the evaluation. Each row carries the accuracy and the extra wall time per
series that adaptation cost (one thread, as in the chapter); the record keeps the load average
before and after, since other work on the machine lengthens those times. Writes
``results/benchmarks/ttt_shifts.json`` atomically and prints the gain table.

    python benchmarks/bench_ttt_shifts.py
    python benchmarks/bench_ttt_shifts.py --datasets har --test-cap 500 --severities 1,3,5 --seed 1
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _ints(text: str) -> list[int]:
    try:
        return [int(item) for item in text.split(",") if item]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default="uwave,har")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--test-cap", type=int, default=300, help="test series per evaluation (stratified; 0 = all)")
    parser.add_argument("--severities", type=_ints, default=[1, 3, 5], help="corruption severities, 1..5")
    parser.add_argument("--budget", type=int, default=None,
                        help="pre-training series passes (default: the full profile's)")
    parser.add_argument("--out", default=str(ROOT / "results" / "benchmarks" / "ttt_shifts.json"))
    args = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT / "src"))
    from sslts.atomic import atomic_write_json
    from sslts.chapters.ttt import ttt_shift_table
    from sslts.data import DataError
    from sslts.provenance import environment

    created = datetime.now(timezone.utc).isoformat(timespec="seconds")
    load_before = os.getloadavg()[0]
    try:
        rows, settings = measure(args)
    except (ValueError, TypeError, DataError) as exc:  # bad option (ParameterError too), unknown dataset, no data
        raise SystemExit(f"bench_ttt_shifts: {exc}") from None
    record = {"benchmark": "ttt_shifts", "created_utc": created, "settings": settings, "rows": rows,
              "load_average_1min": {"before": load_before, "after": os.getloadavg()[0]}, **environment()}
    atomic_write_json(args.out, record)
    import pandas as pd

    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(ttt_shift_table(pd.DataFrame(rows)).round(3))
    print(f"record: {args.out}")
    return record


def measure(args: argparse.Namespace) -> tuple[list[dict], dict]:
    """Rows of :func:`sslts.chapters.ttt.ttt_shift_evaluation` for every dataset, and the settings."""
    from sslts.wiring import experiment_config
    from sslts.chapters.ttt import ttt_shift_evaluation
    from sslts.experiment import run_experiment
    from sslts.params import resolve

    overrides = {"shift_test_cap": args.test_cap, "severities": args.severities}
    if args.budget is not None:
        overrides["pretrain_budget"] = args.budget
    P = resolve("ttt", "full", **overrides)
    rows = []
    for dataset in args.datasets.split(","):
        config = experiment_config("ttt", dataset, args.seed, {**P, "dataset": [dataset]})
        # Only the joint classifier is evaluated here; the probes are the sweep's records.
        config = replace(config, protocols=("linear",), label_fractions=(1.0,), finetune_epochs=0)
        started = time.perf_counter()
        print(f"[ttt_shifts] training TTT on {dataset} (seed {args.seed}) ...", flush=True)
        result = run_experiment(config, results_root=None, progress=False)
        trained = time.perf_counter()
        print(f"[ttt_shifts] trained in {trained - started:.0f} s; evaluating under shifts ...", flush=True)
        frame = ttt_shift_evaluation(result, P)
        print(f"[ttt_shifts] evaluated in {time.perf_counter() - trained:.0f} s", flush=True)
        frame["seed"] = args.seed
        frame["pretrain_epochs"] = result.record["pretrain_epochs"]
        frame["pretrain_s"] = result.record["timing"]["pretrain_s"]
        frame["data_sha256"] = [result.record["data"]["sha256"]] * len(frame)
        # "none" has no adaptation loss: NaN there becomes null, which strict JSON readers accept
        rows += [{k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}
                 for row in frame.to_dict("records")]
    keys = ("pretrain_budget", "shift_test_cap", "severities", "shifts", "adapt_steps", "adapt_lr",
            "adapt_optimizer", "adapt_masks", "adapt_batch", "recon_weight", "mask_ratio", "patch_size", "compare_bn")
    return rows, {"profile": "full", "seed": args.seed, **{k: P[k] for k in keys}}


if __name__ == "__main__":
    main()
