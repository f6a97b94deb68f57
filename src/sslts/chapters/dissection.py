"""What the dissection chapter needs: encoders trained by each method, and their units' concepts.

Each encoder is the TS-TCC CNN trained as the method chapters train it (the chapter's profile,
pre-training only: no probes), the untrained encoder, or the same CNN trained supervised from
scratch. The dissection itself (:mod:`sslts.evaluate.dissection`) reads the last convolution's map
on the *training* series: no test series are looked at.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..dissection_sweep import trained_encoder
from ..evaluate.dissection import concept_ceilings, concept_masks, detector_counts, dissect
from ..evaluate.readouts import feature_maps

@dataclass
class Dissected:
    """One encoder's dissection: per-unit rows, the training series it saw (z-scored) and its maps."""

    method: str
    dataset: str
    rows: list[dict[str, Any]]
    X: np.ndarray  # (N, C, L) z-scored training series
    y: np.ndarray
    maps: np.ndarray  # (N, U, L')
    class_names: list[str]
    train: Any  # the TimeSeriesData the series came from (for provenance)


def dissect_methods(P: dict[str, Any]) -> list[Dissected]:
    """Dissect the encoder of every method in ``P["methods"]`` on every dataset in ``P["dataset"]``."""
    out = []
    for dataset in P["dataset"]:
        for method in P["methods"]:
            encoder, X, train = trained_encoder(method, dataset, P)
            maps = feature_maps(encoder, X).numpy()
            concepts = concept_masks(X, train.y, maps.shape[-1], list(train.class_names))
            rows = dissect(maps, concepts, P["quantile"], P["iou_threshold"])
            out.append(Dissected(method, dataset, rows, X, train.y, maps, list(train.class_names), train))
    return out


def counts_table(results: list[Dissected]) -> pd.DataFrame:
    """Detector units per concept type (columns) for each dataset and method (rows)."""
    rows = {(r.dataset, r.method): detector_counts(r.rows) for r in results}
    table = pd.DataFrame.from_dict(rows, orient="index").fillna(0).astype(int)
    order = [c for c in ("class", "phase", "channel", "band", "motion", "none") if c in table.columns]
    table = table[order]
    table.index.names = ["dataset", "method"]
    return table


def ceilings_table(results: list[Dissected], quantile: float, threshold: float) -> pd.DataFrame:
    """Per dataset and concept type: the concepts' coverage and the highest IoU any unit could reach
    with them (:func:`sslts.evaluate.dissection.concept_ceilings`), and how many can clear ``threshold``."""
    rows = []
    for r in {r.dataset: r for r in results}.values():  # the concepts depend on the data, not the encoder
        concepts = concept_masks(r.X, r.y, r.maps.shape[-1], r.class_names)
        for row in concept_ceilings(concepts, quantile, threshold):
            rows.append({"dataset": r.dataset, **row})
    frame = pd.DataFrame(rows)
    table = frame.groupby(["dataset", "concept_type"], sort=False).agg(
        concepts=("concept", "size"), coverage_min=("coverage", "min"), coverage_max=("coverage", "max"),
        max_iou_min=("max_iou", "min"), max_iou_max=("max_iou", "max"), detectable=("can_detect", "sum"))
    return table.round(3)


def top_units(result: Dissected, k: int = 3) -> list[dict[str, Any]]:
    """The ``k`` detector units with the highest IoU (all units if fewer detect anything)."""
    ranked = sorted(result.rows, key=lambda r: (r["detector"], r["iou"]), reverse=True)
    return ranked[:k]
