"""Transfer: pre-train on one dataset (a source), evaluate on another (a target).

The report's own experiment: pre-train SimCLR and VICReg on a *separate* dataset, then evaluate
on UWaveGestureLibrary, and the reverse (UWave sources to UCI HAR). :mod:`.sources` defines the
sources and targets, :mod:`.run` one run and its record, :mod:`.sweep` the resumable sweep
(``sslts transfer``); :mod:`sslts.report.transfer` turns the records into the chapter's tables.
"""

from .run import PROFILE, SCRATCH, TransferConfig, label_budget_indices, method_config, run_transfer
from .sources import (HAR_TOTAL_ACC, NO_PRETRAINING, POOL_PROBLEMS, SOURCES, TARGETS, ChannelIndependent, Source,
                      Target, build_pool, load_target, resample_length, to_univariate)
from .sweep import METHODS, SEEDS, configs, estimate_seconds, pending, run_transfer_sweep

__all__ = ["ChannelIndependent", "HAR_TOTAL_ACC", "METHODS", "NO_PRETRAINING", "POOL_PROBLEMS", "PROFILE", "SCRATCH",
           "SEEDS", "SOURCES", "Source", "TARGETS", "Target", "TransferConfig", "build_pool", "configs",
           "estimate_seconds", "label_budget_indices", "load_target", "method_config", "pending", "resample_length",
           "run_transfer", "run_transfer_sweep", "to_univariate"]
