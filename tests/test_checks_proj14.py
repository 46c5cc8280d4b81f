"""Project 14's checks: each wrong answer gets its hint (the solution notebook is the pass test)."""

from __future__ import annotations

import functools

import checkutil
import numpy as np

from ml4llm.checks import proj14 as check
from ml4llm.tokens import encode

ROBERTA, BERT = "roberta-base", "bert-base-uncased"
PAIR, PAIRS = ("future", "past"), [("good", "evil"), ("big", "small")]


@functools.cache
def inputs() -> dict[str, tuple]:
    return {
        **dict.fromkeys(["unit_rows", "row_norms"], (ROBERTA,)),
        **dict.fromkeys(["axis", "axis_lengths", "projections", "extremes_table"], (ROBERTA, PAIR)),
        "extremes": (ROBERTA, PAIR, 10, True),
        "rank_function": (ROBERTA, PAIRS[0]),
        "axis_ends": (ROBERTA, PAIRS, 10, True),
        "shared_words": (ROBERTA, BERT, PAIR, 10, True),
        "projection_spread": ([ROBERTA, BERT], PAIR),
    }


raw, unit, tok = check._unit(ROBERTA, raw=True), check._unit(ROBERTA), check._tokenizer(ROBERTA)
# the chapter's main pitfall (issue 11): the ids of the bare words, without their leading space
bare = [encode(tok, w)[0] for w in PAIR]
bare_axis = check._direction(unit[bare[0]] - unit[bare[1]])
with np.errstate(invalid="ignore", divide="ignore"):  # the padding row divided by 0 gives NaN
    naive = raw / np.linalg.norm(raw, axis=1, keepdims=True)


def rank_with(lookup=None, swap=False):
    """rank_on_axis with the words' ids from ``lookup(word)``, or with the words swapped."""

    def rank(unit_matrix, tokenizer, positive, negative, n=10, exclude_special=True):
        if lookup is None:
            words = (negative, positive) if swap else (positive, negative)
            return check._rank_on_axis(unit_matrix, tokenizer, *words, n, exclude_special)
        ids = [lookup(tokenizer, w) for w in (positive, negative)]
        proj = unit_matrix @ check._direction(unit_matrix[ids[0]] - unit_matrix[ids[1]])
        return (proj, *check._extremes(proj, n, tokenizer.all_special_ids))

    return rank


def table_with(change):
    return lambda *args: change(check._table(*args))


def results(r, change):
    return {pair: change(entry) for pair, entry in r["results"].items()}


def unvisible(frame):
    return frame.assign(**{"high end": frame["high end"].str.replace("␣", " ")})


WRONG = {  # check -> [(learner value, wrong answer from the right values r, hint substring)]
    "unit_rows": [
        ("unit_embeddings", lambda r: naive, "a zero row divided by its norm 0 gives NaN"),
        ("unit_embeddings", lambda r: raw / np.linalg.norm(raw, axis=0), "not unit length"),
        ("unit_embeddings", lambda r: np.roll(unit, 1, axis=1), "changed direction"),
    ],
    "row_norms": [
        ("norms", lambda r: r["norms"] ** 2, "the L2 norm of every row"),
        ("zero_rows", lambda r: [2], "the ids of the rows whose norm is 0"),
        ("unit_norms", lambda r: r["norms"], "the row norms of the normalised rows"),
    ],
    "axis": [
        ("axis", lambda r: bare_axis, "leading space"),
        ("axis", lambda r: -r["axis"], "the axis points the wrong way"),
        ("axis", lambda r: r["axis"] * 2, "length 1"),
        ("axis", lambda r: r["raw_axis"], "from the unit-normalised rows"),
        ("raw_axis", lambda r: r["axis"], "from the raw rows"),
    ],
    "axis_lengths": [
        ("positive_norm", lambda r: np.linalg.norm(raw[bare[0]]), "leading space"),
        ("positive_norm", lambda r: r["negative_norm"], "raw positive word's vector"),
        ("negative_norm", lambda r: r["positive_norm"], "raw negative word's vector"),
        ("raw_difference_norm", lambda r: 1.0, "the raw difference, before it is normalised"),
        ("axes_cosine", lambda r: r["axes_cosine"] - 0.01, "the dot product of the two unit axes"),
    ],
    "projections": [
        ("projections", lambda r: unit @ bare_axis, "leading space"),
        ("projections", lambda r: -r["projections"], "project above 0"),
        ("projections", lambda r: r["projections"] * 5, "lie in [-1, 1]"),
        ("projections", lambda r: r["projections"] * 0.9, "the poles should project to +pole"),
        (
            "projections",
            lambda r: r["projections"] + 0.01 * (abs(r["projections"]) < 0.5),
            "dot prod",
        ),
        ("pole_value", lambda r: r["pole_value"] * 1.1, "(1 - cos(f, p)) / |f - p|"),
    ],
    "extremes": [
        ("highest", lambda r: r["lowest"], "the high end is not the n highest"),
        ("lowest", lambda r: r["highest"], "the low end is not the n lowest"),
        ("highest", lambda r: [tok.mask_token_id, *r["highest"][:-1]], "an excluded (special)"),
        ("highest", lambda r: [len(tok) + 5] * 10, "ids lie in 0.."),
    ],
    "extremes_table": [
        ("extremes_table", lambda r: table_with(unvisible), "wrap each decoded token in visible"),
        ("extremes_table", lambda r: table_with(lambda t: t[::-1]), "decoded high-end tokens"),
        ("extremes_table", lambda r: table_with(lambda t: t.iloc[:, :2]), "and 4 columns"),
        (
            "extremes_table",
            lambda r: table_with(lambda t: t.assign(**{"proj (low)": 0.5})),
            "the projections of the low-end tokens",
        ),  # fmt: skip
        ("extremes_table", lambda r: lambda *args: None, "returned None"),
    ],
    "rank_function": [  # issue 11: the hint names the leading space
        ("rank_on_axis", lambda r: rank_with(lambda t, w: encode(t, w)[0]), "leading space"),
        ("rank_on_axis", lambda r: rank_with(swap=True), "project above 0"),
        ("rank_on_axis", lambda r: rank_with(lambda t, w: encode(t, " " + w)[0]), "ValueError"),
        ("rank_on_axis", lambda r: lambda *args: (..., ..., ...), "fill in rank_on_axis first"),
        ("rank_on_axis", lambda r: lambda *args: args[:2], "return three things"),
    ],
    "axis_ends": [
        ("results", lambda r: results(r, lambda e: e[1:]), "return three things"),
        ("results", lambda r: results(r, lambda e: (e[0], e[1][:5], e[2])), "10 integers"),
        (
            "results",
            lambda r: results(r, lambda e: (e[0] + 0.01 * (abs(e[0]) < 0.5), *e[1:])),
            "off",
        ),
        ("results", lambda r: results(r, lambda e: (e[0], e[2], e[1])), "the high end is not"),
        ("results", lambda r: {p[0]: e for p, e in r["results"].items()}, "key the dict by"),
        ("results", lambda r: {}, "still empty"),
        ("results", lambda r: list(r["results"].values()), "expected a dict"),
    ],
    "shared_words": [
        ("shared_high", lambda r: set(r["shared_high"]), "sort the set into a list"),
        ("shared_high", lambda r: ["␣future"], "decode, strip and lowercase"),
        ("shared_low", lambda r: ["past", "ago"], "the sorted words in both lists (1 of them)"),
    ],
    "projection_spread": [
        ("projection_sds", lambda r: np.square(r["projection_sds"]), "these are variances"),
        ("projection_sds", lambda r: r["random_sds"], "standard deviation of each model's"),
        ("random_sds", lambda r: [1 / 128, 1 / 384], "take the square root of the width"),
        ("random_sds", lambda r: r["projection_sds"], "1 / sqrt(width) for each model"),
    ],
}

test_wrong_answers = checkutil.wrong_answers(check, inputs, WRONG)
