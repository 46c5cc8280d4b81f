"""Reference computations that several projects' checks share (no checks of their own)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ml4llm.checks import require


def as_array(value: Any, dtype: Any = None) -> np.ndarray:
    """A NumPy array from an array, a list or a (CPU or GPU) torch tensor."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=dtype)


def unit_rows(matrix: Any, dtype: Any = np.float64) -> np.ndarray:
    """Rows divided by their lengths; all-zero rows (e.g. a padding embedding) stay zero."""
    m = as_array(matrix, dtype=dtype)
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return m / np.where(norms > 0, norms, 1.0)


def cosines(vectors: Any) -> np.ndarray:
    """The cosine similarity of every pair of rows (float64)."""
    unit = unit_rows(vectors)
    return unit @ unit.T


def upper(matrix: Any) -> np.ndarray:
    """The values above the diagonal, row by row (the order of ``np.triu_indices(n, k=1)``)."""
    matrix = np.asarray(matrix)
    rows, cols = np.triu_indices(len(matrix), k=1)
    return matrix[rows, cols]


def require_cosine_matrix(matrix: Any, vectors: Any, how: str) -> int:
    """Fail unless ``matrix`` is the rows' cosine matrix; ``how`` says how to compute it."""
    require(matrix is not None, f"got None: return the matrix ({how})")
    values = as_array(matrix, dtype=np.float64)
    n = len(vectors)
    require(values.shape == (n, n), f"expected a {n} x {n} matrix, got shape {values.shape}")
    require(np.allclose(values, values.T, atol=1e-5), f"the matrix is not symmetric: {how}")
    require(
        np.allclose(np.diag(values), 1, atol=1e-4),
        f"the diagonal is not 1: normalise every row before the product ({how})",
    )
    require(
        np.allclose(values, cosines(vectors), atol=1e-4),
        f"the entries differ from the cosines of the rows: {how}",
    )
    return n
