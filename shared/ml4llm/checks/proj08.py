"""Self-checks for project 8, "Distribution of cosine similarities".

References come from the embedding matrix, the stride and the tokenizer. The all-to-all values
(about 50 million per matrix) are compared at a fixed sample of at most 500 pairs, computed here
from the matrix (with at most 500 pairs, all of them). The histogram and largest-gap checks take
those checked arrays as their input: recomputing every pair here would double the notebook's
run time.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ml4llm.checks import CheckFailed, Expect, check, common, require
from ml4llm.tokens import decode_token

N_UNUSED_BERT = 994  # [unused0] ... [unused993] in BERT's uncased vocabulary (offline copy too)
_SAMPLE_PAIRS = 500  # pairs compared with a reference in the all-pairs checks
ID_RANGE = "between 3,000 and 6,000: rng.choice(np.arange(3000, 6001), size=2, replace=False)"
NORMALISE = (
    "normalise every row to length 1 (divide each row by its own norm, F.normalize(x, dim=1))"
)
OFF = "leave out the diagonal (each token with itself, always 1)"
RAW = "take the norms of the raw rows, before normalising (axis=1)"


def _pair_indices(n: int, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows i and columns j (i < j) of the pairs at ``positions`` in np.triu_indices(n, 1) order."""
    per_row = np.arange(n - 1, 0, -1, dtype=np.int64)  # row i has n - 1 - i pairs
    starts = np.concatenate([[0], np.cumsum(per_row)])
    rows = np.searchsorted(starts, positions, side="right") - 1
    return rows, rows + 1 + (positions - starts[rows])


def _sample_positions(n_pairs: int) -> np.ndarray:
    """A fixed spread of pair positions: the first, the last and evenly spaced ones between."""
    count = min(n_pairs, _SAMPLE_PAIRS)
    return np.unique(np.linspace(0, n_pairs - 1, count).round().astype(np.int64))


def _pair_values(rows: np.ndarray, positions: np.ndarray, centre: bool) -> np.ndarray:
    """The cosine (or, centred, Pearson r) of the pairs at ``positions`` (triu order)."""
    i, j = _pair_indices(len(rows), positions)
    a, b = rows[i], rows[j]
    if centre:
        a = a - a.mean(axis=1, keepdims=True)
        b = b - b.mean(axis=1, keepdims=True)
    return np.einsum("kd,kd->k", a, b) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def _strided(embeddings: Any, stride: int) -> np.ndarray:
    return common.as_array(embeddings)[:: int(stride)]


def _pairs(embeddings: Any, stride: int) -> dict[str, Any]:
    """Parts 2, 4 and 5: the kept rows, the sampled pairs' values and the block diagonals."""
    raw = _strided(embeddings, stride)
    rows = raw.astype(np.float64)
    n = len(rows)
    positions = _sample_positions(n * (n - 1) // 2)
    ones = np.ones(n)
    return {
        "rows": Expect(
            raw,
            "the kept rows should be every stride-th row of the matrix, from row 0: "
            "embeddings[::stride]",
        ),
        "n_kept": Expect(n, "the number of kept tokens: rows.shape[0]"),
        "positions": positions,
        "cosines": _pair_values(rows, positions, centre=False),
        "correlations": _pair_values(rows, positions, centre=True),
        "diagonal": Expect(ones, f"one block diagonal entry per token, each 1: {NORMALISE}"),
        "r_diagonal": Expect(ones, f"one entry per token, each 1: {NORMALISE} after mean-centring"),
    }


def _require_pairs(values: Any, n: int, positions: np.ndarray, right: np.ndarray, **how: Any):
    """The collected values: n(n-1)/2 of them, equal to ``right`` at the sampled ``positions``."""
    n_pairs = n * (n - 1) // 2
    try:
        array = common.as_array(values)
        size = array.size if array.dtype.kind in "biuf" else None
    except (TypeError, ValueError, RuntimeError):
        size = None
    loop = "fill in the block loop of upper_triangle_cosines first"
    require(size != 0, f"values are still empty: {loop}")
    require(size != n * n, f"values: you collected all {n * n:,} entries: keep column > row only")
    require(
        size != n_pairs + n,
        "values: you collected the diagonal too: keep the columns strictly right of it",
    )
    require(
        size is None or size == n_pairs,
        f"values: collected {size}, expected n(n-1)/2 = {n_pairs:,} for n = {n:,}: each block "
        "should run against the columns from its first row on, keeping column > row",
    )
    got = common.require_array(values, name="values", shape=(n_pairs,))
    common.require_values(got[positions], right, name="values", atol=1e-4, **how)


def _require_ndarrays(**values: Any) -> None:
    """The plots and prints after the check call .size, .min(): NumPy arrays only."""
    for name, value in values.items():
        require(
            isinstance(value, np.ndarray),
            f"{name}: give a NumPy array (e.g. np.concatenate(...) or .cpu().numpy()), not "
            f"{common.describe(value)}",
        )


def _order(what: str) -> str:
    return (
        f"some values differ from the {what} of their pair: keep the pairs in np.triu_indices "
        "order (row by row, columns j > i)"
    )


def _complete(ref: dict[str, Any], key: str) -> Any:
    """The right values when the sample holds every pair (a small matrix), else None."""
    n = ref["n_kept"].value
    return ref[key] if len(ref["positions"]) == n * (n - 1) // 2 else None


def _cosine_pairs(embeddings: Any, stride: int) -> dict[str, Any]:
    ref = _pairs(embeddings, stride)
    return {**ref, "values": _complete(ref, "cosines")}


def _r_pairs(embeddings: Any, stride: int) -> dict[str, Any]:
    ref = _pairs(embeddings, stride)
    return {**ref, "values": _complete(ref, "correlations")}


@check(reference=_cosine_pairs)
def all_pairs(embeddings, stride, *, rows, n_kept, values, diagonal, ref) -> str:
    """Block-wise cosines: n(n-1)/2 values in upper-triangle order, every block diagonal 1."""
    n = ref["n_kept"]
    _require_pairs(values, n, ref["positions"], ref["cosines"], hint=_order("cosine"))
    _require_ndarrays(values=values, diagonal=diagonal)
    return f"{n:,} tokens, {n * (n - 1) // 2:,} values, block diagonals all 1"


@check(reference=_r_pairs)
def correlations(embeddings, stride, *, values, r_diagonal, ref) -> str:
    """Block-wise Pearson r: like ``all_pairs``, on mean-centred rows."""
    n = ref["n_kept"]
    cosines = (ref["cosines"], "these are cosines: subtract each row's mean (axis=1) first")
    _require_pairs(
        values,
        n,
        ref["positions"],
        ref["correlations"],
        hint=_order("Pearson r") + ", and subtract each row's mean over its dimensions (axis=1)",
        traps=[cosines],
    )
    _require_ndarrays(values=values, r_diagonal=r_diagonal)
    return f"{n * (n - 1) // 2:,} values, sampled pairs equal np.corrcoef's r"


def _ids(first_id: Any, second_id: Any) -> tuple[int, int]:
    """Two different seeded ids from 3,000 … 6,000 (a random draw: any such pair is right)."""
    ids = tuple(
        int(common.require_array(v, name=name, shape=(), kind="integers"))
        for name, v in [("first_id", first_id), ("second_id", second_id)]
    )
    require(all(3000 <= i <= 6000 for i in ids), f"the ids {list(ids)} should lie {ID_RANGE}")
    require(ids[0] != ids[1], "the two ids are the same: draw without replacement (replace=False)")
    return ids[0], ids[1]


def _pair(tokenizer: Any, embeddings: Any) -> dict[str, Any]:
    """One valid draw (ids 3000 and 3001) with its vectors, words and cosine."""
    matrix = common.as_array(embeddings)
    a, b = matrix[3000].astype(np.float64), matrix[3001].astype(np.float64)
    cos = float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))
    return {
        "first_id": 3000,
        "second_id": 3001,
        "first_vec": matrix[3000],
        "second_vec": matrix[3001],
        "first_word": decode_token(tokenizer, 3000),
        "second_word": decode_token(tokenizer, 3001),
        "by_hand": cos,
        "with_torch": cos,
    }


@check(reference=_pair)
def pair_vectors(
    tokenizer, embeddings, *, first_id, second_id, first_vec, second_vec, first_word, second_word
) -> str:
    """Two different seeded ids from 3,000 … 6,000, their rows of the matrix and their words."""
    ids = _ids(first_id, second_id)
    matrix = common.as_array(embeddings)
    for name, token_id, vector in [("first", ids[0], first_vec), ("second", ids[1], second_vec)]:
        common.require_values(
            vector,
            matrix[token_id],
            name=f"{name}_vec",
            hint=f"{name}_vec is not row {token_id} of the matrix: embeddings[{name}_id]",
        )
    for name, token_id, word in [("first", ids[0], first_word), ("second", ids[1], second_word)]:
        common.require_values(
            word,
            decode_token(tokenizer, token_id),
            name=f"{name}_word",
            hint=f"the token of {name}_id: decode_token(tokenizer, {name}_id)",
        )
    return f"ids {ids[0]} and {ids[1]}, their rows and words"


@check(reference=_pair)
def pair_cosine(tokenizer, embeddings, *, first_id, second_id, by_hand, with_torch) -> str:
    """The hand-computed cosine of two tokens' rows and torch's cosine_similarity, both right."""
    i, j = _ids(first_id, second_id)
    matrix = common.as_array(embeddings)
    a, b = matrix[i].astype(np.float64), matrix[j].astype(np.float64)
    cos, dot = float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b))), float(a @ b)
    for name, value in [("by_hand", by_hand), ("with_torch", with_torch)]:
        common.require_values(
            value,
            cos,
            name=name,
            hint="the cosine is dot(a, b) / (norm(a) * norm(b)); torch wants dim=0 for two 1-D "
            "vectors",
            traps=[(dot, "the plain dot product: divide it by the product of the vectors' norms")],
        )
    return f"cosine {cos:.6f} by hand and with torch"


def _image(embeddings: Any, stride: int, image_tokens: int) -> dict[str, Any]:
    rows = _strided(embeddings, stride)
    step = max(1, len(rows) // int(image_tokens))
    shared = common.cosine_expect(rows[::step])
    far = (
        lambda m: m.ndim == 2 and not image_tokens / 2 <= len(m) <= 2 * image_tokens,
        f"the image should show about image_tokens = {image_tokens} tokens per side: keep every "
        "step-th kept token with step = n_kept // image_tokens",
    )
    return {"image": Expect(shared.value, shared.hint, [far, *shared.traps], atol=shared.atol)}


@check(reference=_image)
def cosine_image(embeddings, stride, image_tokens, *, image) -> str:
    """The full cosine matrix of every step-th kept token (about image_tokens per side)."""
    n = len(common.as_array(image))
    return f"{n} x {n} cosines, symmetric, unit diagonal"


_LAST: dict[tuple, np.ndarray] = {}  # the last histogram: histogram and density share it


def _counts(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """np.histogram's counts, computed once for two checks of the same 50 million values."""
    key = (id(values), values.size, float(values[::100_003].sum()), edges.tobytes())
    if key not in _LAST:
        _LAST.clear()
        _LAST[key] = np.histogram(values, bins=edges)[0]
    return _LAST[key]


def _histogram(values: Any, bin_edges: Any) -> dict[str, Any]:
    """Counts, mean and sd of the cosines that all_pairs has checked against the matrix."""
    values, edges = common.as_array(values).ravel(), common.as_array(bin_edges).ravel()
    counts = _counts(values, edges)
    density = counts / (counts.sum() * np.diff(edges))
    how = f"{len(edges) - 1} counts (one per bin) that add up to {values.size:,}"
    mean, sd = float(values.mean()), float(values.std())
    return {
        "counts": Expect(
            counts,
            f"np.histogram(values, bins=bin_edges) gives {how}",
            traps=[(density, "these are densities: count the pairs (without density=True)")],
        ),
        "density": Expect(
            density,
            "the density is counts / (counts.sum() * np.diff(bin_edges)): the bars integrate to 1",
            traps=[
                (counts, "these are counts: divide them by counts.sum() * np.diff(bin_edges)"),
                (counts / counts.sum(), "these are shares per bin: divide by the bin width too"),
            ],
        ),
        "mean": Expect(mean, "the mean of all collected cosines: values.mean()", atol=1e-6),
        "sd": Expect(
            sd,
            "the standard deviation of all collected cosines: values.std()",
            traps=[(sd**2, "this is the variance: the standard deviation is its square root")],
            atol=1e-6,
        ),
        "above_half": Expect(
            float(np.mean(values > 0.5)),
            "the share of pairs with cosine > 0.5: np.mean(values > 0.5), as the mean of a "
            "boolean array is the fraction of True",
            atol=1e-9,
        ),
        "below_zero": Expect(
            float(np.mean(values < 0)),
            "the share of pairs with cosine < 0: np.mean(values < 0), as the mean of a boolean "
            "array is the fraction of True",
            atol=1e-9,
        ),
    }


@check(reference=_histogram)
def histogram(values, bin_edges, *, counts, mean, sd) -> str:
    """Counts of the checked cosines in the fixed bins, their mean and standard deviation."""
    return f"{common.as_array(values).size:,} pairs in {len(bin_edges) - 1} bins, mean {mean:.3f}"


@check(reference=_histogram)
def density(values, bin_edges, *, density) -> str:
    """The histogram as a density: counts per unit of cosine, relative to all pairs."""
    return f"{len(bin_edges) - 1} bins, integrating to 1"


@check(reference=_histogram)
def shares(values, bin_edges, *, above_half, below_zero) -> str:
    """The shares of pairs with cosine > 0.5 and < 0."""
    return f"above 0.5: {above_half:.4f}, below 0: {below_zero:.4f}"


def _unused(tokenizer: Any, embeddings: Any) -> dict[str, Any]:
    """Part 3: the flags, the unused tokens' cosines, an ordinary sample and both descriptions."""
    strings = tokenizer.convert_ids_to_tokens(list(range(len(tokenizer))))
    flags = np.array([s.startswith("[unused") for s in strings])
    unused = np.flatnonzero(flags)
    special = set(tokenizer.all_special_ids)
    ordinary = np.array([i for i in range(len(flags)) if not flags[i] and i not in special])
    count = (
        lambda v: v.sum() != flags.sum(),
        f"flag the {int(flags.sum())} strings that start with '[unused' (convert_ids_to_tokens, "
        "then str.startswith)",
    )
    ids = ordinary[np.linspace(0, len(ordinary) - 1, len(unused)).astype(int)]
    return {
        "first_tokens": Expect(
            [decode_token(tokenizer, i) for i in range(20)],
            "decode ids 0 … 19 one at a time: decode_token(tokenizer, token_id)",
        ),
        "is_unused": Expect(flags, "the right number, but not the right tokens", traps=[count]),
        "n_unused": Expect(int(flags.sum()), "the number of flagged tokens: is_unused.sum()"),
        "unused_cos": common.cosine_expect(common.as_array(embeddings)[unused]),
        "unused_ids": unused,
        "ordinary_ids": ids,
        "strings": strings,
        "special": special,
    }


@check(reference=_unused)
def first_tokens(tokenizer, embeddings, *, first_tokens) -> str:
    """The decoded strings of ids 0 … 19."""
    return f"ids 0 … 19: {first_tokens[0]!r} … {first_tokens[-1]!r}"


@check(reference=_unused)
def unused_tokens(tokenizer, embeddings, *, is_unused, n_unused, unused_cos) -> str:
    """The ``[unused`` flags (994 in BERT's uncased vocabulary) and their cosine submatrix."""
    note = "" if n_unused == N_UNUSED_BERT else f" (BERT's vocabulary has {N_UNUSED_BERT})"
    return f"{n_unused} [unused...] tokens{note}, cosine submatrix {n_unused} x {n_unused}"


def _require_ordinary(ordinary_ids: Any, ref: dict[str, Any]) -> np.ndarray:
    """As many ordinary tokens as unused ones: distinct, sorted, none special and none unused."""
    n, strings = len(ref["unused_ids"]), ref["strings"]
    ids = common.require_array(ordinary_ids, name="ordinary_ids", shape=(n,), kind="integers")
    require(
        np.all((ids >= 0) & (ids < len(strings))),
        "ordinary_ids: some ids are not in the vocabulary",
    )
    require(len(np.unique(ids)) == n, "ordinary_ids: some ids repeat: draw without replacement")
    require(np.all(np.diff(ids) > 0), "ordinary_ids: sort the drawn ids (np.sort)")
    require(
        not any(strings[i].startswith("[unused") for i in ids),
        "ordinary_ids: some drawn tokens are [unused...] ones: draw from the tokens that are not",
    )
    require(
        not any(int(i) in ref["special"] for i in ids),
        "ordinary_ids: some drawn tokens are special ([CLS], [SEP], ...): leave "
        "tokenizer.all_special_ids out",
    )
    return ids


@check(reference=_unused)
def ordinary_sample(tokenizer, embeddings, *, ordinary_ids, ref) -> str:
    """As many ordinary tokens as unused ones: distinct, sorted, none special and none unused."""
    ids = _require_ordinary(ordinary_ids, ref)
    return f"{ids.size} distinct ordinary tokens, ids {ids.min()} … {ids.max()}"


def _summary(embeddings: Any, ids: np.ndarray) -> dict[str, float]:
    """A set of tokens' off-diagonal cosines and the norms of its raw rows."""
    rows = common.as_array(embeddings)[ids].astype(np.float64)
    cos = common.cosines(rows)
    pairs, norms = cos[~np.eye(len(ids), dtype=bool)], np.linalg.norm(rows, axis=1)
    return {
        "distinct cosines": float(len(np.unique(pairs.round(4)))),  # compared within 1 %
        "min off-diagonal": pairs.min(),
        "max off-diagonal": pairs.max(),
        "mean off-diagonal": pairs.mean(),
        "mean norm": norms.mean(),
        "sd of norms": norms.std(),
        "with diagonal": {"max off-diagonal": cos.max(), "mean off-diagonal": cos.mean()},
    }


def _require_summary(summary: Any, embeddings: Any, ids: np.ndarray, name: str) -> None:
    right = _summary(embeddings, ids)
    keys = [k for k in right if k != "with diagonal"]
    require(
        isinstance(summary, dict) and set(summary) == set(keys),
        f"{name}: expected a dict with the keys {keys}, got {common.describe(summary)}",
    )
    hints = {
        "distinct cosines": "count the different off-diagonal values to 4 decimals: "
        "len(np.unique(pairs.round(4)))",
        "mean norm": RAW,
        "sd of norms": RAW,
    }
    for key in keys:
        wrong = right["with diagonal"].get(key)
        common.require_values(
            summary[key],
            right[key],
            name=f"{name}[{key!r}]",
            hint=hints.get(key, f"the {key.split()[0]} of the off-diagonal cosines ({OFF})"),
            traps=[] if wrong is None else [(wrong, OFF)],
            atol=0 if key == "distinct cosines" else 1e-4,
            rtol=0.01 if key == "distinct cosines" else 1e-4,  # float32 may round a few otherwise
        )


def _sets(tokenizer: Any, embeddings: Any) -> dict[str, Any]:
    """Part 3's descriptions and gap for the reference's example ordinary sample."""
    ref = _unused(tokenizer, embeddings)
    sets = {"unused": ref["unused_ids"], "ordinary": ref["ordinary_ids"]}
    description = {k: _summary(embeddings, ids) for k, ids in sets.items()}
    for entry in description.values():
        del entry["with diagonal"]
    gap = description["unused"]["mean off-diagonal"] - description["ordinary"]["mean off-diagonal"]
    direction = "more" if gap > 0 else "less"
    return {**ref, "description": description, "gap": gap, "direction": direction}


@check(reference=_sets)
def set_summaries(tokenizer, embeddings, *, ordinary_ids, description, ref) -> str:
    """Both sets' descriptions: off-diagonal cosines and raw row norms, per set."""
    ordinary = _require_ordinary(ordinary_ids, ref)
    sets = {"unused": ref["unused_ids"], "ordinary": ordinary}
    require(
        isinstance(description, dict) and set(description) == set(sets),
        f"description: expected a dict with the keys {list(sets)} (one entry per set), got "
        f"{common.describe(description)}",
    )
    for name, ids in sets.items():
        _require_summary(description[name], embeddings, ids, f"description[{name!r}]")
    means = ", ".join(f"{k} {description[k]['mean off-diagonal']:.3f}" for k in sets)
    return f"{len(ordinary)} tokens per set; mean off-diagonal cosine {means}"


@check(reference=_sets)
def unused_gap(tokenizer, embeddings, *, ordinary_ids, gap, direction, ref) -> str:
    """Mean off-diagonal cosine of the unused tokens minus that of the ordinary sample."""
    ordinary = _require_ordinary(ordinary_ids, ref)
    means = [_summary(embeddings, i)["mean off-diagonal"] for i in (ref["unused_ids"], ordinary)]
    right = means[0] - means[1]
    common.require_values(
        gap,
        right,
        name="gap",
        hint="the difference of the two sets' 'mean off-diagonal' entries",
        traps=[(-right, "the sign is flipped: unused minus ordinary")],
    )
    common.require_values(
        direction,
        "more" if right > 0 else "less",
        name="direction",
        hint="'more' when the gap is positive, else 'less'",
    )
    return f"unused minus ordinary mean off-diagonal cosine = {right:.4f}"


def _part5(embeddings: Any, stride: int, pair_step: int | None) -> dict[str, Any]:
    """Part 5: the scatter's pairs (none without a pair_step) and the rows' means."""
    rows = _strided(embeddings, stride).astype(np.float64)
    n = len(rows)
    end = 0 if pair_step is None else n * (n - 1) // 2
    positions = np.arange(0, end, int(pair_step or 1), dtype=np.int64)
    cos, r = _pair_values(rows, positions, False), _pair_values(rows, positions, True)
    pick = "index both arrays with the same positions: np.arange(0, n_pairs, pair_step)"
    swapped = "scatter_cos and scatter_r are swapped"
    mean, mean_abs = rows.mean(axis=1), np.abs(rows).mean(axis=1)
    axis = "one value per kept token: average over the dimensions (axis=1)"
    return {
        "scatter_cos": Expect(cos, pick, traps=[(r, swapped)], atol=1e-4),
        "scatter_r": Expect(r, pick, traps=[(cos, swapped)], atol=1e-4),
        "row_mean": Expect(mean, f"each row's mean, {axis}: rows.mean(axis=1)", atol=1e-6),
        "row_mean_abs": Expect(
            mean_abs,
            f"the mean of the absolute values, {axis}: np.abs(rows).mean(axis=1)",
            traps=[(np.abs(mean), "this is |mean|: take the absolute values first")],
            atol=1e-6,
        ),
        "median_abs_mean": Expect(
            float(np.median(np.abs(mean))), "np.median(np.abs(row_mean))", atol=1e-6
        ),
        "median_mean_abs": Expect(float(np.median(mean_abs)), "np.median(row_mean_abs)", atol=1e-6),
    }


@check(reference=_part5)
def scatter_pairs(embeddings, stride, pair_step, *, scatter_cos, scatter_r) -> str:
    """Cosine and r of every pair_step-th pair (positions 0, step, 2 step, ... in triu order)."""
    _require_ndarrays(scatter_cos=scatter_cos, scatter_r=scatter_r)
    return f"{len(scatter_cos)} pairs, every {int(pair_step):,}th"


@check(reference=lambda embeddings, stride: _part5(embeddings, stride, pair_step=None))
def row_means(embeddings, stride, *, row_mean, row_mean_abs, median_abs_mean, median_mean_abs):
    """Each kept token's mean over its dimensions, its mean absolute value, and their medians."""
    return f"{len(row_mean):,} per-token means, median |mean| {median_abs_mean:.4f}"


def _spread(embeddings: Any) -> dict[str, Any]:
    d = common.as_array(embeddings).shape[1]
    return {
        "random_sd": Expect(
            1 / np.sqrt(d),
            f"for d = {d} dimensions (the number of columns) the spread is 1/sqrt(d)",
            traps=[(1 / d, "1/d is the variance; the standard deviation is its square root")],
            atol=1e-9,
        )
    }


@check(reference=_spread)
def random_spread(embeddings, *, random_sd) -> str:
    """The standard deviation of random directions' cosines in the matrix's width: 1/sqrt(d)."""
    return f"1/sqrt({common.as_array(embeddings).shape[1]}) = {random_sd:.4f}"


def _gap(cosines: Any, correlations: Any) -> dict[str, Any]:
    a, b = common.as_array(cosines).ravel(), common.as_array(correlations).ravel()
    if a.size != b.size:
        raise CheckFailed("the two arrays should hold the same pairs")
    return {
        "max_gap": Expect(
            float(np.abs(b - a).max()),
            "the largest |r - cosine| over all pairs: np.abs(r - cos).max()",
            traps=[(float((b - a).max()), "take the absolute difference before the maximum")],
            atol=1e-6,
        )
    }


@check(reference=_gap)
def largest_gap(cosines, correlations, *, max_gap) -> str:
    """The largest |r - cosine| over all pairs (from the checked arrays of Parts 4 and 5)."""
    return f"max |r - cosine| = {float(max_gap):.4f}"
