"""Data layer: datasets by name, verified sources, the ``.ts`` parser and cleaning steps."""

from .errors import ChecksumMismatchError, DataError, DataUnavailableError, MalformedFileError, UnknownDatasetError
from .registry import DATASETS, TimeSeriesData, exclude_uea_test, known_datasets, load_dataset

__all__ = [
    "DATASETS", "TimeSeriesData", "load_dataset", "known_datasets", "exclude_uea_test",
    "DataError", "UnknownDatasetError", "DataUnavailableError", "ChecksumMismatchError", "MalformedFileError",
]
