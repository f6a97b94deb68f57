"""Data layer: datasets by name, verified sources, the ``.ts`` parser and cleaning steps."""

from .errors import ChecksumMismatchError, DataError, DataUnavailableError, MalformedFileError, UnknownDatasetError
from .registry import (CHANNEL_GROUPS, DATASETS, UNLABELLED_POOLS, channel_groups, TimeSeriesData, exclude_uea_test, has_unlabelled_pool, known_datasets,
                       load_dataset, unlabelled_pool)

__all__ = [
    "DATASETS", "TimeSeriesData", "load_dataset", "known_datasets", "exclude_uea_test",
    "UNLABELLED_POOLS", "has_unlabelled_pool", "unlabelled_pool", "CHANNEL_GROUPS", "channel_groups",
    "DataError", "UnknownDatasetError", "DataUnavailableError", "ChecksumMismatchError", "MalformedFileError",
]
