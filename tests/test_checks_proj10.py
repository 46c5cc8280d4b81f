"""Project 10's checks: each wrong answer gets its hint (the solution notebook is the pass test)."""

from __future__ import annotations

import functools

import checkutil
import numpy as np
import pandas as pd

from ml4llm.checks import proj10 as check
from ml4llm.models import input_embeddings, load_model, load_tokenizer
from ml4llm.tokens import encode

INTEGERS = np.arange(-300, 301)
STRINGS = [str(d) for d in range(10)] + [str(t) for t in range(10, 101, 10)]
SPELLINGS = ["42", " 42", "-42", " -42"]


@functools.cache
def inputs() -> dict[str, tuple]:
    tokenizer = load_tokenizer("gpt2")
    ints = (INTEGERS, tokenizer)
    return {
        **dict.fromkeys(["token_counts", "count_tally", "token_id_table"], ints),
        "jittered_counts": (*ints, 0.15),
        "sign_mismatches": (tokenizer, 300),
        "spelling_ids": (tokenizer, SPELLINGS),
        "number_ids": (tokenizer, STRINGS),
        "number_vectors": (input_embeddings(load_model("gpt2", head="base")), tokenizer, STRINGS),
        **dict.fromkeys(
            ["successive_cosines", "pair_labels", "cosine_matrix", "group_blocks"],
            ("gpt2", STRINGS),
        ),
    }


def vectors() -> np.ndarray:
    return check._vectors("gpt2", tuple(STRINGS))


def full(r) -> np.ndarray:
    return check.common.cosines(vectors())


def upper_block(r) -> np.ndarray:  # the 45 pairs above the diagonal only
    return full(r)[:10, :10][np.triu_indices(10, 1)]


WRONG = {  # check -> [(learner value, wrong answer from the right values r, hint substring)]
    "token_counts": [
        ("n_tokens", lambda r: np.array([len(str(n)) for n in INTEGERS]), "character counts"),
        ("n_tokens", lambda r: r["n_tokens"] + 1, "every count is too high"),
        ("n_tokens", lambda r: np.roll(r["n_tokens"], 1), "one string per call"),
        ("n_tokens", lambda r: list(r["n_tokens"]), "n_tokens: give a NumPy array"),
    ],
    "count_tally": [
        ("tally", lambda r: r["tally"].to_dict(), "pd.Series(n_tokens).value_counts()"),
        ("tally", lambda r: pd.Series(dtype=int), "tally is still empty"),
        ("tally", lambda r: pd.Series(r["tally"].index, index=r["tally"].to_numpy()), "the index"),
        ("tally", lambda r: r["tally"] * 2, "count every integer once"),
        ("tally", lambda r: r["tally"][::-1].set_axis(r["tally"].index), "value_counts()"),
        ("tally", lambda r: pd.Series([1], index=["one"]), "token counts (numbers)"),
    ],
    "jittered_counts": [
        ("jittered", lambda r: r["jittered"] + 1, "more than jitter = 0.15 away"),
        ("jittered", lambda r: r["jittered"] * 0 + r["jittered"][0], "more than jitter"),
        ("jittered", lambda r: np.round(r["jittered"]) + 0.1, "the points are not spread"),
    ],
    "token_id_table": [
        ("id_table", lambda r: np.nan_to_num(r["id_table"]), "the NaN cells are off"),
        ("id_table", lambda r: r["id_table"][:, :1], "one column per token position"),
        ("id_table", lambda r: r["id_table"] + 1, "the ids of row i's integer"),
        ("id_table", lambda r: r["id_table"].tolist(), "id_table: give a NumPy array"),
    ],
    "sign_mismatches": [
        ("minus_ids", lambda r: encode(inputs()["number_ids"][0], " -"), "encode('-') without"),
        ("is_mismatch", lambda r: [True] * 300, "minus_ids + encode(str(n))"),
    ],
    "spelling_ids": [
        (
            "spelling_ids",
            lambda r: [encode(inputs()["number_ids"][0], t.strip()) for t in SPELLINGS],
            "keep the leading space",
        ),
        (
            "spelling_ids",
            lambda r: [[50256, *i] for i in r["spelling_ids"]],
            "as it is, without special",
        ),
    ],
    "number_ids": [
        (
            "number_ids",
            lambda r: [encode(inputs()["number_ids"][0], " " + t)[0] for t in STRINGS],
            "with a leading space",
        ),
        ("number_ids", lambda r: r["number_ids"][::-1], "the single token id of each"),
    ],
    "number_vectors": [
        ("number_vectors", lambda r: r["number_vectors"][::-1], "embeddings[number_ids]"),
        ("number_vectors", lambda r: list(r["number_vectors"]), "give a NumPy array"),
    ],
    "successive_cosines": [
        (
            "successive",
            lambda r: [vectors()[k] @ vectors()[k - 1] for k in range(1, 11)],
            "dot products",
        ),
        ("successive", lambda r: np.array(r["successive"]) * 10, "between -1 and 1"),
        ("successive", lambda r: [full(r)[k, k + 1] for k in range(1, 11)], "pair each digit"),
    ],
    "pair_labels": [
        ("pairs", lambda r: [p.replace("–", "") for p in r["pairs"]], "a dash and the current"),
        ("pairs", lambda r: r["pairs"][:-1], "expected 10 strings"),
    ],
    "cosine_matrix": [
        ("number_cosines", lambda r: vectors() @ vectors().T, "the diagonal is not 1"),
        (
            "number_cosines",
            lambda r: r["number_cosines"][::-1, ::-1].copy(),
            "the cosines of the rows",
        ),
        ("number_cosines", lambda r: r["number_cosines"].tolist(), "give a NumPy array"),
    ],
    "group_blocks": [
        ("digit_block", lambda r: full(r)[:10, :10].ravel(), "holds the diagonal too"),
        ("tens_block", lambda r: r["digit_block"], "digits are rows/columns 0-9"),
        ("across_block", lambda r: full(r)[10:, :10], "the tens 10-19"),
        ("digit_block", upper_block, "digits are rows/columns 0-9"),
        ("across_block", lambda r: r["across_block"].tolist(), "give a NumPy array"),
    ],
}

test_wrong_answers = checkutil.wrong_answers(check, inputs, WRONG)


def test_a_number_string_that_splits_is_named(capsys):
    tokenizer = load_tokenizer("gpt2")
    check.number_ids(tokenizer, ["7", "12345"], number_ids=[0, 0])
    assert "'12345' is not a single token: it should be rejected" in capsys.readouterr().out
