"""Pre-training throughput (samples/s) and peak memory of every method x encoder x dataset.

Each configuration runs in its own subprocess so that its peak resident memory (CPU) or peak
allocated CUDA memory is its own. It builds the model exactly as an experiment does (the method's
chapter defaults for the ``full`` profile, :func:`sslts.experiment.build_model`) and trains it with
the one training loop, :func:`sslts.train.pretrain`, so two-optimiser methods (SS-GAN), methods
that see labels (test-time training, the CLIP text tower) and MAE's masking are timed as they run
in the book. Throughput is the loop's own figure, training series per second, over ``--steps``
optimiser steps of ``--batch-size`` series drawn with replacement (UWave has only 120), after a
two-step warm-up run of the same model.

Encoders: ``cnn`` and ``dilated`` for every method, and MAE's patch ``transformer`` (a combination
a chapter does not offer is skipped).

    python benchmarks/bench_pretrain.py                       # all methods and encoders, uwave + har
    python benchmarks/bench_pretrain.py --encoders cnn --steps 20
    python benchmarks/bench_pretrain.py --methods mae,ssgan --datasets har --out /tmp/pretrain.json

Writes ``results/benchmarks/pretrain_throughput.json`` (atomically) and prints a table.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import sslts.methods

ROOT = Path(__file__).resolve().parents[1]

METHODS = tuple(sslts.methods.METHODS)  # every registered method
ENCODERS = ("cnn", "dilated", "transformer")

CHILD = r"""
import json, sys
import numpy as np
from sslts.wiring import METHOD_CHAPTER, experiment_config
from sslts.data.cleaning import ChannelStandardScaler
from sslts.allocator import allocator_state
from sslts.augment import build_pipeline
from sslts.data import load_dataset
from sslts.experiment import build_model
from sslts.params import resolve
from sslts.train import TrainConfig, pretrain

method, encoder, dataset, batch, steps = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
P = {**resolve(METHOD_CHAPTER[method], "full", encoder=encoder), "dataset": [dataset]}
config = experiment_config(method, dataset, 0, P)
train = load_dataset(dataset, "train")
X = ChannelStandardScaler().fit(train.X).transform(train.X).astype(np.float32)
model = build_model(config, X.shape[1:], train.n_classes)
rng = np.random.default_rng(0)

def run(n_steps):
    rows = rng.choice(len(X), size=n_steps * batch, replace=True)
    labels = train.y[rows] if model.needs_labels else None
    return pretrain(model, X[rows], build_pipeline(config.augmentations),
                    TrainConfig(epochs=1, batch_size=batch, warmup_epochs=1, seed=0, progress=False,
                                lr=config.lr, weight_decay=config.weight_decay), resume=False, y=labels)

run(2)  # warm-up: allocations, kernel selection
result = run(steps)
print(json.dumps({"samples_per_s": result.samples_per_s, "seconds": result.wall_time_s,
                  "peak_memory_mb": result.peak_memory_mb, "device": result.device,
                  "threads": __import__("torch").get_num_threads(), "cpu_allocator": allocator_state(),
                  "params": sum(p.numel() for p in model.parameters()),
                  "config": config.to_dict()}))
"""


def exception_message(stderr: str) -> str:
    """The child's exception line and what follows it (a data error's advice spans lines), not the traceback."""
    lines = stderr.strip().splitlines()
    starts = [i for i, line in enumerate(lines) if re.match(r"[A-Za-z_][\w.]*(Error|Exception|Exit)\b", line)]
    return "\n".join(lines[starts[-1]:] if starts else lines[-1:]) or "(no message)"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--encoders", default=",".join(ENCODERS))
    parser.add_argument("--datasets", default="uwave,har")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--out", default=str(ROOT / "results" / "benchmarks" / "pretrain_throughput.json"))
    args = parser.parse_args(argv)
    methods, encoders = args.methods.split(","), args.encoders.split(",")
    for kind, names, known in (("method", methods, METHODS), ("encoder", encoders, ENCODERS)):
        if set(names) - set(known):
            raise SystemExit(f"unknown {kind}(s) {sorted(set(names) - set(known))}; known: {', '.join(known)}")
    if args.batch_size < 2 or args.steps < 1:
        raise SystemExit("--batch-size must be at least 2 and --steps at least 1")

    sys.path.insert(0, str(ROOT / "src"))
    from sslts.atomic import atomic_write_json
    from sslts.wiring import METHOD_CHAPTER
    from sslts.params import CHAPTERS
    from sslts.provenance import environment

    # Every combination a chapter offers (e.g. the patch transformer only in MAE), known before any run.
    runs = [(method, encoder, dataset) for dataset in args.datasets.split(",") for encoder in encoders
            for method in methods if encoder in CHAPTERS[METHOD_CHAPTER[method]]["encoder"].choices]
    if not runs:
        raise SystemExit(f"no chosen method offers encoder(s) {', '.join(encoders)}; nothing to run, nothing written")

    rows = []
    print(f"{'method':<13} {'encoder':<12} {'dataset':<7} {'samples/s':>10} {'peak MB':>9} {'params':>9}")
    for method, encoder, dataset in runs:
        out = subprocess.run(
            [sys.executable, "-c", CHILD, method, encoder, dataset, str(args.batch_size), str(args.steps)],
            capture_output=True, text=True, cwd=ROOT)
        if out.returncode != 0:
            raise SystemExit(f"benchmark of {method}/{encoder}/{dataset} failed, nothing written: "
                             f"{exception_message(out.stderr)}")
        row = {"method": method, "encoder": encoder, "dataset": dataset, "batch_size": args.batch_size,
               "steps": args.steps, **json.loads(out.stdout.strip().splitlines()[-1])}
        rows.append(row)
        print(f"{method:<13} {encoder:<12} {dataset:<7} {row['samples_per_s']:>10.1f} "
              f"{row['peak_memory_mb']:>9.0f} {row['params']:>9d}", flush=True)
    # The timed loops ran in the children, which set the allocator; this process never trains, so
    # its own environment() would report the untouched default. The children share one
    # environment, so they agree unless glibc refused a value in one of them.
    allocators = sorted({row["cpu_allocator"] for row in rows})
    record = {"benchmark": "pretrain_throughput", "created_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "rows": rows, **environment(),
              "cpu_allocator": allocators[0] if len(allocators) == 1 else allocators}
    atomic_write_json(args.out, record)
    print(f"record: {args.out}")
    return record


if __name__ == "__main__":
    main()
