"""Where data files come from: the local cache, then mirror directories, then the public URLs.

Every file lands atomically (written to a temporary name in the destination folder, then renamed),
so an interrupted download or extraction never leaves a half-written file that a later run would
trust. Extracted archives are verified against the published sha256 values
(:mod:`sslts.data.checksums`) before they are moved into the cache.

Environment variables:

``SSLTS_CACHE_DIR``
    Cache root (default ``~/.cache/sslts``).
``SSLTS_DATA_MIRROR``
    Colon-separated directories holding archive files under their public names
    (e.g. ``UWaveGestureLibrary.zip``); relative paths are resolved against the working directory.
``SSLTS_OFFLINE``
    If set to ``1``, never try the network.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from .checksums import expected_sha256
from .errors import ChecksumMismatchError, DataUnavailableError, MalformedFileError

UEA_URLS = (
    "https://www.timeseriesclassification.com/aeon-toolkit/{name}.zip",
    "http://www.timeseriesclassification.com/Downloads/{name}.zip",
)
UCI_HAR_URL = "https://archive.ics.uci.edu/static/public/240/human+activity+recognition+using+smartphones.zip"
SOURCE_MARKER = ".sslts-source.json"


@dataclass(frozen=True)
class Archive:
    """One downloadable archive: its public file name and where it can be downloaded from.

    ``inner_zip`` names a zip nested inside the download (UCI wraps ``UCI HAR Dataset.zip`` in
    another zip); the cached archive is that inner file.
    """

    filename: str
    urls: tuple[str, ...] = ()
    inner_zip: str | None = None


def uea_archive(problem: str) -> Archive:
    """The UEA/UCR archive file of a problem, e.g. ``uea_archive("BasicMotions")``."""
    return Archive(f"{problem}.zip", tuple(u.format(name=problem) for u in UEA_URLS))


HAR_ARCHIVE = Archive("UCI HAR Dataset.zip", (UCI_HAR_URL,), inner_zip="UCI HAR Dataset.zip")


def cache_dir() -> Path:
    """The cache root, created if needed."""
    root = Path(os.environ.get("SSLTS_CACHE_DIR", Path.home() / ".cache" / "sslts")).expanduser()
    root.mkdir(parents=True, exist_ok=True)
    return root


def mirror_dirs() -> list[Path]:
    """Mirror directories from ``SSLTS_DATA_MIRROR`` (absolute paths; missing ones are skipped)."""
    raw = os.environ.get("SSLTS_DATA_MIRROR", "")
    return [Path(p).expanduser().resolve() for p in raw.split(os.pathsep) if p.strip()]


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _mirror_sums(directory: Path) -> dict[str, str]:
    """Checksums listed in a mirror's ``SHA256SUMS`` (empty if it has none)."""
    sums_file = directory / "SHA256SUMS"
    if not sums_file.is_file():
        return {}
    sums = {}
    for line in sums_file.read_text().splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            sums[name.strip().lstrip("*")] = digest
    return sums


def find_in_mirrors(filename: str) -> Path | None:
    """The first mirror copy of ``filename``, verified against the mirror's SHA256SUMS if listed."""
    for directory in mirror_dirs():
        candidate = directory / filename
        if candidate.is_file():
            expected = _mirror_sums(directory).get(filename)
            if expected is not None and sha256_of(candidate) != expected:
                raise ChecksumMismatchError(
                    f"Mirror file {candidate} has sha256 {sha256_of(candidate)}, but the mirror's "
                    f"SHA256SUMS lists {expected}. The mirror copy is damaged: replace it with a "
                    "fresh copy of the archive. Nothing was cached."
                )
            return candidate
    return None


def _download(url: str, destination: Path) -> None:
    """Download ``url`` to ``destination`` atomically, with a progress bar."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=destination.parent, prefix=destination.name, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=30) as response:
            total = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=destination.name) as bar:
                for chunk in iter(lambda: response.read(1 << 16), b""):
                    out.write(chunk)
                    bar.update(len(chunk))
        os.replace(tmp_name, destination)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def _unwrap_inner_zip(outer: Path, inner_name: str, destination: Path) -> None:
    """Copy ``inner_name`` out of the zip ``outer`` to ``destination`` atomically."""
    fd, tmp_name = tempfile.mkstemp(dir=destination.parent, suffix=".part")
    try:
        with zipfile.ZipFile(outer) as archive, archive.open(inner_name) as src, os.fdopen(fd, "wb") as dst:
            shutil.copyfileobj(src, dst)
        os.replace(tmp_name, destination)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def fetch_archive(archive: Archive) -> tuple[Path, str]:
    """Path of the archive file and its origin (``"cache"``, ``"mirror:<dir>"`` or the URL).

    Raises:
        DataUnavailableError: in no cache or mirror, and every download failed (or offline).
    """
    cached = cache_dir() / "downloads" / archive.filename
    if cached.is_file():
        origin_file = cached.with_name(cached.name + ".origin")
        return cached, origin_file.read_text() if origin_file.is_file() else "cache"
    mirrored = find_in_mirrors(archive.filename)
    if mirrored is not None:
        return mirrored, f"mirror:{mirrored.parent}"
    failures = []
    if os.environ.get("SSLTS_OFFLINE") == "1":
        failures.append("SSLTS_OFFLINE=1, so no download was tried")
    else:
        for url in archive.urls:
            try:
                target = cached.with_name(cached.name + ".download") if archive.inner_zip else cached
                _download(url, target)
                if archive.inner_zip:
                    _unwrap_inner_zip(target, archive.inner_zip, cached)
                    target.unlink()
                cached.with_name(cached.name + ".origin").write_text(url)
                return cached, url
            except (urllib.error.URLError, OSError, zipfile.BadZipFile, KeyError) as error:
                cached.with_name(cached.name + ".download").unlink(missing_ok=True)
                failures.append(f"{url}: {error}")
    mirrors = os.environ.get("SSLTS_DATA_MIRROR", "") or "(not set)"
    raise DataUnavailableError(
        f"Cannot find the data file '{archive.filename}'. It is not in the cache "
        f"({cached.parent}), not in any mirror directory (SSLTS_DATA_MIRROR={mirrors}), and it "
        "could not be downloaded:\n  " + "\n  ".join(failures or ["no download URL is known"]) +
        f"\nFix: put '{archive.filename}' into a directory and set SSLTS_DATA_MIRROR to that "
        "directory (e.g. export SSLTS_DATA_MIRROR=../shared/data), or connect to the internet."
    )


def _extract_all(zip_path: Path, target: Path) -> None:
    """Extract ``zip_path`` into ``target``, flattening a single top-level folder."""
    try:
        with zipfile.ZipFile(zip_path) as archive:
            bad = archive.testzip()
            if bad is not None:
                raise MalformedFileError(f"Archive {zip_path} is corrupt: member '{bad}' fails its CRC check.")
            archive.extractall(target)
    except zipfile.BadZipFile as error:
        raise MalformedFileError(
            f"{zip_path} is not a readable zip file ({error}); it is probably truncated. "
            "Delete it and fetch it again."
        ) from None
    entries = [p for p in target.iterdir() if not p.name.startswith("__MACOSX")]
    if len(entries) == 1 and entries[0].is_dir():
        inner = entries[0]
        for child in inner.iterdir():
            child.rename(target / child.name)
        inner.rmdir()


def extracted_archive(archive: Archive) -> tuple[Path, dict]:
    """Directory holding the verified contents of ``archive``, and its provenance record.

    The record holds the archive origin and the sha256 of every extracted file; it is written
    next to the files so later runs need not hash them again.

    Raises:
        ChecksumMismatchError: an extracted file differs from its published checksum (nothing is
            cached in that case).
    """
    stem = archive.filename.removesuffix(".zip")
    target = cache_dir() / "extracted" / stem
    marker = target / SOURCE_MARKER
    if marker.is_file():
        return target, json.loads(marker.read_text())
    zip_path, origin = fetch_archive(archive)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{stem}-"))
    try:
        _extract_all(zip_path, staging)
        files = {
            p.relative_to(staging).as_posix(): sha256_of(p)
            for p in sorted(staging.rglob("*")) if p.is_file()
        }
        from_mirror = origin.startswith("mirror:")
        for name, expected in expected_sha256(archive.filename, from_mirror).items():
            actual = files.get(name)
            if actual is None:
                raise MalformedFileError(f"Archive {zip_path} lacks the expected file '{name}'.")
            if actual != expected:
                raise ChecksumMismatchError(
                    f"Checksum mismatch for '{name}' from {zip_path} ({origin}): sha256 {actual}, "
                    f"expected {expected}. Nothing was cached. Replace the archive with a genuine "
                    "copy (delete it if it is in the cache) and try again."
                )
        record = {"archive": archive.filename, "origin": origin, "archive_sha256": sha256_of(zip_path), "files": files}
        (staging / SOURCE_MARKER).write_text(json.dumps(record, indent=1))
        try:
            os.replace(staging, target)
        except OSError:
            if not target.is_dir():
                raise
            shutil.rmtree(staging)  # another process finished first (test workers, two lanes): keep its copy
        return target, record
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
