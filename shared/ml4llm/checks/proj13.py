"""Self-checks for project 13, "Word similarity via distance and cosine"."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ml4llm.checks import check, require


def _as_list(values: Mapping[str, Any] | Sequence[Any]) -> list[np.ndarray]:
    """The three per-case arrays, from a dict (in its order) or a list."""
    items = list(values.values()) if isinstance(values, Mapping) else list(values)
    return [np.asarray(v, dtype=np.float64) for v in items]


def _reference_measures(matrix: np.ndarray, seed_id: int) -> tuple[np.ndarray, np.ndarray]:
    """Distance and cosine of every row to row ``seed_id``, self set to NaN.

    float32 like the embeddings (float64 would double the memory of a large vocabulary); the
    tolerances of the checks are far above float32 rounding.
    """
    m = np.asarray(matrix, dtype=np.float32)
    seed = m[seed_id]
    dist = np.linalg.norm(m - seed, axis=1)
    cos = (m @ seed) / (np.linalg.norm(m, axis=1) * np.linalg.norm(seed))
    dist[seed_id] = np.nan
    cos[seed_id] = np.nan
    return dist, cos


def _ids(values: Any) -> list[int]:
    return [int(v) for v in np.asarray(values).ravel()]


@check
def simulation(x_all: Any, y_all: Any, scale: float, distances: Any, cosines: Any) -> str:
    """Distances and cosines of the three cases: standard, one vector scaled, both unit length."""
    x = np.asarray(x_all, dtype=np.float64)
    y = np.asarray(y_all, dtype=np.float64)
    dist = _as_list(distances)
    cos = _as_list(cosines)
    require(len(dist) == 3 and len(cos) == 3, "give three cases: standard, scaled, unit length")
    n = x.shape[0]
    require(
        all(d.shape == (n,) for d in dist) and all(c.shape == (n,) for c in cos),
        f"each case needs one value per simulation ({n})",
    )
    require(
        any(np.any(d != 0) for d in dist) or any(np.any(c != 0) for c in cos),
        "the distances and cosines are still all zero: fill in the loop first",
    )
    pairs = [
        (x, y),
        (x, y * scale),
        (
            x / np.linalg.norm(x, axis=1, keepdims=True),
            y / np.linalg.norm(y, axis=1, keepdims=True),
        ),
    ]
    names = ["both standard", "one scaled", "both unit length"]
    for name, (a, b), d, c in zip(names, pairs, dist, cos):
        ref_d = np.linalg.norm(a - b, axis=1)
        ref_c = np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
        require(
            np.allclose(d, ref_d, rtol=1e-4, atol=1e-5),
            f"the distances of case {name!r} are off: use np.linalg.norm(a - b) for each pair",
        )
        require(
            np.allclose(c, ref_c, atol=1e-5),
            f"the cosines of case {name!r} are off: divide a @ b by both norms",
        )
    return (
        f"{n} simulations, 3 cases; scaling one vector leaves every cosine unchanged "
        f"(max change {np.abs(cos[0] - cos[1]).max():.1e}) but not the distances"
    )


@check
def identity_curve(cosines: Any, cos_grid: Any, dist_curve: Any) -> str:
    """The reference curve d = sqrt(2 - 2 cos) over the unit-length case's range of cosines."""
    unit = _as_list(cosines)[-1]
    grid = np.asarray(cos_grid, dtype=np.float64).ravel()
    curve = np.asarray(dist_curve, dtype=np.float64).ravel()
    require(len(grid) >= 2, "the grid needs many cosines (np.linspace over the range)")
    require(len(curve) == len(grid), "give one distance per grid cosine")
    require(
        np.all(np.diff(grid) > 0), "the grid should rise from the smallest to the largest cosine"
    )
    require(
        np.isclose(grid[0], unit.min(), atol=1e-6) and np.isclose(grid[-1], unit.max(), atol=1e-6),
        "the grid should span the cosines of the unit-length case (the third), min to max",
    )
    require(
        not np.allclose(curve, 2 - 2 * grid),
        "these are squared distances: take the square root of 2 - 2 cos",
    )
    require(
        np.allclose(curve, np.sqrt(2 - 2 * grid), atol=1e-6),
        "the curve should be d = sqrt(2 - 2 * cos) at each grid cosine",
    )
    return f"{len(grid)} points of d = sqrt(2 - 2 cos), cos from {grid[0]:.3f} to {grid[-1]:.3f}"


@check
def unit_identity(unit_cosines: Any, unit_distances: Any, errors: Any) -> str:
    """For unit vectors, cos = 1 - d**2 / 2 up to rounding: max |error| < 1e-5."""
    c = np.asarray(unit_cosines, dtype=np.float64)
    d = np.asarray(unit_distances, dtype=np.float64)
    e = np.asarray(errors, dtype=np.float64)
    require(e.shape == c.shape, f"one error per simulation: expected {c.shape}, got {e.shape}")
    require(
        np.all((d >= 0) & (d <= 2 + 1e-5)),
        "unit vectors are at most 2 apart: use the third (unit-length) case",
    )
    require(
        np.allclose(e, c - (1 - d**2 / 2), atol=1e-6),
        "the errors should be cos - (1 - d**2 / 2) for each simulation",
    )
    worst = float(np.abs(e).max())
    require(worst < 1e-5, f"max |error| is {worst:.2e}, not rounding size: normalise both vectors")
    return f"max |cos - (1 - d^2/2)| = {worst:.1e} < 1e-5"


@check
def general_identity(x: Any, y: Any, errors: Any) -> str:
    """2 x'y = x'x + y'y - d**2 for any vectors: the errors are rounding relative to the terms."""
    x64 = np.asarray(x, dtype=np.float64)
    y64 = np.asarray(y, dtype=np.float64)
    e = np.asarray(errors, dtype=np.float64)
    n = x64.shape[0]
    require(e.shape == (n,), f"one error per simulation: expected ({n},), got {e.shape}")
    size = np.sum(x64**2, axis=1) + np.sum(y64**2, axis=1)
    relative = np.abs(e) / size
    worst = float(relative.max())
    require(
        worst < 1e-5,
        f"the largest error is {worst:.1e} of x'x + y'y, far above rounding: compare "
        "2 * x'y with x'x + y'y - d**2, where d**2 is the squared distance",
    )
    return f"max error {np.abs(e).max():.1e}, at most {worst:.1e} of the size of the terms"


@check
def identity_precision(x: Any, y: Any, term_size: Any, errors64: Any) -> str:
    """The size of the terms x'x + y'y, and the identity's errors computed in float64."""
    x64 = np.asarray(x, dtype=np.float64)
    y64 = np.asarray(y, dtype=np.float64)
    n = x64.shape[0]
    size_ref = np.sum(x64**2, axis=1) + np.sum(y64**2, axis=1)
    size = np.asarray(term_size, dtype=np.float64)
    require(size.shape == (n,), f"term_size: one value per simulation, expected ({n},)")
    require(
        np.allclose(size, size_ref, rtol=1e-5),
        "term_size should be x'x + y'y for each simulation (sums over axis=1)",
    )
    e = np.asarray(errors64)
    require(e.shape == (n,), f"errors64: one error per simulation, expected ({n},), got {e.shape}")
    require(
        e.dtype == np.float64,
        f"errors64 is {e.dtype}: cast the vectors with .astype(np.float64) before computing",
    )
    ref = 2 * np.sum(x64 * y64, axis=1) - (
        np.sum(x64**2, axis=1) + np.sum(y64**2, axis=1) - np.sum((x64 - y64) ** 2, axis=1)
    )
    worst = float(np.max(np.abs(e) / size_ref))
    require(
        worst < 1e-12,
        f"the float64 errors reach {worst:.1e} of the terms: compute every term from the "
        "float64 copies",
    )
    require(
        np.allclose(e, ref, atol=1e-9), "errors64 should be 2x'y - (x'x + y'y - d^2) in float64"
    )
    return (
        f"float64 errors at most {float(np.abs(e).max()):.1e}, {worst:.1e} of the size of the terms"
    )


@check
def seed_measures(
    embeddings: Any, seed_id: int, distances: Any, cosines: Any, correlation: Any = None
) -> str:
    """Distance and cosine of every token to the seed, with NaN at the seed itself.

    With ``correlation``: also their Pearson r over all tokens but the seed.
    """
    ref_d, ref_c = _reference_measures(embeddings, int(seed_id))
    d = np.asarray(distances, dtype=np.float64)
    c = np.asarray(cosines, dtype=np.float64)
    require(
        d.shape == ref_d.shape and c.shape == ref_c.shape,
        f"one value per token: expected {ref_d.shape}, got {d.shape} and {c.shape}",
    )
    require(
        np.isnan(d[seed_id]) and np.isnan(c[seed_id]),
        "set the seed's own distance and cosine to np.nan",
    )
    require(
        int(np.isnan(d).sum()) == 1 and int(np.isnan(c).sum()) == 1,
        "only the seed's own entry should be NaN",
    )
    mask = ~np.isnan(ref_d)
    require(
        np.allclose(d[mask], ref_d[mask], rtol=1e-4, atol=1e-5),
        "the distances are off: np.linalg.norm(matrix - seed_vector, axis=1)",
    )
    require(
        np.allclose(c[mask], ref_c[mask], atol=1e-5),
        "the cosines are off: divide the dot products by the row norms and the seed's norm",
    )
    if correlation is not None:
        r = float(np.corrcoef(ref_d[mask], ref_c[mask])[0, 1])
        require(
            not np.isnan(float(correlation)), "the correlation is NaN: leave out the seed's NaN"
        )
        require(
            abs(float(correlation) - r) < 1e-4,
            f"the correlation of distance and cosine over all tokens should be {r:.4f}",
        )
        return f"{len(d):,} distances and cosines, self-match excluded; r = {r:.3f}"
    return f"{len(d):,} distances and cosines, self-match excluded"


@check
def min_max(function: Callable[[Any], Any]) -> str:
    """min_max scales to [0, 1] and keeps NaN where it was."""
    values = np.array([2.0, np.nan, 4.0, 6.0, 3.0])
    result = function(values.copy())
    require(result is not None, "min_max returns None: fill in its body (it must return the array)")
    scaled = np.asarray(result, dtype=np.float64)
    require(scaled.shape == values.shape, "min_max should return one value per input value")
    require(
        bool(np.isnan(scaled[1])) and int(np.isnan(scaled).sum()) == 1,
        "NaN should stay NaN, and only NaN: use np.nanmin and np.nanmax",
    )
    require(
        np.allclose(np.delete(scaled, 1), [0.0, 0.5, 1.0, 0.25]),
        "the smallest value should become 0 and the largest 1: (values - min) / (max - min)",
    )
    return "[2, NaN, 4, 6, 3] -> [0, NaN, 0.5, 1, 0.25]"


@check
def token_groups(
    embeddings: Any,
    token_strings: Sequence[str],
    group_names: Sequence[str],
    token_norms: Any,
    groups: Sequence[str],
) -> str:
    """Each token's vector norm, and its group by the token string."""
    matrix = np.asarray(embeddings, dtype=np.float32)
    norms = np.asarray(token_norms, dtype=np.float64).ravel()
    require(norms.shape == (len(matrix),), f"one norm per token: expected {len(matrix):,} values")
    require(
        np.allclose(norms, np.linalg.norm(matrix, axis=1), rtol=1e-5),
        "token_norms should be the length of each row (np.linalg.norm with axis=1)",
    )
    groups = list(groups)
    require(groups, "the list of groups is still empty: fill in the loop first")
    require(
        len(groups) == len(token_strings),
        f"one group per token: expected {len(token_strings):,}, got {len(groups):,}",
    )
    unknown = set(groups) - set(group_names)
    require(not unknown, f"use the names in group_names, not {sorted(unknown)[:3]}")
    for token, group in zip(token_strings, groups):
        if token.startswith("[") or len(token) == 1:
            want = group_names[0]
        elif token.startswith("##") and len(token) == 3:
            want = group_names[1]
        else:
            want = group_names[2]
        require(group == want, f"the token {token!r} belongs to {want!r}, not {group!r}")
    counts = {name: groups.count(name) for name in group_names}
    return ", ".join(f"{name}: {count:,}" for name, count in counts.items())


def _check_top(
    ids: list[int], values: np.ndarray, reference: np.ndarray, seed_id: int, k: int, what: str
) -> None:
    """``ids`` are the k best by ``values`` (taken from the reference), within rounding."""
    require(len(ids) == k, f"the {what} list needs {k} ids, got {len(ids)}")
    require(seed_id not in ids, f"the seed itself is in the {what} list: exclude it")
    require(len(set(ids)) == k, f"the {what} list repeats an id")
    got = values[ids]
    require(
        np.allclose(got, reference[:k], rtol=1e-5, atol=1e-6),
        f"the {what} list is not the top {k}: check the sort order "
        "(ascending for distance, descending for cosine, NaN replaced by -inf)",
    )


@check
def top_neighbours(
    embeddings: Any,
    seed_id: int,
    top_by_distance: Any,
    top_by_cosine: Any,
    k: int = 10,
    shared: Any = None,
) -> str:
    """The k nearest tokens by distance and by cosine, the seed excluded (and the ids in both)."""
    ref_d, ref_c = _reference_measures(embeddings, int(seed_id))
    by_d = _ids(top_by_distance)
    by_c = _ids(top_by_cosine)
    sorted_d = np.sort(ref_d[~np.isnan(ref_d)])
    sorted_c = -np.sort(-ref_c[~np.isnan(ref_c)])
    _check_top(by_d, ref_d, sorted_d, int(seed_id), k, "distance")
    _check_top(by_c, ref_c, sorted_c, int(seed_id), k, "cosine")
    if shared is not None:
        require(
            {int(i) for i in shared} == set(by_d) & set(by_c),
            "shared should hold the ids that are in both lists (a set intersection)",
        )
    return f"top {k} by distance and by cosine, seed excluded ({len(set(by_d) & set(by_c))} shared)"


@check
def normalised_rankings(
    embeddings: Any,
    seed_id: int,
    unit_embeddings: Any,
    top_by_distance: Any,
    top_by_cosine: Any,
    k: int = 10,
    unit_norms: Any = None,
) -> str:
    """Unit rows; after normalising, the top k by distance equals the top k by cosine."""
    raw = np.asarray(embeddings, dtype=np.float32)
    unit = np.asarray(unit_embeddings, dtype=np.float32)
    require(unit.shape == raw.shape, f"the normalised matrix should keep the shape {raw.shape}")
    norms = np.linalg.norm(unit, axis=1)
    require(
        np.allclose(norms, 1, atol=1e-5),
        "the rows are not unit length: divide each row by its own norm (axis=1, keepdims=True)",
    )
    require(
        np.allclose(unit, raw / np.linalg.norm(raw, axis=1, keepdims=True), atol=1e-5),
        "each normalised row should point in its original row's direction",
    )
    if unit_norms is not None:
        given = np.asarray(unit_norms, dtype=np.float64).ravel()
        require(
            given.shape == norms.shape and np.allclose(given, norms, atol=1e-6),
            "unit_norms should be the norm of every row of the normalised matrix (axis=1)",
        )
    by_d = _ids(top_by_distance)
    by_c = _ids(top_by_cosine)
    ref_d, _ = _reference_measures(unit, int(seed_id))
    _check_top(by_d, ref_d, np.sort(ref_d[~np.isnan(ref_d)]), int(seed_id), k, "distance")
    require(
        by_d == by_c,
        "after normalising, the distance and cosine rankings should be identical, id for id",
    )
    return f"unit rows; the top {k} by distance equals the top {k} by cosine, seed excluded"
