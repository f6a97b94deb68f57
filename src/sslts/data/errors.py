"""Errors the data layer raises: each one says what went wrong and how to fix it."""

from __future__ import annotations


class DataError(Exception):
    """Base class of every data-layer error (catch this to handle them all)."""


class UnknownDatasetError(DataError, ValueError):
    """The dataset name is neither registered nor a UEA/UCR archive problem we could find."""


class DataUnavailableError(DataError):
    """A source file is in no cache or mirror and could not be downloaded."""


class ChecksumMismatchError(DataError):
    """A file's sha256 differs from the published value; nothing was cached."""


class MalformedFileError(DataError, ValueError):
    """A data file is truncated or does not follow its format; the message names the line."""
