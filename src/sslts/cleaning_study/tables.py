"""What each pipeline chose and what it cost, from the study's records (beside the verdicts).

- :func:`channel_choices`: for each channel-dropping condition, the channels it dropped per seed, so a
  reader sees what "decorrelated" removed (on UCI HAR: the gravity-carrying total acceleration, or
  the body acceleration that separates the training classes less);
- :func:`cost_table`: per condition and model, the mean wall time of a run and of its pre-training,
  and for the SSL model the epochs its pre-training loss took to make 95 % of its fall
  (:func:`epochs_to_converge`), the sources' other promise being faster, simpler training.
"""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np
import pandas as pd

CONVERGED_SHARE = 0.95


def epochs_to_converge(loss: list[float], share: float = CONVERGED_SHARE) -> int | None:
    """The first epoch (1-based) by which the loss has made ``share`` of its fall from the first epoch
    to its lowest value; None for fewer than two epochs or a loss that never falls.

    >>> epochs_to_converge([4.0, 2.0, 1.1, 1.0, 1.05])
    3
    """
    values = np.asarray(loss, dtype=float)
    if values.size < 2 or values.min() >= values[0]:
        return None
    target = values[0] - share * (values[0] - values.min())
    return int(np.argmax(values <= target)) + 1


def channel_choices(records: Iterable[dict[str, Any]], channel_names: dict[str, tuple[str, ...]]) -> pd.DataFrame:
    """Condition rows (channel-dropping ones): the channels dropped, with the seeds that dropped them.

    ``channel_names`` maps a dataset to its channel names (records keep the indices kept)."""
    rows = []
    for record in records:
        kept = record.get("cleaning", {}).get("channels_kept")
        if kept is None or record["condition"]["channels"] == "keep":
            continue
        names = channel_names[record["condition"]["dataset"]]
        dropped = ", ".join(n for i, n in enumerate(names) if i not in kept)
        rows.append({"condition": record["condition"]["name"], "dropped": dropped or "none",
                     "seed": record["config"]["seed"]})
    if not rows:
        return pd.DataFrame()
    table = pd.DataFrame(rows).groupby(["condition", "dropped"])["seed"].apply(lambda s: sorted(set(s)))
    return table.rename("seeds").reset_index()


def cost_table(records: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """Per condition and model: runs, mean seconds per run and in pre-training, and the mean epochs
    to converge of the pre-training loss (NaN for a model without one)."""
    rows = []
    for record in records:
        loss = (record.get("history") or {}).get("loss")
        converged = epochs_to_converge(loss) if loss else None
        rows.append({"condition": record["condition"]["name"], "model": record["config"]["method"],
                     "run (s)": record["timing"]["total_s"], "pre-training (s)": record["timing"].get("pretrain_s"),
                     "epochs": len(loss) if loss else np.nan,
                     "epochs to converge": np.nan if converged is None else converged})
    if not rows:
        return pd.DataFrame()
    frame = pd.DataFrame(rows)
    table = frame.groupby(["condition", "model"]).agg(
        runs=("run (s)", "size"), **{c: (c, "mean") for c in ("run (s)", "pre-training (s)", "epochs", "epochs to converge")})
    return table.round(1)
