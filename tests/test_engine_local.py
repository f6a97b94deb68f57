"""The local engine: one failed run is reported in one line and the sweep goes on with the others."""

from __future__ import annotations

from dataclasses import dataclass

from sslts.engine import run_tasks


@dataclass(frozen=True)
class Task:
    method: str
    dataset: str = "Waves"
    seed: int = 0


def test_a_failed_run_is_reported_skipped_and_the_others_still_run(capsys):
    made: list[str] = []

    def run(task: Task) -> dict:
        if task.method == "broken":
            raise ValueError("n_timepoints must be >= 9, but found 8\nsecond line")
        made.append(task.method)
        return {}

    plan = lambda: [t for t in (Task("a"), Task("broken"), Task("b")) if t.method not in made]  # noqa: E731
    done = run_tasks(plan, run, key=lambda t: t.method, describe=lambda t, r, s: f"done {t.method}", progress=False)
    assert done == 2 and made == ["a", "b"]
    out = capsys.readouterr().out
    assert ("[sweep] broken on Waves, seed 0 FAILED (ValueError: n_timepoints must be >= 9, but found 8); "
            "no record written, the next sweep runs it again") in out
    assert "second line" not in out
