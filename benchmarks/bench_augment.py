"""Throughput of the batched augmentations against a per-sample NumPy loop.

On a ``B x C x L`` float32 batch on the CPU (default 256 x 9 x 128, a HAR-sized batch) this times,
for every augmentation alone and for the pipeline of all of them (each with p = 1 and default
strengths), the batched :mod:`sslts.augment` version and a naive NumPy version that loops over
the samples (written below, as the reference implementations of Um et al. 2017 and Iwana & Uchida
2021 do; channels are vectorised where NumPy allows). The two versions run in alternation so
that load from other processes hits both alike. It prints a table of medians over several
repeats and writes a JSON record atomically.

Threads: the loop uses one core, so torch runs on one thread by default and the ratio measures
batching alone. ``--threads 0`` keeps torch's default; on a small shared machine that can be much
slower, because every parallel region waits for a core another process holds.

    python benchmarks/bench_augment.py                 # defaults, writes the record
    python benchmarks/bench_augment.py --threads 0 --repeats 5 --out /tmp/augment.json
    python benchmarks/bench_augment.py --allocator default --out /tmp/augment-default.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import scipy
import torch
from scipy.interpolate import CubicSpline

from sslts import augment
from sslts.allocator import allocator_state, tune_cpu_allocator
from sslts.atomic import atomic_write_json
from sslts.augment import AUGMENTATIONS, build_pipeline, default_generator, default_params
from sslts.provenance import device_description, environment

ROOT = Path(__file__).resolve().parents[1]
TARGET_SPEEDUP = 20.0  # the first target (met on an AMD EPYC at 8e55ba6a52)
GOAL_SPEEDUP = 50.0    # issue 19's goal

# ----------------------------------------------------------------------------- naive NumPy versions
# Each maps one series s (C, L) to a new (C, L) array, with the module's default strengths.


def np_jitter(s: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return s + rng.normal(0.0, augment.JITTER_SIGMA, s.shape)


def np_channel_noise(s: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    spread = s.std(axis=1, keepdims=True)
    return s + augment.CHANNEL_NOISE_FACTOR * spread * rng.normal(size=s.shape)


def np_scaling(s: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return s * rng.normal(1.0, augment.SCALING_SIGMA, (s.shape[0], 1))


def np_magnitude_warp(s: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    channels, length = s.shape
    k = augment.MAGNITUDE_WARP_KNOTS + 2
    heights = rng.normal(1.0, augment.MAGNITUDE_WARP_SIGMA, (channels, k))
    curve = CubicSpline(np.linspace(0, length - 1, k), heights, axis=1)(np.arange(length))
    return s * curve


def np_time_warp(s: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    length = s.shape[1]
    k = augment.TIME_WARP_KNOTS + 2
    knots = rng.normal(1.0, augment.TIME_WARP_SIGMA, k)
    t = np.arange(length)
    speed = np.maximum(np.interp(t, np.linspace(0, length - 1, k), knots), 0.05)
    tau = np.concatenate([[0.0], np.cumsum(0.5 * (speed[1:] + speed[:-1]))])
    tau *= (length - 1) / tau[-1]
    return np.stack([np.interp(tau, t, row) for row in s])


def np_crop_resize(s: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    length = s.shape[1]
    width = max(1, int(np.floor(augment.CROP_RESIZE_RATIO * length + 0.5)))
    start = rng.integers(0, length - width + 1)
    pos = start + np.arange(length) * (width - 1) / (length - 1)
    return np.stack([np.interp(pos, np.arange(length), row) for row in s])


def np_random_crop(s: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    length = s.shape[1]
    width = max(1, int(np.floor(augment.RANDOM_CROP_RATIO * length + 0.5)))
    start = rng.integers(0, length - width + 1)
    out = np.zeros_like(s)
    out[:, start:start + width] = s[:, start:start + width]
    return out


def np_blockout(s: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    length = s.shape[1]
    width = int(np.floor(augment.BLOCKOUT_RATIO * length + 0.5))
    start = rng.integers(0, length - width + 1)
    out = s.copy()
    out[:, start:start + width] = 0.0
    return out


def np_time_flip(s: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return s[:, ::-1].copy()


def np_negation(s: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return -s


def np_smoothing(s: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    a = rng.uniform(0.0, augment.SMOOTHING_A_MAX)
    padded = np.concatenate([s[:, :1], s, s[:, -1:]], axis=1)
    return a * padded[:, :-2] + (1 - 2 * a) * s + a * padded[:, 2:]


def np_permutation(s: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    length = s.shape[1]
    m = rng.integers(1, min(augment.PERMUTATION_MAX_SEGMENTS, length) + 1)
    cuts = np.sort(rng.choice(np.arange(1, length), m - 1, replace=False))
    pieces = np.split(s, cuts, axis=1)
    return np.concatenate([pieces[i] for i in rng.permutation(m)], axis=1)


def np_window_warp(s: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    length = s.shape[1]
    span = int(np.floor(augment.WINDOW_WARP_RATIO * (length - 1) + 0.5))
    start = rng.integers(0, length - span)
    f = augment.WINDOW_WARP_SCALE if rng.random() < 0.5 else 1.0 / augment.WINDOW_WARP_SCALE
    v = np.arange(length) * ((length - 1) + span * (f - 1.0)) / (length - 1)
    tau = v - (1.0 - 1.0 / f) * np.clip(v - start, 0.0, span * f)
    return np.stack([np.interp(tau, np.arange(length), row) for row in s])


NUMPY: dict[str, Callable[[np.ndarray, np.random.Generator], np.ndarray]] = {
    "jitter": np_jitter, "channel_noise": np_channel_noise, "scaling": np_scaling,
    "magnitude_warp": np_magnitude_warp, "time_warp": np_time_warp,
    "crop_resize": np_crop_resize, "random_crop": np_random_crop, "blockout": np_blockout,
    "time_flip": np_time_flip, "negation": np_negation, "smoothing": np_smoothing,
    "permutation": np_permutation, "window_warp": np_window_warp,
}
assert list(NUMPY) == list(AUGMENTATIONS), "keep the NumPy list in step with the registry"


def numpy_loop(x: np.ndarray, names: list[str], rng: np.random.Generator) -> np.ndarray:
    """The naive version: one sample at a time, every augmentation in turn."""
    out = np.empty_like(x)
    for b in range(x.shape[0]):
        s = x[b]                                                        # (C, L)
        for name in names:
            s = NUMPY[name](s, rng)
        out[b] = s
    return out


# ----------------------------------------------------------------------------- timing

def timed_ms(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return 1e3 * (time.perf_counter() - start)


def measure(x: torch.Tensor, names: list[str], repeats: int, seed: int) -> dict[str, float]:
    """Median (and minimum) milliseconds per call of both versions, and the ratio of medians.

    The two versions run in alternation, so load from other processes hits both alike.
    """
    pipe = build_pipeline(names)
    g = default_generator(seed)
    x_np = x.numpy()
    rng = np.random.default_rng(seed)
    batched, loop = [], []
    for i in range(repeats + 2):                                        # two warm-up rounds
        b, n = timed_ms(lambda: pipe(x, g)), timed_ms(lambda: numpy_loop(x_np, names, rng))
        if i >= 2:
            batched.append(b)
            loop.append(n)
    med_batched, med_loop = statistics.median(batched), statistics.median(loop)
    return {"torch_batched_ms": med_batched, "numpy_loop_ms": med_loop,
            "speedup": med_loop / med_batched,
            "torch_batched_min_ms": min(batched), "numpy_loop_min_ms": min(loop)}


def cpu_slug() -> str:
    """The CPU model as a file-name part, e.g. ``amd-epyc`` or ``intel-xeon-processor``."""
    model = device_description("cpu").removeprefix("cpu: ").rsplit(" (", 1)[0].lower()
    return re.sub(r"[^a-z0-9]+", "-", re.sub(r"\((r|tm)\)", "", model)).strip("-")


def random_draws_ms(x: torch.Tensor, repeats: int, seed: int) -> float:
    """Median milliseconds of the pipeline's two full-batch normal draws (jitter, channel noise) alone.

    These draws are the random streams every record depends on: no reorganisation of the
    operations can remove them without changing the records, so they bound the batched time below.
    """
    g = default_generator(seed)
    draw = lambda: [torch.randn(tuple(x.shape), generator=g, dtype=x.dtype) for _ in range(2)]  # noqa: E731
    times = [timed_ms(draw) for _ in range(repeats + 2)][2:]
    return statistics.median(times)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--channels", type=int, default=9)
    parser.add_argument("--length", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=15, help="timed runs of each version")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads; 1 (default) matches the one core the NumPy loop "
                             "uses, so the ratio is the gain of batching alone; 0 keeps torch's "
                             "default (the core count)")
    parser.add_argument("--allocator", choices=("tuned", "default"), default="tuned",
                        help="'tuned' (default) sets glibc's malloc thresholds as CPU training "
                             "does (sslts.allocator); 'default' leaves them as they are")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None,
                        help="record path (default results/benchmarks/augment_throughput-<cpu model>.json, "
                             "one record per machine)")
    args = parser.parse_args(argv)
    if args.out is None:
        args.out = ROOT / "results" / "benchmarks" / f"augment_throughput-{cpu_slug()}.json"

    if args.threads > 0:
        torch.set_num_threads(args.threads)
    allocator = tune_cpu_allocator() if args.allocator == "tuned" else allocator_state()
    load_before = os.getloadavg()
    shape = (args.batch, args.channels, args.length)
    x = torch.randn(shape, generator=default_generator(args.seed))     # (B, C, L) float32
    names = list(AUGMENTATIONS)
    rows = {name: measure(x, [name], args.repeats, args.seed) for name in names}
    rows["pipeline (all)"] = measure(x, names, args.repeats, args.seed)
    floor = random_draws_ms(x, args.repeats, args.seed)
    load_after = os.getloadavg()

    print(f"augmentations on a {' x '.join(map(str, shape))} float32 batch, CPU, "
          f"torch threads: {torch.get_num_threads()}, allocator: {allocator}, "
          f"medians of {args.repeats} alternating runs")
    print(f"{'augmentation':<16}{'batched ms':>12}{'NumPy loop ms':>15}{'speed-up':>10}")
    for name, row in rows.items():
        print(f"{name:<16}{row['torch_batched_ms']:>12.3f}{row['numpy_loop_ms']:>15.2f}"
              f"{row['speedup']:>9.1f}x")
    overall = rows["pipeline (all)"]["speedup"]
    verdicts = [f"{'meets' if overall >= bar else 'misses'} the {bar:.0f}x {what}"
                for bar, what in ((TARGET_SPEEDUP, "target"), (GOAL_SPEEDUP, "goal"))]
    print(f"pipeline speed-up {overall:.1f}x {' and '.join(verdicts)}; "
          f"1-min load average {load_before[0]:.2f} before, {load_after[0]:.2f} after "
          f"({os.cpu_count()} CPUs): other work on the machine slows the batched version most")
    pipeline_ms = rows["pipeline (all)"]["torch_batched_ms"]
    print(f"the two full-batch normal draws alone take {floor:.3f} ms, {100 * floor / pipeline_ms:.0f} % of the "
          f"batched pipeline; the other {pipeline_ms - floor:.3f} ms are the operations' tensor passes")

    record = {
        "benchmark": "augment_throughput",
        "created_utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "shape": list(shape), "dtype": "float32",
        "repeats": args.repeats, "warmup": 2, "order": "batched and NumPy calls alternate",
        "seed": args.seed, "statistic": "median wall-clock milliseconds per call",
        "pipeline": build_pipeline(names).describe(),
        "defaults": {name: default_params(name) for name in names},
        "timings": rows,
        "target_speedup": TARGET_SPEEDUP, "meets_target": overall >= TARGET_SPEEDUP,
        "random_draws_ms": floor,  # the two full-batch normal draws alone (random_draws_ms)
        "goal_speedup": GOAL_SPEEDUP, "meets_goal": overall >= GOAL_SPEEDUP,
        "machine": {"cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                    "load_average_1min": {"before": load_before[0], "after": load_after[0]}},
        "scipy": scipy.__version__,  # the NumPy loop's cubic spline
        **environment("cpu"),        # sslts, git commit, library versions, device, cpu_allocator
    }
    atomic_write_json(args.out, record)
    print(f"record written to {args.out}")
    return record


if __name__ == "__main__":
    main()
