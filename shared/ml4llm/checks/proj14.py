"""Self-checks for project 14, "Linear semantic axes"."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ml4llm.checks import check, common, require
from ml4llm.tokens import decode_token, single_token_id, visible


def _direction(vector: np.ndarray) -> np.ndarray:
    return vector / np.linalg.norm(vector)


def _ids(values: Any) -> list[int]:
    return [int(v) for v in np.asarray(values).ravel()]


def _reference_extremes(
    projections: np.ndarray, n: int, excluded: Sequence[int]
) -> tuple[np.ndarray, np.ndarray]:
    """The n highest and n lowest projection values, excluded ids left out."""
    keep = np.ones(len(projections), dtype=bool)
    keep[list(excluded)] = False
    values = np.sort(projections[keep])
    return values[::-1][:n], values[:n]


def _require_extremes(
    projections: np.ndarray, high: list[int], low: list[int], n: int, excluded: Sequence[int]
) -> None:
    """``high`` and ``low`` are the two ends of ``projections`` (values compared, ties allowed)."""
    require(len(high) == n and len(low) == n, f"give {n} ids for each end")
    require(
        not (set(high) | set(low)) & set(int(i) for i in excluded),
        "an excluded (special) token is in a list: drop those ids before ranking",
    )
    ref_high, ref_low = _reference_extremes(projections, n, excluded)
    require(
        np.allclose(projections[high], ref_high, atol=1e-5),
        "the high end is not the n largest projections, largest first",
    )
    require(
        np.allclose(projections[low], ref_low, atol=1e-5),
        "the low end is not the n smallest projections, smallest first",
    )


@check
def unit_rows(
    embeddings: Any,
    unit_embeddings: Any,
    norms: Any = None,
    zero_rows: Any = None,
    unit_norms: Any = None,
) -> str:
    """Every non-zero row has norm 1 (within 1e-5) and keeps its direction; zero rows stay zero.

    With ``norms``, ``zero_rows`` and ``unit_norms``: the row norms before, the ids of the all-zero
    rows, and the row norms after normalising.
    """
    raw = np.asarray(embeddings, dtype=np.float64)
    unit = np.asarray(unit_embeddings, dtype=np.float64)
    require(unit.shape == raw.shape, f"keep the shape {raw.shape}, got {unit.shape}")
    require(
        not np.isnan(unit).any(),
        "there are NaN values: a zero row divided by its norm 0 gives NaN, keep such rows at zero",
    )
    raw_norms = np.linalg.norm(raw, axis=1)
    after = np.linalg.norm(unit, axis=1)
    nonzero = raw_norms > 0
    require(
        np.allclose(after[nonzero], 1, atol=1e-5),
        "some rows are not unit length: divide each row by its own norm (axis=1, keepdims=True)",
    )
    require(
        np.allclose(unit, common.unit_rows(raw), atol=1e-5),
        "the rows changed direction: divide each row by its norm, nothing else",
    )
    if norms is not None:
        given = np.asarray(norms, dtype=np.float64).ravel()
        require(
            given.shape == raw_norms.shape and np.allclose(given, raw_norms, rtol=1e-5),
            "norms should hold the L2 norm of every row (np.linalg.norm with axis=1)",
        )
    if zero_rows is not None:
        require(
            _ids(zero_rows) == [int(i) for i in np.flatnonzero(~nonzero)],
            "zero_rows should list the ids of the rows whose norm is 0 (np.flatnonzero)",
        )
    if unit_norms is not None:
        given = np.asarray(unit_norms, dtype=np.float64).ravel()
        require(
            given.shape == after.shape and np.allclose(given, after, atol=1e-5),
            "unit_norms should be the row norms of the normalised matrix",
        )
    zero = int((~nonzero).sum())
    return f"{int(nonzero.sum()):,} unit rows" + (
        f", {zero} all-zero row(s) kept at zero" if zero else ""
    )


@check
def axis(embeddings: Any, positive_id: int, negative_id: int, axis: Any, raw_axis: Any) -> str:
    """The unit axis from unit-normalised vectors, and the one from raw vectors."""
    raw = np.asarray(embeddings, dtype=np.float64)
    unit = common.unit_rows(raw)
    a = np.asarray(axis, dtype=np.float64)
    b = np.asarray(raw_axis, dtype=np.float64)
    require(a.shape == (raw.shape[1],), f"the axis has one value per dimension ({raw.shape[1]})")
    require(abs(np.linalg.norm(a) - 1) < 1e-5, "the axis should have length 1: divide by its norm")
    ref = _direction(unit[positive_id] - unit[negative_id])
    require(
        not np.allclose(a, -ref, atol=1e-5),
        "the axis points the wrong way: positive word minus negative word",
    )
    require(
        np.allclose(a, ref, atol=1e-5),
        "build the axis from the unit-normalised rows: normalise(unit[pos] - unit[neg])",
    )
    ref_raw = _direction(raw[positive_id] - raw[negative_id])
    require(
        np.allclose(b, ref_raw, atol=1e-5),
        "the raw axis should be normalise(embeddings[pos] - embeddings[neg]), from the raw rows",
    )
    return f"unit axis; cosine with the raw-vector axis {float(ref @ ref_raw):.4f}"


@check
def axis_lengths(
    embeddings: Any,
    positive_id: int,
    negative_id: int,
    positive_norm: float,
    negative_norm: float,
    raw_difference_norm: float,
    axes_cosine: float,
) -> str:
    """The norms of the two raw vectors and of their difference; the cosine of the two axes."""
    raw = np.asarray(embeddings, dtype=np.float64)
    pos, neg = raw[int(positive_id)], raw[int(negative_id)]
    want = {
        "positive_norm": (positive_norm, np.linalg.norm(pos), "the raw positive word's vector"),
        "negative_norm": (negative_norm, np.linalg.norm(neg), "the raw negative word's vector"),
        "raw_difference_norm": (
            raw_difference_norm,
            np.linalg.norm(pos - neg),
            "the raw difference, before it is normalised",
        ),
    }
    for name, (value, reference, what) in want.items():
        require(
            abs(float(value) - reference) <= 1e-4 * max(1.0, reference),
            f"{name} should be the L2 norm of {what} ({reference:.4f})",
        )
    unit = common.unit_rows(raw)
    ref_cos = float(_direction(unit[positive_id] - unit[negative_id]) @ _direction(pos - neg))
    require(
        abs(float(axes_cosine) - ref_cos) < 1e-5,
        f"axes_cosine should be the dot product of the two unit axes ({ref_cos:.4f})",
    )
    return f"norms {want['positive_norm'][1]:.3f} and {want['negative_norm'][1]:.3f}; cosine {ref_cos:.4f}"


@check
def projections(
    unit_embeddings: Any,
    axis: Any,
    projections: Any,
    positive_id: int,
    negative_id: int,
    pole_value: Any = None,
) -> str:
    """Projections in [-1, 1]; the positive word above 0 and the negative word below 0.

    With ``pole_value``: (1 - cos) / |f - p|, which the positive pole takes (and the negative one
    with a minus sign).
    """
    unit = np.asarray(unit_embeddings, dtype=np.float64)
    a = np.asarray(axis, dtype=np.float64)
    p = np.asarray(projections, dtype=np.float64)
    require(p.shape == (unit.shape[0],), f"one projection per token ({unit.shape[0]:,})")
    require(
        np.all(np.abs(p) <= 1 + 1e-5),
        "projections of unit rows on a unit axis lie in [-1, 1]: normalise rows and axis",
    )
    require(
        np.allclose(p, unit @ a, atol=1e-5),
        "the projections should be the dot products of the unit rows with the axis",
    )
    require(
        p[positive_id] > 0 and p[negative_id] < 0,
        "the positive word should project above 0 and the negative word below 0: "
        "build the axis from unit-normalised rows, positive minus negative",
    )
    if pole_value is not None:
        f, q = unit[int(positive_id)], unit[int(negative_id)]
        reference = (1 - f @ q) / np.linalg.norm(f - q)
        require(
            abs(float(pole_value) - reference) < 1e-5,
            f"pole_value should be (1 - cos(f, p)) / |f - p| of the unit vectors ({reference:.4f})",
        )
        require(
            abs(p[positive_id] - reference) < 1e-4 and abs(p[negative_id] + reference) < 1e-4,
            "the poles should project to +pole_value and -pole_value",
        )
    return (
        f"all {len(p):,} projections in [-1, 1]; positive word {p[positive_id]:+.3f}, "
        f"negative word {p[negative_id]:+.3f}"
    )


@check
def extremes(
    unit_embeddings: Any,
    axis: Any,
    highest: Any,
    lowest: Any,
    excluded_ids: Sequence[int],
    n: int = 10,
) -> str:
    """The n highest and n lowest tokens on the axis, special tokens left out."""
    p = np.asarray(unit_embeddings, dtype=np.float64) @ np.asarray(axis, dtype=np.float64)
    _require_extremes(p, _ids(highest), _ids(lowest), n, list(excluded_ids))
    return f"top and bottom {n} tokens, {len(list(excluded_ids))} excluded ids left out"


@check
def extremes_table(
    table_function: Callable[..., Any], tokenizer: Any, projections: Any, highest: Any, lowest: Any
) -> str:
    """The table: decoded high end (visible spaces), its projections, decoded low end, its projections."""
    p = np.asarray(projections, dtype=np.float64)
    high, low = _ids(highest), _ids(lowest)
    table = table_function(tokenizer, p, np.asarray(high), np.asarray(low))
    require(
        table is not None, "extremes_table returns None: fill in its body (return the DataFrame)"
    )
    require(hasattr(table, "columns"), "extremes_table should return a pandas DataFrame")
    require(
        table.shape == (len(high), 4),
        f"expected {len(high)} rows and 4 columns (high end, proj, low end, proj), got {table.shape}",
    )
    for column, ids, what in [(0, high, "high"), (2, low, "low")]:
        plain = [decode_token(tokenizer, i) for i in ids]
        shown = [visible(text) for text in plain]
        values = [str(v) for v in table.iloc[:, column]]
        require(
            values == shown or values != plain,
            f"column {column + 1}: wrap each decoded token in visible(...) so that spaces show as ␣",
        )
        require(values == shown, f"column {column + 1} should hold the decoded {what}-end tokens")
        require(
            np.allclose(table.iloc[:, column + 1].to_numpy(dtype=float), p[ids], atol=1e-3),
            f"column {column + 2} should hold the projections of the {what}-end tokens",
        )
    return f"{len(high)} rows: both ends decoded with visible spaces, with their projections"


@check
def axis_ends(
    results: Any,
    embeddings: Any,
    tokenizer: Any,
    pairs: Sequence[Sequence[str]],
    n: int,
    exclude_special: bool = True,
) -> str:
    """For each pair: (projections, highest ids, lowest ids), as rank_on_axis returns them."""
    require(len(results) > 0, "still empty: fill in the loop over the pairs first")
    unit = common.unit_rows(embeddings)
    excluded = list(tokenizer.all_special_ids) if exclude_special else []
    for positive, negative in pairs:
        key = (positive, negative)
        require(
            key in results, f"no result for the pair {key}: key the dict by (positive, negative)"
        )
        entry = results[key]
        require(
            isinstance(entry, tuple) and len(entry) == 3,
            f"{key}: store the three values rank_on_axis returns (projections, highest, lowest)",
        )
        proj, high, low = entry
        pos_id = single_token_id(tokenizer, positive)
        neg_id = single_token_id(tokenizer, negative)
        reference = unit @ _direction(unit[pos_id] - unit[neg_id])
        proj = np.asarray(proj, dtype=np.float64)
        require(
            proj.shape == reference.shape, f"{key}: one projection per token ({len(reference):,})"
        )
        require(
            np.allclose(proj, reference, atol=1e-5),
            f"{key}: the projections are off: unit rows onto the unit axis of positive minus negative",
        )
        require(
            proj[pos_id] > 0 > proj[neg_id],
            f"{key}: the positive word should project above 0 and the negative word below 0",
        )
        _require_extremes(reference, _ids(high), _ids(low), int(n), excluded)
    axes = "axis" if len(pairs) == 1 else "axes"
    return f"{len(pairs)} {axes}: projections and the {n} tokens at each end"


@check
def shared_words(
    tokenizer: Any,
    tokenizer2: Any,
    highest: Any,
    highest2: Any,
    lowest: Any,
    lowest2: Any,
    shared_high: Any,
    shared_low: Any,
) -> str:
    """The words in both models' lists at each end, as sorted stripped lowercase strings."""

    def words(tok: Any, ids: Any) -> set[str]:
        return {decode_token(tok, i).strip().lower() for i in _ids(ids)}

    for name, value, first, second in [
        ("shared_high", shared_high, highest, highest2),
        ("shared_low", shared_low, lowest, lowest2),
    ]:
        reference = sorted(words(tokenizer, first) & words(tokenizer2, second))
        require(
            not isinstance(value, (set, frozenset)) or sorted(value) != reference,
            f"{name}: sort the set into a list (sorted(...))",
        )
        require(
            list(value) == reference,
            f"{name} should be the sorted words in both lists ({len(reference)} of them): decode, "
            "strip and lowercase each token before intersecting the two sets",
        )
    return f"{len(list(shared_high))} shared words at the high end, {len(list(shared_low))} at the low end"


@check
def projection_spread(
    projections: Sequence[Any],
    widths: Sequence[int],
    sds: Sequence[float],
    random_sds: Sequence[float],
) -> str:
    """The standard deviation of each model's projections, and 1/sqrt(width) for random directions."""
    require(
        len(sds) == len(projections) and len(random_sds) == len(projections),
        f"give one value per model ({len(projections)})",
    )
    for k, (values, width) in enumerate(zip(projections, widths)):
        reference = float(np.asarray(values, dtype=np.float64).std())
        require(
            abs(float(sds[k]) - reference) < 1e-5,
            f"model {k + 1}: the standard deviation of its projections is {reference:.4f}",
        )
        expected = 1 / np.sqrt(int(width))
        require(
            abs(float(random_sds[k]) - expected) < 1e-6,
            f"model {k + 1}: 1 / sqrt({int(width)}) = {expected:.4f}",
        )
    return ", ".join(f"sd {float(s):.4f} vs {float(r):.4f}" for s, r in zip(sds, random_sds))


@check
def rank_function(
    rank_on_axis: Callable[..., Any], unit_embeddings: Any, tokenizer: Any, pair: Sequence[str]
) -> str:
    """``rank_on_axis`` returns the projections and both ends for a pair, and rejects split words."""
    unit = np.asarray(unit_embeddings)
    positive, negative = pair
    n = 5
    result = rank_on_axis(unit, tokenizer, positive, negative, n)
    require(
        isinstance(result, tuple) and len(result) == 3,
        "return three things: projections, highest ids, lowest ids",
    )
    proj, high, low = result
    pos_id = single_token_id(tokenizer, positive)
    neg_id = single_token_id(tokenizer, negative)
    ref_axis = _direction(unit[pos_id].astype(np.float64) - unit[neg_id])
    ref = unit.astype(np.float64) @ ref_axis
    proj = np.asarray(proj, dtype=np.float64)
    require(proj.shape == ref.shape, f"one projection per token ({len(ref):,})")
    require(
        np.allclose(proj, ref, atol=1e-5),
        f"the projections for {positive}/{negative} are off: unit axis from the two words' rows, "
        "positive minus negative",
    )
    _require_extremes(ref, _ids(high), _ids(low), n, tokenizer.all_special_ids)
    raised = False
    try:
        rank_on_axis(unit, tokenizer, "qzxvbnmtwoplk", negative, n)
    except ValueError:
        raised = True
    require(
        raised,
        "a made-up word that splits into several tokens should raise ValueError: "
        "look the words up with single_token_id",
    )
    return f"{positive}/{negative}: projections and both ends match; a split word raises ValueError"
