"""Datasets by name: ``load_dataset(name, split)`` returns one :class:`TimeSeriesData`.

Registered names: ``uwave`` (UEA UWaveGestureLibrary, 120/320), ``uwave-full`` (UCR
UWaveGestureLibraryX/Y/Z stacked, 896/3582, with user and day), ``UWaveGestureLibraryAll`` (the
same X, Y and Z concatenated into one channel of 945 steps, as the UCR archive has it), ``har``
(UCI HAR raw inertial signals, 7352/2947, with subjects). Any other UEA/UCR problem loads by its archive name, e.g.
``load_dataset("BasicMotions", "train")``.

Parsed arrays are cached as ``.npz`` files keyed by the sha256 of the source files, so a changed
source file can never be served from a stale cache.
"""

from __future__ import annotations

import difflib
import hashlib
import io
import json
import re
from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np

from ..atomic import atomic_write_bytes
from .errors import DataUnavailableError, MalformedFileError, UnknownDatasetError
from .har import HAR_CHANNELS, read_har_split
from .sources import HAR_ARCHIVE, cache_dir, extracted_archive, find_in_mirrors, sha256_of, uea_archive
from .tsfile import read_ts

PARSER_VERSION = "1"  # bump when parsing changes, to invalidate cached arrays
SPLITS = ("train", "test")

UEA_MULTIVARIATE = (
    "ArticularyWordRecognition", "AtrialFibrillation", "BasicMotions", "CharacterTrajectories",
    "Cricket", "DuckDuckGeese", "EigenWorms", "Epilepsy", "ERing", "EthanolConcentration",
    "FaceDetection", "FingerMovements", "HandMovementDirection", "Handwriting", "Heartbeat",
    "InsectWingbeat", "JapaneseVowels", "Libras", "LSST", "MotorImagery", "NATOPS", "PEMS-SF",
    "PenDigits", "PhonemeSpectra", "RacketSports", "SelfRegulationSCP1", "SelfRegulationSCP2",
    "SpokenArabicDigits", "StandWalkJump", "UWaveGestureLibrary",
)


@dataclass(frozen=True)
class TimeSeriesData:
    """One split of one dataset.

    Attributes:
        name: registry or archive name.
        split: ``"train"`` or ``"test"``.
        X: float32 ``(n, channels, length)``.
        y: int64 labels ``0..k-1``.
        class_names: name of each label index.
        channel_names: name of each channel.
        groups: subject/user id per series, or None where the dataset has none.
        meta: extra per-series columns (e.g. ``user``, ``day``), each an array of length n.
        provenance: source archive, origin and sha256 of every file read.
    """

    name: str
    split: str
    X: np.ndarray
    y: np.ndarray
    class_names: tuple[str, ...]
    channel_names: tuple[str, ...]
    groups: np.ndarray | None = None
    meta: dict[str, np.ndarray] = field(default_factory=dict)
    provenance: dict = field(default_factory=dict)

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(self.X.shape)

    def class_counts(self) -> np.ndarray:
        """Number of series per class, indexed by label."""
        return np.bincount(self.y, minlength=self.n_classes)

    def subset(self, mask_or_index: np.ndarray) -> "TimeSeriesData":
        """A new object holding only the selected series (boolean mask or index array)."""
        pick = np.asarray(mask_or_index)
        return replace(
            self,
            X=self.X[pick],
            y=self.y[pick],
            groups=None if self.groups is None else self.groups[pick],
            meta={k: v[pick] for k, v in self.meta.items()},
        )


# ----------------------------------------------------------------------------- array cache
def _cache_key(name: str, split: str, file_sums: dict[str, str]) -> str:
    blob = json.dumps([PARSER_VERSION, name, split, sorted(file_sums.items())]).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def _cached(name: str, split: str, file_sums: dict[str, str], build: Callable[[], TimeSeriesData]) -> TimeSeriesData:
    """Load the parsed split from the array cache, or build and cache it atomically."""
    path = cache_dir() / "arrays" / f"{name}-{split}-{_cache_key(name, split, file_sums)}.npz"
    if path.is_file():
        with np.load(path, allow_pickle=False) as z:
            header = json.loads(str(z["header"]))
            return TimeSeriesData(
                name=name, split=split, X=z["X"], y=z["y"],
                class_names=tuple(header["class_names"]), channel_names=tuple(header["channel_names"]),
                groups=z["groups"] if "groups" in z.files else None,
                meta={k: z[f"meta_{k}"] for k in header["meta"]},
                provenance=header["provenance"],
            )
    data = build()
    header = {
        "class_names": list(data.class_names), "channel_names": list(data.channel_names),
        "meta": list(data.meta), "provenance": data.provenance,
    }
    arrays = {"X": data.X, "y": data.y, "header": np.asarray(json.dumps(header))}
    if data.groups is not None:
        arrays["groups"] = data.groups
    arrays.update({f"meta_{k}": v for k, v in data.meta.items()})
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    atomic_write_bytes(path, buffer.getvalue())
    return data


# ----------------------------------------------------------------------------- loaders
def _tidy_label(label: str) -> str:
    """``"1.0"`` -> ``"1"``; other labels unchanged."""
    return label[:-2] if re.fullmatch(r"\d+\.0", label) else label


def _load_uea(problem: str, split: str, name: str | None = None) -> TimeSeriesData:
    folder, record = extracted_archive(uea_archive(problem))
    filename = f"{problem}_{split.upper()}.ts"
    if filename not in record["files"]:
        raise MalformedFileError(f"Archive {record['archive']} has no file '{filename}'.")
    sums = {filename: record["files"][filename]}
    name = name or problem

    def build() -> TimeSeriesData:
        parsed = read_ts(folder / filename)
        index = {label: i for i, label in enumerate(parsed.class_labels)}
        n_channels = parsed.X.shape[1]
        return TimeSeriesData(
            name=name, split=split, X=parsed.X, y=np.asarray([index[s] for s in parsed.labels], dtype=np.int64),
            class_names=tuple(_tidy_label(c) for c in parsed.class_labels),
            channel_names=("x", "y", "z") if n_channels == 3 and problem.startswith("UWave") else
            tuple(f"dim_{i}" for i in range(n_channels)),
            provenance={"archive": record["archive"], "origin": record["origin"], "files": sums},
        )

    return _cached(name, split, sums, build)


def _load_har(split: str) -> TimeSeriesData:
    folder, record = extracted_archive(HAR_ARCHIVE)
    sums = {k: v for k, v in record["files"].items() if k.startswith(f"{split}/") or k == "activity_labels.txt"}

    def build() -> TimeSeriesData:
        X, y, subjects, names = read_har_split(folder, split)
        return TimeSeriesData(
            name="har", split=split, X=X, y=y, class_names=names, channel_names=HAR_CHANNELS,
            groups=subjects, meta={"subject": subjects},
            provenance={"archive": record["archive"], "origin": record["origin"], "files": sums},
        )

    return _cached("har", split, sums, build)


UWAVE_METADATA = "uwave_series_metadata.csv"


def _load_uwave_full(split: str) -> TimeSeriesData:
    axes = [_load_uea(f"UWaveGestureLibrary{axis}", split) for axis in "XYZ"]
    if any(not np.array_equal(a.y, axes[0].y) for a in axes[1:]):
        raise MalformedFileError("UWaveGestureLibraryX/Y/Z disagree on the class of some series; the files do not belong together.")
    files = {k: v for a in axes for k, v in a.provenance["files"].items()}
    data = TimeSeriesData(
        name="uwave-full", split=split, X=np.concatenate([a.X for a in axes], axis=1), y=axes[0].y,
        class_names=axes[0].class_names, channel_names=("x", "y", "z"),
        provenance={"archive": [a.provenance["archive"] for a in axes],
                    "origin": axes[0].provenance["origin"], "files": files},
    )
    return _attach_uwave_metadata(data)


def _attach_uwave_metadata(data: TimeSeriesData) -> TimeSeriesData:
    """Add user/day/... columns from the mirror's metadata file when its row order applies.

    The metadata rows follow the mirror's files; a genuine UCR download has another test-row
    order, so metadata is attached only where the files' checksums match the mirror's.
    """
    from .checksums import KNOWN_SHA256, MIRROR_ONLY_SHA256

    known = {k: v for d in (*KNOWN_SHA256.values(), *MIRROR_ONLY_SHA256.values()) for k, v in d.items()}
    if any(known.get(k) != v for k, v in data.provenance["files"].items()):
        return data
    csv_path = find_in_mirrors(UWAVE_METADATA)
    if csv_path is None:
        return data
    import pandas as pd

    table = pd.read_csv(csv_path)
    table = table[table["ucr_split"].str.lower() == data.split].sort_values("ucr_row")
    if len(table) != len(data.y) or not np.array_equal(table["class"].to_numpy() - 1, data.y):
        raise MalformedFileError(f"{csv_path}: rows do not match the {data.split} series (count or classes differ).")
    meta = {
        col: table[col].to_numpy() for col in ("user", "day", "gesture", "repetition")
    }
    meta["uea_split"] = table["uea_split"].fillna("").astype(str).str.lower().to_numpy().astype("U5")
    provenance = dict(data.provenance, metadata={UWAVE_METADATA: sha256_of(csv_path)})
    return replace(data, groups=meta["user"], meta=meta, provenance=provenance)


def exclude_uea_test(data: TimeSeriesData) -> TimeSeriesData:
    """Drop the series of a ``uwave-full`` split that are UEA ``UWaveGestureLibrary`` test cases.

    Use it to build a pre-training pool from the full UWave set without leaking the 320 gestures
    the UEA benchmark tests on.

    Raises:
        ValueError: the data has no ``uea_split`` metadata (not ``uwave-full``, or no metadata file
            in the mirror).
    """
    if "uea_split" not in data.meta:
        raise ValueError(
            f"'{data.name}' has no 'uea_split' metadata: only uwave-full loaded with "
            f"'{UWAVE_METADATA}' in a mirror directory has it."
        )
    return data.subset(data.meta["uea_split"] != "test")


UWAVE_ALL = "UWaveGestureLibraryAll"


def _load_uwave_all(split: str) -> TimeSeriesData:
    """The UCR univariate ``UWaveGestureLibraryAll``: each gesture's X, Y and Z series concatenated.

    Built from ``uwave-full`` (the ``UWaveGestureLibrary{X,Y,Z}`` archives), as the UCR archive
    built it: series ``i`` is ``[x_i, y_i, z_i]``, one channel of 3 x 315 = 945 steps; 896 training
    and 3,582 test series, the archive's splits. The mirror's rebuilt test files order their rows
    by user, day, gesture and repetition, not as the archive does; metadata columns follow the rows.
    """
    full = _load_uwave_full(split)
    n, channels, length = full.X.shape
    X = np.ascontiguousarray(full.X).reshape(n, 1, channels * length)  # (n, 1, 945): x, then y, then z
    return replace(full, name=UWAVE_ALL, X=X, channel_names=("xyz",))


DATASETS: dict[str, Callable[[str], TimeSeriesData]] = {
    "uwave": lambda split: _load_uea("UWaveGestureLibrary", split, name="uwave"),
    "uwave-full": _load_uwave_full,
    "har": _load_har,
    UWAVE_ALL: _load_uwave_all,
}


# Channel groups a dataset declares: sensors whose channels belong together, in the dataset's
# channel order. UCI HAR (sslts.data.har.HAR_CHANNELS: body_acc, body_gyro, total_acc, x/y/z each)
# has an accelerometer (body and total acceleration) and a gyroscope; a method that pairs
# modalities (CLIP's "auto" towers) takes them from here, never from a channel count.
CHANNEL_GROUPS: dict[str, dict[str, tuple[int, ...]]] = {
    "har": {"accelerometer": (0, 1, 2, 6, 7, 8), "gyroscope": (3, 4, 5)},
}


def channel_groups(name: str) -> dict[str, tuple[int, ...]]:
    """The sensor channel groups dataset ``name`` declares (empty when it declares none).

    >>> channel_groups("har")["gyroscope"], channel_groups("ArticularyWordRecognition")
    ((3, 4, 5), {})
    """
    return dict(CHANNEL_GROUPS.get(name, {}))


# Extra unlabelled series a dataset offers for pre-training: the name of the dataset that holds
# them. UWave's is the full UCR set (4,478 gestures) less the UEA test gestures, so that nothing
# the benchmark tests on is seen in pre-training (see exclude_uea_test).
UNLABELLED_POOLS = {"uwave": "uwave-full"}


def has_unlabelled_pool(name: str) -> bool:
    """Whether the dataset ``name`` offers extra unlabelled series for pre-training.

    >>> has_unlabelled_pool("uwave"), has_unlabelled_pool("har")
    (True, False)
    """
    return name in UNLABELLED_POOLS


def unlabelled_pool(name: str) -> list[TimeSeriesData]:
    """The extra unlabelled pre-training series of dataset ``name``, per split of their source.

    Raises:
        ValueError: ``name`` has no pool (the message names those that do).
    """
    if name not in UNLABELLED_POOLS:
        raise ValueError(f"extra_pool is available for {', '.join(UNLABELLED_POOLS)} only, not {name!r}")
    return [exclude_uea_test(load_dataset(UNLABELLED_POOLS[name], split)) for split in ("train", "test")]


def known_datasets() -> list[str]:
    """Registered names followed by the UEA multivariate problems."""
    return [*DATASETS, *UEA_MULTIVARIATE]


def load_dataset(name: str, split: str = "train") -> TimeSeriesData:
    """Load one split of a dataset by name.

    Args:
        name: a registered name (``uwave``, ``uwave-full``, ``UWaveGestureLibraryAll``, ``har``) or a
            UEA/UCR problem name.
        split: ``"train"`` or ``"test"``.

    Raises:
        UnknownDatasetError: the name is not registered and no archive of that name was found.
        DataUnavailableError, ChecksumMismatchError, MalformedFileError: see :mod:`sslts.data.sources`.

    Example:
        >>> train = load_dataset("har", "train")  # doctest: +SKIP
        >>> train.X.shape  # doctest: +SKIP
        (7352, 9, 128)
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"dataset name must be a non-empty string, got {name!r}")
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    if name in DATASETS:
        return DATASETS[name](split)
    if re.fullmatch(r"[A-Za-z][A-Za-z0-9\-]*", name) is None or name.lower() in DATASETS:
        raise _unknown(name)
    try:
        return _load_uea(name, split)
    except DataUnavailableError as error:
        if name in UEA_MULTIVARIATE:
            raise
        raise _unknown(name, detail=str(error)) from None


def _unknown(name: str, detail: str = "") -> UnknownDatasetError:
    known = known_datasets()
    by_lower = {k.lower(): k for k in known}
    close = [by_lower[m] for m in difflib.get_close_matches(name.lower(), list(by_lower), n=3, cutoff=0.6)]
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    text = (
        f"Unknown dataset '{name}'.{hint} Registered: {', '.join(DATASETS)}; or any UEA/UCR archive "
        f"problem name, e.g. {', '.join(UEA_MULTIVARIATE[:4])} (UEA multivariate: {', '.join(UEA_MULTIVARIATE)})."
    )
    if detail:
        text += f"\nNo archive named '{name}.zip' was found either:\n{detail}"
    return UnknownDatasetError(text)
