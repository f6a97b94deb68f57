"""Statistics for comparisons: intervals over seeds, paired tests with effect sizes, Friedman.

Every claim that A beats B in the book goes through :func:`paired_test`: a paired test (over seeds
within a dataset, or over datasets for suite-level claims), its p-value and an effect size, and
the words "no significant difference" when that is the result. The tests are scipy's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

ALPHA = 0.05


def mean_interval(values: np.ndarray | list[float], level: float = 0.95) -> tuple[float, float, float, float]:
    """``(mean, sample std, low, high)`` with Student's t interval of the mean at ``level``.

    One value gives a zero std and an interval of zero width (nothing to estimate a spread from).

    Example:
        >>> [round(v, 3) for v in mean_interval([1.0, 2.0, 3.0])]
        [2.0, 1.0, -0.484, 4.484]
    """
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        raise ValueError("mean_interval needs at least one value")
    mean = float(x.mean())
    if x.size == 1:
        return mean, 0.0, mean, mean
    std = float(x.std(ddof=1))
    half = float(stats.t.ppf(0.5 + level / 2, x.size - 1) * std / np.sqrt(x.size))
    return mean, std, mean - half, mean + half


@dataclass(frozen=True)
class PairedTest:
    """A paired comparison of ``a`` and ``b``: ``a - b`` over ``n`` pairs.

    ``test`` names the test; ``effect`` is the mean difference for the t-test and the matched-pairs
    rank-biserial correlation (in [-1, 1], positive when ``a`` tends to be larger) for Wilcoxon.
    """

    test: str
    n: int
    mean_difference: float
    p_value: float
    effect: float
    effect_name: str

    @property
    def significant(self) -> bool:
        return bool(self.p_value < ALPHA)

    def sentence(self, a: str, b: str, what: str = "accuracy") -> str:
        """The result in words, e.g. "A is higher than B (mean difference +0.012, Wilcoxon p = 0.03, ...)"."""
        detail = (f"mean difference {self.mean_difference:+.3f}, {self.test} p = {self.p_value:.3g}, "
                  f"{self.effect_name} {self.effect:+.2f}, n = {self.n}")
        if not np.isfinite(self.p_value):
            return f"{a} and {b} cannot be tested ({detail})"
        if not self.significant:
            return f"no significant difference in {what} between {a} and {b} ({detail})"
        word = "higher" if self.mean_difference > 0 else "lower"
        return f"{a} has a significantly {word} {what} than {b} ({detail})"


def paired_test(a: np.ndarray | list[float], b: np.ndarray | list[float], test: str = "wilcoxon") -> PairedTest:
    """Two-sided paired test of ``a`` against ``b`` (same length, paired by position).

    ``test="wilcoxon"``: Wilcoxon signed-rank (scipy; zero differences dropped, as Wilcoxon's
    original procedure), effect = matched-pairs rank-biserial correlation. ``test="t"``: paired
    t-test, effect = Cohen's d_z (mean difference over the std of the differences). With fewer than
    2 non-zero differences the p-value is NaN (nothing to test), or 1 when all differences are zero.

    Example:
        >>> round(paired_test([2.0, 3.0, 4.0, 5.0, 6.0, 7.0], [1.0, 1.0, 1.0, 1.0, 1.0, 1.0]).p_value, 4)
        0.0312
    """
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"paired samples must be two 1-D arrays of one length, got {x.shape} and {y.shape}")
    d = x - y
    mean_difference = float(d.mean()) if d.size else float("nan")
    nonzero = d[d != 0]
    if test == "wilcoxon":
        if nonzero.size == 0:
            return PairedTest("Wilcoxon", d.size, mean_difference, 1.0, 0.0, "rank-biserial r")
        if nonzero.size < 2:
            return PairedTest("Wilcoxon", d.size, mean_difference, float("nan"), float(np.sign(nonzero).mean()),
                              "rank-biserial r")
        ranks = stats.rankdata(np.abs(nonzero))
        r = float((ranks[nonzero > 0].sum() - ranks[nonzero < 0].sum()) / ranks.sum())
        p = float(stats.wilcoxon(nonzero).pvalue)
        return PairedTest("Wilcoxon", d.size, mean_difference, p, r, "rank-biserial r")
    if test == "t":
        if d.size < 2 or np.all(d == d[0]):
            p = 1.0 if d.size >= 2 and d[0] == 0 else float("nan")
            return PairedTest("paired t", d.size, mean_difference, p, float("nan"), "Cohen's d_z")
        p = float(stats.ttest_rel(x, y).pvalue)
        return PairedTest("paired t", d.size, mean_difference, p, float(d.mean() / d.std(ddof=1)), "Cohen's d_z")
    raise ValueError(f"test must be 'wilcoxon' or 't', got {test!r}")


def friedman(scores: np.ndarray) -> float:
    """p-value of the Friedman test on ``scores`` ``(n_datasets, n_methods)`` (NaN if too few)."""
    scores = np.asarray(scores, dtype=float)
    if scores.ndim != 2 or scores.shape[1] < 3 or scores.shape[0] < 2:
        return float("nan")
    return float(stats.friedmanchisquare(*scores.T).pvalue)


def average_ranks(scores: np.ndarray) -> np.ndarray:
    """Mean rank of each column over rows, 1 = best (highest score), ties averaged."""
    scores = np.asarray(scores, dtype=float)
    return np.mean([stats.rankdata(-row) for row in scores], axis=0)


def verdict_word(tests: list[PairedTest]) -> str:
    """The verdict on a hypothesis that every test's difference is positive.

    >>> t = lambda d, p: PairedTest("Wilcoxon", 9, d, p, 0.0, "r")
    >>> verdict_word([t(1, 0.01), t(1, 0.01)]), verdict_word([t(1, 0.01), t(-1, 0.01)])
    ('supported', 'mixed (the two measures disagree)')
    >>> verdict_word([t(-1, 0.01), t(1, 0.5)]), verdict_word([t(1, 0.5), t(1, 0.01)])
    ('contradicted', 'not supported')
    """
    if all(t.significant and t.mean_difference > 0 for t in tests):
        return "supported"
    against = any(t.significant and t.mean_difference < 0 for t in tests)
    if against and any(t.significant and t.mean_difference > 0 for t in tests):
        return "mixed (the two measures disagree)"
    return "contradicted" if against else "not supported"


def holm(p_values: np.ndarray | list[float]) -> np.ndarray:
    """Holm's step-down adjusted p-values (family-wise error rate), in the input's order; NaNs stay
    NaN and do not count towards the family.

    With m tests sorted p_(1) <= ... <= p_(m), the i-th gets max_{j<=i} min(1, (m - j + 1) p_(j)):
    reject where the adjusted p is below alpha.

    >>> holm([0.01, 0.04, 0.03, 0.005]).round(3).tolist()
    [0.03, 0.06, 0.06, 0.02]
    >>> holm([0.5, float("nan"), 0.01]).tolist()
    [0.5, nan, 0.02]
    """
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    finite = np.flatnonzero(np.isfinite(p))
    order = finite[np.argsort(p[finite], kind="stable")]
    m = order.size
    adjusted = np.minimum(1.0, (m - np.arange(m)) * p[order])
    out[order] = np.maximum.accumulate(adjusted)
    return out


def tost(a: np.ndarray | list[float], b: np.ndarray | list[float], margin: float) -> float:
    """p-value of the paired two one-sided tests (TOST) that ``|mean(a - b)| < margin``.

    Equivalence within ``margin`` is shown where the p-value is below alpha: both one-sided t-tests,
    ``mean(d) > -margin`` and ``mean(d) < margin``, must reject; the p-value is the larger of the two.
    NaN with fewer than two pairs or differences without spread.

    >>> round(tost([0.80, 0.81, 0.79, 0.80, 0.81], [0.80, 0.80, 0.80, 0.80, 0.80], 0.02), 4)
    0.0043
    >>> round(tost([0.90, 0.95, 0.85, 0.92, 0.88], [0.80, 0.80, 0.80, 0.80, 0.80], 0.02), 4)
    0.9953
    """
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if d.size < 2 or np.all(d == d[0]):
        return float("nan")
    se = d.std(ddof=1) / np.sqrt(d.size)
    lower = stats.t.sf((d.mean() + margin) / se, d.size - 1)  # H0: mean <= -margin
    upper = stats.t.cdf((d.mean() - margin) / se, d.size - 1)  # H0: mean >= margin
    return float(max(lower, upper))


def pairwise_wilcoxon(scores: np.ndarray, names: list[str]) -> pd.DataFrame:
    """Every pair of columns of ``scores`` ``(n_datasets, n_methods)``: mean difference, wins / ties /
    losses over datasets, the Wilcoxon signed-rank p-value and Holm's step-down adjusted p-value
    over all pairs; sorted by the adjusted p-value. "differ" is the Holm decision at :data:`ALPHA`.

    >>> t = pairwise_wilcoxon(np.array([[0.9, 0.8, 0.7]] * 6) + np.arange(6)[:, None] / 100, ["A", "B", "C"])
    >>> t.loc[0, "pair"], t.loc[0, "wins/ties/losses"], float(t.loc[0, "Holm p"])
    ('A vs B', '6/0/0', 0.09375)
    """
    scores = np.asarray(scores, dtype=float)
    rows = []
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            d = scores[:, i] - scores[:, j]
            test = paired_test(scores[:, i], scores[:, j], "wilcoxon")
            rows.append({"pair": f"{names[i]} vs {names[j]}", "mean difference": round(float(d.mean()), 3),
                         "wins/ties/losses": f"{(d > 0).sum()}/{(d == 0).sum()}/{(d < 0).sum()}",
                         "p": test.p_value})
    table = pd.DataFrame(rows)
    table["Holm p"] = holm(table["p"].to_numpy())
    table["differ"] = table["Holm p"] < ALPHA
    return table.sort_values(["Holm p", "p"], kind="stable").reset_index(drop=True)
