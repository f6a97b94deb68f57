"""Tables and verdicts of the transfer chapter, from the records of ``sslts transfer``.

A row of :func:`load` is one evaluation of one record: a protocol (a frozen probe, or fine-tuning)
at one label budget. Runs of one target, budget and seed share the labelled series (the same
stratified draw), so they are paired across sources and methods, and every claim goes through a
paired t-test over seeds (:func:`sslts.report.stats.paired_test`; with 5 seeds Wilcoxon's
signed-rank test cannot reach p < 0.05, its smallest two-sided p being 1/16).

Two references per pre-trained cell:

- **scratch**: the same protocol without pre-training: the untrained encoder for a frozen probe,
  the supervised CNN trained from scratch for fine-tuning;
- **target-only**: the same method pre-trained on the target's own training split (for the
  channel-independent pool, on the same split channel-independent).

**Negative transfer** is named where pre-training on a source gives a significantly *lower*
accuracy than scratch (the source hurts compared with not transferring at all); a source
significantly below target-only pre-training is "worse than target-only".
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from ..transfer import NO_PRETRAINING, PROFILE, SCRATCH, SOURCES, TARGETS
from .comparison import LABELS
from .stats import ALPHA, PairedTest, holm, mean_interval, paired_test

COLUMNS = ["target", "source", "method", "seed", "protocol", "budget", "n_labelled", "accuracy", "macro_f1"]
PROTOCOL_LABELS = {"linear": "linear probe", "svm": "SVM probe", "knn": "k-NN probe", "finetune": "fine-tuned"}
SOURCE_LABELS = {NO_PRETRAINING: "scratch", "target": "target only", "target-ci": "target only (channel-indep.)",
                 "uwave-pool": "UWave pool", "har": "HAR total_acc", "uea-pool": "UEA pool (channel-indep.)"}


def read_records(out_dir: str | Path) -> list[dict]:
    """Every transfer record under ``out_dir`` (other JSON files are skipped)."""
    import json

    records = []
    for path in sorted(Path(out_dir).rglob("*.json")):
        record = json.loads(path.read_text())
        if record.get("kind") == "transfer" and record["config"].get("profile") == PROFILE:
            records.append(record)
    return records


def _degenerate_knn(evaluation: dict) -> bool:
    """A k-NN row recorded before ``knn_probe`` capped k at the labelled count per class: more votes
    than series per class, so the other classes outvote the right one (left out until re-run)."""
    return (evaluation["protocol"] == "knn" and evaluation.get("budget_kind") == "shots"
            and evaluation.get("best_params", {}).get("k", 0) > evaluation["budget"])


def load(out_dir: str | Path) -> pd.DataFrame:
    """One row per evaluation (columns :data:`COLUMNS`); empty, with those columns, without records.
    k-NN rows with more neighbours than labelled series per class are left out (:func:`_degenerate_knn`)."""
    rows = []
    for record in read_records(out_dir):
        c = record["config"]
        for e in record["evaluations"]:
            if _degenerate_knn(e):
                continue
            rows.append({"target": c["target"], "source": c["source"], "method": c["method"], "seed": c["seed"],
                         "protocol": e["protocol"], "budget": e["budget"], "n_labelled": e["n_labelled"],
                         "accuracy": e["accuracy"], "macro_f1": e["macro_f1"]})
    return pd.DataFrame(rows, columns=COLUMNS)


def budget_label(target: str, budget: float) -> str:
    """``"1 / class"`` for a shots budget, ``"5%"`` for a fraction."""
    return f"{int(budget)} / class" if TARGETS[target].budget_kind == "shots" else f"{budget:.0%}"


def inventory(frame: pd.DataFrame) -> pd.DataFrame:
    """Seeds recorded per target, source and method."""
    if frame.empty:
        return pd.DataFrame()
    return frame.drop_duplicates(["target", "source", "method", "seed"]).groupby(
        ["target", "source", "method"]).size().rename("seeds").unstack("method").fillna(0).astype(int)


def _row_label(source: str, method: str) -> str:
    return SOURCE_LABELS.get(source, source) + ("" if source == NO_PRETRAINING else f" · {LABELS.get(method, method)}")


def transfer_table(frame: pd.DataFrame, target: str, protocol: str) -> pd.DataFrame:
    """Mean accuracy over seeds, ``source · method`` rows x label budgets, with the seeds counted."""
    sub = frame[(frame["target"] == target) & (frame["protocol"] == protocol)]
    if sub.empty:
        return pd.DataFrame()
    means = sub.groupby(["source", "method", "budget"])["accuracy"].mean().unstack("budget")
    seeds = sub.drop_duplicates(["source", "method", "seed"]).groupby(["source", "method"]).size()
    order = [(s, m) for s in TARGETS[target].sources for m in sorted(set(sub["method"])) if (s, m) in means.index]
    table = means.reindex(order)
    table.columns = [budget_label(target, b) for b in table.columns]
    table["seeds"] = [int(seeds[k]) for k in order]
    table.index = [_row_label(s, m) for s, m in order]
    return table.round(3)


def curves(frame: pd.DataFrame, target: str, protocol: str) -> pd.DataFrame:
    """Mean and 95% t-interval over seeds per (source, method, budget), for the label-efficiency figure."""
    sub = frame[(frame["target"] == target) & (frame["protocol"] == protocol)]
    rows = []
    for (source, method, budget), part in sub.groupby(["source", "method", "budget"]):
        mean, _, low, high = mean_interval(part["accuracy"].to_numpy())
        rows.append({"row": _row_label(source, method), "source": source, "method": method, "budget": budget,
                     "mean": mean, "low": low, "high": high, "seeds": len(part)})
    return pd.DataFrame(rows, columns=["row", "source", "method", "budget", "mean", "low", "high", "seeds"])


def _paired(frame: pd.DataFrame, target: str, protocol: str, budget: float, a: tuple[str, str],
            b: tuple[str, str]) -> PairedTest | None:
    """Paired t-test of (source, method) ``a`` against ``b`` over the seeds both ran; None if either is missing."""
    sub = frame[(frame["target"] == target) & (frame["protocol"] == protocol) & (frame["budget"] == budget)]
    values = {}
    for key in (a, b):
        part = sub[(sub["source"] == key[0]) & (sub["method"] == key[1])].set_index("seed")["accuracy"]
        if part.empty:
            return None
        values[key] = part
    both = pd.DataFrame({"a": values[a], "b": values[b]}).dropna()
    if len(both) < 2:
        return None
    return paired_test(both["a"].to_numpy(dtype=float), both["b"].to_numpy(dtype=float), "t")


def verdict(test: PairedTest | None) -> str:
    """``"positive"``, ``"negative"``, ``"no significant difference"`` or ``"untested"`` (fewer than 2 paired seeds)."""
    if test is None:
        return "untested"
    if not test.significant:
        return "no significant difference"
    return "positive" if test.mean_difference > 0 else "negative"


def _scratch_tests(frame: pd.DataFrame, target: str,
                   protocol: str) -> list[tuple[str, str, float, PairedTest | None, float]]:
    """``(source, method, budget, test against scratch, Holm-adjusted p)`` for every pre-trained
    cell of ``target``, Holm's family being these tests (NaN where a cell is untested)."""
    sub = frame[(frame["target"] == target) & (frame["protocol"] == protocol)]
    scratch = (NO_PRETRAINING, SCRATCH)
    cells = [(source, method, budget, _paired(frame, target, protocol, budget, (source, method), scratch))
             for source in TARGETS[target].sources if source != NO_PRETRAINING
             for method in sorted(set(sub[sub["source"] == source]["method"]))
             for budget in TARGETS[target].budgets]
    adjusted = holm([np.nan if test is None else test.p_value for *_, test in cells])
    return [(*cell, q) for cell, q in zip(cells, adjusted)]


def paired_table(frame: pd.DataFrame, target: str, protocol: str) -> pd.DataFrame:
    """Every pre-trained cell against scratch and against target-only pre-training, per label budget.

    Columns: the mean difference and p-value of each paired t-test, ``Holm p (scratch)`` (the
    p-value against scratch adjusted by Holm's method over the table's tests against scratch,
    since a table holds tens of them and a few fall below 0.05 by chance) and ``transfer`` (the
    verdict against scratch at alpha 0.05: "negative transfer" where it is significantly lower).
    """
    rows = []
    for source, method, budget, vs_scratch, holm_p in _scratch_tests(frame, target, protocol):
        control = SOURCES[source].control
        vs_target = None if source == control else _paired(frame, target, protocol, budget, (source, method),
                                                            (control, method))
        word = verdict(vs_scratch)
        rows.append({
            "source · method": _row_label(source, method), "labels": budget_label(target, budget),
            "vs scratch": _difference(vs_scratch), "p (scratch)": _p(vs_scratch),
            "Holm p (scratch)": "" if not np.isfinite(holm_p) else f"{holm_p:.3g}",
            "vs target-only": _difference(vs_target), "p (target-only)": _p(vs_target),
            "transfer": {"negative": "negative transfer", "positive": "helps"}.get(word, word),
            "target-only": {"negative": "worse", "positive": "better"}.get(verdict(vs_target), verdict(vs_target))
            if source != control else "(is target-only)",
        })
    return pd.DataFrame(rows)


def _difference(test: PairedTest | None) -> str:
    return "" if test is None else f"{test.mean_difference:+.3f}"


def _p(test: PairedTest | None) -> str:
    return "" if test is None or not np.isfinite(test.p_value) else f"{test.p_value:.3g}"


def negative_transfer(frame: pd.DataFrame, target: str, protocols: tuple[str, ...] = ("svm", "finetune")) -> list[str]:
    """One sentence per cell where pre-training on a source is significantly below scratch, with
    its Holm-adjusted p-value and whether it survives that correction."""
    lines = []
    for protocol in protocols:
        for source, method, budget, test, holm_p in _scratch_tests(frame, target, protocol):
            if verdict(test) != "negative":
                continue
            lines.append(f"{_row_label(source, method)} ({PROTOCOL_LABELS[protocol]}, {budget_label(target, budget)}): "
                         f"{_difference(test)} against scratch (paired t, p = {_p(test)}; "
                         f"Holm-adjusted p = {holm_p:.3g}, "
                         + ("survives the correction)" if holm_p < ALPHA else "not significant after correction)"))
    return lines


def best_cell(frame: pd.DataFrame, target: str, protocol: str, budget: float) -> tuple[str, str] | None:
    """The pre-trained (source, method) with the highest mean accuracy at one budget (None without records)."""
    sub = frame[(frame["target"] == target) & (frame["protocol"] == protocol) & (frame["budget"] == budget)
                & (frame["source"] != NO_PRETRAINING)]
    if sub.empty:
        return None
    means = sub.groupby(["source", "method"])["accuracy"].mean()
    return tuple(means.idxmax())  # type: ignore[return-value]


def headline_sentence(frame: pd.DataFrame, target: str, protocol: str, budget: float) -> str:
    """The best pre-trained cell at ``budget`` and its paired tests against scratch (Holm-adjusted over
    the same family as :func:`paired_table`'s, so the sentence and the table agree) and target-only."""
    best = best_cell(frame, target, protocol, budget)
    if best is None:
        return f"No {target} records yet."
    source, method = best
    name = _row_label(source, method)
    parts = []
    scratch = _paired(frame, target, protocol, budget, best, (NO_PRETRAINING, SCRATCH))
    if scratch is not None:  # judged with the Holm correction of the tables' family (tests against scratch)
        adjusted = next(q for s, m, b, _, q in _scratch_tests(frame, target, protocol) if (s, m, b) == (*best, budget))
        parts.append(replace(scratch, p_value=float(adjusted), test="paired t, Holm-adjusted").sentence(name, "scratch"))
    control = (SOURCES[source].control, method)
    if control != best:
        against = _paired(frame, target, protocol, budget, best, control)
        if against is not None:
            parts.append(against.sentence(name, _row_label(*control)))
    return (f"With {budget_label(target, budget)} labels ({PROTOCOL_LABELS[protocol]}), the best pre-trained cell "
            f"on {target} is {name}" + (": " + "; ".join(parts) if parts else "") + ".")


def symmetry_table(frame: pd.DataFrame, protocol: str = "svm") -> pd.DataFrame:
    """Cross-device transfer both ways at the smallest and the largest label budget: HAR -> UWave and
    UWave pool -> HAR, each as the mean difference to target-only pre-training (and to scratch)."""
    rows = []
    for target, source in (("uwave", "har"), ("har", "uwave-pool")):
        if target not in set(frame["target"]):
            continue
        for budget in (min(TARGETS[target].budgets), max(TARGETS[target].budgets)):
            for method in sorted(set(frame[(frame["target"] == target) & (frame["source"] == source)]["method"])):
                vs_target = _paired(frame, target, protocol, budget, (source, method), ("target", method))
                vs_scratch = _paired(frame, target, protocol, budget, (source, method), (NO_PRETRAINING, SCRATCH))
                rows.append({"direction": f"{SOURCE_LABELS[source]} → {target}", "method": LABELS.get(method, method),
                             "labels": budget_label(target, budget),
                             "vs target-only": _difference(vs_target), "p (target-only)": _p(vs_target),
                             "vs scratch": _difference(vs_scratch), "p (scratch)": _p(vs_scratch)})
    return pd.DataFrame(rows)


def _direction_word(words: list[str]) -> str:
    """One word for a direction's verdicts against target-only pre-training over its tested cells."""
    tested = [w for w in words if w != "untested"]
    if not tested:
        return "untested"
    signs = set(tested) - {"no significant difference"}
    if not signs:
        return "no significant difference"
    return {"positive": "helps", "negative": "hurts"}[signs.pop()] if len(signs) == 1 else "mixed"


def symmetry_answer(frame: pd.DataFrame, protocol: str = "svm") -> str:
    """Whether cross-device transfer is symmetric, in one sentence from :func:`symmetry_table`'s tests.

    Each direction (HAR -> UWave, UWave pool -> HAR) gets one word over its cells (method x smallest
    and largest budget), each a paired t-test against target-only pre-training: "helps" (some cells
    significantly above, none below), "hurts" (the reverse), "mixed", "no significant difference"
    or "untested". Transfer is called symmetric when both directions get the same word.
    """
    summaries, words = [], []
    for target, source in (("uwave", "har"), ("har", "uwave-pool")):
        cells = []
        methods = sorted(set(frame.loc[(frame["target"] == target) & (frame["source"] == source), "method"]))
        for budget in (min(TARGETS[target].budgets), max(TARGETS[target].budgets)):
            for method in methods:
                test = _paired(frame, target, protocol, budget, (source, method), ("target", method))
                cells.append(verdict(test))
        word = _direction_word(cells)
        words.append(word)
        counts = {w: cells.count(w) for w in ("positive", "negative", "no significant difference")}
        summaries.append(f"{SOURCE_LABELS[source]} → {target} {word} against target-only pre-training "
                         f"({counts['positive']} of {len(cells)} cells significantly above, "
                         f"{counts['negative']} below)")
    if "untested" in words:
        return f"Symmetry is untested until both directions have paired seeds: {'; '.join(summaries)}."
    answer = "symmetric" if words[0] == words[1] else "not symmetric"
    return f"Transfer is {answer} ({PROTOCOL_LABELS[protocol]}): {'; '.join(summaries)}."
