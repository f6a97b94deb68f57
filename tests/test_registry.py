"""Adding a method touches its own files only: everything else is derived from the registry.

The places a new method needs (the README's list): its loss and tests, its method file (which
registers itself and whose config dataclass holds its defaults), its chapter's parameters
(``method_param("method.field", ...)``) and page in the table of contents, and the bibliography.
These tests fail when one of them is missing, or when a typed table has to be kept in step.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from sslts.comparison import GRIDS, SSL_METHODS
from sslts.methods import METHODS
from sslts.params import CHAPTERS, PROFILES, resolve
from sslts.wiring import METHOD_CHAPTER, method_params

ROOT = Path(__file__).parents[1]


@pytest.mark.parametrize("method", sorted(METHODS))
def test_every_method_has_a_chapter_in_the_book_and_a_comparison_grid(method):
    chapter = METHOD_CHAPTER[method]  # derived from the chapter's method parameters
    assert (ROOT / "book" / f"{chapter}.md").is_file()
    assert f"file: build/executed/{chapter}\n" in (ROOT / "_toc.yml").read_text()  # executed from book/
    assert method in SSL_METHODS  # derived from the registry
    name, values = GRIDS[method]  # the one comparison setting a method must name: a field of its config
    assert name in {f.name for f in dataclasses.fields(METHODS[method].config_class)} and len(values) == 2


@pytest.mark.parametrize("method", sorted(METHODS))
def test_every_method_docstring_cites_a_paper_in_the_bibliography(method):
    import inspect
    import re

    module = inspect.getmodule(METHODS[method])
    first = module.__doc__.split("\n\n")[1]
    year = re.search(r"\((\d{4})\)|(\d{4})", first)
    assert year, f"{module.__name__}'s docstring cites no paper with its year"
    bib = (ROOT / "book" / "references.bib").read_text()
    assert (year.group(1) or year.group(2)) in bib


def test_each_chapter_method_parameter_targets_a_real_field_and_agrees_with_every_target():
    for chapter, schema in CHAPTERS.items():
        for name, spec in schema.items():
            defaults = set()
            for method, field in spec.targets:
                fields = {f.name: f.default for f in dataclasses.fields(METHODS[method].config_class)}
                assert field in fields, f"{chapter}.{name} targets {method}.{field}, which its config lacks"
                defaults.add(repr(fields[field]))
            assert len(defaults) <= 1, f"{chapter}.{name} sets fields whose defaults disagree: {defaults}"


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("method", sorted(METHODS))
def test_a_chapter_run_at_its_defaults_runs_the_methods_own_defaults(method, profile):
    # The chapters' profiles shrink data and epochs, never a method's hyper-parameters: a method
    # run from its chapter without overrides is the method as its config dataclass defines it.
    P = resolve(METHOD_CHAPTER[method], profile)
    params = method_params(method, P)
    assert params, f"{method} takes no parameter from its chapter"
    config = METHODS[method].config_class(**params)
    assert config == METHODS[method].config_class()


def test_a_chapter_override_reaches_the_method():
    P = resolve("barlow", "smoke", proj_dim=64, vibcreg_cov_weight=50.0)
    assert method_params("vibcreg", P) == {"proj_dim": 64, "proj_hidden": 64, "cov_weight": 50.0}
    assert method_params("barlow_twins", P)["proj_hidden"] == 64
    assert method_params("random_init", P) == {}
