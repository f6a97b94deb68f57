"""A run record's pre-trained model, loaded back from the checkpoint the record names.

Benchmarks that re-pool a kept encoder (``benchmarks/readout_cv.py``) start here instead of
training again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from .experiment import ExperimentConfig, ExperimentResult, build_model, load_splits


def load_pretrained(record: dict[str, Any], checkpoint_dir: str | Path) -> ExperimentResult:
    """The pre-trained model of a run record, from the checkpoint the record names.

    Rebuilds the record's splits and z-score exactly as :func:`run_experiment` did, builds the
    untrained model of its configuration and loads the checkpoint's weights (``weights_only=True``).
    The returned result has the record, the splits, the scaler and the model in eval mode; its
    embeddings are empty (``(0, 0)``): embed what you need with ``result.standardised(split)``.

    Raises:
        ValueError: the record names no checkpoint (it was run without one: run it again with
            ``sslts sweep --out <scratch folder>``, which keeps one), the file is missing, or it
            stopped before the record's last epoch.
        sslts.data.DataError: the data cannot be loaded.
    """
    name = record.get("checkpoint")
    if not name:
        raise ValueError("this record names no checkpoint: it was run without one. Run the same configuration "
                         "again with `sslts sweep --out <scratch folder>` (bit for bit on the same CPU) to keep one")
    path = Path(checkpoint_dir) / name
    if not path.is_file():
        raise ValueError(f"checkpoint {path} not found; pass the folder the sweep kept it in (--checkpoints)")
    config = ExperimentConfig.from_dict(record["config"])
    train, test, scaler = load_splits(config)
    model = build_model(config, train.X.shape[1:], train.n_classes)
    state = torch.load(path, map_location="cpu", weights_only=True)
    if state.get("epoch") != record.get("pretrain_epochs"):
        raise ValueError(f"{path} holds epoch {state.get('epoch')}, but the record trained "
                         f"{record.get('pretrain_epochs')} epochs; it is not this record's final model")
    model.load_state_dict(state["model"])
    empty = np.zeros((0, 0), dtype=np.float32)
    return ExperimentResult(record, empty, empty, train, test, model.eval(), scaler)
