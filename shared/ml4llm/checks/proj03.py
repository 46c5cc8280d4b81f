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


def _ids(tokenizer: Any, text: str) -> np.ndarray:
    return np.array(tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"])


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
def paragraph_counts(paragraph: str, tokenizer: Any, length_counts: Any) -> str:
    """Counts of token lengths in the paragraph, sorted by length, summing to the token count."""
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
    return f"{len(ids)} tokens, lengths {want.index.min()} to {want.index.max()} characters"


@check
def length_table(tokenizer: Any, table: Any) -> str:
    """The per-id length table: one entry per id, equal to direct decoding (20 random ids + all)."""
    table = np.asarray(table)
    n_vocab = len(tokenizer)
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
def one_char_tokens(texts: Sequence[str], tokenizer: Any, top: Any) -> str:
    """The most frequent one-character tokens of all books, as shares of the one-character tokens."""
    top = pd.Series(top)
    texts_by_id = decode_vocab(tokenizer)
    lengths = _reference_lengths(tokenizer)
    ids = np.concatenate([_ids(tokenizer, text) for text in texts])
    one_char = ids[lengths[ids] == 1]
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
    return f"{len(one_char):,} one-character tokens; most common {want.index[0]!r} ({want.iloc[0]:.1%})"
