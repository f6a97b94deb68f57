"""Tests for the data layer: sources (cache -> mirror -> URL), checksums, the registry, HAR, the real mirror.

Every test runs offline against a temporary cache (``data_env``); downloads are simulated by
replacing ``urllib.request.urlopen``. The real-mirror tests load each dataset split once per module.
"""
from __future__ import annotations

import hashlib
import io
import os
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sslts.data.checksums as checksums
import sslts.data.registry as registry
from sslts.atomic import atomic_write_bytes, atomic_write_json
from sslts.data import (
    ChecksumMismatchError,
    DataUnavailableError,
    MalformedFileError,
    UnknownDatasetError,
    exclude_uea_test,
    load_dataset,
)
from sslts.data.har import HAR_CHANNELS
from sslts.data.sources import HAR_ARCHIVE, UCI_HAR_URL, fetch_archive, uea_archive

from conftest import TOY_LABELS, toy_files, write_zip

pytestmark = pytest.mark.usefixtures("data_env")

def _sha(data: bytes | str) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def _cache_files(cache: Path) -> list[str]:
    """Every file under the cache, as relative posix paths (hidden ones included)."""
    if not cache.exists():
        return []
    return sorted(p.relative_to(cache).as_posix() for p in cache.rglob("*") if p.is_file())


def _extracted_entries(cache: Path) -> list[str]:
    folder = cache / "extracted"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# ----------------------------------------------------------------------------- a tiny UEA archive
def test_toy_loads_from_mirror_with_values_and_provenance(toy_mirror, data_env):
    train = load_dataset("Toy", "train")
    expected = np.array(
        [
            [[1.0, 2.0, 3.0, 4.0], [0.5, 0.25, 0.0, -1.0]],
            [[5.0, 6.0, np.nan, 8.0], [1.5, 1.5, 1.5, 1.5]],
            [[-1.0, -2.0, -3.0, -4.0], [2.0, 2.0, 2.0, 2.0]],
        ],
        dtype=np.float32,
    )
    np.testing.assert_array_equal(train.X, expected)
    assert train.X.dtype == np.float32 and train.y.dtype == np.int64
    # labels follow @classLabel order ("walk run"), not alphabetical order
    assert train.class_names == TOY_LABELS
    assert train.y.tolist() == [0, 1, 0]
    assert train.channel_names == ("dim_0", "dim_1")
    assert (train.name, train.split, train.groups) == ("Toy", "train", None)
    assert train.class_counts().tolist() == [2, 1]

    assert train.provenance["archive"] == "Toy.zip"
    assert train.provenance["origin"] == f"mirror:{toy_mirror.resolve()}"
    assert train.provenance["files"] == {"Toy_TRAIN.ts": _sha(toy_files()["Toy_TRAIN.ts"])}

    test = load_dataset("Toy", "test")
    assert test.y.tolist() == [1, 0]
    assert test.X[:, 0, 0].tolist() == [9.0, 7.0]
    assert test.provenance["files"] == {"Toy_TEST.ts": _sha(toy_files()["Toy_TEST.ts"])}


def test_second_load_is_served_from_the_array_cache(toy_mirror, data_env, monkeypatch):
    first = load_dataset("Toy", "train")
    assert len(list((data_env / "arrays").glob("Toy-train-*.npz"))) == 1

    def no_parsing(path):
        raise AssertionError(f"read_ts({path}) called although the parsed arrays are cached")

    monkeypatch.setattr(registry, "read_ts", no_parsing)
    (toy_mirror / "Toy.zip").unlink()  # neither the mirror nor the parser is needed any more
    second = load_dataset("Toy", "train")
    np.testing.assert_array_equal(second.X, first.X)
    np.testing.assert_array_equal(second.y, first.y)
    assert second.class_names == first.class_names
    assert second.channel_names == first.channel_names
    assert second.provenance == first.provenance
    with pytest.raises(AssertionError, match="read_ts"):  # the other split was never parsed
        load_dataset("Toy", "test")


def test_archive_with_one_top_level_folder_is_flattened(tmp_path, data_env, monkeypatch):
    folder = tmp_path / "m"
    write_zip(folder / "Toy.zip", {f"Toy/{k}": v for k, v in toy_files().items()})
    monkeypatch.setenv("SSLTS_DATA_MIRROR", str(folder))
    assert load_dataset("Toy", "test").y.tolist() == [1, 0]
    assert (data_env / "extracted" / "Toy" / "Toy_TEST.ts").is_file()


def test_archive_without_the_split_file(tmp_path, monkeypatch):
    folder = tmp_path / "m"
    write_zip(folder / "Toy.zip", {"Toy_TRAIN.ts": toy_files()["Toy_TRAIN.ts"]})
    monkeypatch.setenv("SSLTS_DATA_MIRROR", str(folder))
    with pytest.raises(MalformedFileError, match="Archive Toy.zip has no file 'Toy_TEST.ts'"):
        load_dataset("Toy", "test")


def test_mirror_sha256sums_mismatch_caches_nothing(toy_mirror, data_env):
    wrong = "0" * 64
    (toy_mirror / "SHA256SUMS").write_text(f"{wrong}  Toy.zip\n")
    with pytest.raises(ChecksumMismatchError) as info:
        load_dataset("Toy", "train")
    text = str(info.value)
    assert str(toy_mirror.resolve() / "Toy.zip") in text
    assert f"SHA256SUMS lists {wrong}" in text
    assert _sha((toy_mirror / "Toy.zip").read_bytes()) in text
    assert "Nothing was cached" in text
    assert _extracted_entries(data_env) == [] and _cache_files(data_env) == []

    # the right checksum (also in "*name" binary-mode notation) is accepted
    (toy_mirror / "SHA256SUMS").write_text(f"{_sha((toy_mirror / 'Toy.zip').read_bytes())} *Toy.zip\n")
    assert load_dataset("Toy", "train").y.tolist() == [0, 1, 0]


def test_published_checksum_mismatch_caches_nothing(toy_mirror, data_env, monkeypatch):
    wrong = "f" * 64
    monkeypatch.setitem(checksums.KNOWN_SHA256, "Toy.zip", {"Toy_TRAIN.ts": wrong})
    with pytest.raises(ChecksumMismatchError) as info:
        load_dataset("Toy", "train")
    text = str(info.value)
    assert "Checksum mismatch for 'Toy_TRAIN.ts'" in text
    assert f"sha256 {_sha(toy_files()['Toy_TRAIN.ts'])}, expected {wrong}" in text
    assert "Nothing was cached" in text
    # no Toy folder and no leftover staging folder (".Toy-...") in extracted/
    assert _extracted_entries(data_env) == []
    assert not (data_env / "arrays").exists()

    monkeypatch.setitem(checksums.KNOWN_SHA256, "Toy.zip", {"Toy_TRAIN.ts": _sha(toy_files()["Toy_TRAIN.ts"])})
    assert load_dataset("Toy", "train").y.tolist() == [0, 1, 0]
    assert _extracted_entries(data_env) == ["Toy"]


def test_published_file_missing_from_archive(toy_mirror, data_env, monkeypatch):
    monkeypatch.setitem(checksums.KNOWN_SHA256, "Toy.zip", {"Toy_VALID.ts": "0" * 64})
    with pytest.raises(MalformedFileError, match="lacks the expected file 'Toy_VALID.ts'"):
        load_dataset("Toy", "train")
    assert _extracted_entries(data_env) == []


def test_truncated_zip_is_malformed(toy_mirror, data_env):
    archive = toy_mirror / "Toy.zip"
    full = archive.read_bytes()
    archive.write_bytes(full[: len(full) // 2])
    with pytest.raises(MalformedFileError) as info:
        load_dataset("Toy", "train")
    assert "is not a readable zip file" in str(info.value)
    assert "probably truncated" in str(info.value)
    assert _extracted_entries(data_env) == []


def test_zip_member_with_bad_crc_is_malformed(toy_mirror, data_env):
    archive = toy_mirror / "Toy.zip"
    data = bytearray(archive.read_bytes())
    offset = data.index(b"@problemName")  # stored uncompressed, so the text is in the zip as is
    data[offset + 1] = ord("X")
    archive.write_bytes(bytes(data))
    with pytest.raises(MalformedFileError, match="member 'Toy_TRAIN.ts' fails its CRC check"):
        load_dataset("Toy", "train")
    assert _extracted_entries(data_env) == []


# ----------------------------------------------------------------------------- offline and downloads
def test_offline_without_mirror_names_file_and_fix(data_env):
    with pytest.raises(DataUnavailableError) as info:
        fetch_archive(uea_archive("Toy"))
    text = str(info.value)
    assert "Cannot find the data file 'Toy.zip'" in text
    assert "SSLTS_DATA_MIRROR=(not set)" in text
    assert "SSLTS_OFFLINE=1, so no download was tried" in text
    assert "set SSLTS_DATA_MIRROR to that directory" in text
    assert _cache_files(data_env) == []


def test_offline_known_problem_raises_data_unavailable(data_env, tmp_path, monkeypatch):
    # registered names and UEA problems keep the DataUnavailableError (it says how to fix it)
    monkeypatch.setenv("SSLTS_DATA_MIRROR", str(tmp_path / "empty-mirror"))
    with pytest.raises(DataUnavailableError, match="'UWaveGestureLibrary.zip'.*SSLTS_DATA_MIRROR="):
        load_dataset("uwave", "train")
    with pytest.raises(DataUnavailableError, match="'BasicMotions.zip'"):
        load_dataset("BasicMotions", "test")


class _FakeResponse(io.BytesIO):
    def __init__(self, payload: bytes, fail_after: int | None = None):
        super().__init__(payload)
        self.headers = {"Content-Length": str(len(payload))}
        self.fail_after = fail_after

    def read(self, size=-1):
        if self.fail_after is not None and self.tell() >= self.fail_after:
            raise ConnectionResetError("connection reset by peer")
        return super().read(size if self.fail_after is None else min(size, self.fail_after))


def test_download_failures_leave_no_partial_files(data_env, monkeypatch):
    monkeypatch.delenv("SSLTS_OFFLINE")
    calls = []

    def fake_urlopen(url, timeout=None):
        calls.append(url)
        if len(calls) == 1:
            raise urllib.error.URLError("no route to host")
        return _FakeResponse(b"PK" + b"x" * 5000, fail_after=1000)  # cut off mid-download

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    with pytest.raises(DataUnavailableError) as info:
        load_dataset("BasicMotions", "train")
    assert calls == list(uea_archive("BasicMotions").urls) and len(calls) == 2
    text = str(info.value)
    assert f"{calls[0]}: <urlopen error no route to host>" in text
    assert f"{calls[1]}: connection reset by peer" in text
    assert "SSLTS_OFFLINE" not in text
    assert _cache_files(data_env) == []  # no ".part" file, no half archive


def test_unknown_name_that_cannot_be_downloaded(data_env, monkeypatch):
    monkeypatch.delenv("SSLTS_OFFLINE")

    def fake_urlopen(url, timeout=None):
        raise urllib.error.HTTPError(url, 404, "Not Found", {}, None)

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    with pytest.raises(UnknownDatasetError) as info:
        load_dataset("NoSuchProblem", "train")
    assert "No archive named 'NoSuchProblem.zip' was found either" in str(info.value)
    assert "HTTP Error 404" in str(info.value)
    assert _cache_files(data_env) == []


def test_download_is_cached_with_its_origin(data_env, monkeypatch):
    monkeypatch.delenv("SSLTS_OFFLINE")
    payload = io.BytesIO()
    with zipfile.ZipFile(payload, "w") as archive:
        for name, text in toy_files().items():
            archive.writestr(name, text)
    calls = []

    def fake_urlopen(url, timeout=None):
        calls.append(url)
        return _FakeResponse(payload.getvalue())

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    data = load_dataset("Toy", "train")
    url = uea_archive("Toy").urls[0]
    assert calls == [url]
    assert data.provenance["origin"] == url
    assert data.y.tolist() == [0, 1, 0]
    downloads = data_env / "downloads"
    assert sorted(p.name for p in downloads.iterdir()) == ["Toy.zip", "Toy.zip.origin"]
    assert (downloads / "Toy.zip").read_bytes() == payload.getvalue()
    # a later fetch is served from the cache and remembers where the file came from
    monkeypatch.setenv("SSLTS_OFFLINE", "1")
    assert fetch_archive(uea_archive("Toy")) == (downloads / "Toy.zip", url)


def test_har_download_unwraps_the_inner_zip(data_env, monkeypatch):
    monkeypatch.delenv("SSLTS_OFFLINE")
    inner = b"inner zip bytes"
    outer = io.BytesIO()
    with zipfile.ZipFile(outer, "w") as archive:
        archive.writestr("UCI HAR Dataset.zip", inner)
        archive.writestr("UCI HAR Dataset.names", "readme")
    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout=None: _FakeResponse(outer.getvalue()))
    path, origin = fetch_archive(HAR_ARCHIVE)
    assert origin == UCI_HAR_URL
    assert path == data_env / "downloads" / "UCI HAR Dataset.zip"
    assert path.read_bytes() == inner
    assert _cache_files(data_env) == ["downloads/UCI HAR Dataset.zip", "downloads/UCI HAR Dataset.zip.origin"]


# ----------------------------------------------------------------------------- names and splits
def test_unknown_name_with_spaces_lists_known_names():
    with pytest.raises(UnknownDatasetError) as info:
        load_dataset("nonexistent dataset", "train")
    text = str(info.value)
    assert text.startswith("Unknown dataset 'nonexistent dataset'.")
    assert "Registered: uwave, uwave-full, har" in text
    assert "BasicMotions" in text
    assert isinstance(info.value, ValueError)


def test_misspelt_name_suggests_the_close_match():
    with pytest.raises(UnknownDatasetError, match=r"Did you mean uwave\b"):
        load_dataset("uwav", "train")
    with pytest.raises(UnknownDatasetError, match="Did you mean BasicMotions"):
        load_dataset("BasicMotion", "train")


def test_unknown_archive_name_offline():
    with pytest.raises(UnknownDatasetError) as info:
        load_dataset("NoSuchProblem", "test")
    text = str(info.value)
    assert "Unknown dataset 'NoSuchProblem'" in text
    assert "No archive named 'NoSuchProblem.zip'" in text
    assert "SSLTS_DATA_MIRROR" in text


def test_registered_names_are_case_sensitive():
    with pytest.raises(UnknownDatasetError, match="Unknown dataset 'HAR'"):
        load_dataset("HAR", "train")


@pytest.mark.parametrize("split", ["valid", "TRAIN", ""])
def test_wrong_split(split):
    with pytest.raises(ValueError, match=rf"split must be one of \('train', 'test'\), got '{split}'"):
        load_dataset("uwave", split)


def test_name_must_be_a_string():
    with pytest.raises(TypeError, match="dataset name must be a non-empty string, got 3"):
        load_dataset(3, "train")


# ----------------------------------------------------------------------------- atomic writes
def test_atomic_write_keeps_old_file_when_the_rename_fails(tmp_path, monkeypatch):
    target = tmp_path / "record.json"
    atomic_write_bytes(target, b"old contents")

    def failing_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_bytes(target, b"new contents that never land")
    assert target.read_bytes() == b"old contents"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["record.json"]  # no temporary file left


def test_atomic_write_replaces_and_creates_folders(tmp_path):
    target = tmp_path / "a" / "b" / "run.json"
    atomic_write_json(target, {"b": 1, "a": [1.5]})
    atomic_write_json(target, {"z": None})
    assert target.read_text() == '{\n  "z": null\n}\n'
    assert [p.name for p in target.parent.iterdir()] == ["run.json"]


# ----------------------------------------------------------------------------- UCI HAR layout
ACTIVITIES = ("WALKING", "WALKING_UPSTAIRS", "WALKING_DOWNSTAIRS", "SITTING", "STANDING", "LAYING")


def _har_value(channel: int, window: int, step: int) -> float:
    """Exactly representable in float32, and different for every (channel, window, step)."""
    return 100.0 * channel + 10.0 * window + step / 16.0 - 3.0


def _har_members(n_windows: dict[str, int], labels: dict, subjects: dict, columns: int = 128) -> dict[str, str]:
    top = "UCI HAR Dataset"
    # the real file is in id order; shuffled here so that ordering by id is tested
    members = {f"{top}/activity_labels.txt": "".join(f"{i} {ACTIVITIES[i - 1]}\n" for i in (4, 1, 6, 2, 5, 3))}
    for split, count in n_windows.items():
        for c, channel in enumerate(HAR_CHANNELS):
            rows = count[c] if isinstance(count, tuple) else count
            lines = [" " + "  ".join(f"{_har_value(c, w, t):.7e}" for t in range(columns)) for w in range(rows)]
            members[f"{top}/{split}/Inertial Signals/{channel}_{split}.txt"] = "\n".join(lines) + "\n"
        members[f"{top}/{split}/y_{split}.txt"] = "".join(f"{v}\n" for v in labels[split])
        members[f"{top}/{split}/subject_{split}.txt"] = "".join(f"{v}\n" for v in subjects[split])
    return members


def _write_har_zip(folder: Path, n_windows=None, labels=None, subjects=None, columns=128) -> Path:
    """``UCI HAR Dataset.zip`` in the original layout (one top-level folder) inside ``folder``."""
    members = _har_members(
        n_windows or {"train": 3, "test": 2},
        labels or {"train": [3, 1, 6], "test": [2, 5]},
        subjects or {"train": [5, 5, 17], "test": [2, 9]},
        columns,
    )
    return write_zip(folder / "UCI HAR Dataset.zip", members)


@pytest.fixture
def har_mirror(tmp_path, monkeypatch):
    """``make(**overrides)`` writes a tiny ``UCI HAR Dataset.zip`` into the mirror folder in use."""
    # The real archive's files have published checksums (enforced for this archive name whatever
    # its origin) that a fixture cannot match, so these tests drop that entry;
    # test_har_checksums_are_enforced shows that the fixture is rejected otherwise.
    monkeypatch.delitem(checksums.KNOWN_SHA256, "UCI HAR Dataset.zip")
    folder = tmp_path / "har-mirror"
    monkeypatch.setenv("SSLTS_DATA_MIRROR", str(folder))
    return lambda **overrides: _write_har_zip(folder, **overrides)


def test_har_layout_values_channels_labels_subjects(har_mirror):
    har_mirror()
    train = load_dataset("har", "train")
    assert train.X.shape == (3, 9, 128) and train.X.dtype == np.float32
    expected = np.array(
        [[[_har_value(c, w, t) for t in range(128)] for c in range(9)] for w in range(3)], dtype=np.float32
    )
    np.testing.assert_array_equal(train.X, expected)
    assert train.channel_names == (
        "body_acc_x", "body_acc_y", "body_acc_z", "body_gyro_x", "body_gyro_y", "body_gyro_z",
        "total_acc_x", "total_acc_y", "total_acc_z",
    )
    assert train.y.tolist() == [2, 0, 5]  # 1-based file labels shifted to 0-based
    assert train.y.dtype == np.int64
    assert train.class_names == ACTIVITIES
    assert train.groups.tolist() == [5, 5, 17]
    assert train.meta["subject"].tolist() == [5, 5, 17]
    assert sorted(train.provenance["files"]) == [
        "activity_labels.txt",
        *sorted(f"train/Inertial Signals/{c}_train.txt" for c in HAR_CHANNELS),
        "train/subject_train.txt",
        "train/y_train.txt",
    ]

    test = load_dataset("har", "test")
    assert test.X.shape == (2, 9, 128)
    assert test.y.tolist() == [1, 4] and test.groups.tolist() == [2, 9]
    assert test.X[1, 8, 16] == np.float32(_har_value(8, 1, 16))


def test_har_checksums_are_enforced(tmp_path, data_env, monkeypatch):
    _write_har_zip(tmp_path / "m")
    monkeypatch.setenv("SSLTS_DATA_MIRROR", str(tmp_path / "m"))
    with pytest.raises(ChecksumMismatchError, match=r"Checksum mismatch for 'train/Inertial Signals/body_acc_x_train\.txt'"):
        load_dataset("har", "train")
    assert _extracted_entries(data_env) == []


def test_har_label_and_window_counts_must_agree(har_mirror):
    har_mirror(labels={"train": [3, 1, 6, 2], "test": [2, 5]})
    with pytest.raises(MalformedFileError, match="3 windows but 4 labels and 3 subject ids"):
        load_dataset("har", "train")
    assert load_dataset("har", "test").y.tolist() == [1, 4]


def test_har_signal_files_must_have_equal_row_counts(har_mirror):
    har_mirror(n_windows={"train": (3, 3, 3, 3, 2, 3, 3, 3, 3), "test": 2})
    with pytest.raises(MalformedFileError, match=r"different numbers of windows \[2, 3\]"):
        load_dataset("har", "train")


def test_har_rows_must_have_128_steps(har_mirror):
    har_mirror(columns=127)
    with pytest.raises(MalformedFileError, match="body_acc_x_train.txt: 127 columns per line, expected 128"):
        load_dataset("har", "train")


def test_har_labels_must_be_in_range(har_mirror):
    har_mirror(labels={"train": [3, 7, 6], "test": [2, 5]})
    with pytest.raises(MalformedFileError, match=r"y_train\.txt: labels outside 1\.\.6"):
        load_dataset("har", "train")


# ----------------------------------------------------------------------------- the real mirror
@pytest.fixture(scope="module")
def real(mirror, tmp_path_factory):
    """``real(name, split)``: the split loaded once per module from the real mirror, offline."""
    cache = tmp_path_factory.mktemp("real-cache")
    loaded = {}

    def load(name: str, split: str):
        if (name, split) not in loaded:
            with pytest.MonkeyPatch.context() as mp:
                mp.setenv("SSLTS_CACHE_DIR", str(cache))
                mp.setenv("SSLTS_DATA_MIRROR", str(mirror))
                mp.setenv("SSLTS_OFFLINE", "1")
                loaded[name, split] = load_dataset(name, split)
        return loaded[name, split]

    return load


def test_real_uwave(real, mirror):
    train, test = real("uwave", "train"), real("uwave", "test")
    assert train.X.shape == (120, 3, 315) and test.X.shape == (320, 3, 315)
    assert train.class_counts().tolist() == [15] * 8
    assert test.class_counts().tolist() == [40] * 8
    assert train.class_names == tuple("12345678")
    assert train.channel_names == ("x", "y", "z")
    assert not np.isnan(train.X).any() and not np.isnan(test.X).any()
    # values from the README, typed in here rather than taken from the library's table
    assert train.provenance["files"] == {
        "UWaveGestureLibrary_TRAIN.ts": "cb7cd8cb995775d30dacbfd5c2a9cb3a80dfbd186fd444294bae70c9162dead1"
    }
    assert test.provenance["files"] == {
        "UWaveGestureLibrary_TEST.ts": "517dbc817c3f181c64727a84ee8bd0cedd3554346042898b9107010b690c331a"
    }
    assert train.provenance["origin"] == f"mirror:{mirror}"


def test_real_har(real):
    train, test = real("har", "train"), real("har", "test")
    assert train.X.shape == (7352, 9, 128) and test.X.shape == (2947, 9, 128)
    assert train.class_counts().tolist() == [1226, 1073, 986, 1286, 1374, 1407]
    assert test.class_counts().tolist() == [496, 471, 420, 491, 532, 537]
    assert train.class_names == ACTIVITIES
    assert train.channel_names == tuple(f"{k}_{a}" for k in ("body_acc", "body_gyro", "total_acc") for a in "xyz")
    train_subjects = [1, 3, 5, 6, 7, 8, 11, 14, 15, 16, 17, 19, 21, 22, 23, 25, 26, 27, 28, 29, 30]
    test_subjects = [2, 4, 9, 10, 12, 13, 18, 20, 24]
    assert np.unique(train.groups).tolist() == train_subjects
    assert np.unique(test.groups).tolist() == test_subjects
    assert train.provenance["files"]["train/y_train.txt"] == (
        "415b3357e2e2d5e70a45c781947c6bdd80e0410a579d862eedcd6bbce3c694ef"
    )
    assert test.provenance["files"]["test/Inertial Signals/total_acc_z_test.txt"] == (
        "622ddf1d9532fbe340472074ef1edd1a2f58aa332682542bb36a8c03c9ba9e04"
    )
    assert len(train.provenance["files"]) == 12 and len(test.provenance["files"]) == 12


def _nearest_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """For each series of ``a``, the Euclidean distance to its nearest series in ``b``."""
    a, b = a.reshape(len(a), -1).astype(np.float64), b.reshape(len(b), -1).astype(np.float64)
    squared = (a**2).sum(1)[:, None] + (b**2).sum(1)[None, :] - 2 * a @ b.T
    return np.sqrt(np.maximum(squared.min(axis=1), 0.0))


@pytest.mark.parametrize(
    "split, counts",
    [
        ("train", [122, 108, 106, 110, 127, 111, 112, 100]),
        ("test", [437, 452, 454, 450, 433, 449, 447, 460]),
    ],
)
def test_real_uwave_full_and_uea_test_exclusion(real, mirror, split, counts):
    full = real("uwave-full", split)
    assert full.X.shape == (sum(counts), 3, 315)
    assert full.class_counts().tolist() == counts
    assert np.unique(full.groups).tolist() == list(range(1, 9))
    np.testing.assert_array_equal(full.groups, full.meta["user"])
    assert np.unique(full.meta["day"]).tolist() == list(range(1, 8))

    table = pd.read_csv(mirror / "uwave_series_metadata.csv")
    rows = table[table["ucr_split"] == split.upper()]
    n_uea_test = int((rows["uea_split"] == "TEST").sum())
    assert n_uea_test > 0
    pool = exclude_uea_test(full)
    assert len(pool.y) == len(full.y) - n_uea_test
    assert pool.X.shape[1:] == (3, 315)
    assert set(pool.meta["uea_split"]) <= {"", "train"}

    # Independent of the metadata: no series left in the pool equals a UEA test series, while
    # each removed series does (the UEA copy differs from the UCR one only by rounding).
    uea_test = real("uwave", "test").X
    removed = full.X[full.meta["uea_split"] == "test"]
    assert _nearest_distance(removed, uea_test).max() < 0.01
    assert _nearest_distance(pool.X, uea_test).min() > 1.0


def test_exclude_uea_test_needs_the_metadata(real):
    with pytest.raises(ValueError, match="'uwave' has no 'uea_split' metadata: only uwave-full"):
        exclude_uea_test(real("uwave", "train"))


def test_real_basic_motions(real):
    train, test = real("BasicMotions", "train"), real("BasicMotions", "test")
    assert train.X.shape == (40, 6, 100) and test.X.shape == (40, 6, 100)
    assert train.n_classes == 4
    assert train.class_names == ("Standing", "Running", "Walking", "Badminton")
    assert train.class_counts().tolist() == [10, 10, 10, 10]
    assert test.class_counts().tolist() == [10, 10, 10, 10]
    assert train.channel_names == tuple(f"dim_{i}" for i in range(6))
