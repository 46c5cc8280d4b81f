"""Self-checks for project 13, "Word similarity via distance and cosine".

Parts 1 and 2 take the notebook's simulated vectors; Parts 3 to 5 take the model id and the seed
word: the checks find the seed's id and load the embedding matrix themselves (once per session),
so that a wrong seed id (the [CLS] id of ``tokenizer.encode``) cannot make them pass.
"""

from __future__ import annotations

import contextlib
import functools
import io
from collections.abc import Sequence
from typing import Any

import numpy as np

from ml4llm.checks import CheckFailed, Expect, check, common, require
from ml4llm.models import free, load_model, load_tokenizer
from ml4llm.tokens import single_token_id

SORT_ORDER = "(ascending for distance, descending for cosine, NaN replaced by -inf)"
ONE_ID = "single_token_id(tokenizer, seed_word)"
SPECIAL = f"that is a special token's id ([CLS], which tokenizer.encode puts first, or [SEP]): take the seed word's own id, {ONE_ID}"
GRID = "the grid should span the cosines of the unit-length case (the third), min to max: np.linspace(smallest, largest, 100)"
CURVE = "the curve should be d = sqrt(2 - 2 * cos) at each grid cosine"
RISE = "the grid should rise from the smallest to the largest cosine"
SQUARED = "these are squared distances: take the square root of 2 - 2 cos"
AT_MOST_2 = "unit vectors are at most 2 apart: use the third (unit-length) case"
ROUNDING = "the errors are far above rounding size: normalise both vectors"
GENERAL = "the errors are far above rounding: compare 2 * x'y with x'x + y'y - d**2, where d**2 is the squared distance"
ERRORS64 = "should be 2x'y - (x'x + y'y - d^2) in float64, every term from the float64 copies"
NOT64 = "not float64: cast the vectors with .astype(np.float64) before computing"
NAN_SEED = "set the seed's own distance and cosine to np.nan"
GROUPS = "each token's group by its string: group_names[0] for a token that starts with '[' or is one character, group_names[1] for '##' + one character, group_names[2] else"
UNIT = "the rows are not unit length: divide each row by its own norm (axis=1, keepdims=True)"
ON_UNIT = "seed_measures(unit_embeddings, seed_id), the normalised rows"


@functools.cache
def _tokenizer(model_id: str) -> Any:
    with contextlib.redirect_stdout(io.StringIO()):  # a check prints its own line only
        return load_tokenizer(model_id)


@functools.lru_cache(maxsize=1)
def _embeddings(model_id: str) -> np.ndarray:
    """The model's input embedding matrix (float32, like the notebook's copy)."""
    with contextlib.redirect_stdout(io.StringIO()):
        model = load_model(model_id)
    matrix = model.get_input_embeddings().weight.detach().float().cpu().numpy().copy()
    del model
    free()
    return matrix


def _measures(matrix: np.ndarray, seed_id: int) -> tuple[np.ndarray, np.ndarray]:
    """Distance and cosine of every row to row ``seed_id`` (float32), NaN at the seed."""
    seed = matrix[seed_id]
    dist = np.linalg.norm(matrix - seed, axis=1)
    cos = (matrix @ seed) / (np.linalg.norm(matrix, axis=1) * np.linalg.norm(seed))
    dist[seed_id] = cos[seed_id] = np.nan
    return dist, cos


def _top(dist: np.ndarray, cos: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    ranked = np.nan_to_num(cos, nan=-np.inf)
    return np.argsort(dist, kind="stable")[:k], np.argsort(-ranked, kind="stable")[:k]


def _cases(x_all: Any, y_all: Any, scale: float, cases: Sequence[str]) -> dict[str, Any]:
    """Parts 1 and 2 (unit vectors): distances, cosines, the curve and the identity's errors."""
    x, y = common.as_array(x_all, np.float64), common.as_array(y_all, np.float64)
    unit = [common.unit_rows(v) for v in (x, y)]
    pairs = [(x, y), (x, y * scale), unit]
    dist = [np.linalg.norm(a - b, axis=1) for a, b in pairs]
    dots = [np.sum(a * b, axis=1) for a, b in pairs]
    cos = [
        d / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1) for d, (a, b) in zip(dots, pairs)
    ]
    grid = np.linspace(cos[2].min(), cos[2].max(), 100)
    at_most_2 = (lambda v: np.any(v > 2 + 1e-5), AT_MOST_2)
    dist_traps = [
        ({cases[1]: dist[0]}, "scale the second vector of each pair by `scale`"),
        ({cases[2]: dist[0]}, "divide both vectors by their norms for the unit-length case"),
    ]
    return {
        "distances": Expect(
            dict(zip(cases, dist)), "use np.linalg.norm(a - b) for each pair", traps=dist_traps
        ),
        "cosines": Expect(
            dict(zip(cases, cos)),
            "divide a @ b by both norms",
            traps=[(dict(zip(cases, dots)), "these are dot products: divide a @ b by both norms")],
        ),
        "cos_grid": Expect(grid, GRID, traps=[(lambda v: np.any(np.diff(v) <= 0), RISE)]),
        "dist_curve": Expect(np.sqrt(2 - 2 * grid), CURVE, traps=[(2 - 2 * grid, SQUARED)]),
        "unit_cos": Expect(cos[2], "the cosines of the third (unit-length) case"),
        "unit_dist": Expect(
            dist[2], "the distances of the third (unit-length) case", traps=[at_most_2]
        ),
        "unit_errors": Expect(
            cos[2] - (1 - dist[2] ** 2 / 2),
            "the errors should be cos - (1 - d**2 / 2) for each simulation",
            traps=[(lambda v: np.abs(v).max() > 1e-3, ROUNDING)],
        ),
    }


def _not_all_zero(errors: Any, name: str, how: str) -> None:
    """Rounding errors lie within any tolerance of 0: a value never computed must fail anyway."""
    require(np.any(common.as_array(errors) != 0), f"{name} is all zero: compute {how}")


@check(reference=_cases)
def simulation(x_all, y_all, scale, cases, *, distances, cosines) -> str:
    """Distances and cosines of the three cases: standard, one vector scaled, both unit length."""
    change = np.abs(
        common.as_array(cosines[cases[0]], np.float64)
        - common.as_array(cosines[cases[1]], np.float64)
    )
    return (
        f"{len(x_all)} simulations, 3 cases; scaling one vector leaves every cosine unchanged "
        f"(max change {change.max():.1e}) but not the distances"
    )


@check(reference=_cases)
def identity_curve(x_all, y_all, scale, cases, *, cos_grid, dist_curve, ref) -> str:
    """The reference curve d = sqrt(2 - 2 cos) over the unit-length case's range of cosines."""
    grid = ref["cos_grid"]
    return f"{len(grid)} points of d = sqrt(2 - 2 cos), cos from {grid[0]:.3f} to {grid[-1]:.3f}"


@check(reference=_cases)
def unit_identity(x_all, y_all, scale, cases, *, unit_cos, unit_dist, unit_errors) -> str:
    """For unit vectors, cos = 1 - d**2 / 2 up to rounding: max |error| < 1e-5."""
    _not_all_zero(unit_errors, "unit_errors", "cos - (1 - d**2 / 2)")
    return f"max |cos - (1 - d^2/2)| = {np.abs(common.as_array(unit_errors)).max():.1e} < 1e-5"


def _general(x_new: Any, y_new: Any) -> dict[str, Any]:
    """Part 2: the general identity's terms and its float64 errors."""
    x, y = common.as_array(x_new, np.float64), common.as_array(y_new, np.float64)
    size = np.sum(x**2, axis=1) + np.sum(y**2, axis=1)
    errors = 2 * np.sum(x * y, axis=1) - (size - np.sum((x - y) ** 2, axis=1))
    return {
        # float32 rounding of terms this size; float64 rounding in errors64
        "general_errors": Expect(errors, GENERAL, atol=1e-5 * float(size.max()), rtol=0),
        "term_size": Expect(size, "should be x'x + y'y for each simulation (axis=1)"),
        "errors64": Expect(
            errors,
            ERRORS64,
            atol=1e-12 * float(size.max()),
            traps=[(lambda v: v.dtype != np.float64, NOT64)],
        ),
    }


@check(reference=_general)
def general_identity(x_new, y_new, *, general_errors, term_size, errors64, ref) -> str:
    """2 x'y = x'x + y'y - d**2 for any vectors: float32 rounding, and far less in float64."""
    _not_all_zero(general_errors, "general_errors", "2 * x'y - (x'x + y'y - d**2)")
    _not_all_zero(errors64, "errors64", "the same errors from the float64 copies")
    worst = np.abs(common.as_array(general_errors, np.float64)) / ref["term_size"]
    return f"float32 errors at most {worst.max():.1e} of the terms; float64 errors far smaller"


@functools.lru_cache(maxsize=2)  # the fuzz calls a check many times: compute each reference once
def _seed(model_id: str, seed_word: str, top_k: int = 10) -> dict[str, Any]:
    """Parts 3 and 4: the seed's id, every token's distance and cosine to it, the top k."""
    tokenizer, matrix = _tokenizer(model_id), _embeddings(model_id)
    try:
        seed_id = single_token_id(tokenizer, seed_word)
    except ValueError as err:
        raise CheckFailed(f"choose another seed word: {err}") from None
    specials = set(tokenizer.all_special_ids)
    dist, cos = _measures(matrix, seed_id)
    by_distance, by_cosine = _top(dist, cos, top_k)
    keep = ~np.isnan(dist)
    nan_hint = (lambda v: v.shape == dist.shape and not np.isnan(v[seed_id]), NAN_SEED)
    special = (lambda v: v.ndim == 0 and int(v) in specials, SPECIAL)
    return {
        "seed_id": Expect(seed_id, f"should be the seed word's own id: {ONE_ID}", traps=[special]),
        "seed_distances": Expect(
            dist,
            "the distances are off: np.linalg.norm(matrix - seed_vector, axis=1)",
            traps=[nan_hint],
        ),
        "seed_cosines": Expect(
            cos,
            "the cosines are off: divide the dot products by the row norms and the seed's norm",
            traps=[nan_hint],
        ),
        "distance_cosine_r": float(np.corrcoef(dist[keep], cos[keep])[0, 1]),
        "top_by_distance": by_distance,
        "top_by_cosine": by_cosine,
        "shared": set(by_distance.tolist()) & set(by_cosine.tolist()),
    }


def _require_top(ids: Any, dist: np.ndarray, cos: np.ndarray, seed_id: int, k: int, name: str):
    """``ids`` are k distinct ids with the k best values (ascending distance or descending cosine)."""
    got = common.require_array(ids, name=name, shape=(k,), kind="integers")
    what = "distance" if "distance" in name else "cosine"
    values = dist if what == "distance" else -cos
    best = np.sort(values[~np.isnan(values)])[:k]
    require(
        np.all((got >= 0) & (got < len(dist))), f"{name}: expected token ids 0 … {len(dist) - 1}"
    )
    require(
        seed_id not in got.tolist(), f"{name}: the seed itself is in the {what} list: exclude it"
    )
    require(len(set(got.tolist())) == k, f"{name}: the {what} list repeats an id")
    require(
        np.allclose(values[got], best, rtol=1e-5, atol=1e-6),
        f"{name}: the {what} list is not the top {k}: check the sort order {SORT_ORDER}",
    )
    return got


@check(reference=_seed)
def seed_measures(
    model_id, seed_word, *, seed_id, seed_distances, seed_cosines, distance_cosine_r, ref
) -> str:
    """The seed's id; every token's distance and cosine to it (NaN at the seed); their Pearson r."""
    r = distance_cosine_r
    if isinstance(r, float) and np.isnan(r):
        raise CheckFailed("distance_cosine_r is NaN: leave out the seed's NaN (pandas .corr does)")
    common.require_values(
        r,
        ref["distance_cosine_r"],
        name="distance_cosine_r",
        hint="the correlation of distance and cosine over all tokens but the seed (Pearson r)",
    )
    return f"{len(ref['seed_distances']):,} distances and cosines, self-match excluded; r = {float(r):.3f}"


def _min_max() -> dict[str, Any]:
    return {"min_max": lambda v: (v - np.nanmin(v)) / (np.nanmax(v) - np.nanmin(v))}


@check(reference=_min_max)
def min_max(*, min_max) -> str:
    """min_max scales to [0, 1] and keeps NaN where it was."""
    values = np.array([2.0, np.nan, 4.0, 6.0, 3.0])
    result = common.call(min_max, values.copy(), name="min_max", returns="the scaled array")
    scaled = common.require_array(result, name="min_max(values)", shape=values.shape)
    require(
        bool(np.isnan(scaled[1])) and int(np.isnan(scaled).sum()) == 1,
        "NaN should stay NaN, and only NaN: use np.nanmin and np.nanmax",
    )
    require(
        np.allclose(np.delete(scaled, 1), [0.0, 0.5, 1.0, 0.25]),
        "the smallest value should become 0 and the largest 1: (values - min) / (max - min)",
    )
    return "[2, NaN, 4, 6, 3] -> [0, NaN, 0.5, 1, 0.25]"


@functools.cache
def _group_codes(model_id: str, n: int) -> tuple[int, ...]:
    groups = []
    for token in _tokenizer(model_id).convert_ids_to_tokens(list(range(n))):
        one = token.startswith("[") or len(token) == 1
        groups.append(0 if one else 1 if token.startswith("##") and len(token) == 3 else 2)
    return tuple(groups)


def _groups(model_id: str, group_names: Sequence[str]) -> dict[str, Any]:
    """Each token's norm and group (0: '[...]' or one character, 1: '##' + one, 2: the rest)."""
    matrix, names = _embeddings(model_id), list(group_names)
    return {
        "token_norms": Expect(
            np.linalg.norm(matrix, axis=1),
            "should be the length of each row (np.linalg.norm with axis=1)",
        ),
        "groups": Expect(
            [names[g] for g in _group_codes(model_id, len(matrix))],
            GROUPS,
            traps=[
                (
                    lambda v: not set(v.ravel().tolist()) <= set(names),
                    "use the names in group_names",
                )
            ],
        ),
    }


@check(reference=_groups)
def token_groups(model_id, group_names, *, token_norms, groups) -> str:
    """Each token's vector norm, and its group by the token string."""
    counts = {name: list(groups).count(name) for name in group_names}
    return ", ".join(f"{name}: {count:,}" for name, count in counts.items())


@check(reference=_seed)
def top_neighbours(
    model_id, seed_word, top_k, *, seed_id, top_by_distance, top_by_cosine, shared, ref
) -> str:
    """The k nearest tokens by distance and by cosine, the seed excluded, and the ids in both."""
    dist, cos, seed = ref["seed_distances"], ref["seed_cosines"], ref["seed_id"]
    by_d = _require_top(top_by_distance, dist, cos, seed, top_k, "top_by_distance")
    by_c = _require_top(top_by_cosine, dist, cos, seed, top_k, "top_by_cosine")
    both = set(by_d.tolist()) & set(by_c.tolist())
    require(
        isinstance(shared, (set, frozenset, list, tuple))
        and all(isinstance(i, (int, np.integer)) for i in shared)
        and {int(i) for i in shared} == both,
        "shared should hold the ids that are in both lists (a set intersection)",
    )
    return f"top {top_k} by distance and by cosine, seed excluded ({len(both)} shared)"


@functools.lru_cache(maxsize=1)
def _unit(model_id: str, seed_word: str, top_k: int = 10) -> dict[str, Any]:
    """Part 5: the normalised rows' norms, the seed's measures and neighbours on them."""
    ref = _seed(model_id, seed_word, top_k)
    raw = _embeddings(model_id)
    unit = raw / np.linalg.norm(raw, axis=1, keepdims=True)
    norms = np.linalg.norm(unit, axis=1)
    dist, cos = _measures(unit, ref["seed_id"].value)
    del unit
    by_distance, _ = _top(dist, cos, top_k)
    return {
        "seed_id": ref["seed_id"],
        "unit_norms": Expect(
            norms,
            "should be the norm of every row of the normalised matrix (axis=1)",
            atol=1e-6,
            rtol=0,
            traps=[(lambda v: v.shape == norms.shape and not np.allclose(v, 1, atol=1e-5), UNIT)],
        ),
        "unit_distances": Expect(
            dist,
            f"each normalised row should point in its original row's direction: {ON_UNIT}",
            traps=[(ref["seed_distances"].value, f"these are the distances of Part 3: {ON_UNIT}")],
        ),
        "unit_cosines": Expect(cos, f"the cosines on the normalised rows: {ON_UNIT}"),
        "unit_by_distance": by_distance,
        "unit_by_cosine": by_distance,
    }


@check(reference=_unit)
def normalised_rankings(
    model_id,
    seed_word,
    top_k,
    *,
    seed_id,
    unit_norms,
    unit_distances,
    unit_cosines,
    unit_by_distance,
    unit_by_cosine,
    ref,
) -> str:
    """Unit rows; after normalising, the top k by distance equals the top k by cosine."""
    dist, cos = ref["unit_distances"], ref["unit_cosines"]
    by_d = _require_top(unit_by_distance, dist, cos, ref["seed_id"], top_k, "unit_by_distance")
    by_c = common.require_array(
        unit_by_cosine, name="unit_by_cosine", shape=(top_k,), kind="integers"
    )
    require(
        np.array_equal(by_d, by_c),
        "unit_by_cosine: after normalising, the distance and cosine rankings should be "
        "identical, id for id",
    )
    return f"unit rows; the top {top_k} by distance equals the top {top_k} by cosine, seed excluded"
