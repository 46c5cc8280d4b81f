"""Self-checks for project 8, "Distribution of cosine similarities"."""

from __future__ import annotations

from typing import Any

import numpy as np

from ml4llm.checks import check, require

N_UNUSED_BERT = 994  # [unused0] ... [unused993] in BERT's uncased vocabulary (offline copy too)
_SAMPLE_PAIRS = 500  # pairs compared with a reference in the all-pairs checks


def _array(value: Any) -> np.ndarray:
    """A NumPy array from a NumPy array, a list or a (CPU or GPU) torch tensor."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def _pair_indices(n: int, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows i and columns j (i < j) of the pairs at ``positions`` in np.triu_indices(n, 1) order."""
    per_row = np.arange(n - 1, 0, -1, dtype=np.int64)  # row i has n - 1 - i pairs
    starts = np.concatenate([[0], np.cumsum(per_row)])
    rows = np.searchsorted(starts, positions, side="right") - 1
    cols = rows + 1 + (positions - starts[rows])
    return rows, cols


def _sample_positions(n_pairs: int) -> np.ndarray:
    """A fixed spread of pair positions: the first, the last and evenly spaced ones between."""
    count = min(n_pairs, _SAMPLE_PAIRS)
    return np.unique(np.linspace(0, n_pairs - 1, count).round().astype(np.int64))


def _check_pairs(rows: Any, values: Any, diagonal: Any, centre: bool) -> str:
    rows = _array(rows).astype(np.float64)
    values = _array(values).ravel()
    diagonal = _array(diagonal).ravel()
    n = rows.shape[0]
    n_pairs = n * (n - 1) // 2
    require(
        values.size != n * n,
        f"you collected all {n * n:,} entries: keep only the upper triangle (column > row)",
    )
    require(
        values.size != n_pairs + n,
        "you collected the diagonal too: keep columns strictly right of it (triu(diagonal=1))",
    )
    require(
        values.size == n_pairs,
        f"collected {values.size:,} values, expected n(n-1)/2 = {n_pairs:,} for n = {n:,}: "
        "each block should run against the columns from its first row on, keeping column > row",
    )
    require(
        diagonal.size == n,
        f"the diagonals of all blocks together should hold {n:,} values, one per token; got {diagonal.size:,}",
    )
    worst = float(np.abs(diagonal - 1).max())
    require(
        worst <= 1e-5,
        f"a block diagonal entry is off from 1 by {worst:.2g}: normalise every row to length 1 "
        "(divide each row by its own norm, e.g. F.normalize(x, dim=1))"
        + (" after mean-centring" if centre else ""),
    )
    positions = _sample_positions(n_pairs)
    i, j = _pair_indices(n, positions)
    if centre:
        rows = rows - rows.mean(axis=1, keepdims=True)
    unit = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    reference = np.einsum("kd,kd->k", unit[i], unit[j])
    error = float(np.abs(values[positions] - reference).max())
    what = "Pearson r" if centre else "cosine"
    hint = (
        f"some values differ from the {what} of their pair by up to {error:.2g}: keep the pairs in "
        "np.triu_indices order (row by row, columns j > i)"
    )
    if centre:
        hint += ", and subtract each row's mean over its dimensions (axis=1) before normalising"
    require(error <= 1e-4, hint)
    return (
        f"{n_pairs:,} values for n = {n:,}, block diagonals all 1, sampled pairs equal the {what}"
    )


@check
def pair_cosine(
    embeddings: Any, first_id: int, second_id: int, by_hand: float, with_torch: float
) -> str:
    """The hand-computed cosine of two tokens' rows and torch's cosine_similarity, both correct."""
    matrix = _array(embeddings)
    a = np.asarray(matrix[int(first_id)], dtype=np.float64)
    b = np.asarray(matrix[int(second_id)], dtype=np.float64)
    reference = float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))
    dot = float(np.dot(a, b))
    for name, value in [("by hand", by_hand), ("with torch", with_torch)]:
        value = float(_array(value).ravel()[0])
        require(
            abs(value - dot) > 1e-6 or abs(reference - dot) < 1e-6,
            f"the cosine {name} is the plain dot product: divide it by the product of the two "
            "vectors' norms",
        )
        require(
            abs(value - reference) <= 1e-5,
            f"the cosine {name} is {value:.6f}, but the two rows' cosine is {reference:.6f}: "
            "dot(a, b) / (norm(a) * norm(b)); torch wants dim=0 for two 1-D vectors",
        )
    return f"cosine {reference:.6f} by hand and with torch"


@check
def all_pairs(rows: Any, values: Any, diagonal: Any) -> str:
    """Block-wise cosines: n(n-1)/2 values in upper-triangle order, every block diagonal equal to 1.

    ``rows`` is the strided embedding matrix before normalisation; the reference cosines of a
    fixed sample of pairs are computed here from it.
    """
    return _check_pairs(rows, values, diagonal, centre=False)


@check
def correlations(rows: Any, values: Any, diagonal: Any) -> str:
    """Block-wise Pearson r: like ``all_pairs``, on mean-centred rows; compared with np.corrcoef's r."""
    return _check_pairs(rows, values, diagonal, centre=True)


@check
def unused_tokens(tokenizer: Any, embeddings: Any, is_unused: Any, unused_cos: Any) -> str:
    """The ``[unused`` flags (994 in BERT's uncased vocabulary) and their cosine submatrix."""
    strings = tokenizer.convert_ids_to_tokens(list(range(len(tokenizer))))
    reference = np.array([s.startswith("[unused") for s in strings])
    flags = _array(is_unused).astype(bool).ravel()
    require(
        flags.size == reference.size,
        f"give one flag per vocabulary entry ({reference.size:,}), not {flags.size:,}",
    )
    require(
        flags.sum() == reference.sum(),
        f"flagged {int(flags.sum())} tokens, but {int(reference.sum())} strings start with "
        "'[unused' (convert_ids_to_tokens, then str.startswith)",
    )
    require(np.array_equal(flags, reference), "the right number, but not the right tokens")
    ids = np.flatnonzero(reference)
    matrix = _array(embeddings)[ids].astype(np.float64)
    unit = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
    expected = unit @ unit.T
    cos = _array(unused_cos)
    require(
        cos.shape == expected.shape,
        f"the submatrix should be {len(ids)} x {len(ids)}, not {cos.shape}",
    )
    error = float(np.abs(cos - expected).max())
    require(
        error <= 1e-4,
        f"the submatrix differs from the unused rows' cosines by up to {error:.2g}: "
        "normalise the unused rows, then multiply them by their transpose",
    )
    note = "" if len(ids) == N_UNUSED_BERT else f" (BERT's vocabulary has {N_UNUSED_BERT})"
    return f"{len(ids)} [unused...] tokens{note}, cosine submatrix {len(ids)} x {len(ids)}"


_SUMMARY_KEYS = (
    "distinct cosines",
    "min off-diagonal",
    "max off-diagonal",
    "mean off-diagonal",
    "mean norm",
    "sd of norms",
)


@check
def set_summary(embeddings: Any, ids: Any, cos: Any, summary: Any) -> str:
    """A set of tokens' cosine submatrix and its description (off-diagonal values, row norms)."""
    ids = _array(ids).astype(np.int64).ravel()
    matrix = _array(embeddings)[ids].astype(np.float64)
    norms = np.linalg.norm(matrix, axis=1)
    unit = matrix / norms[:, None]
    expected = unit @ unit.T
    cos = _array(cos)
    require(
        cos.shape == expected.shape,
        f"the submatrix should be {len(ids)} x {len(ids)}, not {cos.shape}",
    )
    error = float(np.abs(cos - expected).max())
    require(
        error <= 1e-4,
        f"the submatrix differs from the rows' cosines by up to {error:.2g}: normalise the rows, "
        "then multiply them by their transpose",
    )
    missing = [key for key in _SUMMARY_KEYS if key not in summary]
    require(not missing, f"the description lacks {missing}")
    off = ~np.eye(len(ids), dtype=bool)
    reference = {
        "distinct cosines": len(np.unique(cos[off])),
        "min off-diagonal": expected[off].min(),
        "max off-diagonal": expected[off].max(),
        "mean off-diagonal": expected[off].mean(),
        "mean norm": norms.mean(),
        "sd of norms": norms.std(),
    }
    require(
        int(summary["distinct cosines"]) == reference["distinct cosines"],
        f"'distinct cosines' should count the different off-diagonal values "
        f"({reference['distinct cosines']:,}): len(np.unique(...)) of the off-diagonal entries",
    )
    for key in _SUMMARY_KEYS[1:]:
        value = float(summary[key])
        hint = f"{key!r} is {value:.4f}, expected {reference[key]:.4f}"
        with_diagonal = {"max off-diagonal": expected.max(), "mean off-diagonal": expected.mean()}
        if key in with_diagonal and abs(value - with_diagonal[key]) < 1e-6:
            hint += ": leave out the diagonal (each token with itself, always 1)"
        elif "norm" in key:
            hint += ": take the norms of the raw rows, before normalising (axis=1)"
        require(abs(value - reference[key]) <= 1e-4, hint)
    return (
        f"{len(ids)} tokens: mean off-diagonal cosine {reference['mean off-diagonal']:.3f}, "
        f"mean norm {reference['mean norm']:.3f}"
    )


@check
def row_means(rows: Any, row_mean: Any, row_mean_abs: Any) -> str:
    """Each token's mean over its dimensions, and its mean absolute value."""
    rows = _array(rows).astype(np.float64)
    mean = _array(row_mean).ravel()
    mean_abs = _array(row_mean_abs).ravel()
    n, width = rows.shape
    for name, value in [("row_mean", mean), ("row_mean_abs", mean_abs)]:
        require(
            value.size == n,
            f"{name} needs one value per token ({n:,}); with {value.size:,} values, "
            "check the axis (axis=1 averages over the dimensions)",
        )
    require(
        np.allclose(mean, rows.mean(axis=1), atol=1e-6),
        "row_mean should be each row's average over its dimensions: rows.mean(axis=1)",
    )
    require(
        np.allclose(mean_abs, np.abs(rows).mean(axis=1), atol=1e-6),
        "row_mean_abs should average the absolute values: np.abs(rows).mean(axis=1)",
    )
    return f"{n:,} per-token means over {width} dimensions"
