"""The report layer's name for :mod:`sslts.stats` (the statistics live in the core, so studies can use
them without importing the report layer)."""

from ..stats import (ALPHA, PairedTest, average_ranks, friedman, holm, mean_interval, paired_test,  # noqa: F401
                     pairwise_wilcoxon, tost, verdict_word)

__all__ = ["ALPHA", "PairedTest", "average_ranks", "friedman", "holm", "mean_interval", "paired_test",
           "pairwise_wilcoxon", "tost", "verdict_word"]
