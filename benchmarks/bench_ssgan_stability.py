"""Which SS-GAN settings train stably on UWave and HAR: a comparison of GAN losses and learning rates.

"Stable" is measured, not assumed. For each variant and dataset this pre-trains SS-GAN once and
reports:

- ``d_saturated``: the share of epochs in which the discriminator was right about at least 95% of
  real and generated series. A discriminator that is nearly always right gives the generator
  little to learn from (the classic failure of GAN training, Arjovsky & Bottou 2017).
- ``d_acc_last``: its mean accuracy over the last quarter of the epochs (50% is a generator that
  fools it half the time).
- ``fd``: the Fréchet distance of the samples to the real test split, in the features of a
  supervised classifier trained on the real training split (one classifier per dataset, shared by
  the variants), next to the untrained generator's.
- ``coverage``: the entropy of the classes that classifier assigns to the samples, divided by the
  entropy of the real training classes (1: the samples spread over the classes like the data;
  near 0: mode collapse onto one class), and ``top_share``, the largest class share.
- ``linear``: the linear-probe test accuracy of the discriminator's trunk (all labels).

Variants: the paper's non-saturating loss with equal learning rates (the DCGAN setting), the same
loss with a two time-scale update (Heusel et al. 2017: the discriminator 4x the generator's rate),
the hinge loss (Miyato et al. 2018), DiffAugment (Zhao et al. 2020: the discriminator sees real and
generated series through the augmentation pipeline), the R1 gradient penalty (Mescheder et al.
2018), the minibatch standard deviation feature (Karras et al. 2018), and a slower discriminator
with and without four times the steps. On UWave, whose 120 training series a discriminator can
memorise, ``slow_d_pool`` (the chapter's default) also pre-trains on the unlabelled pool of the
full UWave set without the UEA test gestures (``extra_pool``; skipped on datasets without a pool,
where ``slow_d`` is the default). Every other setting trains on the training split alone.

Budgets: UWave uses the full profile (all 120 training series, 200 epochs); HAR a stratified
``--har-train`` series and ``--har-budget`` series passes, which on this CPU keeps a HAR run to a
few minutes. Writes ``results/benchmarks/ssgan_stability.json`` (atomically) and prints a table.

    python benchmarks/bench_ssgan_stability.py
    python benchmarks/bench_ssgan_stability.py --datasets uwave --variants paper,paper_ttur --seed 1
    # add a setting to the committed record without re-measuring the others
    python benchmarks/bench_ssgan_stability.py --datasets uwave --variants slow_d_pool --out new.json \
        --merge results/benchmarks/ssgan_stability.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

VARIANTS = {
    "paper": {"gan_loss": "non_saturating", "lr_d": 2e-4, "lr_g": 2e-4},
    "paper_ttur": {"gan_loss": "non_saturating", "lr_d": 4e-4, "lr_g": 1e-4},
    "hinge": {"gan_loss": "hinge", "lr_d": 2e-4, "lr_g": 2e-4},
    "paper_diffaug": {"gan_loss": "non_saturating", "lr_d": 2e-4, "lr_g": 2e-4, "diff_augment": True},
    "paper_r1_10": {"gan_loss": "non_saturating", "lr_d": 2e-4, "lr_g": 2e-4, "r1_gamma": 10.0},
    "mbstd": {"gan_loss": "non_saturating", "lr_d": 2e-4, "lr_g": 2e-4, "minibatch_std": True},
    "slow_d": {"gan_loss": "non_saturating", "lr_d": 5e-5, "lr_g": 2e-4},
    # four times the steps (and the compute) per epoch: every series of a batch of 32 is used
    "slow_d_steps4": {"gan_loss": "non_saturating", "lr_d": 5e-5, "lr_g": 2e-4, "batch_size": 32,
                      "batch_fraction": 1.0},
    # more real series to tell apart (UWave only): the discriminator cannot memorise 4,000 as it can 120
    "slow_d_pool": {"gan_loss": "non_saturating", "lr_d": 5e-5, "lr_g": 2e-4, "extra_pool": True},
}
# What the committed record (results/benchmarks/ssgan_stability.json) measured.
RECORDED = ("paper", "hinge", "paper_diffaug", "paper_r1_10", "mbstd", "slow_d", "slow_d_steps4", "slow_d_pool")


def class_coverage(classes: np.ndarray, real: np.ndarray, k: int) -> tuple[float, float]:
    """(entropy of the sample classes / entropy of the real classes, largest sample-class share)."""
    def entropy(labels: np.ndarray) -> float:
        p = np.bincount(labels, minlength=k) / len(labels)
        p = p[p > 0]
        return float(-(p * np.log(p)).sum())

    shares = np.bincount(classes, minlength=k) / len(classes)
    return entropy(classes) / entropy(real), float(shares.max())


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default="uwave,har")
    parser.add_argument("--variants", default=",".join(RECORDED), help=f"of {', '.join(VARIANTS)}")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--har-train", type=int, default=1500, help="HAR training series (stratified)")
    parser.add_argument("--har-budget", type=int, default=30_000, help="HAR series passes")
    parser.add_argument("--out", default=str(ROOT / "results" / "benchmarks" / "ssgan_stability.json"))
    parser.add_argument("--merge", nargs="+", default=[], metavar="RECORD",
                        help="also keep the rows of these earlier records (a row measured now replaces theirs); "
                             "every row keeps the commit, time and device that measured it")
    parser.add_argument("--no-measure", action="store_true", help="measure nothing: only merge the --merge records")
    args = parser.parse_args(argv)
    unknown = set(args.variants.split(",")) - set(VARIANTS)
    if unknown:
        raise SystemExit(f"unknown variant(s) {sorted(unknown)}; known: {', '.join(VARIANTS)}")
    if args.no_measure and not args.merge:
        raise SystemExit("--no-measure needs records to merge (--merge RECORD ...)")
    earlier = [read_record(path) for path in args.merge]

    sys.path.insert(0, str(ROOT / "src"))
    from sslts.atomic import atomic_write_json
    from sslts.data import DataError
    from sslts.provenance import environment

    header = (f"{'dataset':<6} {'variant':<11} {'d_saturated':>11} {'d_acc_last':>10} {'fd':>7} {'fd_untrained':>12} "
              f"{'coverage':>8} {'top_share':>9} {'linear':>6} {'seconds':>7}")
    created = datetime.now(timezone.utc).isoformat(timespec="seconds")
    try:
        rows = [] if args.no_measure else measure(args, header)
    except (ValueError, TypeError, DataError) as exc:  # unknown dataset, bad setting, missing data
        raise SystemExit(f"bench_ssgan_stability: {exc}") from None
    here = environment()
    record = {"benchmark": "ssgan_stability", "created_utc": created, "variants": VARIANTS,
              "har_train": args.har_train, "har_budget": args.har_budget,
              "rows": merge_rows(*earlier, {"created_utc": created, **here, "rows": rows}), **here}
    atomic_write_json(args.out, record)
    print(f"record: {args.out}")
    return record


def read_record(path: str) -> dict:
    """An earlier stability record, or one message saying why it cannot be merged."""
    try:
        record = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise SystemExit(f"cannot merge {path}: {exc}") from None
    if record.get("benchmark") != "ssgan_stability" or not isinstance(record.get("rows"), list):
        raise SystemExit(f"cannot merge {path}: not an SS-GAN stability record")
    return record


def merge_rows(*records: dict) -> list[dict]:
    """The rows of ``records``, one per (dataset, variant), later records replacing earlier ones.

    Each row is stamped with the commit, time and device of the record that measured it (rows of a
    single-run record carry them only in its header), so a merged record keeps every row's provenance.
    """
    merged: dict[tuple[str, str], dict] = {}
    for record in records:
        for row in record["rows"]:
            stamped = {"git_commit": record.get("git_commit"), "measured_utc": record.get("created_utc"),
                       "device": record.get("device"), **row}
            merged[(row["dataset"], row["variant"])] = stamped
    return list(merged.values())


def measure(args: argparse.Namespace, header: str) -> list[dict]:
    """One row per dataset and variant (see the module docstring); prints each as it lands."""
    from sslts.wiring import experiment_config
    from sslts.chapters.ssgan import discriminator_saturation, ssgan_samples
    from sslts.evaluate.fidelity import fit_feature_extractor
    from sslts.experiment import EXTRA_POOLS, run_experiment
    from sslts.params import resolve

    rows = []
    print(header)
    for dataset in args.datasets.split(","):
        # Every setting trains on the training split alone unless it says extra_pool itself.
        P = {**resolve("ssgan", "full"), "extra_pool": False}
        if dataset == "har":
            P = {**P, "max_train": args.har_train, "pretrain_budget": args.har_budget}
        extractor = None
        for variant in args.variants.split(","):
            if VARIANTS[variant].get("extra_pool") and dataset not in EXTRA_POOLS:
                print(f"{dataset:<6} {variant:<11} skipped: no unlabelled pool for {dataset}", flush=True)
                continue
            config = experiment_config("ssgan", dataset, args.seed, {**P, **VARIANTS[variant]})
            config = replace(config, protocols=("linear",), label_fractions=(1.0,), finetune_epochs=0)
            started = time.perf_counter()
            result = run_experiment(config, results_root=None, progress=False)
            seconds = time.perf_counter() - started
            if extractor is None:  # one supervised feature space per dataset, shared by the variants
                extractor = fit_feature_extractor(result.standardised("train"), result.train.y,
                                                  result.standardised("test"), result.test.y, epochs=30,
                                                  seed=args.seed, min_steps=200)
            samples = ssgan_samples(result, None, 30, args.seed, extractor=extractor)
            fd = samples.table["frechet_distance"]
            n = len(samples.real_train)
            coverage, top = class_coverage(samples.generated_classes, result.train.y, result.train.n_classes)
            saturated, last_quarter = discriminator_saturation(result.record["history"])
            linear = next(e["accuracy"] for e in result.record["evaluations"] if e["protocol"] == "linear")
            row = {"dataset": dataset, "variant": variant, **VARIANTS[variant], "seed": args.seed,
                   "epochs": result.record["pretrain_epochs"], "train_series": n,
                   "pretrain_series": result.record["data"]["pretrain_series"],
                   "d_saturated": saturated, "d_acc_last": last_quarter,
                   "fd": float(fd["SS-GAN"]), "fd_untrained": float(fd["untrained generator"]),
                   "extractor_accuracy": extractor.test_accuracy, "coverage": coverage, "top_share": top,
                   "linear": float(linear), "seconds": round(seconds, 1),
                   "data_sha256": result.record["data"]["sha256"], "config": result.record["config"]}
            rows.append(row)
            print(f"{dataset:<6} {variant:<11} {row['d_saturated']:>11.2f} {row['d_acc_last']:>10.2f} {row['fd']:>7.2f} "
                  f"{row['fd_untrained']:>12.2f} {coverage:>8.2f} {top:>9.2f} {row['linear']:>6.3f} {seconds:>7.1f}",
                  flush=True)
    return rows


if __name__ == "__main__":
    main()
