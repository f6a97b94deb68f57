"""Evaluation of frozen or fine-tuned encoders, as functions over embeddings.

``embed`` turns series into embeddings through the ``encode`` contract; ``protocols`` fits probes on
the training split only (linear, TS2Vec's SVM, cosine k-NN); ``fractions`` repeats them with few
labels; ``metrics`` scores predictions; ``diagnostics`` measures collapse and geometry without
labels; ``finetune`` trains a copy of the encoder end to end; ``readouts`` pools a frozen feature map in
other ways and scores each way on the training split alone.
"""

from .diagnostics import (
    alignment,
    effective_rank,
    per_dimension_std,
    representation_summary,
    tsne_2d,
    uniformity,
)
from ..policies import resolve_device
from .embed import embed
from .finetune import FinetuneResult, epochs_for_min_steps, finetune
from .fractions import evaluate_label_fractions, evaluate_label_shots, label_fraction_indices, label_shot_indices
from .metrics import classification_metrics, macro_auroc
from .readouts import nested_svm_cv, parse_readout, readout
from .protocols import (
    PROTOCOLS,
    ProbeResult,
    evaluate_embeddings,
    get_protocol,
    knn_probe,
    linear_probe,
    linear_svm_probe,
    svm_probe,
)

__all__ = [
    "PROTOCOLS",
    "FinetuneResult",
    "epochs_for_min_steps",
    "ProbeResult",
    "alignment",
    "classification_metrics",
    "effective_rank",
    "embed",
    "evaluate_embeddings",
    "evaluate_label_fractions",
    "evaluate_label_shots",
    "finetune",
    "get_protocol",
    "knn_probe",
    "label_fraction_indices",
    "label_shot_indices",
    "linear_probe",
    "linear_svm_probe",
    "macro_auroc",
    "nested_svm_cv",
    "parse_readout",
    "per_dimension_std",
    "readout",
    "representation_summary",
    "resolve_device",
    "svm_probe",
    "tsne_2d",
    "uniformity",
]
