"""Project 8's checks: each wrong answer gets its hint (the solution notebook is the pass test)."""

from __future__ import annotations

import functools

import checkutil
import numpy as np

from ml4llm.checks import proj08 as check
from ml4llm.models import free, input_embeddings, load_model, load_tokenizer


@functools.cache
def bert() -> tuple[np.ndarray, object]:
    model = load_model("bert-base-uncased")
    matrix = input_embeddings(model)
    del model
    free()
    return matrix, load_tokenizer("bert-base-uncased")


@functools.cache
def inputs() -> dict[str, tuple]:
    matrix, tokenizer = bert()
    small = (matrix[:96], 3)  # 32 kept rows, 496 pairs: the sample holds every pair
    cos = check._cosine_pairs(*small)["values"]
    r = check._r_pairs(*small)["values"]
    return {
        "all_pairs": small,
        "correlations": small,
        **dict.fromkeys(["pair_vectors", "pair_cosine"], (tokenizer, matrix)),
        "cosine_image": (matrix[:600], 3, 20),
        **dict.fromkeys(["histogram", "density", "shares"], (cos, np.linspace(-1, 1, 21))),
        **dict.fromkeys(
            ["first_tokens", "unused_tokens", "ordinary_sample", "set_summaries", "unused_gap"],
            (tokenizer, matrix),
        ),
        "scatter_pairs": (*small, 7),
        "row_means": small,
        "random_spread": (matrix,),
        "largest_gap": (r, cos),  # in this order max(b - a) differs from max |b - a|
    }


def rows() -> np.ndarray:
    return bert()[0][:96:3].astype(np.float64)


def all_entries(r) -> np.ndarray:
    unit = check.common.unit_rows(rows())
    return (unit @ unit.T).ravel()


def with_diagonal(r) -> np.ndarray:
    unit = check.common.unit_rows(rows())
    return (unit @ unit.T)[np.triu_indices(32)]


def column_order(r) -> np.ndarray:  # the pairs below the diagonal, column by column
    unit = check.common.unit_rows(rows())
    return (unit @ unit.T)[np.tril_indices(32, -1)]


def described(r, name: str, key: str, value) -> dict:
    description = {k: check._summary(bert()[0], ids) for k, ids in sets(r).items()}
    for entry in description.values():
        del entry["with diagonal"]
    description[name] = {**description[name], key: value(description[name], name, r)}
    return description


def sets(r) -> dict:
    return {"unused": r["unused_ids"], "ordinary": r["ordinary_ids"]}


def summary_with_diagonal(key: str):
    return lambda entry, name, r: check._summary(bert()[0], sets(r)[name])["with diagonal"][key]


def unit_norms(entry, name, r):
    return 1.0


WRONG = {  # check -> [(learner value, wrong answer from the right values r, hint substring)]
    "all_pairs": [
        # the finding of issue 11: rows=None skipped the rows check and passed
        ("rows", lambda r: None, "rows is None"),
        ("rows", lambda r: bert()[0][1:96:3], "every stride-th row of the matrix, from row 0"),
        ("n_kept", lambda r: 96, "rows.shape[0]"),
        ("values", lambda r: [], "fill in the block loop"),
        ("values", all_entries, "you collected all 1,024 entries"),
        ("values", with_diagonal, "the diagonal too"),
        ("values", lambda r: r["values"][:-31], "expected n(n-1)/2 = 496"),
        ("values", column_order, "np.triu_indices order"),
        ("diagonal", lambda r: r["diagonal"] * 2, "normalise every row to length 1"),
        ("values", lambda r: list(r["values"]), "values: give a NumPy array"),
    ],
    "correlations": [
        ("values", lambda r: r["cosines"], "these are cosines: subtract each row's mean"),
        ("values", lambda r: r["values"][::-1], "Pearson r of their pair"),
        ("r_diagonal", lambda r: r["r_diagonal"][:-1], "after mean-centring"),
    ],
    "pair_vectors": [
        ("first_id", lambda r: 2999, "should lie between 3,000 and 6,000"),
        ("second_id", lambda r: r["first_id"], "draw without replacement"),
        ("first_id", lambda r: 3000.5, "not whole numbers"),
        ("first_vec", lambda r: r["second_vec"], "first_vec is not row 3000"),
        ("second_word", lambda r: r["first_word"], "decode_token(tokenizer, second_id)"),
    ],
    "pair_cosine": [
        ("by_hand", lambda r: float(r["first_vec"] @ r["second_vec"]), "plain dot product"),
        ("with_torch", lambda r: r["with_torch"] + 0.1, "torch wants dim=0"),
    ],
    "cosine_image": [
        ("image", lambda r: check.common.cosines(rows()[:: 10 * 3][:40]), "about image_tokens"),
        ("image", lambda r: r["image"] * 2, "the diagonal is not 1"),
        ("image", lambda r: np.triu(r["image"]), "not symmetric"),
        ("image", lambda r: r["image"][::-1, ::-1], "the cosines of the rows"),
    ],
    "histogram": [
        ("counts", lambda r: r["counts"] / (r["counts"].sum() * 0.1), "these are densities"),
        ("counts", lambda r: r["counts"][:-1], "20 counts (one per bin) that add up to 496"),
        ("counts", lambda r: np.zeros(20), "still all zero"),
        ("mean", lambda r: r["mean"] + 0.1, "values.mean()"),
        ("sd", lambda r: r["sd"] ** 2, "this is the variance"),
        ("sd", lambda r: r["sd"] + 0.1, "values.std()"),
    ],
    "density": [
        ("density", lambda r: r["counts"], "these are counts"),
        ("density", lambda r: r["counts"] / r["counts"].sum(), "divide by the bin width too"),
        ("density", lambda r: r["density"] * 2, "the bars integrate to 1"),
    ],
    "shares": [
        ("above_half", lambda r: r["above_half"] * 496, "np.mean(values > 0.5)"),
        ("below_zero", lambda r: 1 - r["below_zero"], "np.mean(values < 0)"),
    ],
    "first_tokens": [
        ("first_tokens", lambda r: [f"[unused{i}]" for i in range(20)], "decode ids 0"),
    ],
    "unused_tokens": [
        ("is_unused", lambda r: np.roll(r["is_unused"], 1), "not the right tokens"),
        ("is_unused", lambda r: r["is_unused"] & (np.arange(30522) < 100), "flag the 994"),
        ("n_unused", lambda r: 993, "is_unused.sum()"),
        ("unused_cos", lambda r: r["unused_cos"] * 2, "the diagonal is not 1"),
    ],
    "ordinary_sample": [
        ("ordinary_ids", lambda r: r["ordinary_ids"][::-1], "sort the drawn ids"),
        (
            "ordinary_ids",
            lambda r: np.sort([*r["ordinary_ids"][:-1], r["ordinary_ids"][0]]),
            "some ids repeat",
        ),
        ("ordinary_ids", lambda r: r["unused_ids"], "[unused...] ones"),
        ("ordinary_ids", lambda r: np.array([0, *r["ordinary_ids"][1:]]), "special"),
        ("ordinary_ids", lambda r: r["ordinary_ids"][:-1], "expected 994 integers"),
        ("ordinary_ids", lambda r: [*r["ordinary_ids"][:-1], 40000], "not in the vocabulary"),
    ],
    "set_summaries": [
        # the finding of issue 11: an empty description (token_sets={}) printed PASS
        ("description", lambda r: {}, "expected a dict with the keys ['unused', 'ordinary']"),
        ("description", lambda r: {"unused": {}, "ordinary": {}}, "expected a dict with the keys"),
        ("ordinary_ids", lambda r: r["ordinary_ids"][::-1], "sort the drawn ids"),
        (
            "description",
            lambda r: described(r, "unused", "distinct cosines", lambda e, n, r: 1),
            "len(np.unique(pairs.round(4)))",
        ),
        (
            "description",
            lambda r: described(r, "ordinary", "mean norm", unit_norms),
            "take the norms of the raw rows",
        ),
        (
            "description",
            lambda r: described(
                r, "ordinary", "mean off-diagonal", summary_with_diagonal("mean off-diagonal")
            ),
            "leave out the diagonal",
        ),
        (
            "description",
            lambda r: described(r, "unused", "min off-diagonal", lambda e, n, r: 0.5),
            "the min of the off-diagonal cosines",
        ),
    ],
    "unused_gap": [
        ("gap", lambda r: -r["gap"], "the sign is flipped"),
        ("gap", lambda r: r["gap"] + 0.1, "'mean off-diagonal' entries"),
        ("direction", lambda r: "less" if r["direction"] == "more" else "more", "'more' when"),
    ],
    "scatter_pairs": [
        ("scatter_cos", lambda r: r["scatter_r"], "swapped"),
        ("scatter_r", lambda r: r["scatter_r"][::-1], "the same positions"),
    ],
    "row_means": [
        ("row_mean", lambda r: rows().mean(axis=0), "average over the dimensions (axis=1)"),
        ("row_mean_abs", lambda r: np.abs(r["row_mean"]), "this is |mean|"),
        ("row_mean_abs", lambda r: r["row_mean_abs"] + 1, "np.abs(rows).mean(axis=1)"),
        ("median_abs_mean", lambda r: r["median_abs_mean"] + 1, "np.median(np.abs(row_mean))"),
        ("median_mean_abs", lambda r: r["median_mean_abs"] + 1, "np.median(row_mean_abs)"),
    ],
    "random_spread": [
        ("random_sd", lambda r: r["random_sd"] ** 2, "1/d is the variance"),
        ("random_sd", lambda r: 1 / np.sqrt(768), "the number of columns"),
    ],
    "largest_gap": [
        ("max_gap", lambda r: r["max_gap"] + 1, "np.abs(r - cos).max()"),
        (
            "max_gap",
            lambda r: float(np.max(inputs()["largest_gap"][1] - inputs()["largest_gap"][0])),
            "absolute difference",
        ),
    ],
}

test_wrong_answers = checkutil.wrong_answers(check, inputs, WRONG)
