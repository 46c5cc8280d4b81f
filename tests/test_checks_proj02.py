"""Project 2's checks: each wrong answer gets its hint (the solution notebook is the pass test)."""

from __future__ import annotations

import functools

import checkutil
import numpy as np

from ml4llm.checks import proj02 as check
from ml4llm.data import load_books
from ml4llm.models import load_tokenizer
from ml4llm.tokens import visible

# Three short plays; offline The Tempest ends with the course's multilingual lines, so the
# non-ASCII rules (ord > 127, not > 255) and bytes against characters show.
BOOKS = [219, 2591, 2148]


@functools.cache
def inputs() -> dict[str, tuple]:
    texts = [book.text for book in load_books(BOOKS, profile="offline")]
    with_tokenizer = (texts, load_tokenizer("gpt2"))
    return {
        "token_ids": with_tokenizer,
        "book_table": with_tokenizer,
        "ratios": with_tokenizer,
        "round_trip": (texts,),
        "counts": with_tokenizer,
        "unit_means": with_tokenizer,
        "correlations": with_tokenizer,
        "most_unique_chars": (texts,),
    }


def texts() -> list[str]:
    return inputs()["round_trip"][0]


def swap(rows: np.ndarray, a: int, b: int) -> np.ndarray:
    out = np.array(rows, copy=True)
    out[[a, b]] = out[[b, a]]
    return out


WRONG = {  # check -> [(learner value, wrong answer from the right values r, hint substring)]
    "token_ids": [
        ("token_ids", lambda r: [[50256, *ids] for ids in r["token_ids"]], "add_special_tokens"),
        ("token_ids", lambda r: r["token_ids"][:-1], "expected a list of 3"),
        ("token_ids", lambda r: [ids[:-1] for ids in r["token_ids"]], "encode each whole text"),
    ],
    "book_table": [
        ("n_characters", lambda r: [len(t.encode("utf-8")) for t in texts()], "UTF-8 bytes"),
        ("n_characters", lambda r: [n + 1 for n in r["n_characters"]], "use len(text)"),
        ("n_words", lambda r: [len(t.split(" ")) for t in texts()], "cuts at spaces only"),
        ("n_words", lambda r: [n - 1 for n in r["n_words"]], "len(text.split())"),
        ("n_tokens", lambda r: r["n_characters"], "fewer GPT-2 tokens than characters"),
        ("n_tokens", lambda r: [n + 1 for n in r["n_tokens"]], "len(ids)"),
    ],
    "ratios": [
        ("chars_per_token", lambda r: 1 / r["chars_per_token"], "tokens per character"),
        ("chars_per_token", lambda r: r["chars_per_token"] + 1, "divide each book's characters"),
        ("tokens_per_word", lambda r: 1 / r["tokens_per_word"], "words per token"),
        ("tokens_per_word", lambda r: r["tokens_per_word"] * 2, "divide each book's GPT-2"),
        ("chars_per_token", lambda r: [], "is empty"),
    ],
    "round_trip": [
        (
            "decoded_texts",
            lambda r: [t.replace(" ,", ",") + "x" for t in r["decoded_texts"]],
            "clean_up_tokenization_spaces=False",
        ),
        ("same", lambda r: [False] * len(r["same"]), "same should be all True"),
        ("same", lambda r: [1] * len(r["same"]), "True/False"),
    ],
    "counts": [
        ("totals", lambda r: r["uniques"], "these are the unique counts"),
        ("totals", lambda r: r["totals"] + 1, "row 0 characters = len(text)"),
        ("uniques", lambda r: r["totals"] + 1, "larger than its total"),
        ("uniques", lambda r: np.where(np.arange(3)[:, None] == 2, 60_000, r["uniques"]), "50,257"),
        (
            "uniques",
            lambda r: np.array(
                [r["uniques"][0], [len(set(t.lower().split())) for t in texts()], r["uniques"][2]]
            ),
            "lowercased words",
        ),
        ("uniques", lambda r: r["uniques"] - 1, "count the set of characters"),
        ("totals", lambda r: np.zeros_like(r["totals"]), "still all zero"),
        ("totals", lambda r: r["totals"][:2], "shape (3, 3)"),
    ],
    "unit_means": [
        ("mean_totals", lambda r: r["mean_totals"][:2], "one value per unit"),
        ("mean_totals", lambda r: r["mean_totals"] * 1.1, "every row of totals"),
        ("mean_uniques", lambda r: r["mean_totals"], "these are the mean totals"),
        ("mean_uniques", lambda r: r["mean_uniques"] * 1.1, "every row of uniques"),
        ("unique_share", lambda r: r["unique_share"][:, None], "one value per unit"),
        ("unique_share", lambda r: r["unique_share"] * 2, "divide the mean unique count"),
    ],
    "correlations": [
        ("r_values", lambda r: r["r_values"][::-1], "reverse order"),
        ("r_values", lambda r: [2.0, 0.5, 0.5], "in -1..1"),
        ("r_values", lambda r: [r - 0.01 for r in r["r_values"]], "stats.pearsonr(totals[k]"),
    ],
    "most_unique_chars": [
        ("outlier", lambda r: 7, "in 0..2"),
        ("outlier", lambda r: (r["outlier"] + 1) % 3, "argmax of the unique character counts"),
        ("outlier_chars", lambda r: r["outlier_chars"][::-1], "not sorted"),
        ("outlier_chars", lambda r: r["outlier_chars"][1:], "sorted(set(text))"),
        # the finding of issue 11: ord(c) > 255 used to pass
        (
            "non_ascii",
            lambda r: [c for c in r["outlier_chars"] if ord(c) > 255],
            "ASCII ends at 127",
        ),
        ("non_ascii", lambda r: r["outlier_chars"], "keep only ord(c) > 127"),
        ("non_ascii", lambda r: r["non_ascii"][1:], "those with ord(c) > 127"),
        (
            "listing",
            lambda r: [f"[{c}]" if ord(c) > 255 else visible(c) for c in r["outlier_chars"]],
            "ASCII ends at 127",
        ),
        (
            "listing",
            lambda r: [f"[{c}]" if ord(c) > 127 else c for c in r["outlier_chars"]],
            "show the ASCII characters as visible(c)",
        ),
        ("listing", lambda r: r["listing"][::-1], "one entry per character in sorted order"),
    ],
}

test_wrong_answers = checkutil.wrong_answers(check, inputs, WRONG)


def test_offline_texts_hold_characters_between_128_and_255_and_above():
    ref = checkutil.right_values(check.most_unique_chars, inputs()["most_unique_chars"])
    codes = [ord(c) for c in ref["non_ascii"]]
    assert any(127 < c <= 255 for c in codes) and any(c > 255 for c in codes)
