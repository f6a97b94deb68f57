"""UWaveGestureLibraryAll, built from the mirror's UWaveGestureLibrary{X,Y,Z} archives."""

from __future__ import annotations

import numpy as np
import pytest

from sslts.data import DATASETS, load_dataset

# Class counts from the mirror's README (the full UWave set), typed in here.
COUNTS = {"train": [122, 108, 106, 110, 127, 111, 112, 100], "test": [437, 452, 454, 450, 433, 449, 447, 460]}


def test_registered_by_its_ucr_name():
    assert "UWaveGestureLibraryAll" in DATASETS


@pytest.fixture(scope="module")
def load(mirror, tmp_path_factory):
    cache = tmp_path_factory.mktemp("uwave-all-cache")

    def get(name: str, split: str):
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("SSLTS_CACHE_DIR", str(cache))
            mp.setenv("SSLTS_DATA_MIRROR", str(mirror))
            mp.setenv("SSLTS_OFFLINE", "1")
            return load_dataset(name, split)

    return get


@pytest.mark.parametrize("split", ["train", "test"])
def test_uwave_all_is_x_y_z_concatenated(load, split):
    data = load("UWaveGestureLibraryAll", split)
    n = sum(COUNTS[split])
    assert data.name == "UWaveGestureLibraryAll" and data.split == split
    assert data.X.shape == (n, 1, 945) and data.X.dtype == np.float32
    assert data.class_counts().tolist() == COUNTS[split]
    assert data.channel_names == ("xyz",)
    # each third is one axis, read independently from its own archive
    for i, axis in enumerate("XYZ"):
        single = load(f"UWaveGestureLibrary{axis}", split)
        np.testing.assert_array_equal(data.X[:, 0, 315 * i : 315 * (i + 1)], single.X[:, 0])
        np.testing.assert_array_equal(data.y, single.y)
    assert sorted(data.provenance["files"]) == sorted(
        f"UWaveGestureLibrary{a}_{split.upper()}.ts" for a in "XYZ")
