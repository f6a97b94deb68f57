"""Tests for typed chapter parameters (sslts.params) and the command line's error handling (sslts.cli)."""
from __future__ import annotations

import math
from pathlib import Path

import pytest

from sslts import cli
from sslts.params import CHAPTERS, COMMON, PROFILES, Param, ParameterError, chapter_schema, coerce, describe, resolve


# ----------------------------------------------------------------------------- defaults per profile
def test_defaults_per_profile():
    quick = resolve("data")
    assert quick == {
        "profile": "quick", "seed": 0, "dataset": ["uwave", "har"], "examples_per_class": 3,
        "outlier_threshold": 3.0, "smoothing_window": 5, "impute_fraction": 0.05, "impute_series": 300,
    }
    smoke = resolve("data", "smoke")
    full = resolve("data", "full")
    # only the parameters whose by_profile names the profile differ from the quick defaults
    assert {k for k in quick if quick[k] != smoke[k]} == {"profile", "examples_per_class", "impute_series"}
    assert (smoke["examples_per_class"], smoke["impute_series"]) == (1, 60)
    assert {k for k in quick if quick[k] != full[k]} == {"profile", "impute_series"}
    assert full["impute_series"] == 2000


def test_every_default_is_valid_for_every_profile():
    for chapter in CHAPTERS:
        for profile in PROFILES:
            resolved = resolve(chapter, profile)
            assert set(resolved) == {*COMMON, *CHAPTERS[chapter]}


def test_none_means_the_profile_default():
    assert resolve("data", "smoke", examples_per_class=None, seed=None)["examples_per_class"] == 1


def test_overrides_do_not_change_the_schema_defaults():
    resolve("data", "quick", dataset="BasicMotions", examples_per_class=7)
    assert resolve("data")["dataset"] == ["uwave", "har"]
    assert resolve("data")["examples_per_class"] == 3


# ----------------------------------------------------------------------------- command-line strings
def test_cli_strings_are_coerced():
    out = resolve(
        "data", "quick", seed="5", outlier_threshold="0.5", impute_fraction="0", dataset="uwave, BasicMotions,",
        smoothing_window=" 7 ",
    )
    assert out["seed"] == 5 and type(out["seed"]) is int
    assert out["outlier_threshold"] == 0.5 and type(out["outlier_threshold"]) is float
    assert out["impute_fraction"] == 0.0 and type(out["impute_fraction"]) is float
    assert out["dataset"] == ["uwave", "BasicMotions"]
    assert out["smoothing_window"] == 7
    assert resolve("data", outlier_threshold=4)["outlier_threshold"] == 4.0  # int literal accepted as float


@pytest.mark.parametrize("text, expected", [("true", True), ("True", True), ("1", True), ("yes", True),
                                            ("false", False), ("0", False), ("NO", False)])
def test_bool_strings(text, expected):
    assert coerce("flag", Param(bool, False, "a switch"), text) is expected


def test_list_of_ints():
    spec = Param(list, [1], "sizes", item=int, low=1, high=10)
    assert coerce("sizes", spec, "3,4") == [3, 4]
    assert coerce("sizes", spec, (2,)) == [2]
    with pytest.raises(ParameterError, match=r"Parameter 'sizes' must be int in \[1, 10\] \(sizes\); got 11"):
        coerce("sizes", spec, "3,11")


# ----------------------------------------------------------------------------- errors
def test_unknown_parameter_suggests_and_lists_allowed():
    with pytest.raises(ParameterError) as info:
        resolve("data", "quick", example_per_class=2)
    text = str(info.value)
    assert text.startswith("Unknown parameter 'example_per_class' for chapter 'data'. Did you mean 'examples_per_class'?")
    assert ("Allowed: profile, seed, dataset, examples_per_class, outlier_threshold, smoothing_window, "
            "impute_fraction, impute_series.") in text


def test_unknown_parameter_without_close_match():
    with pytest.raises(ParameterError) as info:
        resolve("data", bogus=1)
    assert "Unknown parameter 'bogus'" in str(info.value)
    assert "Did you mean" not in str(info.value)


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("examples_per_class", "abc", r"'examples_per_class' must be int in \[1, 20\] .*got 'abc' of type str"),
        ("examples_per_class", 2.5, r"'examples_per_class' must be int in \[1, 20\] .*got 2\.5 of type float"),
        ("examples_per_class", "2.0", r"'examples_per_class' must be int in \[1, 20\] .*got '2\.0'"),
        ("outlier_threshold", "high", r"'outlier_threshold' must be float in \[0\.5, 20\.0\] .*got 'high'"),
        ("outlier_threshold", [3.0], r"'outlier_threshold' must be float in \[0\.5, 20\.0\] .*of type list"),
        ("dataset", 5, r"'dataset' must be a list or a comma-separated string of str .*got 5"),
        ("dataset", ",", r"'dataset' must not be empty"),
    ],
)
def test_wrong_type(name, value, message):
    with pytest.raises(ParameterError, match=message):
        resolve("data", **{name: value})


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("examples_per_class", 0, r"'examples_per_class' must be int in \[1, 20\] \(example series drawn per class\); got 0\."),
        ("examples_per_class", "21", r"'examples_per_class' must be int in \[1, 20\] .*got 21\."),
        ("impute_fraction", -0.01, r"'impute_fraction' must be float in \[0\.0, 0\.5\] .*got -0\.01\."),
        ("seed", -1, r"'seed' must be int in \[0, 2147483647\] .*got -1\."),
        # NaN compares False with everything, so a plain "< low" check would let it through
        ("outlier_threshold", "nan", r"'outlier_threshold' must be float in \[0\.5, 20\.0\] .*got nan\."),
        ("impute_fraction", math.nan, r"'impute_fraction' must be float in \[0\.0, 0\.5\] .*got nan\."),
        ("outlier_threshold", "inf", r"'outlier_threshold' must be float in \[0\.5, 20\.0\] .*got inf\."),
        ("dataset", "uwave,two words", r"'dataset' must be a name matching .* got 'two words'\."),
    ],
)
def test_out_of_range(name, value, message):
    with pytest.raises(ParameterError, match=message):
        resolve("data", **{name: value})


def test_bad_profile_choice():
    with pytest.raises(ParameterError, match=r"Parameter 'profile' must be one of smoke, quick, full \(run profile\); got 'fast'"):
        resolve("data", "fast")


def test_unknown_chapter_lists_known_ones():
    with pytest.raises(ParameterError, match=r"Unknown chapter 'dat'\. Known chapters: intro, data, "):
        resolve("dat")


@pytest.mark.parametrize("name", ["seed", "examples_per_class", "outlier_threshold"])
def test_bool_is_not_a_number(name):
    with pytest.raises(ParameterError, match=rf"Parameter '{name}' must be .*got True of type bool"):
        resolve("data", **{name: True})


def test_parameter_error_is_a_value_error():
    assert issubclass(ParameterError, ValueError)


# ----------------------------------------------------------------------------- the command line
def test_cli_params_prints_the_table(capsys):
    assert cli.main(["params", "data"]) == 0
    out = capsys.readouterr().out
    assert out == describe("data") + "\n"
    lines = out.splitlines()
    assert lines[0] == "Parameters of chapter 'data':"
    row = next(line for line in lines if line.strip().startswith("examples_per_class"))
    assert "int in [1, 20]" in row and "default 3 (smoke: 1)" in row
    assert any("one of smoke, quick, full" in line and "default quick" in line for line in lines)
    assert len(lines) == 1 + len(COMMON) + len(CHAPTERS["data"])


def test_cli_params_unknown_chapter(capsys):
    assert cli.main(["params", "nope"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"error: Unknown chapter 'nope'. Known chapters: {', '.join(CHAPTERS)}.\n"


@pytest.fixture
def tiny_project(tmp_path, monkeypatch):
    """A book project with a ``data`` chapter, as the working directory; executing it fails the test."""
    (tmp_path / "book").mkdir()
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: build/executed/data\n")
    (tmp_path / "book" / "data.md").write_text("# Data\n\n```{code-cell} python\nprint('ran')\n```\n")
    monkeypatch.chdir(tmp_path)
    import papermill

    def must_not_run(*args, **kwargs):
        raise AssertionError("the chapter was executed although a parameter is invalid")

    monkeypatch.setattr(papermill, "execute_notebook", must_not_run)
    return tmp_path


@pytest.mark.parametrize(
    "argv, first_words",
    [
        (["-p", "bogus", "1"], "error: Unknown parameter 'bogus' for chapter 'data'."),
        (["-p", "seed", "abc"], "error: Parameter 'seed' must be int in [0, 2147483647]"),
        (["-p", "examples_per_class", "99"], "error: Parameter 'examples_per_class' must be int in [1, 20]"),
        (["-p", "profile", "smoke"], "error: Set the profile with --profile, not -p profile."),
    ],
)
def test_cli_run_rejects_bad_parameters_before_executing(tiny_project, capsys, argv, first_words):
    assert cli.main(["run", "data", *argv]) == 2
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(first_words)
    assert captured.out == ""
    assert not (tiny_project / "build").exists()  # nothing was executed or written


def test_cli_run_unknown_chapter(tiny_project, capsys):
    assert cli.main(["run", "nochapter", "-p", "bogus", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: No chapter 'nochapter' (looked for ")
    assert err.rstrip().endswith("Chapters: data.")


def test_cli_fetch_unknown_dataset(data_env, capsys):
    assert cli.main(["fetch", "nonexistent dataset"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: Unknown dataset 'nonexistent dataset'.")
    assert "Registered: uwave, uwave-full, har" in lines[0]


def _parameter_cell(path: Path):
    import jupytext

    cells = [c for c in jupytext.read(path).cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1, f"{path.name}: expected one cell tagged parameters, found {len(cells)}"
    return cells[0]


@pytest.mark.parametrize("chapter", sorted(CHAPTERS))
def test_every_chapter_parameter_cell_lists_its_schema_and_parses(chapter, caplog):
    # papermill reads the cell to list a chapter's parameters; a line it cannot parse is silently
    # dropped from that list (with only a log warning), and a missing name cannot be overridden.
    from papermill.translators import PythonTranslator

    path = Path(__file__).parents[1] / "book" / f"{chapter}.md"
    with caplog.at_level("WARNING"):
        names = {p.name for p in PythonTranslator.inspect(_parameter_cell(path))}
    assert not [r.message for r in caplog.records if "Unable to parse" in r.message]
    assert names == set(chapter_schema(chapter))


@pytest.mark.parametrize("chapter", sorted(CHAPTERS))
def test_every_chapter_resolves_its_parameters_from_the_cell(chapter):
    # A hand-written resolve(...) call once left out a parameter the cell defined, which papermill
    # overrides then silently failed to reach.
    text = (Path(__file__).parents[1] / "book" / f"{chapter}.md").read_text()
    assert f'P = resolve_cell("{chapter}", globals())' in text


def test_resolve_cell_takes_every_value_of_the_namespace():
    from sslts.params import resolve_cell

    namespace = {name: None for name in chapter_schema("data")}
    namespace.update(profile="smoke", dataset="har", impute_fraction=0.2, unrelated=1)
    P = resolve_cell("data", namespace)
    assert P["dataset"] == ["har"] and P["impute_fraction"] == 0.2 and P["impute_series"] == 60
    del namespace["smoothing_window"]
    with pytest.raises(ParameterError, match="'data' defines no value for smoothing_window"):
        resolve_cell("data", namespace)


def test_asking_for_a_missing_gpu_names_what_there_is(monkeypatch):
    import torch

    from sslts.params import ParameterError, resolve

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ParameterError, match="no usable CUDA device.*use device 'auto' or 'cpu'"):
        resolve("simclr", "smoke", device="cuda")
    assert resolve("simclr", "smoke", device="cpu")["device"] == "cpu"


@pytest.mark.parametrize("chapter", sorted(CHAPTERS))
def test_every_parameter_cell_value_is_the_schemas_default_in_every_profile(chapter):
    # A literal in the cell overrides the profile: the CLIP cell once set text_model to MiniLM, so
    # `papermill -p profile smoke` loaded the model the smoke profile exists to skip. A value the
    # profiles set differently must be None ("the profile's default").
    from sslts.params import PROFILES, resolve

    namespace: dict = {}
    exec(_parameter_cell(Path(__file__).parents[1] / "book" / f"{chapter}.md").source, namespace)
    for profile in PROFILES:
        defaults = resolve(chapter, profile)
        for name in chapter_schema(chapter):
            value = namespace[name]
            if name == "profile" or value is None:
                continue
            assert resolve(chapter, profile, **{name: value})[name] == defaults[name], (
                f"{chapter}.md sets {name} = {value!r}, but the {profile} profile's default is {defaults[name]!r}: "
                "write None in the cell")
