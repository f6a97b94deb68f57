"""Run records of experiments and the tables built from them.

One experiment (a method pre-trained on a dataset with one encoder and seed, then evaluated) writes
one JSON record: its identity, the resolved configuration, every evaluation row (protocol, label
fraction, metrics), timings, the environment (version, commit, device) and the data checksums.
Records are written atomically; JSON only, never pickle.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from .atomic import atomic_write_json

IDENTITY = ("method", "dataset", "encoder", "profile", "seed")


def config_hash(config: dict[str, Any]) -> str:
    """Short stable hash of a configuration (key order does not matter)."""
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:8]


def record_path(root: str | Path, config: dict[str, Any]) -> Path:
    """Where the record of ``config`` lives: ``<root>/<profile>/<dataset>/<method>-<encoder>-s<seed>-<hash>.json``.

    The hash covers the whole configuration, so a sweep with changed parameters never mistakes an
    old record for its own.
    """
    name = f"{config['method']}-{config['encoder']}-s{config['seed']}-{config_hash(config)}.json"
    return Path(root) / config["profile"] / config["dataset"] / name


def write_record(root: str | Path, record: dict[str, Any]) -> Path:
    """Write ``record`` (which holds its ``config``) atomically and return its path."""
    return atomic_write_json(record_path(root, record["config"]), record)


def load_records(paths_or_root: str | Path | Iterable[str | Path]) -> list[dict[str, Any]]:
    """Records from a folder (recursively) or from a list of files."""
    if isinstance(paths_or_root, (str, Path)):
        paths = sorted(Path(paths_or_root).rglob("*.json"))
    else:
        paths = [Path(p) for p in paths_or_root]
    records = []
    for path in paths:
        record = json.loads(path.read_text())
        if record.get("kind") == "experiment":
            records.append(record)
    return records


def records_frame(records: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """One row per evaluation: identity columns, protocol, label fraction and the metrics."""
    rows = []
    for record in records:
        identity = {k: record["config"][k] for k in IDENTITY}
        for evaluation in record["evaluations"]:
            rows.append({**identity, "pretrain_s": record["timing"]["pretrain_s"],
                         "total_s": record["timing"]["total_s"],
                         # a resumed run's times cover only the epochs after its restart
                         "resumed": record["timing"].get("resumed_from_epoch") is not None, **evaluation})
    return pd.DataFrame(rows)


def summary_table(frame: pd.DataFrame, metric: str = "accuracy", fraction: float = 1.0,
                  index: tuple[str, ...] = ("dataset", "method"), precision: int = 3) -> pd.DataFrame:
    """``mean ± std (n seeds)`` of ``metric`` per protocol, at one label fraction.

    The std is the sample standard deviation over seeds (0 with one seed).
    """
    selected = frame[frame["label_fraction"] == fraction]
    grouped = selected.groupby([*index, "protocol"])[metric].agg(["mean", "std", "count"])
    cells = grouped.apply(
        lambda r: f"{r['mean']:.{precision}f} ± {0.0 if pd.isna(r['std']) else r['std']:.{precision}f} (n={int(r['count'])})",
        axis=1,
    )
    table = cells.unstack("protocol")
    order = [p for p in ("linear", "svm", "knn", "finetune") if p in table.columns]
    return table[order + [c for c in table.columns if c not in order]]


def fraction_table(frame: pd.DataFrame, metric: str = "accuracy", protocol: str = "linear",
                   index: tuple[str, ...] = ("dataset", "method"), precision: int = 3) -> pd.DataFrame:
    """Mean of ``metric`` per label fraction (columns) for one protocol."""
    selected = frame[frame["protocol"] == protocol]
    table = selected.groupby([*index, "label_fraction"])[metric].mean().unstack("label_fraction")
    table.columns = [f"{c:.0%}" for c in table.columns]
    return table.round(precision)
