"""The README's library example runs as printed (on the tiny ``waves`` archive instead of BasicMotions)."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).parents[1] / "README.md"


def test_the_readme_example_runs_and_learns_the_toy_classes(waves, capsys):
    text = README.read_text()
    code = re.search(r"## The library in ten lines\n\n```python\n(.*?)```", text, re.S).group(1)
    assert len([line for line in code.splitlines() if line and not line.startswith("from ")]) <= 10
    code = code.replace('"BasicMotions"', '"Waves"')
    exec(compile(code, str(README), "exec"), {})
    accuracy = float(re.search(r"linear probe accuracy: ([0-9.]+)", capsys.readouterr().out).group(1))
    assert accuracy >= 0.9  # one cycle against three over 32 steps: any learned or random CNN separates them
