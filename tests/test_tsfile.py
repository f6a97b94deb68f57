"""Tests for the ``.ts`` parser on tiny files written by the tests (exact values, errors by line)."""
from __future__ import annotations

import numpy as np
import pytest

from sslts.data.errors import MalformedFileError
from sslts.data.tsfile import read_ts

from conftest import TOY_LABELS, TOY_TRAIN_CASES

HEADER = """# comment lines are skipped
@problemName Tiny
@timeStamps false
@missing true
@univariate false
@dimensions 2
@equalLength true
@seriesLength 3
@classLabel true b a
@data
"""  # 10 lines: the first case is on line 11


def _write(tmp_path, text, name="tiny.ts"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_multivariate_values_labels_and_header(write_ts):
    parsed = read_ts(write_ts(TOY_TRAIN_CASES, class_labels=TOY_LABELS))
    expected = np.array(
        [
            [[1.0, 2.0, 3.0, 4.0], [0.5, 0.25, 0.0, -1.0]],
            [[5.0, 6.0, np.nan, 8.0], [1.5, 1.5, 1.5, 1.5]],
            [[-1.0, -2.0, -3.0, -4.0], [2.0, 2.0, 2.0, 2.0]],
        ],
        dtype=np.float32,
    )
    assert parsed.X.dtype == np.float32
    np.testing.assert_array_equal(parsed.X, expected)  # NaN positions must agree too
    assert list(parsed.labels) == ["walk", "run", "walk"]
    assert parsed.class_labels == ("walk", "run")  # declaration order, not alphabetical
    assert parsed.header["problemname"] == "Toy"
    assert parsed.header["dimensions"] == "2"


def test_question_mark_and_nan_are_missing(tmp_path):
    parsed = read_ts(_write(tmp_path, HEADER + "1,?,3:4,5,6:a\nNaN,2,3:?,?,9:b\n"))
    missing = np.argwhere(np.isnan(parsed.X)).tolist()
    assert missing == [[0, 0, 1], [1, 0, 0], [1, 1, 0], [1, 1, 1]]
    assert parsed.X[0, 1].tolist() == [4.0, 5.0, 6.0]
    assert parsed.X[1, 1, 2] == 9.0


def test_declared_labels_keep_order_and_unused_labels(tmp_path):
    text = HEADER.replace("@classLabel true b a", "@classLabel true zeta alpha unused") + "1,2,3:4,5,6:alpha\n7,8,9:1,2,3:zeta\n"
    parsed = read_ts(_write(tmp_path, text))
    assert parsed.class_labels == ("zeta", "alpha", "unused")
    assert list(parsed.labels) == ["alpha", "zeta"]


def test_labels_without_declaration_are_sorted(tmp_path):
    text = HEADER.replace("@classLabel true b a", "@classLabel true") + "1,2,3:4,5,6:y\n1,2,3:4,5,6:x\n"
    assert read_ts(_write(tmp_path, text)).class_labels == ("x", "y")


def test_univariate_file(tmp_path):
    text = "@problemName U\n@univariate true\n@classLabel true 1.0 2.0\n@data\n0.5,1.5:1.0\n-2,3e1:2.0\n"
    parsed = read_ts(_write(tmp_path, text))
    assert parsed.X.shape == (2, 1, 2)
    np.testing.assert_array_equal(parsed.X[:, 0], [[0.5, 1.5], [-2.0, 30.0]])
    assert parsed.class_labels == ("1.0", "2.0")


@pytest.mark.parametrize(
    "old, new, message",
    [
        ("@equalLength true", "@equalLength false", "unequal-length series (@equalLength false) are not supported"),
        ("@timeStamps false", "@timeStamps true", "time-stamped .ts files are not supported"),
        ("@classLabel true b a", "@classLabel false", "no class labels (@classLabel false)"),
        ("@classLabel true b a", "@targetLabel true", "regression problems (@targetLabel true) are not supported"),
    ],
)
def test_unsupported_header_features(tmp_path, old, new, message):
    path = _write(tmp_path, HEADER.replace(old, new) + "1,2,3:4,5,6:a\n")
    with pytest.raises(MalformedFileError) as info:
        read_ts(path)
    assert message in str(info.value)
    assert str(path) in str(info.value)


def test_unequal_lengths_inside_a_line_name_the_line(tmp_path):
    path = _write(tmp_path, HEADER + "1,2,3:4,5,6:a\n1,2,3:4,5:b\n")
    with pytest.raises(MalformedFileError, match=r"line 12: series lengths \[2, 3\] differ from 3") as info:
        read_ts(path)
    assert "Unequal-length problems are not supported" in str(info.value)


def test_unequal_lengths_in_first_line(tmp_path):
    with pytest.raises(MalformedFileError, match=r"line 11: series lengths \[2, 3\] differ"):
        read_ts(_write(tmp_path, HEADER + "1,2:4,5,6:a\n"))


def test_length_differs_between_lines(tmp_path):
    with pytest.raises(MalformedFileError, match=r"line 13: series lengths \[4\] differ from 3"):
        read_ts(_write(tmp_path, HEADER + "1,2,3:4,5,6:a\n1,2,3:4,5,6:b\n1,2,3,4:4,5,6,7:b\n"))


def test_non_numeric_value_names_the_line(tmp_path):
    with pytest.raises(MalformedFileError, match=r"tiny\.ts, line 12: 'abc' is not a number"):
        read_ts(_write(tmp_path, HEADER + "1,2,3:4,5,6:a\n1,abc,3:4,5,6:b\n"))


def test_missing_data_line_means_truncated(tmp_path):
    truncated = HEADER.split("@data")[0]  # the file stops inside the header
    with pytest.raises(MalformedFileError, match="no '@data' line; the file is truncated or not a .ts file"):
        read_ts(_write(tmp_path, truncated))


def test_empty_data_section(tmp_path):
    with pytest.raises(MalformedFileError, match="the '@data' section is empty"):
        read_ts(_write(tmp_path, HEADER + "\n# nothing here\n"))


def test_undeclared_label_names_line_and_declared_labels(tmp_path):
    with pytest.raises(MalformedFileError) as info:
        read_ts(_write(tmp_path, HEADER + "1,2,3:4,5,6:a\n1,2,3:4,5,6:b\n1,2,3:4,5,6:c\n"))
    text = str(info.value)
    assert "line 13" in text and "case 3" in text
    assert "class label 'c'" in text and "(b a)" in text


def test_truncated_last_line_names_the_line(tmp_path):
    # the download stopped in the middle of the second dimension of the last case
    with pytest.raises(MalformedFileError) as info:
        read_ts(_write(tmp_path, HEADER + "1,2,3:4,5,6:a\n1,2,3:4,5,6:b\n7,8,9:10,1"))
    text = str(info.value)
    assert "line 13: 1 dimensions where earlier cases have 2" in text
    assert "truncated or malformed line" in text


def test_dimension_count_must_match_header(tmp_path):
    with pytest.raises(MalformedFileError, match="line 11: 3 dimensions, but the header declares 2"):
        read_ts(_write(tmp_path, HEADER + "1,2,3:4,5,6:7,8,9:a\n"))


def test_text_before_data_must_be_a_header_line(tmp_path):
    with pytest.raises(MalformedFileError, match=r"line 2: expected a '@key value' header line or '@data'"):
        read_ts(_write(tmp_path, "@problemName X\n1,2,3:a\n@data\n"))
