"""Project 3's checks: each wrong answer gets its hint (the solution notebook is the pass test)."""

from __future__ import annotations

import functools

import checkutil
import numpy as np
import pandas as pd

from ml4llm.checks import proj03 as check
from ml4llm.data import load_books
from ml4llm.models import load_tokenizer

PARAGRAPH = "Le Sacre du printemps opened at the Théâtre des Champs-Élysées on 29 May 1913."
# offline The Tempest ends with the course's multilingual lines: some of its tokens are U+FFFD
BOOKS = [219, 2591]


@functools.cache
def inputs() -> dict[str, tuple]:
    tokenizer = load_tokenizer("gpt2")
    books = (load_books(BOOKS, profile="offline"), tokenizer)
    return {
        "paragraph_tokens": (PARAGRAPH, tokenizer),
        "paragraph_counts": (PARAGRAPH, tokenizer),
        "longest_token": (PARAGRAPH, tokenizer),
        "length_table": (tokenizer,),
        "book_proportions": books,
        "partial_tokens": books,
        "book_summary": books,
        "one_char_tokens": (*books, 12),
    }


def shifted(values, by=1):
    """The values with ``by`` moved from the first entry to the second (the same sum)."""
    out = np.array(values, dtype=float)
    out[0] += by
    out[1] -= by
    return pd.Series(out, index=values.index)


def by_frequency(series):
    return series.sort_values(ascending=False, kind="stable")


def column(name, change):
    return lambda r: r["book_summary"].assign(**{name: change(r["book_summary"][name])})


WRONG = {  # check -> [(learner value, wrong answer from the right values r, hint substring)]
    "paragraph_tokens": [
        ("paragraph_ids", lambda r: [*r["paragraph_ids"], 50256], "without special tokens"),
        ("decoded", lambda r: r["decoded"].strip("."), "clean_up_tokenization_spaces=False"),
    ],
    "paragraph_counts": [
        ("length_counts", lambda r: by_frequency(r["length_counts"]), "counts are not in order"),
        ("length_counts", lambda r: r["stripped"], "leading space included"),
        ("length_counts", lambda r: r["length_counts"] + 1, "should sum to the"),
        ("length_counts", lambda r: shifted(r["length_counts"]), "some counts are off"),
        ("length_counts", lambda r: r["length_counts"].tolist(), "the index should hold"),
        ("length_shares", lambda r: r["length_shares"] * 2, "do not sum to 1"),
        ("length_shares", lambda r: by_frequency(r["length_shares"]), "shares are not in order"),
        ("length_shares", lambda r: shifted(r["length_shares"], 0.01), "some shares are off"),
    ],
    "longest_token": [
        ("longest", lambda r: 12, "give the whole row"),
        (
            "longest",
            lambda r: pd.Series({"token": "x", "length": r["longest"]["length"]}),
            "longest['token']: use token_table.loc",
        ),
        ("longest", lambda r: r["longest"].replace({r["longest"]["length"]: 1}), "idxmax"),
    ],
    "length_table": [
        (
            "length_table",
            lambda r: np.array([len(s.encode()) for s in r["vocab_strings"]]),
            "bytes",
        ),
        ("length_table", lambda r: r["length_table"][:-1], "expected 50257 numbers"),
        ("length_table", lambda r: r["length_table"] + 1, "use len() of the decoded string"),
        ("length_table", lambda r: r["length_table"].tolist(), "make it a numpy array"),
        ("vocab_strings", lambda r: r["vocab_strings"][:-1], "entry i is decode_token"),
        ("vocab_strings", lambda r: [s.strip() for s in r["vocab_strings"]], "leading spaces"),
    ],
    "book_proportions": [
        ("length_distribution", lambda r: r["length_distribution"].replace(0, np.nan), "fillna(0)"),
        ("length_distribution", lambda r: r["length_distribution"].iloc[::-1], "not in order"),
        ("length_distribution", lambda r: r["length_distribution"] * 3, "do not sum to 1"),
        (
            "length_distribution",
            lambda r: r["length_distribution"].set_axis(
                r["length_distribution"].columns[::-1], axis=1
            ),
            "length_table[ids]",
        ),
        (
            "length_distribution",
            lambda r: r["length_distribution"].iloc[:, :1],
            "needs the columns",
        ),
    ],
    "partial_tokens": [
        ("n_partial_ids", lambda r: r["n_partial_ids"] + 1, "then sum the marks"),
        ("book_ids", lambda r: r["book_ids"][::-1], "in book order"),
        ("book_ids", lambda r: r["book_ids"].tolist(), "make it a numpy array"),
        ("n_partial_tokens", lambda r: r["n_partial_ids"], "this counts the vocabulary"),
        ("n_partial_tokens", lambda r: r["n_partial_tokens"] + 1, "index is_partial with book_ids"),
    ],
    "book_summary": [
        ("book_summary", column("tokens", lambda c: c + 1), "the number of ids"),
        ("book_summary", column("mean length", lambda c: c + 0.5), "every length times"),
        ("book_summary", column("most common length", lambda c: c + 1), ".idxmax()"),
        ("book_summary", column("share of length 1", lambda c: c * 2), ".loc[1]"),
        ("book_summary", column("U+FFFD tokens", lambda c: c + 1), "is_partial[ids].sum()"),
        ("book_summary", lambda r: r["book_summary"].drop(columns="tokens"), "needs the columns"),
        ("book_summary", lambda r: r["book_summary"].iloc[::-1], "the index should be"),
    ],
    "one_char_tokens": [
        ("one_char_share", lambda r: r["one_char_share"] * 2, "divide the number"),
        ("top_one_char", lambda r: r["top_counts"], "these are counts"),
        ("top_one_char", lambda r: r["top_one_char"] / 2, "the shares are off"),
        ("top_one_char", lambda r: r["top_one_char"].tolist(), "the index should hold"),
    ],
}

test_wrong_answers = checkutil.wrong_answers(check, inputs, WRONG)


def test_offline_books_hold_partial_tokens():
    """Issue 11 item 6: offline, the books' U+FFFD count is not zero (the multilingual lines)."""
    ref = checkutil.right_values(check.partial_tokens, inputs()["partial_tokens"])
    summary = ref["book_summary"]
    assert ref["n_partial_tokens"] > 0
    assert (
        summary.loc["Macbeth", "U+FFFD tokens"] == 0 < summary.loc["The Tempest", "U+FFFD tokens"]
    )
