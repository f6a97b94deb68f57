"""Shape checks shared by the data-preparation modules."""

from __future__ import annotations

import numpy as np


def as_3d(X, name: str = "X") -> np.ndarray:
    """Return ``X`` as a float ndarray (no copy when already float) after checking it is 3-D."""
    X = np.asarray(X)
    if X.ndim != 3:
        raise ValueError(f"{name} must be a 3-D array (n_series, n_channels, length); got "
                         f"{X.ndim}-D array with shape {X.shape}")
    return X if np.issubdtype(X.dtype, np.floating) else X.astype(np.float64)
