"""Tables, tests and sentences of "When self-supervision pays", read from the study's run records.

Records come from :mod:`sslts.scarce.sweep`: ``pretrain/*.json`` (one per pre-training run) and
``fewlabel/<target>/*.json`` (one per feature extractor, target and seed, with a row per ``k`` and
read-out). Every number here is a mean over the seeds that exist, with its seed count beside it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..scarce.fewlabel import ALL, SHOTS
from ..scarce.records import read_all
from ..scarce.sweep import MAIN_BUDGET
from .stats import holm, mean_interval, paired_test, tost

METHOD_LABELS = {"vicreg": "VICReg", "simclr": "SimCLR", "barlow_twins": "Barlow Twins", "vibcreg": "VIbCReg"}
CORPUS_LABELS = {"uwave-pool": "UWave pool", "har-train": "HAR windows", "xd-a": "cross-dataset", "xd-b": "cross-dataset"}
BASELINE_LABELS = {"untrained": "untrained CNN", "minirocket": "MiniRocket", "minirocket-ridge": "MiniRocket (ridge)",
                   "supervised_cnn": "supervised CNN"}
READOUT_LABELS = {"centroid": "nearest centroid", "logreg": "logistic regression", "spread": "label spreading (pool)",
                  "own": "its own classifier", "svm": "SVM (TS2Vec protocol)"}
COLUMNS = [*SHOTS, ALL]
TARGET_LABELS = {"uwave": "UWave", "har": "UCI HAR"}


def system(config: dict[str, Any]) -> str:
    """A feature extractor's name in tables, e.g. ``"VICReg · UWave pool"`` or ``"MiniRocket"``."""
    if config["features"] != "ssl":
        return BASELINE_LABELS[config["features"]]
    corpus = config["corpus"]
    where = CORPUS_LABELS.get(corpus) or f"UWave pool ({corpus.rsplit('-', 1)[1]})"
    wide = "" if config["encoder"] == "cnn" else f" · {config['encoder']}"
    return f"{METHOD_LABELS.get(config['method'], config['method'])} · {where}{wide}"


def load(root) -> pd.DataFrame:
    """One row per record row: target, system, extractor fields, seed, shots, read-out, accuracy."""
    rows = []
    for record in read_all(root, "fewlabel"):
        c = record["config"]
        base = {"target": c["target"], "system": system(c), "features": c["features"], "method": c.get("method"),
                "corpus": c.get("corpus"), "encoder": c.get("encoder"), "budget": c.get("budget"),
                "passes": c.get("passes"), "seed": c["seed"], "commit": record.get("git_commit")}
        rows += [{**base, **{k: r[k] for k in ("shots", "readout", "n_labelled", "accuracy")}} for r in record["rows"]]
    columns = ["target", "system", "features", "method", "corpus", "encoder", "budget", "passes", "seed", "commit",
               "shots", "readout", "n_labelled", "accuracy"]
    return pd.DataFrame(rows, columns=columns)


def main_systems(frame: pd.DataFrame) -> pd.DataFrame:
    """Baselines, and SSL runs at the main budget on full corpora with the book's CNN."""
    ssl = frame["features"] == "ssl"
    keep = ~ssl | ((frame["budget"] == MAIN_BUDGET) & (frame["encoder"] == "cnn")
                   & ~frame["corpus"].fillna("").str.match(r"uwave-pool-\d+"))
    return frame[keep]


def _cell(values: pd.Series) -> str:
    mean, _, low, high = mean_interval(values.to_numpy())
    return f"{mean:.3f} ± {(high - low) / 2:.3f} ({len(values)})" if len(values) > 1 else f"{mean:.3f} (1)"


def shots_table(frame: pd.DataFrame, target: str, readouts: tuple[str, ...]) -> pd.DataFrame:
    """Systems in rows, ``k`` labelled series per class in columns: ``mean ± 95 % half-width (seeds)``.

    A system without a row for a ``k`` shows "not run"; the order is by mean accuracy at ``k = 1``.
    """
    sub = main_systems(frame)
    sub = sub[(sub["target"] == target) & sub["readout"].isin(readouts)]
    if sub.empty:
        return pd.DataFrame()
    sub = sub.assign(row=sub["system"] + np.where(len(readouts) > 1, " / " + sub["readout"].map(READOUT_LABELS), ""))
    if readouts == ("spread",):  # MiniRocket's features under label spreading see the same pool
        sub = sub.assign(row=sub["row"].replace({"MiniRocket": "MiniRocket + pool"}))
    table = sub.groupby(["row", "shots"], sort=False)["accuracy"].apply(_cell).unstack("shots")
    table = table.reindex(columns=[c for c in COLUMNS if c in table.columns]).fillna("not run")
    order = sub[sub["shots"] == 1].groupby("row")["accuracy"].mean().sort_values(ascending=False).index
    table = table.reindex([*order, *[r for r in table.index if r not in order]])
    table.columns = [f"k = {c}" if c != ALL else "all labels" for c in table.columns]
    table.index.name = "system"
    return table


# Differences in accuracy smaller than this are called equivalent when the TOST shows it: two
# points of accuracy, declared before the study ran, about one test series in 50.
EQUIVALENCE_MARGIN = 0.02


def _paired(a: pd.Series, b: pd.Series) -> tuple[float, float, float, int]:
    both = pd.concat([a, b], axis=1, join="inner").dropna()
    if len(both) < 2:  # a difference to show, nothing to test
        diff = float((both.iloc[:, 0] - both.iloc[:, 1]).mean()) if len(both) else float("nan")
        return diff, float("nan"), float("nan"), len(both)
    x, y = both.iloc[:, 0].to_numpy(), both.iloc[:, 1].to_numpy()
    test = paired_test(x, y, test="t")
    return test.mean_difference, test.p_value, tost(x, y, EQUIVALENCE_MARGIN), len(both)


def paired_tests(frame: pd.DataFrame, target: str, readouts: tuple[str, ...] = ("centroid", "spread")) -> pd.DataFrame:
    """Each SSL system against the untrained CNN and against MiniRocket, paired over seeds (t-test).

    MiniRocket takes the same read-out, so with label spreading it is MiniRocket + the same pool.
    Holm's correction runs over the whole table (every system, ``k``, read-out and reference).
    """
    sub = main_systems(frame)
    sub = sub[sub["target"] == target]
    by = sub.set_index(["system", "readout", "shots", "seed"])["accuracy"].sort_index()
    rows = []
    ssl_systems = sorted(sub.loc[sub["features"] == "ssl", "system"].unique())
    for name in ssl_systems:
        for readout in readouts:
            for k in SHOTS:
                for reference in ("untrained CNN", "MiniRocket"):
                    try:
                        a, b = by.loc[(name, readout, k)], by.loc[(reference, readout, k)]
                    except KeyError:
                        continue
                    diff, p, p_equal, n = _paired(a, b)
                    rows.append({"system": name, "read-out": READOUT_LABELS[readout], "k": k,
                                 "against": reference if readout != "spread" or reference != "MiniRocket"
                                 else "MiniRocket + pool", "difference": diff, "p": p, "TOST p": p_equal,
                                 "seeds": n})
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    table["Holm p"] = holm(table["p"].to_numpy())
    table["Holm TOST p"] = holm(table["TOST p"].to_numpy())
    table["verdict"] = [_verdict(d, p, q) for d, p, q in zip(table["difference"], table["Holm p"], table["Holm TOST p"])]
    return table


def _verdict(difference: float, p: float, p_equivalent: float = float("nan")) -> str:
    """``SSL higher`` / ``SSL lower`` (Holm p < 0.05), ``equivalent`` (Holm TOST p < 0.05 for
    :data:`EQUIVALENCE_MARGIN`), else ``inconclusive``: no difference shown, and no equivalence either."""
    if not np.isfinite(p) and not np.isfinite(p_equivalent):
        return "too few seeds to test"
    if np.isfinite(p) and p < 0.05:
        return "SSL higher" if difference > 0 else "SSL lower"
    if np.isfinite(p_equivalent) and p_equivalent < 0.05:
        return f"equivalent (within ±{EQUIVALENCE_MARGIN})"
    return "inconclusive"


def budget_curve(frame: pd.DataFrame, target: str, readout: str = "centroid",
                 shots: tuple = (1, 5)) -> pd.DataFrame:
    """Accuracy of each SSL run kind at each budget snapshot (mean over the seeds that reached it)."""
    sub = frame[(frame["target"] == target) & (frame["features"] == "ssl") & (frame["readout"] == readout)
                & frame["shots"].isin(shots) & ~frame["corpus"].fillna("").str.match(r"uwave-pool-\d+")]
    if sub.empty:
        return pd.DataFrame()
    table = sub.groupby(["system", "budget", "shots"])["accuracy"].agg(["mean", "count"]).reset_index()
    table["cell"] = [f"{m:.3f} ({c})" for m, c in zip(table["mean"], table["count"])]
    passes = sub.groupby(["system", "budget"])["passes"].max()
    out = table.pivot_table(index=["system", "budget"], columns="shots", values="cell", aggfunc="first")
    out.columns = [f"k = {c}" for c in out.columns]
    out.insert(0, "series passes", passes.reindex(out.index).map(lambda p: f"{int(p):,}"))
    out = out.reset_index()
    out["budget"] = out["budget"].map(lambda b: f"{int(b):,}")
    return out.set_index("system")  # one level: a markdown table shows it as a column, not as tuples


def pool_size_table(frame: pd.DataFrame, readouts: tuple[str, ...] = ("centroid", "logreg"),
                    shots: tuple = (1, 5)) -> pd.DataFrame:
    """UWave: VICReg at the main budget on pools of 500 to 4,158 series, seed 0 (the seed the sizes have)."""
    sub = frame[(frame["target"] == "uwave") & (frame["features"] == "ssl") & (frame["method"] == "vicreg")
                & (frame["encoder"] == "cnn") & (frame["budget"] == MAIN_BUDGET) & (frame["seed"] == 0)
                & frame["corpus"].fillna("").str.startswith("uwave-pool") & frame["readout"].isin(readouts)
                & frame["shots"].isin(shots)]
    if sub.empty:
        return pd.DataFrame()
    size = sub["corpus"].map(lambda c: 4158 if c == "uwave-pool" else int(c.rsplit("-", 1)[1]))
    out = sub.assign(size=size).pivot_table(index="size", columns=["readout", "shots"], values="accuracy")
    out.columns = [f"{READOUT_LABELS[r]}, k = {k}" for r, k in out.columns]
    out.index.name = "unlabelled series"
    return out.round(3)


def pretrain_table(root) -> pd.DataFrame:
    """Wall time and throughput of every pre-training run, and when each snapshot was reached."""
    rows = []
    for r in read_all(root, "pretrain"):
        c = r["config"]
        snaps = "; ".join(f"{int(s['passes']):,} at {s['wall_s']:.0f} s" if s.get("wall_s") is not None
                          else f"{int(s['passes']):,} (resumed)"
                          for s in sorted(r["snapshots"].values(), key=lambda s: s["passes"]))
        if not r["timing"].get("clock_complete", True):
            snaps += " (each call's own clock: the run was restarted)"
        seconds = r["timing"]["pretrain_s"]
        if not r["timing"].get("clock_complete", True):
            seconds = f"at least {seconds}"  # an earlier call's time was not kept
        rows.append({"run": f"{METHOD_LABELS.get(c['method'], c['method'])} · {c['corpus']} · {c['encoder']} · "
                            f"seed {c['seed']}", "corpus series": r["corpus"]["n_series"],
                     "epochs": r["epochs"], "snapshots (passes at training time)": snaps,
                     "pre-training (s)": seconds, "series/s (last call)": r["timing"]["samples_per_s"],
                     # the whole budget at the last call's rate: comparable where an earlier call's time was lost
                     "budget at that rate (s)": round(r["epochs"] * r["corpus"]["n_series"] / r["timing"]["samples_per_s"])
                     if r["timing"]["samples_per_s"] else None,
                     "threads": r["timing"]["threads"], "commit": r["git_commit"]})
    return pd.DataFrame(rows)


# The system each target of the issue is checked with, declared before any run: VICReg on the
# target's pool at the main budget, read out by label spreading (few labels) and TS2Vec's SVM (all).
TARGET_SYSTEM = {"uwave": "VICReg · UWave pool", "har": "VICReg · HAR windows"}
TARGETS = [("uwave", 1, 0.80), ("uwave", 2, 0.88), ("uwave", 5, 0.93), ("uwave", ALL, 0.945), ("har", 1, None)]


def targets_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The issue's targets against the pre-declared system, with MiniRocket (ridge) on the same draws."""
    sub = main_systems(frame)
    rows = []
    for target, k, goal in TARGETS:
        readout = "svm" if k == ALL else "spread"
        here = sub[(sub["target"] == target) & (sub["shots"] == k)]
        ssl = here[(here["system"] == TARGET_SYSTEM[target]) & (here["readout"] == readout)]["accuracy"]
        ridge = here[(here["system"] == "MiniRocket (ridge)") & (here["readout"] == "own")]["accuracy"]
        bar = goal if goal is not None else (ridge.mean() + 0.10 if len(ridge) else float("nan"))
        reached = "not run" if ssl.empty else ("reached" if ssl.mean() >= bar else "missed")
        rows.append({"setting": f"{TARGET_LABELS[target]}, {'all labels' if k == ALL else f'{k} per class'}",
                     "target": f"{bar:.3f}" if np.isfinite(bar) else "needs MiniRocket",
                     "SSL (mean, seeds)": "not run" if ssl.empty else f"{ssl.mean():.3f} ({len(ssl)})",
                     "MiniRocket (ridge)": "not run" if ridge.empty else f"{ridge.mean():.3f} ({len(ridge)})",
                     "verdict": reached})
    return pd.DataFrame(rows)


def _mean(frame: pd.DataFrame, target: str, name: str, readout: str, k) -> tuple[float, int]:
    part = frame[(frame["target"] == target) & (frame["system"] == name) & (frame["readout"] == readout)
                 & (frame["shots"] == k)]["accuracy"]
    return (float(part.mean()), len(part)) if len(part) else (float("nan"), 0)


def sentences(frame: pd.DataFrame, tests: pd.DataFrame, target: str) -> list[str]:
    """What the records say for ``target``, one sentence per ``k``: the pre-declared SSL system with
    label spreading against MiniRocket + pool and the untrained CNN, and the count of tests SSL wins."""
    name = TARGET_SYSTEM[target]
    main = main_systems(frame)
    out = []
    for k in SHOTS:
        ssl, n = _mean(main, target, name, "spread", k)
        if not n:
            continue
        parts = []
        for reference, label in (("MiniRocket", "MiniRocket + pool"), ("untrained CNN", "the untrained CNN")):
            ref, _ = _mean(main, target, reference, "spread", k)
            row = tests[(tests["system"] == name) & (tests["k"] == k) & (tests["read-out"] == READOUT_LABELS["spread"])
                        & (tests["against"] == (label if reference == "MiniRocket" else reference))] if not tests.empty else tests
            verdict = row["verdict"].iloc[0] if len(row) else "not tested"
            holm_p = f", Holm p = {row['Holm p'].iloc[0]:.3g}" if len(row) and np.isfinite(row["Holm p"].iloc[0]) else ""
            parts.append(f"{ref:.3f} for {label} ({verdict}{holm_p})")
        out.append(f"With {k} labelled series per class, {name} read out by label spreading reaches "
                   f"{ssl:.3f} (mean of {n} seeds), against {parts[0]} and {parts[1]}.")
    if not tests.empty:
        mine = tests[tests["system"].str.contains("·")]
        wins = mine[(mine["verdict"] == "SSL higher")]
        losses = mine[(mine["verdict"] == "SSL lower")]
        out.append(f"Over every SSL system, read-out and k, {len(wins)} of {len(mine)} paired comparisons favour "
                   f"self-supervision after Holm's correction and {len(losses)} favour the reference.")
    return out


def _seeds_text(seeds: pd.Series) -> str:
    low, high = int(seeds.min()), int(seeds.max())
    return f"{low} seed{'s' if low != 1 else ''}" if low == high else f"{low}-{high} seeds"


def findings(frame: pd.DataFrame, tests: dict[str, pd.DataFrame]) -> list[str]:
    """The chapter's answer in a few sentences, each computed from the records (none when they lack it)."""
    out = []
    for target, table in tests.items():
        if table.empty:
            continue
        spread = table[(table["read-out"] == READOUT_LABELS["spread"]) & (table["system"] == TARGET_SYSTEM[target])]
        mr = spread[spread["against"] == "MiniRocket + pool"]
        wins = sorted(mr.loc[mr["verdict"] == "SSL higher", "k"].tolist())
        losses = sorted(mr.loc[mr["verdict"] == "SSL lower", "k"].tolist())
        gap = mr.set_index("k")["difference"]
        if mr.empty:
            continue
        where = (f"pays at k = {', '.join(map(str, wins))}" if wins else
                 "is untested (one seed)" if mr["seeds"].max() < 2 else "is not shown to pay at any k")
        out.append(f"{TARGET_LABELS[target]}: {TARGET_SYSTEM[target]} with label spreading {where} against "
                   f"MiniRocket given the same pool (differences {', '.join(f'{d:+.3f}' for d in gap.to_numpy())} "
                   f"at k = {', '.join(map(str, gap.index))}; {_seeds_text(mr['seeds'])})"
                   + (f"; it is significantly worse at k = {', '.join(map(str, losses))}" if losses else "") + ".")
    for target in tests:
        curve = frame[(frame["target"] == target) & (frame["features"] == "ssl") & (frame["seed"] == 0)
                      & (frame["system"] == TARGET_SYSTEM[target]) & (frame["readout"] == "spread") & (frame["shots"] == 1)]
        if curve["budget"].nunique() >= 2:
            points = curve.groupby("budget")["accuracy"].mean()
            out.append(f"{TARGET_LABELS[target]}, one label per class, seed 0: "
                       + ", ".join(f"{a:.3f} after {int(b):,} passes" for b, a in points.items()) + ".")
    return out
