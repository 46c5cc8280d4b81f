"""Self-checks for project 4, "Token lengths in characters and bytes".

Lengths are measured on each id decoded on its own (no clean-up of spaces): characters with
``len(text)``, bytes with ``len(text.encode("utf-8"))``. A token holding part of a multi-byte
character decodes to U+FFFD (1 character, 3 bytes). Every reference, including how many tokens
mismatch and the longest token, is computed here from the tokenizer (and the demo strings).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ml4llm.checks import Expect, check, common, require
from ml4llm.tokens import decode_token, decode_vocab, encode

REPLACEMENT = "\ufffd"
N_EXAMPLES = 8  # the true-bytes examples of the last part
ROWS_COLUMNS = "rows are character lengths, columns byte lengths"
SWAPPED = "did you swap the two arrays? No token has fewer bytes than characters in UTF-8"
ADD_AT = "add 1 per token with np.add.at (fancy-index += counts repeated pairs only once)"
MISMATCH = "(with clean_up_tokenization_spaces=False): np.flatnonzero(char_lengths != byte_lengths)"
INDICATOR = "1 exactly where the two lengths differ: (char_lengths != byte_lengths).astype(int)"


def _numpy(**values: Any) -> None:
    """Fail unless every value is a numpy array: the cells after the check use array methods."""
    for name, value in values.items():
        require(
            isinstance(value, np.ndarray),
            f"{name}: make it a numpy array (np.array(...)), not {common.describe(value)}: the "
            "next cells use it as one",
        )


def _demo(demo: Mapping[str, str], tokenizer: Any) -> dict[str, Any]:
    """Part 0: each demo string's lengths, ids, hex bytes and pieces."""
    texts, kinds = list(demo.values()), list(demo)
    chars = [len(t) for t in texts]
    ids = [encode(tokenizer, t) for t in texts]
    utf16, no_space = [len(t.encode("utf-16-le")) for t in texts], [t.encode().hex() for t in texts]
    return {
        "n_chars": Expect(chars, "use len(text) of each string"),
        "n_bytes": Expect(
            [len(t.encode("utf-8")) for t in texts],
            "use len(text.encode('utf-8')) of each string",
            traps=[
                (chars, "these are characters: count the bytes"),
                (utf16, "these are UTF-16 bytes"),
            ],
        ),
        "demo_ids": Expect(ids, "encode each string without special tokens", items=kinds),
        "demo_hex": Expect(
            [t.encode("utf-8").hex(" ") for t in texts],
            'each string\'s UTF-8 bytes in hex: text.encode("utf-8").hex(" ")',
            traps=[(no_space, "separate the bytes by a space: .hex(' ')")],
        ),
        "demo_pieces": Expect(
            [[decode_token(tokenizer, i) for i in i_s] for i_s in ids],
            "decode each id on its own: one decode_token call per id",
            items=kinds,
            traps=[(lambda v: v.ndim == 0, "give a list of pieces per string, one per id")],
        ),
    }


@functools.lru_cache(maxsize=2)
def _vocab(tokenizer: Any) -> dict[str, Any]:
    """Every reference of Parts 1-4 and of the true bytes, from the decoded vocabulary."""
    texts = decode_vocab(tokenizer)
    chars = np.array([len(t) for t in texts])
    n_bytes = np.array([len(t.encode("utf-8")) for t in texts])
    n_vocab = len(texts)
    counts = np.zeros((chars.max() + 1, n_bytes.max() + 1), dtype=int)
    np.add.at(counts, (chars, n_bytes), 1)
    rows, cols = np.nonzero(counts)
    mismatch_ids = np.flatnonzero(chars != n_bytes)
    mismatch = (chars != n_bytes).astype(int)
    blocks = pd.cut(np.arange(n_vocab), bins=np.linspace(0, n_vocab, 11).astype(int), right=False)
    replacement = np.array([REPLACEMENT in t for t in texts])
    true_bytes = np.array([len(e) for e in tokenizer.convert_ids_to_tokens(list(range(n_vocab)))])
    byte_values, byte_counts = np.unique(n_bytes, return_counts=True)
    char_values, char_counts = np.unique(chars, return_counts=True)
    percent = [100 * byte_counts / n_vocab, 100 * char_counts / n_vocab]
    return {
        "texts": texts,
        "blocks": blocks,
        "char_lengths": Expect(chars, "use len() of the decoded text", traps=[(n_bytes, SWAPPED)]),
        "byte_lengths": Expect(
            n_bytes,
            "use len(text.encode('utf-8'))",
            traps=[(chars, SWAPPED), (lambda v: np.any(v < chars), SWAPPED)],
        ),
        "counts": Expect(
            counts,
            f"some cells are off: {ROWS_COLUMNS}, from 0 to the largest length (max() + 1 each)",
            traps=[
                (lambda v: v.sum() != n_vocab, f"the matrix should sum to {n_vocab:,}: {ADD_AT}")
            ],
        ),
        "char_cells": Expect(
            rows,
            f"the count matrix has {len(rows)} non-zero cells: np.nonzero(counts) gives their row "
            "and column indices",
            traps=[(cols, f"the coordinates are swapped: {ROWS_COLUMNS}")],
        ),
        "byte_cells": Expect(
            cols,
            "the column indices of np.nonzero(counts)",
            traps=[(rows, f"the coordinates are swapped: {ROWS_COLUMNS}")],
        ),
        "cell_counts": Expect(
            counts[rows, cols],
            "the counts are off: index the matrix with both coordinate arrays, counts[rows, cols]",
        ),
        "mismatch_ids": Expect(
            mismatch_ids,
            f"{len(mismatch_ids)} tokens have different character and byte lengths {MISMATCH}",
            traps=[(np.flatnonzero(chars == n_bytes), "these ids have equal lengths: select !=")],
        ),
        "n_with_replacement": Expect(
            int(replacement[mismatch_ids].sum()),
            "count the mismatching tokens whose text contains U+FFFD ('\\ufffd')",
            traps=[(len(mismatch_ids), "this counts every mismatch: keep those with U+FFFD")],
        ),
        "mismatch": Expect(
            mismatch,
            f"the indicator should be {INDICATOR}",
            traps=[
                (
                    lambda v: not set(np.unique(v).tolist()) <= {0, 1},
                    "the indicator holds only 0 and 1",
                ),
                (1 - mismatch, "the indicator is flipped: 1 where the lengths differ"),
            ],
        ),
        "n_single_mismatch": Expect(
            int(mismatch[:256].sum()),
            "sum the indicator over ids 0..255",
            traps=[(int(mismatch[256:].sum()), "this is the merged tokens' count")],
        ),
        "n_merged_mismatch": Expect(
            int(mismatch[256:].sum()),
            "sum the indicator from id 256 on",
            traps=[(int(mismatch[:256].sum()), "this is the single bytes' count")],
        ),
        "block_mismatches": Expect(
            pd.Series(mismatch).groupby(blocks, observed=True).sum(),
            "group the indicator by the Part 2 blocks and sum",
        ),
        **_unique(n_bytes, "byte", "byte"),
        **_unique(chars, "char", "character"),
        "distributions": pd.DataFrame(
            {
                "bytes": pd.Series(percent[0], index=byte_values),
                "characters": pd.Series(percent[1], index=char_values),
            }
        ).fillna(0),
        "longest_id": Expect(
            int(np.argmax(n_bytes)),
            f"take np.argmax of the byte lengths: the longest token has {n_bytes.max()} bytes",
            traps=[(lambda v: not 0 <= v < n_vocab, "that is not a token id")],
        ),
        "true_bytes": Expect(
            true_bytes,
            "the length of each vocabulary entry (convert_ids_to_tokens), which writes one "
            "character per byte",
            traps=[(n_bytes, "these are the decoded byte lengths: measure the vocabulary entries")],
        ),
        "has_replacement": Expect(
            replacement,
            f"True for the {int(replacement.sum())} ids whose decoded text contains U+FFFD",
        ),
        "differs": Expect(
            true_bytes != n_bytes, "True where true_bytes and the decoded byte lengths differ"
        ),
        "true_longest": Expect(
            int(true_bytes.max()), f"the longest token has {int(true_bytes.max())} true bytes"
        ),
        "examples": np.flatnonzero(true_bytes != n_bytes)[:N_EXAMPLES],
    }


def _unique(lengths: np.ndarray, key: str, unit: str) -> dict[str, Expect]:
    """``{key}_values``, ``{key}_counts`` and ``{key}_percent`` of one length array."""
    values, counts = np.unique(lengths, return_counts=True)
    how = f"np.unique of the {unit} lengths, with return_counts=True"
    n = len(lengths)
    sums = f"the {unit} percentages should sum to 100: divide the counts by {n:,}, times 100"
    return {
        f"{key}_values": Expect(values, how),
        f"{key}_counts": Expect(counts, how),
        f"{key}_percent": Expect(
            100 * counts / n,
            f"some {unit} percentages are off: 100 * counts / vocabulary size",
            traps=[(lambda v: not np.isclose(v.sum(), 100), sums)],
        ),
    }


def _draw(value: Any, pool: np.ndarray, name: str, size: int, source: str) -> None:
    """Fail unless ``value`` holds ``size`` distinct ids, all from ``pool`` (named ``source``)."""
    ids = common.require_array(value, name=name, shape=(size,), kind="integers")
    require(
        len(np.unique(ids)) == size, f"{name} repeats ids: draw without replacement (replace=False)"
    )
    require(
        np.all(np.isin(ids, pool)),
        f"{name} holds ids outside {source}: draw it from them",
    )


def _mismatches(tokenizer: Any, n_examples: int) -> dict[str, Any]:
    ref = _vocab(tokenizer)
    return ref | {"sample": ref["mismatch_ids"].value[:n_examples]}


def _trends(tokenizer: Any, window: int) -> dict[str, Any]:
    ref = _vocab(tokenizer)
    chars, n_bytes = ref["char_lengths"].value, ref["byte_lengths"].value
    means = [pd.Series(v).rolling(window, center=True).mean().to_numpy() for v in (chars, n_bytes)]
    frame = pd.DataFrame({"characters": chars, "bytes": n_bytes})
    return ref | {
        "mean_chars": means[0],
        "mean_bytes": means[1],
        "block_means": frame.groupby(ref["blocks"], observed=True).mean(),
    }


def _indicator(tokenizer: Any, jitter: float) -> dict[str, Any]:
    ref = _vocab(tokenizer)
    offsets = np.random.default_rng(0).uniform(-jitter, jitter, size=len(ref["texts"]))
    return ref | {"jittered": ref["mismatch"].value + offsets}


@check(reference=_demo)
def demo_lengths(demo, tokenizer, *, n_chars, n_bytes, demo_ids) -> str:
    """Part 0: characters, UTF-8 bytes and GPT-2 ids of each demo string, in the demo's order."""
    multi = sum(len(t.encode("utf-8")) > len(t) for t in demo.values())
    return f"{len(demo)} strings; {multi} of them take more bytes than characters"


@check(reference=_demo)
def demo_bytes(demo, tokenizer, *, demo_hex, demo_pieces, ref: dict) -> str:
    """Part 0: each demo string's UTF-8 bytes in hex, and its ids decoded one at a time."""
    n = sum(REPLACEMENT in piece for pieces in ref["demo_pieces"] for piece in pieces)
    return f"{n} single-token decodes give U+FFFD (part of a multi-byte character)"


@check(reference=_vocab)
def lengths(tokenizer, *, char_lengths, byte_lengths) -> str:
    """Character and byte length of every id; no token has fewer bytes than characters."""
    _numpy(char_lengths=char_lengths, byte_lengths=byte_lengths)
    return f"{len(tokenizer):,} tokens; bytes >= characters for every one"


@check(reference=_vocab)
def count_matrix(tokenizer, *, counts) -> str:
    """counts[c, b] = number of tokens with c characters and b bytes; it sums to the vocab size."""
    _numpy(counts=counts)
    return f"{len(tokenizer):,} tokens in {np.count_nonzero(counts)} (characters, bytes) cells"


@check(reference=_vocab)
def nonzero_cells(tokenizer, *, char_cells, byte_cells, cell_counts) -> str:
    """The (characters, bytes) coordinates of the count matrix's non-zero cells, and their counts."""
    _numpy(char_cells=char_cells, byte_cells=byte_cells, cell_counts=cell_counts)
    return f"{len(char_cells)} non-zero cells holding {int(cell_counts.sum()):,} tokens"


@check(reference=_mismatches)
def mismatches(
    tokenizer, n_examples, *, mismatch_ids, n_with_replacement, sample, ref: dict
) -> str:
    """The ids whose two lengths differ, how many contain U+FFFD, and a random sample of them."""
    _draw(sample, ref["mismatch_ids"], "sample", n_examples, "the mismatching ids")
    n, k = len(ref["mismatch_ids"]), ref["n_with_replacement"]
    return f"{n} mismatching tokens, {k} of them contain U+FFFD"


@check(reference=_trends)
def length_trends(tokenizer, window, *, mean_chars, mean_bytes, block_means, ref: dict) -> str:
    """Centred rolling means of both lengths over ``window`` ids, and the mean lengths in ten
    equal blocks of ids."""
    for k, (name, value) in enumerate((("mean_chars", mean_chars), ("mean_bytes", mean_bytes))):
        want, other = ref[name], ref["mean_bytes" if k == 0 else "mean_chars"]
        got = common.require_array(value, name=name, shape=want.shape)
        require(
            np.array_equal(np.isnan(got), np.isnan(want)),
            f"{name}: a centred window leaves NaN at both ends only: rolling({window}, center=True)",
        )
        hint = f"the mean of each window of {window} ids, centred (.rolling({window}, center=True).mean())"
        traps = [(other, f"these are the means of the {'bytes' if k == 0 else 'characters'}")]
        common.require_values(got, want, name=name, hint=hint, traps=traps)
    want = ref["block_means"]
    table = common.require_frame(block_means, name="block_means", columns=list(want.columns))
    require(
        len(table) == len(want),
        f"block_means: expected one row per block ({len(want)}), got {len(table)}: 11 edges from "
        "0 to the vocabulary size make 10 blocks",
    )
    hint = "the block means are off: pd.cut the ids with right=False, then groupby(...).mean()"
    common.require_expected(
        table, Expect(want, columns=dict.fromkeys(want.columns, hint)), "block_means"
    )
    first, last = want["bytes"].iloc[0], want["bytes"].iloc[-1]
    return f"mean bytes per token {first:.2f} in the first block, {last:.2f} in the last"


@check(reference=_indicator)
def mismatch_indicator(tokenizer, jitter, *, mismatch, jittered, ref: dict) -> str:
    """The 0/1 mismatch indicator per id and its jittered copy (within +-jitter)."""
    _numpy(mismatch=mismatch)
    values = common.require_array(jittered, name="jittered", shape=mismatch.shape)
    offset = values - ref["mismatch"]
    require(
        np.all(np.abs(offset) <= jitter) and np.any(offset != 0),
        f"jittered: add a random offset between -{jitter} and {jitter} to the indicator "
        "(rng.uniform)",
    )
    return (
        f"{int(ref['mismatch'].sum())} ones among {len(mismatch):,} ids, jitter within +-{jitter}"
    )


@check(reference=_vocab)
def mismatch_split(
    tokenizer, *, n_single_mismatch, n_merged_mismatch, block_mismatches, ref: dict
) -> str:
    """Mismatches among the 256 single-byte ids, among the merged tokens, and per block of ids."""
    require(
        isinstance(block_mismatches, pd.Series),
        f"block_mismatches: keep the Series of groupby(...).sum(), not {common.describe(block_mismatches)}",
    )
    return f"{ref['n_single_mismatch']} single bytes and {ref['n_merged_mismatch']} merged tokens mismatch"


@check(reference=_vocab)
def distributions(
    tokenizer, *, byte_values, byte_counts, byte_percent, char_values, char_counts, char_percent
) -> str:
    """np.unique(lengths, return_counts=True) in bytes and in characters, and the percentage of
    the vocabulary at each length."""
    _numpy(
        byte_values=byte_values,
        byte_percent=byte_percent,
        char_values=char_values,
        char_percent=char_percent,
    )
    return (
        f"{len(byte_values)} byte lengths, {len(char_values)} character lengths; each sums to 100 %"
    )


@check(reference=_vocab)
def distribution_table(tokenizer, *, distributions, ref: dict) -> str:
    """Both distributions in one table: rows = lengths, columns "bytes" and "characters", 0 where
    a length occurs in one unit only."""
    want = ref["distributions"]
    table = common.require_frame(distributions, name="distributions", columns=list(want.columns))
    require(
        not table[list(want.columns)].isna().to_numpy().any(),
        "distributions has NaN where a length occurs in one unit only: fill them with 0 (.fillna(0))",
    )
    require(
        sorted(table.index.tolist()) == want.index.tolist(),
        "distributions: the rows should be every length that occurs in bytes or in characters: "
        "index each Series by its distinct lengths (the values of np.unique)",
    )
    hint = "the percentages of np.unique, indexed by the lengths"
    common.require_expected(
        table, Expect(want, columns=dict.fromkeys(want.columns, hint)), "distributions"
    )
    return f"{len(want)} lengths x 2 units; each column sums to 100"


@check(reference=_vocab)
def longest_token(tokenizer, *, longest_id, ref: dict) -> str:
    """The id of the longest token in (decoded) bytes."""
    require(
        common.as_array(longest_id).dtype.kind in "iu",
        f"longest_id: give the id as an integer (np.argmax gives one), not {common.describe(longest_id)}",
    )
    n_bytes = ref["byte_lengths"][ref["longest_id"]]
    return f"id {ref['longest_id']}, {n_bytes} bytes"


@check(reference=_vocab)
def true_bytes(
    tokenizer, *, true_bytes, has_replacement, differs, true_longest, examples, ref: dict
) -> str:
    """True byte counts from the vocabulary entries, the U+FFFD tokens, where the true and decoded
    byte counts differ, the longest token in true bytes and a sample of differing ids."""
    _numpy(true_bytes=true_bytes, has_replacement=has_replacement, differs=differs)
    _draw(
        examples, np.flatnonzero(ref["differs"]), "examples", N_EXAMPLES, "np.flatnonzero(differs)"
    )
    n, all_fffd = int(ref["differs"].sum()), bool(np.all(ref["has_replacement"][ref["differs"]]))
    return (
        f"{n} tokens differ, all with U+FFFD: {all_fffd}; longest {ref['true_longest']} true bytes"
    )
