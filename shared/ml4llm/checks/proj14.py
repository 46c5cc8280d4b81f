"""Self-checks for project 14, "Linear semantic axes"."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ml4llm.checks import check, require
from ml4llm.tokens import single_token_id


def _unit(matrix: np.ndarray) -> np.ndarray:
    """Rows divided by their norms, zero rows kept at zero (float64)."""
    m = np.asarray(matrix, dtype=np.float64)
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return m / np.where(norms > 0, norms, 1.0)


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
def unit_rows(embeddings: Any, unit_embeddings: Any) -> str:
    """Every non-zero row has norm 1 (within 1e-5) and keeps its direction; zero rows stay zero."""
    raw = np.asarray(embeddings, dtype=np.float64)
    unit = np.asarray(unit_embeddings, dtype=np.float64)
    require(unit.shape == raw.shape, f"keep the shape {raw.shape}, got {unit.shape}")
    require(
        not np.isnan(unit).any(),
        "there are NaN values: a zero row divided by its norm 0 gives NaN, keep such rows at zero",
    )
    raw_norms = np.linalg.norm(raw, axis=1)
    norms = np.linalg.norm(unit, axis=1)
    nonzero = raw_norms > 0
    require(
        np.allclose(norms[nonzero], 1, atol=1e-5),
        "some rows are not unit length: divide each row by its own norm (axis=1, keepdims=True)",
    )
    require(
        np.allclose(unit, _unit(raw), atol=1e-5),
        "the rows changed direction: divide each row by its norm, nothing else",
    )
    zero = int((~nonzero).sum())
    return f"{int(nonzero.sum()):,} unit rows" + (
        f", {zero} all-zero row(s) kept at zero" if zero else ""
    )


@check
def axis(embeddings: Any, positive_id: int, negative_id: int, axis: Any, raw_axis: Any) -> str:
    """The unit axis from unit-normalised vectors, and the one from raw vectors."""
    raw = np.asarray(embeddings, dtype=np.float64)
    unit = _unit(raw)
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
def projections(
    unit_embeddings: Any, axis: Any, projections: Any, positive_id: int, negative_id: int
) -> str:
    """Projections in [-1, 1]; the positive word above 0 and the negative word below 0."""
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
