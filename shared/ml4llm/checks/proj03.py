"""Self-checks for project 3, "Pandas frequency tables of token lengths".

A token's length is the number of characters of its text decoded on its own (leading space
included, no clean-up of spaces). References are computed here from the tokenizer.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ml4llm.checks import check, require
from ml4llm.tokens import decode_token, decode_vocab

N_RANDOM_IDS = 20


@functools.lru_cache(maxsize=4)
def _reference_lengths(tokenizer: Any) -> np.ndarray:
    """Character length of every id, decoded once."""
    return np.array([len(text) for text in decode_vocab(tokenizer)])


@functools.lru_cache(maxsize=32)
def _encoded(tokenizer: Any, text: str) -> tuple[int, ...]:
    """The ids of a text without special tokens, encoded once per text (several checks use them)."""
    return tuple(tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"])


def _ids(tokenizer: Any, text: str) -> np.ndarray:
    return np.array(_encoded(tokenizer, text))


def _partial(tokenizer: Any) -> np.ndarray:
    """True for the ids whose decoded text holds U+FFFD."""
    return np.array(["\ufffd" in text for text in decode_vocab(tokenizer)])


@check
def paragraph_tokens(paragraph: str, tokenizer: Any, ids: Sequence[int], decoded: str) -> str:
    """The paragraph's ids (no special tokens) and its decoding, which gives the paragraph back."""
    want = _ids(tokenizer, paragraph)
    require(
        [int(i) for i in ids] == want.tolist(),
        f"expected the {len(want)} ids of encoding the paragraph without special tokens, got "
        f"{len(ids)} ids",
    )
    require(
        decoded == paragraph,
        "decoding the ids does not give the paragraph back: decode all ids at once with "
        "clean_up_tokenization_spaces=False",
    )
    return f"{len(want)} tokens; decoding gives the paragraph back exactly"


@check
def paragraph_counts(paragraph: str, tokenizer: Any, length_counts: Any, length_shares: Any) -> str:
    """Counts (and shares) of token lengths in the paragraph, sorted by length; the counts sum to
    the token count and the shares to 1."""
    counts = pd.Series(length_counts)
    ids = _ids(tokenizer, paragraph)
    require(
        int(counts.sum()) == len(ids),
        f"the counts sum to {int(counts.sum())}, but the paragraph has {len(ids)} tokens: count "
        "one length per token",
    )
    require(
        counts.index.is_monotonic_increasing,
        "the counts are not in order of length: call .sort_index() after value_counts()",
    )
    lengths = [len(decode_token(tokenizer, i)) for i in ids]
    want = pd.Series(lengths).value_counts().sort_index()
    require(
        list(counts.index) == list(want.index),
        f"the lengths should be {list(want.index)}: measure each token's decoded text with len(), "
        "leading space included",
    )
    require(
        np.array_equal(counts.to_numpy(), want.to_numpy()),
        "some counts are off: use value_counts() on the length column",
    )
    shares = pd.Series(length_shares)
    require(
        np.isclose(float(shares.sum()), 1.0),
        f"the shares sum to {float(shares.sum()):.3g}, not 1: use value_counts(normalize=True)",
    )
    require(
        list(shares.index) == list(want.index),
        "the shares should have the same lengths as the counts, in order of length: "
        "value_counts(normalize=True).sort_index()",
    )
    require(
        np.allclose(shares.to_numpy(dtype=float), want.to_numpy() / len(ids)),
        "some shares are off: value_counts(normalize=True) of the length column",
    )
    return f"{len(ids)} tokens, lengths {want.index.min()} to {want.index.max()} characters"


@check
def longest_token(paragraph: str, tokenizer: Any, longest: Any) -> str:
    """The table row of the paragraph's longest token (the first one when several tie)."""
    ids = _ids(tokenizer, paragraph)
    pieces = [decode_token(tokenizer, i) for i in ids]
    lengths = [len(piece) for piece in pieces]
    first = int(np.argmax(lengths))
    require(
        hasattr(longest, "__getitem__") and not isinstance(longest, str),
        "give the whole row of the table (token_table.loc[...]), with its token and length",
    )
    require(
        int(longest["length"]) == lengths[first],
        f"the row has length {longest['length']}, but the longest token has {lengths[first]} "
        "characters: use idxmax() of the length column",
    )
    require(
        longest["token"] == pieces[first],
        "that is not the first token of the largest length: token_table.loc[...idxmax()]",
    )
    return f"{pieces[first]!r}, {lengths[first]} characters"


@check
def length_table(tokenizer: Any, vocab_strings: Sequence[str], table: Any) -> str:
    """The decoded vocabulary and the per-id length table: one entry per id, equal to direct
    decoding (20 random ids + all)."""
    n_vocab = len(tokenizer)
    require(
        len(vocab_strings) == n_vocab,
        f"vocab_strings should hold one text per id ({n_vocab:,}), not {len(vocab_strings):,}: "
        "decode every id in range(len(tokenizer))",
    )
    strings_rng = np.random.default_rng(2025)
    for token_id in strings_rng.choice(n_vocab, size=N_RANDOM_IDS, replace=False):
        require(
            vocab_strings[token_id] == decode_token(tokenizer, token_id),
            f"vocab_strings[{token_id}] is {vocab_strings[token_id]!r}, but the id decodes to "
            f"{decode_token(tokenizer, token_id)!r}: entry i is decode_token(tokenizer, i)",
        )
    table = np.asarray(table)
    require(
        table.shape == (n_vocab,),
        f"the table should have one entry per id, shape ({n_vocab},), not {table.shape}",
    )
    rng = np.random.default_rng(2024)
    for token_id in rng.choice(n_vocab, size=N_RANDOM_IDS, replace=False):
        text = decode_token(tokenizer, token_id)
        require(
            int(table[token_id]) == len(text),
            f"id {token_id}: the table says {table[token_id]}, but it decodes to {text!r} of "
            f"{len(text)} characters; use len() of the decoded string",
        )
    want = _reference_lengths(tokenizer)
    wrong = np.flatnonzero(table != want)
    if len(wrong):
        first = int(wrong[0])
        require(
            False,
            f"{len(wrong)} entries are off, e.g. id {first} ({decode_token(tokenizer, first)!r}): "
            "measure characters of the decoded text, not bytes",
        )
    return f"{n_vocab:,} lengths; {N_RANDOM_IDS} random ids (and all others) match direct decoding"


@check
def book_proportions(texts: Sequence[str], tokenizer: Any, distribution: Any) -> str:
    """Rows = lengths (sorted), one column per book, normalised proportions that sum to 1."""
    require(
        isinstance(distribution, pd.DataFrame),
        "build one DataFrame from the per-book value_counts (a dict of Series)",
    )
    require(
        distribution.shape[1] == len(texts),
        f"expected one column per book ({len(texts)}), got {distribution.shape[1]}",
    )
    require(
        not distribution.isna().to_numpy().any(),
        "the table has NaN where a book never uses a length: fill them with 0 (.fillna(0))",
    )
    require(
        distribution.index.is_monotonic_increasing,
        "the rows are not in order of length: call .sort_index()",
    )
    sums = distribution.sum(axis=0).to_numpy()
    require(
        np.allclose(sums, 1.0),
        f"every column should sum to 1, got sums from {sums.min():.3g} to {sums.max():.3g}: "
        "use value_counts(normalize=True)",
    )
    lengths = _reference_lengths(tokenizer)
    for b, text in enumerate(texts):
        want = pd.Series(lengths[_ids(tokenizer, text)]).value_counts(normalize=True)
        got = distribution.iloc[:, b]
        want = want.reindex(got.index, fill_value=0.0)
        require(
            np.allclose(got.to_numpy(), want.to_numpy(), atol=1e-9),
            f"column {b} differs from the token lengths of book {b}: map its ids through the "
            "length table (length_table[ids])",
        )
    return (
        f"{len(texts)} books x {distribution.shape[0]} lengths; every column sums to 1 and matches "
        "the book's tokens"
    )


@check
def partial_tokens(
    texts: Sequence[str],
    tokenizer: Any,
    n_partial_ids: int,
    book_ids: Any,
    n_partial_tokens: int,
) -> str:
    """How many vocabulary entries decode to U+FFFD, all books' ids, and how many of them do."""
    partial = _partial(tokenizer)
    require(
        int(n_partial_ids) == int(partial.sum()),
        f"{int(partial.sum())} vocabulary entries contain U+FFFD, not {int(n_partial_ids)}: mark "
        'the ids whose text holds "\\ufffd", then sum the marks',
    )
    book_ids = np.asarray(book_ids)
    want = np.concatenate([_ids(tokenizer, text) for text in texts])
    require(book_ids.size > 0, "book_ids is still empty: fill in the loop over the books first")
    require(
        book_ids.shape == want.shape and np.array_equal(book_ids, want),
        f"book_ids should hold the {len(want):,} ids of all books in book order: "
        "np.concatenate(all_ids)",
    )
    want_tokens = int(partial[want].sum())
    require(
        int(n_partial_tokens) == want_tokens,
        f"{want_tokens:,} book tokens are partial, not {int(n_partial_tokens):,}: index is_partial "
        "with book_ids and sum",
    )
    return (
        f"{int(partial.sum())} partial vocabulary entries; {want_tokens:,} of {len(want):,} book "
        "tokens"
    )


@check
def book_summary(texts: Sequence[str], tokenizer: Any, summary: Any) -> str:
    """One row per book: tokens, mean length, most common length, share of length 1, U+FFFD tokens."""
    require(isinstance(summary, pd.DataFrame), "build one DataFrame with one row per book")
    columns = ["tokens", "mean length", "most common length", "share of length 1", "U+FFFD tokens"]
    for column in columns:
        require(column in summary.columns, f"the table needs a column named {column!r}")
    require(
        len(summary) == len(texts),
        f"expected one row per book ({len(texts)}), got {len(summary)}",
    )
    lengths = _reference_lengths(tokenizer)
    partial = _partial(tokenizer)
    hints = {
        "tokens": "the number of ids of each book",
        "mean length": "every length times its proportion, summed over the lengths "
        "(.mul(index, axis=0).sum())",
        "most common length": "the length with the largest proportion (.idxmax())",
        "share of length 1": "the proportion in the row for length 1 (.loc[1])",
        "U+FFFD tokens": "how many of the book's ids are partial (is_partial[ids].sum())",
    }
    for b, text in enumerate(texts):
        ids = _ids(tokenizer, text)
        book_lengths = lengths[ids]
        shares = pd.Series(book_lengths).value_counts(normalize=True)
        want = {
            "tokens": len(ids),
            "mean length": float(book_lengths.mean()),
            "most common length": int(shares.idxmax()),
            "share of length 1": float(shares.get(1, 0.0)),
            "U+FFFD tokens": int(partial[ids].sum()),
        }
        row = summary.iloc[b]
        for column, value in want.items():
            require(
                np.isclose(float(row[column]), value),
                f"book {b}, column {column!r}: expected {value:.4g}, got {row[column]}: "
                f"{hints[column]}",
            )
    return f"{len(texts)} books x {len(columns)} columns"


@check
def one_char_tokens(texts: Sequence[str], tokenizer: Any, share: float, top: Any) -> str:
    """The share of one-character tokens among all book tokens, and the most frequent of them as
    shares of the one-character tokens."""
    top = pd.Series(top)
    texts_by_id = decode_vocab(tokenizer)
    lengths = _reference_lengths(tokenizer)
    ids = np.concatenate([_ids(tokenizer, text) for text in texts])
    one_char = ids[lengths[ids] == 1]
    require(
        np.isclose(float(share), len(one_char) / len(ids)),
        f"the share of one-character tokens is {len(one_char) / len(ids):.4f}, not "
        f"{float(share):.4f}: divide their number by the number of all book ids",
    )
    want = pd.Series([texts_by_id[i] for i in one_char]).value_counts(normalize=True)
    require(
        len(top) >= 1 and len(top) <= len(want),
        f"give the most frequent entries of the value_counts (up to {len(want)})",
    )
    want = want.head(len(top))
    require(
        float(top.iloc[0]) <= 1,
        "the values should be shares (value_counts(normalize=True)), not counts",
    )
    require(
        np.allclose(top.to_numpy(dtype=float), want.to_numpy()),
        "the shares are off: select the ids whose table length is 1, then value_counts("
        "normalize=True) of their decoded text",
    )
    require(
        list(top.index) == list(want.index),
        "the tokens (the index) differ: keep the decoded text of each id as the values",
    )
    return (
        f"{len(one_char):,} one-character tokens ({len(one_char) / len(ids):.1%}); most common "
        f"{want.index[0]!r} ({want.iloc[0]:.1%})"
    )
