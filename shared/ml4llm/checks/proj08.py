"""Self-checks for project 8, "Distribution of cosine similarities"."""

from __future__ import annotations

from typing import Any

import numpy as np

from ml4llm.checks import CheckFailed, check, common, require

N_UNUSED_BERT = 994  # [unused0] ... [unused993] in BERT's uncased vocabulary (offline copy too)
_SAMPLE_PAIRS = 500  # pairs compared with a reference in the all-pairs checks


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


def _strided(embeddings: Any, stride: int, rows: Any = None) -> np.ndarray:
    """Every ``stride``-th row of the matrix; checks the learner's ``rows`` against it if given."""
    reference = common.as_array(embeddings)[:: int(stride)]
    if rows is not None:
        found = common.as_array(rows)
        require(
            found.shape == reference.shape,
            f"the kept rows should have shape {reference.shape} (every {int(stride)}th row of the "
            f"matrix: embeddings[::stride]), not {found.shape}",
        )
        require(
            np.array_equal(found, reference),
            "the kept rows are not every stride-th row: embeddings[::stride] starts at row 0",
        )
    return reference.astype(np.float64)


def _check_pairs(rows: np.ndarray, values: Any, diagonal: Any, centre: bool) -> str:
    values = common.as_array(values).ravel()
    diagonal = common.as_array(diagonal).ravel()
    n = rows.shape[0]
    n_pairs = n * (n - 1) // 2
    require(
        values.size > 0,
        "the values are still empty: fill in the block loop of upper_triangle_cosines first",
    )
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
    reference = _pair_values(rows, i, j, centre)
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


def _pair_values(rows: np.ndarray, i: np.ndarray, j: np.ndarray, centre: bool) -> np.ndarray:
    """The cosine (or, centred, Pearson r) of rows i[k] and j[k], for every k."""
    a, b = rows[i], rows[j]
    if centre:
        a = a - a.mean(axis=1, keepdims=True)
        b = b - b.mean(axis=1, keepdims=True)
    return np.einsum("kd,kd->k", a, b) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


@check
def pair_cosine(
    embeddings: Any, first_id: int, second_id: int, by_hand: float, with_torch: float
) -> str:
    """The hand-computed cosine of two tokens' rows and torch's cosine_similarity, both correct."""
    matrix = common.as_array(embeddings)
    a = np.asarray(matrix[int(first_id)], dtype=np.float64)
    b = np.asarray(matrix[int(second_id)], dtype=np.float64)
    reference = float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))
    dot = float(np.dot(a, b))
    for name, value in [("by hand", by_hand), ("with torch", with_torch)]:
        value = float(common.as_array(value).ravel()[0])
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
def all_pairs(embeddings: Any, stride: int, rows: Any, values: Any, diagonal: Any) -> str:
    """Block-wise cosines: n(n-1)/2 values in upper-triangle order, every block diagonal equal to 1.

    ``rows`` must be every ``stride``-th row of ``embeddings``; the reference cosines of a fixed
    sample of pairs are computed here from the matrix.
    """
    return _check_pairs(_strided(embeddings, stride, rows), values, diagonal, centre=False)


@check
def correlations(embeddings: Any, stride: int, values: Any, diagonal: Any) -> str:
    """Block-wise Pearson r: like ``all_pairs``, on mean-centred rows; compared with np.corrcoef's r."""
    return _check_pairs(_strided(embeddings, stride), values, diagonal, centre=True)


def _require_submatrix(
    embeddings: Any, ids: Any, cos: Any, rows: str
) -> tuple[np.ndarray, np.ndarray]:
    """Fail unless ``cos`` is the cosine matrix of the given rows; return (reference, ``cos``)."""
    expected = common.cosines(common.as_array(embeddings)[ids])
    cos = common.as_array(cos)
    require(
        cos.shape == expected.shape,
        f"the submatrix should be {len(ids)} x {len(ids)}, not {cos.shape}",
    )
    error = float(np.abs(cos - expected).max())
    require(
        error <= 1e-4,
        f"the submatrix differs from the cosines of {rows} by up to {error:.2g}: "
        f"normalise {rows}, then multiply them by their transpose",
    )
    return expected, cos


@check
def unused_tokens(tokenizer: Any, embeddings: Any, is_unused: Any, unused_cos: Any) -> str:
    """The ``[unused`` flags (994 in BERT's uncased vocabulary) and their cosine submatrix."""
    strings = tokenizer.convert_ids_to_tokens(list(range(len(tokenizer))))
    reference = np.array([s.startswith("[unused") for s in strings])
    flags = common.as_array(is_unused).astype(bool).ravel()
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
    _require_submatrix(embeddings, ids, unused_cos, "the unused rows")
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


def _set_summary(embeddings: Any, ids: Any, cos: Any, summary: Any) -> str:
    """A set of tokens' cosine submatrix and its description (off-diagonal values, row norms)."""
    ids = common.as_array(ids).astype(np.int64).ravel()
    matrix = common.as_array(embeddings)[ids].astype(np.float64)
    norms = np.linalg.norm(matrix, axis=1)
    expected, cos = _require_submatrix(embeddings, ids, cos, "the rows")
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
def set_summaries(embeddings: Any, token_sets: Any, description: Any) -> str:
    """Each set's cosine submatrix and its description; ``token_sets`` maps name -> (ids, cos)."""
    require(
        len(description) > 0,
        "description is still empty: fill in the loop over the token sets first",
    )
    details = []
    for name, (ids, cos) in token_sets.items():
        require(name in description, f"description has no entry for {name!r}: describe every set")
        try:
            details.append(f"{name}: " + _set_summary(embeddings, ids, cos, description[name]))
        except CheckFailed as failed:
            raise CheckFailed(f"{name}: {failed}") from None
    return "; ".join(details)


@check
def row_means(embeddings: Any, stride: int, row_mean: Any, row_mean_abs: Any) -> str:
    """Each kept token's mean over its dimensions, and its mean absolute value."""
    rows = _strided(embeddings, stride)
    mean = common.as_array(row_mean).ravel()
    mean_abs = common.as_array(row_mean_abs).ravel()
    n, width = rows.shape
    for name, value in [("row_mean", mean), ("row_mean_abs", mean_abs)]:
        require(
            value.size == n,
            f"{name} needs one value per kept token ({n:,}); with {value.size:,} values, "
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


def _every_kth(n: int, side: int, image_tokens: int) -> int:
    """The stride k that keeps ``side`` of ``n`` rows, checked to give about image_tokens."""
    require(
        image_tokens / 2 <= side <= 2 * image_tokens,
        f"{side} tokens per side is far from image_tokens = {image_tokens}: keep every k-th token "
        "with k = n // image_tokens",
    )
    steps = [
        k for k in range(max(1, n // (side + 1)), n // max(side - 1, 1) + 2) if -(-n // k) == side
    ]
    require(steps, f"{side} is not the number of rows that a stride k keeps of {n}")
    return steps[0]


@check
def pair_vectors(
    embeddings: Any, first_id: Any, second_id: Any, first_vec: Any, second_vec: Any
) -> str:
    """Two different seeded ids from 3,000 … 6,000 and their rows of the embedding matrix."""
    matrix = common.as_array(embeddings)
    ids = [int(common.as_array(first_id).ravel()[0]), int(common.as_array(second_id).ravel()[0])]
    require(
        all(3000 <= i <= 6000 for i in ids),
        f"the ids {ids} should lie between 3,000 and 6,000: rng.choice(np.arange(3000, 6001), ...)",
    )
    require(ids[0] != ids[1], "the two ids are the same: draw without replacement (replace=False)")
    for name, token_id, vector in [
        ("first_vec", ids[0], first_vec),
        ("second_vec", ids[1], second_vec),
    ]:
        require(
            np.array_equal(common.as_array(vector), matrix[token_id]),
            f"{name} is not row {token_id} of the matrix: embeddings[token_id]",
        )
    return f"ids {ids[0]} and {ids[1]}, their rows"


@check
def cosine_image(embeddings: Any, stride: int, image_tokens: int, image: Any) -> str:
    """The full cosine matrix of every k-th kept token (about image_tokens per side)."""
    rows = _strided(embeddings, stride)
    found = common.as_array(image).astype(np.float64)
    require(
        found.ndim == 2 and found.shape[0] == found.shape[1],
        f"the image should be a square matrix, not shape {found.shape}: few @ few.T",
    )
    k = _every_kth(rows.shape[0], found.shape[0], image_tokens)
    few = rows[::k]
    unit = few / np.linalg.norm(few, axis=1, keepdims=True)
    error = float(np.abs(found - unit @ unit.T).max())
    require(
        error <= 1e-4,
        f"the image differs from the cosines of every {k}th kept token by up to {error:.2g}: "
        "take the normalised rows unit[::step] and multiply them by their transpose",
    )
    return f"{found.shape[0]} x {found.shape[0]} cosines of every {k}th kept token"


@check
def histogram(
    values: Any, bin_edges: Any, counts: Any, above_half: Any = None, below_zero: Any = None
) -> str:
    """Counts of the collected cosines in the fixed bins; optionally the shares > 0.5 and < 0.

    The reference is computed here from the cosines that ``all_pairs`` has checked.
    """
    values = common.as_array(values).ravel()
    edges = common.as_array(bin_edges).ravel()
    found = common.as_array(counts).astype(np.float64).ravel()
    require(
        found.size == edges.size - 1,
        f"{edges.size} bin edges make {edges.size - 1} bins; you have {found.size} counts",
    )
    require(found.sum() > 0, "the counts are still all zero: np.histogram(values, bins=bin_edges)")
    require(
        abs(found.sum() - 1 / np.diff(edges).mean()) > 1e-6 or found.sum() == values.size,
        "these are densities: count the pairs (np.histogram without density=True)",
    )
    expected, _ = np.histogram(values, bins=edges)
    require(
        np.array_equal(found, expected),
        f"the counts differ from np.histogram of the {values.size:,} cosines with bins=bin_edges "
        f"(they should add up to {values.size:,}, yours to {int(found.sum()):,})",
    )
    detail = f"{int(found.sum()):,} pairs in {found.size} bins"
    for name, share, expected_share in [
        ("above_half", above_half, lambda: np.mean(values > 0.5)),
        ("below_zero", below_zero, lambda: np.mean(values < 0)),
    ]:
        if share is None:
            continue
        reference = float(expected_share())
        value = float(share)
        require(
            abs(value - reference) <= 1e-9 + 1e-6 * reference,
            f"{name} is {value:.4f}, expected the share of pairs {reference:.4f}: the mean of "
            "a boolean array is the fraction of True",
        )
        detail += f", {name} {reference:.4f}"
    return detail


@check
def random_spread(embeddings: Any, random_sd: Any) -> str:
    """The standard deviation of random directions' cosines in the matrix's width: 1/sqrt(d)."""
    width = common.as_array(embeddings).shape[1]
    expected = 1 / np.sqrt(width)
    value = float(random_sd)
    require(
        abs(value - 1 / width) > 1e-12,
        "1/d is the variance; the standard deviation is its square root, 1/sqrt(d)",
    )
    require(
        abs(value - expected) <= 1e-9,
        f"for d = {width} dimensions the spread is 1/sqrt(d) = {expected:.4f}, not {value:.4f} "
        "(d is the number of columns)",
    )
    return f"1/sqrt({width}) = {expected:.4f}"


@check
def ordinary_sample(tokenizer: Any, ordinary_ids: Any) -> str:
    """As many ordinary tokens as unused ones: distinct, sorted, none special and none unused."""
    strings = tokenizer.convert_ids_to_tokens(list(range(len(tokenizer))))
    n_unused = sum(s.startswith("[unused") for s in strings)
    ids = common.as_array(ordinary_ids).astype(np.int64).ravel()
    require(
        ids.size == n_unused,
        f"draw as many ordinary tokens as there are unused ones ({n_unused}), not {ids.size}",
    )
    require(len(np.unique(ids)) == ids.size, "some ids repeat: draw without replacement")
    require(np.all(np.diff(ids) > 0), "sort the drawn ids (np.sort)")
    special = set(tokenizer.all_special_ids)
    require(
        not any(strings[i].startswith("[unused") for i in ids),
        "some drawn tokens are [unused...] ones: draw from the tokens that are not unused",
    )
    require(
        not any(int(i) in special for i in ids),
        "some drawn tokens are special ([CLS], [SEP], ...): leave tokenizer.all_special_ids out",
    )
    return f"{ids.size} distinct ordinary tokens, ids {ids.min()} … {ids.max()}"


@check
def unused_gap(tokenizer: Any, embeddings: Any, ordinary_ids: Any, gap: Any) -> str:
    """Mean off-diagonal cosine of the unused tokens minus that of the ordinary sample."""
    strings = tokenizer.convert_ids_to_tokens(list(range(len(tokenizer))))
    unused = [i for i, s in enumerate(strings) if s.startswith("[unused")]
    matrix = common.as_array(embeddings)

    def mean_off_diagonal(ids: Any) -> float:
        rows = matrix[np.asarray(ids, dtype=np.int64)].astype(np.float64)
        unit = rows / np.linalg.norm(rows, axis=1, keepdims=True)
        cos = unit @ unit.T
        return float(cos[~np.eye(len(rows), dtype=bool)].mean())

    expected = mean_off_diagonal(unused) - mean_off_diagonal(common.as_array(ordinary_ids).ravel())
    value = float(gap)
    require(
        abs(value + expected) > 1e-5 or abs(expected) < 1e-5,
        "the sign is flipped: unused minus ordinary",
    )
    require(
        abs(value - expected) <= 1e-5,
        f"the gap is {expected:.4f}, not {value:.4f}: the difference of the two sets' "
        "'mean off-diagonal' entries",
    )
    return f"unused minus ordinary mean off-diagonal cosine = {expected:.4f}"


@check
def scatter_pairs(
    embeddings: Any, stride: int, pair_step: int, scatter_cos: Any, scatter_r: Any
) -> str:
    """Cosine and r of every pair_step-th pair (positions 0, step, 2 step, ... in triu order)."""
    rows = _strided(embeddings, stride)
    n = rows.shape[0]
    positions = np.arange(0, n * (n - 1) // 2, int(pair_step), dtype=np.int64)
    i, j = _pair_indices(n, positions)
    for name, found, centre in [
        ("scatter_cos", scatter_cos, False),
        ("scatter_r", scatter_r, True),
    ]:
        values = common.as_array(found).astype(np.float64).ravel()
        require(
            values.size == positions.size,
            f"{name} should hold {positions.size} values (every {int(pair_step):,}th of the "
            f"{n * (n - 1) // 2:,} pairs, from position 0), not {values.size}",
        )
        error = float(np.abs(values - _pair_values(rows, i, j, centre)).max())
        require(
            error <= 1e-4,
            f"{name} differs from the pairs at positions 0, {int(pair_step):,}, … by up to "
            f"{error:.2g}: index both arrays with the same positions (pick)",
        )
    return f"{positions.size} pairs, every {int(pair_step):,}th"


@check
def largest_gap(cosines: Any, correlations: Any, max_gap: Any) -> str:
    """The largest |r - cosine| over all pairs (from the checked arrays of Parts 4 and 5)."""
    a = common.as_array(cosines).ravel()
    b = common.as_array(correlations).ravel()
    require(a.size == b.size, "the two arrays should hold the same pairs")
    expected = float(np.abs(b - a).max())
    value = float(max_gap)
    require(
        abs(value - float((b - a).max())) > 1e-9 or abs(expected - value) < 1e-9,
        "take the absolute difference before the maximum: np.abs(r - cos).max()",
    )
    require(
        abs(value - expected) <= 1e-6,
        f"the largest |r - cosine| is {expected:.4f}, not {value:.4f}",
    )
    return f"max |r - cosine| = {expected:.4f}"
