"""Pre-training throughput (samples/s) and peak memory of every method x encoder x dataset.

Each configuration runs in its own subprocess so that its peak resident memory (CPU) or peak
allocated CUDA memory is its own. Throughput counts training series per second (each series gives
two augmented views) over ``--steps`` optimiser steps after one warm-up step.

    python benchmarks/bench_pretrain.py                       # all methods, cnn + dilated, uwave + har
    python benchmarks/bench_pretrain.py --encoders cnn --steps 20

Writes ``results/benchmarks/pretrain_throughput.json`` (atomically) and prints a table.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Head widths used by the book's chapters (the papers' 8192-wide heads are impractical on a CPU).
METHOD_PARAMS = {
    "simclr": {"proj_hidden": 512, "proj_dim": 128},
    "vicreg": {"expander_dim": 1024},
    "barlow_twins": {"proj_hidden": 1024, "proj_dim": 1024},
    "vibcreg": {"proj_hidden": 1024, "proj_dim": 1024},
}

CHILD = r"""
import json, resource, sys, time
import numpy as np, torch
from sslts.augment import build_pipeline
from sslts.data import load_dataset
from sslts.encoders import build_encoder
from sslts.methods import build_method
from sslts.train import resolve_device

method, encoder, dataset, batch, steps, params = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), json.loads(sys.argv[6])
device = resolve_device("auto")
X = load_dataset(dataset, "train").X
X = (X - X.mean(axis=(0, 2), keepdims=True)) / X.std(axis=(0, 2), keepdims=True)
torch.manual_seed(0)
model = build_method(method, build_encoder(encoder, X.shape[1]), params).to(device).train()
optimizer = model.configure_optimizers(1e-3, 1e-4)[0]
augment = build_pipeline("jitter,scaling,time_warp,crop_resize")
generator = torch.Generator(device=device).manual_seed(0)
data = torch.from_numpy(X).to(device)
rng = np.random.default_rng(0)

def step():
    x = data[torch.from_numpy(rng.choice(len(X), size=batch, replace=len(X) < batch)).to(device)]
    loss, _ = model.training_step(augment(x, generator), augment(x, generator))
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()

step()  # warm-up (allocations, kernel selection)
if device.type == "cuda":
    torch.cuda.synchronize(); torch.cuda.reset_peak_memory_stats()
started = time.perf_counter()
for _ in range(steps):
    step()
if device.type == "cuda":
    torch.cuda.synchronize()
seconds = time.perf_counter() - started
peak = torch.cuda.max_memory_allocated() / 2**20 if device.type == "cuda" else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"samples_per_s": steps * batch / seconds, "seconds": seconds, "peak_memory_mb": peak,
                  "device": str(device), "threads": torch.get_num_threads(),
                  "params": sum(p.numel() for p in model.parameters())}))
"""


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--methods", default=",".join(METHOD_PARAMS))
    parser.add_argument("--encoders", default="cnn,dilated")
    parser.add_argument("--datasets", default="uwave,har")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--out", default=str(ROOT / "results" / "benchmarks" / "pretrain_throughput.json"))
    args = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT / "src"))
    from sslts.atomic import atomic_write_json
    from sslts.provenance import environment

    rows = []
    print(f"{'method':<13} {'encoder':<8} {'dataset':<7} {'samples/s':>10} {'peak MB':>9} {'params':>9}")
    for dataset in args.datasets.split(","):
        for encoder in args.encoders.split(","):
            for method in args.methods.split(","):
                batch = args.batch_size  # UWave has 120 series: drawn with replacement
                out = subprocess.run(
                    [sys.executable, "-c", CHILD, method, encoder, dataset, str(batch), str(args.steps),
                     json.dumps(METHOD_PARAMS[method])], capture_output=True, text=True, cwd=ROOT)
                if out.returncode != 0:
                    raise SystemExit(f"benchmark of {method}/{encoder}/{dataset} failed:\n{out.stderr[-2000:]}")
                row = {"method": method, "encoder": encoder, "dataset": dataset, "batch_size": batch,
                       "steps": args.steps, **json.loads(out.stdout.strip().splitlines()[-1])}
                rows.append(row)
                print(f"{method:<13} {encoder:<8} {dataset:<7} {row['samples_per_s']:>10.1f} "
                      f"{row['peak_memory_mb']:>9.0f} {row['params']:>9d}", flush=True)
    record = {"benchmark": "pretrain_throughput", "created_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "method_params": METHOD_PARAMS, "rows": rows, **environment()}
    atomic_write_json(args.out, record)
    print(f"record: {args.out}")
    return record


if __name__ == "__main__":
    main()
