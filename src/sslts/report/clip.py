"""The CLIP chapter's sentences, from its tower probes and zero-shot runs (:mod:`sslts.zero_shot`)."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..zero_shot import ZeroShotResult


def towers_discussion(frame: Any, protocol: str = "linear") -> str:
    """A sentence per dataset on each tower's probe, trained against random weights (from ``frame``).

    ``frame`` has columns ``dataset, init ("CLIP"/"random"), tower, modality, protocol, accuracy``.
    """
    parts = []
    chosen = frame[frame["protocol"] == protocol]
    for dataset, rows in chosen.groupby("dataset", sort=False):
        acc = rows.set_index(["init", "tower"])["accuracy"]
        modality = dict(zip(rows["tower"], rows["modality"]))
        towers = list(dict.fromkeys(rows["tower"]))
        pieces = [f"tower {t} ({modality[t]}) {acc[('CLIP', t)]:.3f}, {acc[('CLIP', t)] - acc[('random', t)]:+.3f} "
                  f"against its random initial weights" for t in towers]
        best = max(towers, key=lambda t: acc[("CLIP", t)])
        gain = "improves on" if acc[("CLIP", best)] > acc[("random", best)] else "does not beat"
        parts.append(f"On **{dataset}**, the {protocol} probe gives " + "; ".join(pieces)
                     + f". The best CLIP representation is tower {best}, and it {gain} its random initialisation.")
    return " ".join(parts)


def zero_shot_discussion(results: Sequence[ZeroShotResult]) -> str:
    """What the zero-shot runs say, from their numbers (best and worst setting, generalised scores)."""
    if not results:
        return ""
    by_split: dict[tuple[str, ...], list[ZeroShotResult]] = {}
    for r in results:
        by_split.setdefault(r.held_out, []).append(r)
    parts = []
    for held, runs in by_split.items():
        main, others = runs[0], runs[1:]
        label = lambda r: (f"{r.setting['text_model']} embeddings of the {r.setting['prompts']} prompts, "  # noqa: E731
                           + ("series tower seeded from the CLIP towers and frozen" if r.setting["init"] == "clip"
                              else "series tower trained from scratch"))
        text = (f"Holding out **{' and '.join(held)}**, the main setting ({label(main)}) classifies "
                f"{main.accuracy:.1%} of their test series correctly among the held-out descriptions, "
                f"against {main.chance:.0%} by chance.")
        for r in others:
            text += f" With {label(r)}: {r.accuracy:.1%}."
        best_h = max(r.gzsl_harmonic for r in runs)
        text += (f" In the generalised test (all {len(main.class_names)} descriptions as candidates) the held-out "
                 f"series are recognised {main.gzsl_unseen:.1%} of the time and the seen ones {main.gzsl_seen:.1%}"
                 f" (harmonic mean {main.gzsl_harmonic:.3f}; best over the settings {best_h:.3f}).")
        names, sims, gz = main.class_names, main.class_text @ main.class_text.T, np.asarray(main.gzsl_confusion)
        held_idx = [names.index(h) for h in held]
        seen_idx = [i for i in range(len(names)) if i not in held_idx]
        for h in held_idx:
            near = max(seen_idx, key=lambda j: sims[h, j])
            taken = max(seen_idx, key=lambda j: gz[h, j])
            text += (f" The description of {names[h]} is closest to that of {names[near]} (cosine "
                     f"{sims[h, near]:.2f}); in the generalised test {gz[h, seen_idx].sum() / max(gz[h].sum(), 1):.0%} "
                     f"of its series go to a seen class, most often {names[taken]}.")
        parts.append(text)
    return "\n\n".join(parts)
