"""Self-checks for project 3, "Pandas frequency tables of token lengths".

A token's length is the number of characters of its text decoded on its own (leading space
included, no clean-up of spaces). Every reference is computed here from the paragraph, the
books and the tokenizer, never from the learner's ids or tables.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ml4llm.checks import Expect, check, common, require
from ml4llm.tokens import decode_token, decode_vocab, encode

SORT = "not in order of length: call .sort_index() after value_counts()"
DECODED = "decoding the ids does not give the paragraph back: decode all ids at once with "
SPACES = "the leading spaces are gone: keep each text as decode_token gives it"
VOCAB = "this counts the vocabulary: index is_partial with book_ids"
MEAN = "every length times its proportion, summed over the lengths (.mul(index, axis=0).sum())"
SUMS_TO_1 = (
    lambda v: not np.isclose(v.sum(), 1),
    "the shares do not sum to 1: use value_counts(normalize=True)",
)


@functools.lru_cache(maxsize=2)
def _vocab(tokenizer: Any) -> dict[str, Any]:
    """Every id's text, character length and U+FFFD mark, decoded once per tokenizer."""
    strings = decode_vocab(tokenizer)
    return {
        "strings": strings,
        "lengths": np.array([len(s) for s in strings]),
        "bytes": np.array([len(s.encode("utf-8")) for s in strings]),
        "partial": np.array(["\ufffd" in s for s in strings]),
    }


@functools.lru_cache(maxsize=4)
def _ids(texts: tuple[str, ...], tokenizer: Any) -> tuple[np.ndarray, ...]:
    return tuple(np.array(encode(tokenizer, text), dtype=np.int64) for text in texts)


def _series(value: Any, want: pd.Series, *, name: str, hint: str, traps: Sequence = ()) -> None:
    """Fail unless ``value`` is a Series with the values and the index (labels) of ``want``."""
    common.require_values(value, want.to_numpy(), name=name, hint=hint, traps=traps)
    index = list(value.index) if isinstance(value, pd.Series) else None
    require(
        index == list(want.index),
        f"{name}: the index should hold {list(want.index)[:6]}...: keep the Series that "
        "value_counts gives (its index holds what was counted)",
    )


def _paragraph(paragraph: str, tokenizer: Any) -> dict[str, Any]:
    """Part 1: the paragraph's ids, decoding, token lengths and longest token."""
    ids = encode(tokenizer, paragraph)
    pieces = [decode_token(tokenizer, i) for i in ids]
    lengths = pd.Series([len(p) for p in pieces])
    first = int(lengths.idxmax())
    return {
        "paragraph_ids": Expect(ids, "encode the paragraph without special tokens"),
        "decoded": Expect(paragraph, DECODED + "clean_up_tokenization_spaces=False"),
        "length_counts": lengths.value_counts().sort_index(),
        "length_shares": lengths.value_counts(normalize=True).sort_index(),
        "stripped": pd.Series([len(p.strip()) for p in pieces]).value_counts().sort_index(),
        "longest": pd.Series({"token": pieces[first], "length": int(lengths[first])}, name=first),
    }


def _vocab_reference(tokenizer: Any) -> dict[str, Any]:
    """Part 2: the decoded vocabulary and its length table."""
    vocab = _vocab(tokenizer)
    return {
        "vocab_strings": Expect(
            vocab["strings"],
            "entry i is decode_token(tokenizer, i), for every id in range(len(tokenizer))",
            traps=[(lambda v: not any(s.startswith(" ") for s in v.tolist()), SPACES)],
        ),
        "length_table": Expect(
            vocab["lengths"],
            "entry i is len(vocab_strings[i]): use len() of the decoded string",
            traps=[(vocab["bytes"], "these are UTF-8 bytes: measure characters with len(text)")],
        ),
    }


def _books(books: Sequence[Any], tokenizer: Any, n_show: int = 12) -> dict[str, Any]:
    """Part 2 on the books: distributions, partial tokens, summary and one-character tokens."""
    vocab = _vocab(tokenizer)
    titles = [book.title for book in books]
    ids = _ids(tuple(book.text for book in books), tokenizer)
    shares = {
        t: pd.Series(vocab["lengths"][i]).value_counts(normalize=True) for t, i in zip(titles, ids)
    }
    table = pd.DataFrame(shares).sort_index().fillna(0)
    summary = pd.DataFrame(
        {
            "tokens": [len(i) for i in ids],
            "mean length": [float(vocab["lengths"][i].mean()) for i in ids],
            "most common length": table.idxmax().to_numpy(),
            "share of length 1": table.loc[1].to_numpy(),
            "U+FFFD tokens": [int(vocab["partial"][i].sum()) for i in ids],
        },
        index=titles,
    )
    all_ids = np.concatenate(ids)
    one_char = all_ids[vocab["lengths"][all_ids] == 1]
    top = pd.Series([vocab["strings"][i] for i in one_char]).value_counts(normalize=True)
    counts = pd.Series([vocab["strings"][i] for i in one_char]).value_counts()
    return {
        "length_distribution": table,
        "n_partial_ids": Expect(
            int(vocab["partial"].sum()),
            'mark the ids whose text holds "\\ufffd" (is_partial), then sum the marks',
        ),
        "book_ids": Expect(all_ids, "the ids of all books in book order: np.concatenate(all_ids)"),
        "n_partial_tokens": Expect(
            int(vocab["partial"][all_ids].sum()),
            "index is_partial with book_ids and sum the True values",
            traps=[(int(vocab["partial"].sum()), VOCAB)],
        ),
        "book_summary": Expect(
            summary,
            columns={
                "tokens": "the number of ids of each book",
                "mean length": MEAN,
                "most common length": "the length with the largest proportion (.idxmax())",
                "share of length 1": "the proportion in the row for length 1 (.loc[1])",
                "U+FFFD tokens": "how many of the book's ids are partial (is_partial[ids].sum())",
            },
        ),
        "one_char_share": Expect(
            len(one_char) / len(all_ids),
            "divide the number of one-character tokens by the number of all book ids",
        ),
        "top_one_char": top.head(n_show),
        "top_counts": counts.head(n_show),
    }


@check(reference=_paragraph)
def paragraph_tokens(paragraph, tokenizer, *, paragraph_ids, decoded) -> str:
    """The paragraph's ids (no special tokens) and its decoding, which gives the paragraph back."""
    return f"{len(paragraph_ids)} tokens; decoding gives the paragraph back exactly"


@check(reference=_paragraph)
def paragraph_counts(paragraph, tokenizer, *, length_counts, length_shares, ref: dict) -> str:
    """Counts and shares of token lengths in the paragraph, sorted by length."""
    counts, n = ref["length_counts"], len(ref["paragraph_ids"])
    _series(
        length_counts,
        counts,
        name="length_counts",
        hint="some counts are off: value_counts() of the length column, then .sort_index()",
        traps=[
            (
                lambda v: v.sum() != n,
                f"the counts should sum to the {n} tokens: one length per token",
            ),
            (
                ref["stripped"].to_numpy(),
                "measure each token's decoded text with len(), leading space included",
            ),
            (
                counts.sort_values(ascending=False, kind="stable").to_numpy(),
                f"the counts are {SORT}",
            ),
        ],
    )
    shares = ref["length_shares"]
    _series(
        length_shares,
        shares,
        name="length_shares",
        hint="some shares are off: value_counts(normalize=True) of the length column",
        traps=[
            SUMS_TO_1,
            (
                shares.sort_values(ascending=False, kind="stable").to_numpy(),
                f"the shares are {SORT}",
            ),
        ],
    )
    return f"{n} tokens, lengths {counts.index.min()} to {counts.index.max()} characters"


@check(reference=_paragraph)
def longest_token(paragraph, tokenizer, *, longest, ref: dict) -> str:
    """The table row of the paragraph's longest token (the first one when several tie)."""
    want = ref["longest"]
    require(
        isinstance(longest, pd.Series) and {"token", "length"} <= set(longest.index),
        "longest: give the whole row of the table (token_table.loc[...]), with its token and "
        f"length, not {common.describe(longest)}",
    )
    hint = "use token_table.loc[token_table['length'].idxmax()], the first longest token"
    common.require_values(longest["length"], want["length"], name="longest['length']", hint=hint)
    common.require_values(longest["token"], want["token"], name="longest['token']", hint=hint)
    return f"{want['token']!r}, {want['length']} characters"


@check(reference=_vocab_reference)
def length_table(tokenizer, *, vocab_strings, length_table) -> str:
    """The decoded vocabulary and the per-id length table, equal to direct decoding of every id."""
    require(
        isinstance(length_table, np.ndarray),
        f"length_table: make it a numpy array (np.array(...)), not {common.describe(length_table)}: "
        "the books' ids index it (length_table[ids])",
    )
    return f"{len(tokenizer):,} lengths, every id equal to its direct decoding"


@check(reference=_books)
def book_proportions(books, tokenizer, *, length_distribution, ref: dict) -> str:
    """Rows = lengths (sorted), one column per book, normalised proportions that sum to 1."""
    want = ref["length_distribution"]
    table = common.require_frame(
        length_distribution, name="length_distribution", columns=list(want.columns)
    )
    require(
        table.index.is_monotonic_increasing,
        "length_distribution: the rows are not in order of length: call .sort_index()",
    )
    require(
        not table.isna().to_numpy().any(),
        "length_distribution has NaN where a book never uses a length: fill them with 0 (.fillna(0))",
    )
    by_book = "this book's column differs: map its ids through the length table (length_table[ids])"
    columns = dict.fromkeys(want.columns, (by_book, [SUMS_TO_1]))
    common.require_expected(table, Expect(want, columns=columns), "length_distribution")
    rows = len(want)
    return f"{len(books)} books x {rows} lengths; every column sums to 1 and matches the book"


@check(reference=_books)
def partial_tokens(
    books, tokenizer, *, n_partial_ids, book_ids, n_partial_tokens, ref: dict
) -> str:
    """How many vocabulary entries decode to U+FFFD, all books' ids, and how many of them do."""
    require(
        isinstance(book_ids, np.ndarray),
        f"book_ids: make it a numpy array (np.concatenate), not {common.describe(book_ids)}: "
        "it indexes is_partial and length_table",
    )
    n_ids, n_tokens, n_all = ref["n_partial_ids"], ref["n_partial_tokens"], len(ref["book_ids"])
    return f"{n_ids} partial vocabulary entries; {n_tokens:,} of {n_all:,} book tokens"


@check(reference=_books)
def book_summary(books, tokenizer, *, book_summary) -> str:
    """One row per book: tokens, mean length, most common length, share of length 1, U+FFFD tokens."""
    return f"{len(books)} books x 5 columns"


@check(reference=_books)
def one_char_tokens(books, tokenizer, n_show, *, one_char_share, top_one_char, ref: dict) -> str:
    """The share of one-character tokens among all book tokens, and the ``n_show`` most frequent
    of them as shares of the one-character tokens."""
    top = ref["top_one_char"]
    _series(
        top_one_char,
        top,
        name="top_one_char",
        hint="the shares are off: select the ids whose table length is 1, then value_counts("
        "normalize=True) of their decoded text, .head(n_show)",
        traps=[
            (ref["top_counts"].to_numpy(), "these are counts: use value_counts(normalize=True)"),
        ],
    )
    return f"{ref['one_char_share']:.1%} of the tokens have one character; most common {top.index[0]!r}"
