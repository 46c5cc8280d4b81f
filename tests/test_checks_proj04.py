"""Project 4's checks: each wrong answer gets its hint (the solution notebook is the pass test)."""

from __future__ import annotations

import functools

import checkutil
import numpy as np
import pandas as pd

from ml4llm.checks import proj04 as check
from ml4llm.models import load_tokenizer

DEMO = {"ASCII letter": "a", "accented Latin letter": "é", "emoji": "🙂", "CJK character": "字"}


@functools.cache
def inputs() -> dict[str, tuple]:
    tokenizer = load_tokenizer("gpt2")
    vocab = (tokenizer,)
    return {
        "demo_lengths": (DEMO, tokenizer),
        "demo_bytes": (DEMO, tokenizer),
        "lengths": vocab,
        "count_matrix": vocab,
        "nonzero_cells": vocab,
        "mismatches": (tokenizer, 30),
        "length_trends": (tokenizer, 1000),
        "mismatch_indicator": (tokenizer, 0.15),
        "mismatch_split": vocab,
        "distributions": vocab,
        "distribution_table": vocab,
        "longest_token": vocab,
        "true_bytes": vocab,
    }


def add_once(r):
    """The count matrix filled with fancy-index += (repeated pairs counted once)."""
    counts = np.zeros_like(r["counts"])
    counts[r["char_lengths"], r["byte_lengths"]] += 1
    return counts


def more(n=1):
    return lambda v: np.asarray(v) + n


WRONG = {  # check -> [(learner value, wrong answer from the right values r, hint substring)]
    "demo_lengths": [
        ("n_chars", lambda r: r["n_bytes"], "use len(text)"),
        ("n_bytes", lambda r: r["n_chars"], "these are characters"),
        ("n_bytes", lambda r: [len(t.encode("utf-16-le")) for t in DEMO.values()], "UTF-16"),
        ("n_bytes", lambda r: more()(r["n_bytes"]), "len(text.encode('utf-8'))"),
        ("demo_ids", lambda r: [[50256, *i] for i in r["demo_ids"]], "without special tokens"),
    ],
    "demo_bytes": [
        ("demo_hex", lambda r: [h.replace(" ", "") for h in r["demo_hex"]], "by a space"),
        ("demo_hex", lambda r: [h.upper() + " " for h in r["demo_hex"]], '.hex(" ")'),
        ("demo_pieces", lambda r: ["".join(p) for p in r["demo_pieces"]], "a list of pieces"),
        (
            "demo_pieces",
            lambda r: [[p.strip("\ufffd") for p in s] for s in r["demo_pieces"]],
            "one decode_token call",
        ),
    ],
    "lengths": [
        ("char_lengths", lambda r: r["byte_lengths"], "did you swap"),
        ("byte_lengths", lambda r: r["char_lengths"], "did you swap"),
        (
            "char_lengths",
            lambda r: np.maximum(r["char_lengths"] - 1, 0),
            "len() of the decoded text",
        ),
        ("byte_lengths", lambda r: r["byte_lengths"] + 1, "len(text.encode('utf-8'))"),
        ("char_lengths", lambda r: r["char_lengths"].tolist(), "make it a numpy array"),
        ("byte_lengths", lambda r: np.zeros_like(r["byte_lengths"]), "still all zero"),
    ],
    "count_matrix": [
        ("counts", add_once, "np.add.at"),
        ("counts", lambda r: r["counts"].T, "rows are character lengths"),
        ("counts", lambda r: r["counts"].tolist(), "make it a numpy array"),
    ],
    "nonzero_cells": [
        ("char_cells", lambda r: r["byte_cells"], "swapped"),
        ("byte_cells", lambda r: r["char_cells"], "swapped"),
        ("char_cells", lambda r: r["char_cells"][:-1], "np.nonzero(counts)"),
        ("byte_cells", lambda r: r["byte_cells"][::-1], "column indices of np.nonzero"),
        ("cell_counts", lambda r: np.ones_like(r["cell_counts"]), "counts[rows, cols]"),
        ("cell_counts", lambda r: r["cell_counts"].tolist(), "make it a numpy array"),
    ],
    "mismatches": [
        ("mismatch_ids", lambda r: r["mismatch_ids"][1:], "np.flatnonzero(char_lengths != byte"),
        (
            "mismatch_ids",
            lambda r: np.setdiff1d(np.arange(len(r["char_lengths"])), r["mismatch_ids"]),
            "equal lengths",
        ),
        ("n_with_replacement", lambda r: len(r["mismatch_ids"]), "counts every mismatch"),
        ("n_with_replacement", lambda r: r["n_with_replacement"] - 1, "contains U+FFFD"),
        ("sample", lambda r: np.repeat(r["sample"][:15], 2), "without replacement"),
        ("sample", lambda r: np.arange(30), "outside the mismatching ids"),
        ("sample", lambda r: r["sample"][:10], "expected 30 integers"),
    ],
    "length_trends": [
        (
            "mean_chars",
            lambda r: pd.Series(r["char_lengths"]).rolling(1000).mean(),
            "centred window",
        ),
        ("mean_chars", lambda r: r["mean_bytes"], "means of the bytes"),
        ("mean_bytes", lambda r: r["mean_chars"], "means of the characters"),
        ("mean_bytes", lambda r: r["mean_bytes"] * 1.1, "the mean of each window"),
        ("block_means", lambda r: r["block_means"].iloc[:5], "10 blocks"),
        ("block_means", lambda r: r["block_means"] * 2, "pd.cut the ids"),
        ("block_means", lambda r: r["block_means"].to_numpy(), "DataFrame"),
    ],
    "mismatch_indicator": [
        ("mismatch", lambda r: 1 - r["mismatch"], "flipped"),
        ("mismatch", lambda r: r["mismatch"] * 2, "only 0 and 1"),
        ("mismatch", lambda r: np.roll(r["mismatch"], 1), "exactly where the two lengths differ"),
        ("mismatch", lambda r: r["mismatch"].tolist(), "make it a numpy array"),
        ("jittered", lambda r: r["mismatch"].astype(float), "random offset"),
        (
            "jittered",
            lambda r: r["mismatch"] + 3 * (r["jittered"] - r["mismatch"]),
            "random offset",
        ),
    ],
    "mismatch_split": [
        ("n_single_mismatch", lambda r: r["n_merged_mismatch"], "merged tokens' count"),
        ("n_merged_mismatch", lambda r: r["n_single_mismatch"], "single bytes' count"),
        ("n_single_mismatch", lambda r: r["n_single_mismatch"] - 1, "ids 0..255"),
        ("n_merged_mismatch", lambda r: r["n_merged_mismatch"] + 1, "from id 256 on"),
        ("block_mismatches", lambda r: np.cumsum(r["block_mismatches"]), "Part 2 blocks"),
        ("block_mismatches", lambda r: r["block_mismatches"].tolist(), "keep the Series"),
    ],
    "distributions": [
        ("byte_values", lambda r: r["byte_values"] + 1, "np.unique of the byte lengths"),
        ("byte_counts", lambda r: r["byte_counts"][::-1], "np.unique of the byte lengths"),
        ("char_values", lambda r: r["char_values"] + 1, "np.unique of the character lengths"),
        ("char_counts", lambda r: r["char_counts"][::-1], "np.unique of the character lengths"),
        ("byte_percent", lambda r: r["byte_percent"] / 100, "should sum to 100"),
        ("char_percent", lambda r: r["char_percent"] / 100, "should sum to 100"),
        ("byte_percent", lambda r: r["byte_percent"][::-1], "some byte percentages"),
        ("char_percent", lambda r: r["char_percent"][::-1], "some character percentages"),
        ("char_percent", lambda r: r["char_percent"].tolist(), "make it a numpy array"),
    ],
    "distribution_table": [
        ("distributions", lambda r: r["distributions"].replace(0, np.nan), "fillna(0)"),
        ("distributions", lambda r: r["distributions"].iloc[1:], "every length that occurs"),
        ("distributions", lambda r: r["distributions"][["bytes"]], "needs the columns"),
        ("distributions", lambda r: r["distributions"] / 100, "percentages of np.unique"),
    ],
    "longest_token": [
        ("longest_id", lambda r: int(np.argsort(r["byte_lengths"])[-2]), "np.argmax of the byte"),
        ("longest_id", lambda r: float(r["longest_id"]), "as an integer"),
        ("longest_id", lambda r: 10**6, "not a token id"),
    ],
    "true_bytes": [
        ("true_bytes", lambda r: r["byte_lengths"], "decoded byte lengths"),
        ("true_bytes", lambda r: r["true_bytes"] + 1, "convert_ids_to_tokens"),
        ("true_bytes", lambda r: r["true_bytes"].tolist(), "make it a numpy array"),
        ("has_replacement", lambda r: ~r["has_replacement"], "contains U+FFFD"),
        ("differs", lambda r: ~r["differs"], "True where true_bytes"),
        ("true_longest", lambda r: r["true_longest"] - 1, "true bytes"),
        ("examples", lambda r: np.arange(8), "np.flatnonzero(differs)"),
        ("examples", lambda r: np.repeat(r["examples"][:4], 2), "without replacement"),
    ],
}

test_wrong_answers = checkutil.wrong_answers(check, inputs, WRONG)
