"""Self-checks for project 14, "Linear semantic axes".

Every reference starts from the model id and the words: the checks load the embedding matrix and
the tokenizer themselves (quietly, once per session) and look each word up with its leading
space, so that an id looked up wrongly upstream cannot make them pass.
"""

from __future__ import annotations

import contextlib
import functools
import io
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ml4llm.checks import CheckFailed, Expect, check, common, has_blank, require
from ml4llm.models import free, input_embeddings, load_model, load_tokenizer
from ml4llm.tokens import decode_token, encode, single_token_id, visible

SIGN = (
    "the positive word should project above 0 and the negative word below 0: build the axis from "
    "unit-normalised rows, positive minus negative"
)

RANK_HINT = (
    "they are off: unit rows onto the unit axis of positive minus negative, each word looked up "
    "with its leading space (single_token_id)"
)


@functools.cache
def _tokenizer(model_id: str) -> Any:
    with contextlib.redirect_stdout(io.StringIO()):  # a check prints its own line only
        return load_tokenizer(model_id)


@functools.cache
def _unit(model_id: str, raw: bool = False) -> np.ndarray:
    """The model's input embedding matrix (``raw``), or its rows normalised (float32)."""
    if not raw:
        return common.unit_rows(_unit(model_id, raw=True), dtype=np.float32)
    with contextlib.redirect_stdout(io.StringIO()):
        model = load_model(model_id)
    matrix = input_embeddings(model)
    del model
    free()
    return matrix


def _direction(vector: np.ndarray) -> np.ndarray:
    return vector.astype(np.float64) / np.linalg.norm(vector)


def _ids(model_id: str, words: Sequence[str], bare: bool = False) -> list[int]:
    """Each word's id with its leading space; ``bare``: the first piece of the bare word."""
    tokenizer = _tokenizer(model_id)
    try:
        return [encode(tokenizer, w)[0] if bare else single_token_id(tokenizer, w) for w in words]
    except ValueError as err:
        raise CheckFailed(f"replace the word: {err}") from None


def _extremes(projections: np.ndarray, n: int, excluded: Sequence[int]):
    order = np.argsort(projections, kind="stable")
    order = order[~np.isin(order, list(excluded))]
    return order[::-1][:n].copy(), order[:n]


def _rank_on_axis(unit_matrix, tokenizer, positive, negative, n=10, exclude_special=True):
    """The right rank_on_axis: projections on the unit axis and the ids at both ends."""
    excluded = tokenizer.all_special_ids if exclude_special else []
    pos, neg = single_token_id(tokenizer, positive), single_token_id(tokenizer, negative)
    proj = common.as_array(unit_matrix) @ _direction(unit_matrix[pos] - unit_matrix[neg])
    return (proj, *_extremes(proj, n, excluded))


def _table(tokenizer, projections, highest, lowest, labels=("high", "low")) -> pd.DataFrame:
    """The right extremes_table: both ends decoded with visible spaces, with their projections."""
    columns = {}
    for label, ids in zip(labels, (highest, lowest)):
        columns[f"{label} end"] = [visible(decode_token(tokenizer, i)) for i in ids]
        columns[f"proj ({label})"] = np.round(projections[ids], 3)
    return pd.DataFrame(columns)


def _rows(model_id: str) -> dict[str, Any]:
    """Part 1: the row norms, the zero rows and the unit rows."""
    norms, unit = np.linalg.norm(_unit(model_id, raw=True), axis=1), _unit(model_id)
    return {
        "unit_embeddings": unit,
        "norms": Expect(norms, "the L2 norm of every row (np.linalg.norm with axis=1)"),
        "zero_rows": Expect(np.flatnonzero(norms == 0), "the ids of the rows whose norm is 0"),
        "unit_norms": Expect(np.linalg.norm(unit, axis=1), "the row norms of the normalised rows"),
    }


def _axis(model_id: str, pair: Sequence[str], top_n: int = 10, exclude_special: bool = True):
    """Parts 2 and 3, each first value with a trap for the bare words' ids (no leading space)."""
    raw, unit = _unit(model_id, raw=True), _unit(model_id)
    (pos, neg), (bare_pos, bare_neg) = _ids(model_id, pair), _ids(model_id, pair, bare=True)
    bare = (
        f"built from the ids of the bare words {list(pair)}: inside a text a word carries a "
        "leading space, which byte-level BPE writes into the token; look the words up with "
        "single_token_id"
    )
    axis, bare_axis = _direction(unit[pos] - unit[neg]), _direction(unit[bare_pos] - unit[bare_neg])
    raw_axis, projections = _direction(raw[pos] - raw[neg]), unit @ axis
    norms, cosine = np.linalg.norm(raw, axis=1), float(axis @ raw_axis)
    f, p = unit[[pos, neg]].astype(np.float64)
    pole = (1 - f @ p) / np.linalg.norm(f - p)
    length = (lambda a: abs(np.linalg.norm(a) - 1) > 1e-5, "the axis should have length 1")
    poles = (
        lambda v: abs(v[pos] - pole) > 1e-4 or abs(v[neg] + pole) > 1e-4,
        f"the poles should project to +pole_value and -pole_value (±{pole:.4f}): the unit rows "
        "on the unit axis",
    )
    outside = "projections of unit rows on a unit axis lie in [-1, 1]: normalise rows and axis"
    high, low = _extremes(projections, top_n, _excluded(model_id, exclude_special))
    return {
        "axis": Expect(
            axis,
            "build the axis from the unit-normalised rows: normalise(unit[pos] - unit[neg])",
            traps=[(bare_axis, bare), (-axis, "the axis points the wrong way"), length],
        ),
        "raw_axis": Expect(
            raw_axis, "normalise(embeddings[pos] - embeddings[neg]), from the raw rows", [length]
        ),
        "positive_norm": Expect(
            norms[pos],
            f"the L2 norm of the raw positive word's vector ({norms[pos]:.4f})",
            traps=[(norms[bare_pos], bare)],
        ),
        "negative_norm": Expect(
            norms[neg], f"the L2 norm of the raw negative word's vector ({norms[neg]:.4f})"
        ),
        "raw_difference_norm": Expect(
            np.linalg.norm(raw[pos] - raw[neg]),
            "the L2 norm of the raw difference, before it is normalised",
        ),
        "axes_cosine": Expect(cosine, f"the dot product of the two unit axes ({cosine:.4f})"),
        "projections": Expect(
            projections,
            "the dot products of the unit rows with the axis",
            traps=[
                (unit @ bare_axis, bare),
                (lambda v: not v[pos] > 0 > v[neg], SIGN),
                (lambda v: np.any(np.abs(v) > 1 + 1e-5), outside),
                poles,
            ],
        ),
        "pole_value": Expect(pole, f"(1 - cos(f, p)) / |f - p| of the unit vectors ({pole:.4f})"),
        **{"highest": high, "lowest": low, "extremes_table": _table, "rank_on_axis": _rank_on_axis},
    }


def _excluded(model_id: str, exclude_special: bool) -> list[int]:
    return sorted(_tokenizer(model_id).all_special_ids) if exclude_special else []


def _require_ends(projections, highest, lowest, n: int, excluded, prefix: str = "") -> None:
    """``highest`` and ``lowest`` are the ends of ``projections`` (ties in any order)."""
    ends = []
    for name, ids in [("highest", highest), ("lowest", lowest)]:
        got = common.require_array(ids, name=prefix + name, shape=(n,), kind="integers")
        last = len(projections) - 1
        require(np.all((got >= 0) & (got <= last)), f"{prefix}{name}: ids lie in 0..{last}")
        ends.append(got)
    require(
        not set(np.concatenate(ends).tolist()) & set(excluded),
        f"{prefix}an excluded (special) token is in a list: drop those ids before ranking",
    )
    for got, right, what in zip(ends, _extremes(projections, n, excluded), ["high", "low"]):
        require(
            np.allclose(projections[got], projections[right], atol=1e-6),
            f"{prefix}the {what} end is not the n {what}est projections, {what}est first",
        )


@check(reference=_rows)
def unit_rows(model_id, *, unit_embeddings, ref) -> str:
    """Every non-zero row has norm 1 and keeps its direction; zero rows stay zero."""
    right = ref["unit_embeddings"]
    got = common.require_array(unit_embeddings, name="unit_embeddings", shape=right.shape)
    require(
        not np.isnan(got).any(),
        "unit_embeddings has NaN values: a zero row divided by its norm 0 gives NaN, keep such "
        "rows at zero",
    )
    nonzero = np.linalg.norm(right, axis=1) > 0
    not_unit = (
        lambda m: not np.allclose(np.linalg.norm(m[nonzero], axis=1), 1, atol=1e-5),
        "some rows are not unit length: divide each row by its own norm (axis=1, keepdims=True)",
    )
    hint = "the rows changed direction: divide each row by its norm, nothing else"
    common.require_values(got, right, name="unit_embeddings", hint=hint, traps=[not_unit])
    return f"{model_id}: {int(nonzero.sum()):,} unit rows, {int((~nonzero).sum())} zero row(s)"


@check(reference=_rows)
def row_norms(model_id, *, norms, zero_rows, unit_norms) -> str:
    """The row norms before normalising, the ids of the all-zero rows, the norms after."""
    return f"{len(norms):,} norms, {len(zero_rows)} all-zero row(s)"


@check(reference=_axis)
def axis(model_id, pair, *, axis, raw_axis, ref) -> str:
    """The unit axis from unit-normalised vectors, and the one from raw vectors."""
    return f"unit axis; cosine with the raw-vector axis {ref['axes_cosine']:.4f}"


@check(reference=_axis)
def axis_lengths(
    model_id, pair, *, positive_norm, negative_norm, raw_difference_norm, axes_cosine, ref
) -> str:
    """The norms of the two raw vectors and of their difference; the cosine of the two axes."""
    norms = f"{ref['positive_norm']:.3f} and {ref['negative_norm']:.3f}"
    return f"norms {norms}; cosine {ref['axes_cosine']:.4f}"


@check(reference=_axis)
def projections(model_id, pair, *, projections, pole_value, ref) -> str:
    """Projections in [-1, 1]; the poles at +-(1 - cos) / |f - p|."""
    return f"all {len(ref['projections']):,} projections; the poles at ±{ref['pole_value']:.3f}"


@check(reference=_axis)
def extremes(model_id, pair, top_n, exclude_special, *, highest, lowest, ref) -> str:
    """The top_n highest and lowest tokens on the axis, special tokens left out."""
    excluded = _excluded(model_id, exclude_special)
    _require_ends(ref["projections"], highest, lowest, top_n, excluded)
    return f"top and bottom {top_n} tokens, {len(excluded)} excluded ids left out"


@check(reference=_axis)
def extremes_table(model_id, pair, *, extremes_table, ref) -> str:
    """The table: each end decoded with visible spaces, and its projections."""
    tokenizer, ids = _tokenizer(model_id), (ref["highest"], ref["lowest"])
    args = (tokenizer, ref["projections"], *ids)
    table = common.call(extremes_table, *args, name="extremes_table", returns="the DataFrame")
    right = _table(*args)
    require(
        hasattr(table, "iloc") and table.shape == right.shape,
        f"extremes_table should return a DataFrame of {len(right)} rows and 4 columns (high end, "
        f"proj, low end, proj), got {common.describe(table)}",
    )
    high, low = ([decode_token(tokenizer, i) for i in end] for end in ids)
    visible_hint = "wrap each decoded token in visible(...) so that spaces show as ␣"
    expect = Expect(right, atol=1e-3, columns={
        "high end": ("the decoded high-end tokens", [(high, visible_hint)]),
        "proj (high)": "the projections of the high-end tokens",
        "low end": ("the decoded low-end tokens", [(low, visible_hint)]),
        "proj (low)": "the projections of the low-end tokens",
    })  # fmt: skip
    table = pd.DataFrame(table.to_numpy(), columns=list(right.columns))  # compared by position
    common.require_expected(table, expect, "extremes_table")
    return f"{len(right)} rows: both ends decoded with visible spaces, with their projections"


def _require_result(model_id, pair, entry, n, exclude_special, prefix) -> None:
    """One (projections, highest, lowest) for ``pair``, as rank_on_axis returns it."""
    require(
        isinstance(entry, tuple) and len(entry) == 3,
        f"{prefix}return three things: projections, highest ids, lowest ids",
    )
    require(not has_blank(entry), f"{prefix}still gives `...`: fill in rank_on_axis first")
    ref = _axis(model_id, pair)
    common.require_expected(
        entry[0],
        Expect(ref["projections"].value, RANK_HINT, traps=ref["projections"].traps),
        f"{prefix}projections",
    )
    excluded = _excluded(model_id, exclude_special)
    _require_ends(ref["projections"].value, entry[1], entry[2], n, excluded, prefix)


@check(reference=_axis)
def rank_function(model_id, pair, *, rank_on_axis) -> str:
    """``rank_on_axis`` gives the projections and both ends of a pair; split words raise."""
    unit, tokenizer = _unit(model_id), _tokenizer(model_id)
    result = common.call(
        rank_on_axis, unit.copy(), tokenizer, *pair, 5, name="rank_on_axis",
        returns="(projections, highest ids, lowest ids)",
    )  # fmt: skip
    _require_result(model_id, pair, result, 5, True, f"rank_on_axis({pair[0]!r}, {pair[1]!r}): ")
    try:
        rank_on_axis(unit.copy(), tokenizer, "qzxvbnmtwoplk", pair[1], 5)
        raised = False
    except ValueError:
        raised = True
    require(
        raised,
        "a made-up word that splits into several tokens should raise ValueError: look the words "
        "up with single_token_id",
    )
    return f"{pair[0]}/{pair[1]}: projections and both ends match; a split word raises ValueError"


def _ends(model_id: str, pairs: Sequence[Sequence[str]], n: int, exclude_special: bool) -> dict:
    unit, tokenizer = _unit(model_id), _tokenizer(model_id)
    return {
        "results": {tuple(p): _rank_on_axis(unit, tokenizer, *p, n, exclude_special) for p in pairs}
    }


@check(reference=_ends)
def axis_ends(model_id, pairs, n, exclude_special, *, results) -> str:
    """For each pair: (projections, highest ids, lowest ids), as rank_on_axis returns them."""
    require(
        isinstance(results, Mapping),
        "results: expected a dict {(positive, negative): (projections, highest, lowest)}, got "
        f"{common.describe(results)}",
    )
    require(len(results) > 0, "still empty: fill in the loop over the pairs first")
    for key in map(tuple, pairs):
        require(
            key in results, f"no result for the pair {key}: key the dict by (positive, negative)"
        )
        _require_result(model_id, key, results[key], n, exclude_special, f"{key}: ")
    return f"{model_id}: {len(pairs)} pair(s): projections and the {n} tokens at each end"


def _shared(model_id, second_model_id, pair, top_n, exclude_special) -> dict[str, Any]:
    ends = [
        _ends(m, [pair], top_n, exclude_special)["results"][tuple(pair)]
        for m in (model_id, second_model_id)
    ]

    def words(model: str, ids: Any) -> set[str]:
        return {decode_token(_tokenizer(model), i).strip().lower() for i in ids}

    return {
        f"shared_{end}": sorted(words(model_id, ends[0][k]) & words(second_model_id, ends[1][k]))
        for k, end in [(1, "high"), (2, "low")]
    }


@check(reference=_shared)
def shared_words(
    model_id, second_model_id, pair, top_n, exclude_special, *, shared_high, shared_low, ref
) -> str:
    """The words in both models' lists at each end, as sorted stripped lowercase strings."""
    for name, value in [("shared_high", shared_high), ("shared_low", shared_low)]:
        sort = f"{name}: sort the set into a list (sorted(...))"
        require(not isinstance(value, (set, frozenset)), sort)
        right = np.array(ref[name], dtype=str) if ref[name] else np.zeros(0)
        hint = (
            f"the sorted words in both lists ({len(right)} of them): decode, strip and lowercase "
            "each token before intersecting the two sets"
        )
        common.require_values(value, right, name=name, hint=hint)
    high, low = len(ref["shared_high"]), len(ref["shared_low"])
    return f"{high} shared words at the high end, {low} at the low end"


def _spread(model_ids: Sequence[str], pair: Sequence[str]) -> dict[str, Any]:
    sds = [float(np.std(_axis(m, pair)["projections"].value)) for m in model_ids]
    widths = [_unit(m).shape[1] for m in model_ids]
    variances = ([s**2 for s in sds], "these are variances: take the standard deviation")
    root = ([1 / w for w in widths], "1 / width: take the square root of the width")
    return {
        "projection_sds": Expect(
            sds, "the standard deviation of each model's projections", traps=[variances]
        ),
        "random_sds": Expect(
            [1 / np.sqrt(w) for w in widths], "1 / sqrt(width) for each model", traps=[root]
        ),
    }


@check(reference=_spread)
def projection_spread(model_ids, pair, *, projection_sds, random_sds, ref) -> str:
    """The standard deviation of each model's projections, and 1/sqrt(width) of random ones."""
    return ", ".join(
        f"sd {s:.4f} vs {r:.4f}" for s, r in zip(ref["projection_sds"], ref["random_sds"])
    )
