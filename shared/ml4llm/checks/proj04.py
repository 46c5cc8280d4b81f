"""Self-checks for project 4, "Token lengths in characters and bytes".

Lengths are measured on each id decoded on its own (no clean-up of spaces): characters with
``len(text)``, bytes with ``len(text.encode("utf-8"))``. A token holding part of a multi-byte
character decodes to U+FFFD (1 character, 3 bytes). Every reference number, including how many
tokens mismatch and the longest token, is computed here from the tokenizer.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ml4llm.checks import check, require
from ml4llm.tokens import decode_token, decode_vocab

REPLACEMENT = "\ufffd"


@functools.lru_cache(maxsize=4)
def _reference(tokenizer: Any) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """Decoded text, character lengths and UTF-8 byte lengths of every id."""
    texts = tuple(decode_vocab(tokenizer))
    chars = np.array([len(text) for text in texts])
    n_bytes = np.array([len(text.encode("utf-8")) for text in texts])
    return texts, chars, n_bytes


@check
def demo_lengths(
    demo: Mapping[str, str],
    tokenizer: Any,
    n_chars: Sequence[int],
    n_bytes: Sequence[int],
    ids: Sequence[Sequence[int]],
) -> str:
    """Part 0: characters, UTF-8 bytes and GPT-2 ids of each demo string, in the demo's order."""
    texts = list(demo.values())
    for name, values in (("n_chars", n_chars), ("n_bytes", n_bytes), ("ids", ids)):
        require(
            len(values) == len(texts),
            f"{name} needs one entry per string ({len(texts)}), not {len(values)}",
        )
    for k, text in enumerate(texts):
        require(
            int(n_chars[k]) == len(text),
            f"{text!r}: {len(text)} character(s), not {n_chars[k]}: use len(text)",
        )
        want_bytes = len(text.encode("utf-8"))
        require(
            int(n_bytes[k]) == want_bytes,
            f"{text!r}: {want_bytes} UTF-8 bytes, not {n_bytes[k]}: use len(text.encode('utf-8'))",
        )
        want = tokenizer(text, add_special_tokens=False)["input_ids"]
        require(
            [int(i) for i in ids[k]] == want,
            f"{text!r}: the ids should be {want} (encoded without special tokens)",
        )
    multi = sum(len(t.encode("utf-8")) > len(t) for t in texts)
    return f"{len(texts)} strings; {multi} of them take more bytes than characters"


@check
def demo_bytes(
    demo: Mapping[str, str],
    tokenizer: Any,
    demo_hex: Sequence[str],
    demo_pieces: Sequence[Sequence[str]],
) -> str:
    """Part 0: each demo string's UTF-8 bytes in hex, and its ids decoded one at a time."""
    texts = list(demo.values())
    for name, values in (("demo_hex", demo_hex), ("demo_pieces", demo_pieces)):
        require(
            len(values) == len(texts),
            f"{name} needs one entry per string ({len(texts)}), not {len(values)}",
        )
    n_replacement = 0
    for k, text in enumerate(texts):
        want_hex = text.encode("utf-8").hex(" ")
        require(
            demo_hex[k] == want_hex,
            f"{text!r}: its UTF-8 bytes in hex are {want_hex!r}, not {demo_hex[k]!r}: "
            'text.encode("utf-8").hex(" ")',
        )
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        want = [decode_token(tokenizer, i) for i in ids]
        require(
            list(demo_pieces[k]) == want,
            f"{text!r}: decoding its ids one at a time gives {want}: one decode_token call per id",
        )
        n_replacement += sum(REPLACEMENT in piece for piece in want)
    return f"{n_replacement} single-token decodes give U+FFFD (part of a multi-byte character)"


@check
def lengths(tokenizer: Any, char_lengths: Any, byte_lengths: Any) -> str:
    """Character and byte length of every id; no token has fewer bytes than characters."""
    char_lengths = np.asarray(char_lengths)
    byte_lengths = np.asarray(byte_lengths)
    n_vocab = len(tokenizer)
    for name, values in (("char_lengths", char_lengths), ("byte_lengths", byte_lengths)):
        require(
            values.shape == (n_vocab,),
            f"{name} should have one entry per id, shape ({n_vocab},), not {values.shape}",
        )
    require(
        char_lengths.any() and byte_lengths.any(),
        "the arrays are still all zeros: fill in the loop first",
    )
    require(
        np.all(byte_lengths >= char_lengths),
        "some token has fewer bytes than characters, which UTF-8 cannot do: did you swap the two "
        "arrays?",
    )
    texts, want_chars, want_bytes = _reference(tokenizer)
    wrong = np.flatnonzero(char_lengths != want_chars)
    require(
        len(wrong) == 0,
        f"{len(wrong)} character lengths are off, e.g. id {wrong[0] if len(wrong) else 0}: use "
        "len() of the decoded text",
    )
    wrong = np.flatnonzero(byte_lengths != want_bytes)
    require(
        len(wrong) == 0,
        f"{len(wrong)} byte lengths are off, e.g. id {wrong[0] if len(wrong) else 0} "
        f"({texts[wrong[0]] if len(wrong) else ''!r}): use len(text.encode('utf-8'))",
    )
    return f"{n_vocab:,} tokens; bytes >= characters for every one"


@check
def count_matrix(tokenizer: Any, counts: Any) -> str:
    """counts[c, b] = number of tokens with c characters and b bytes; it sums to the vocab size."""
    counts = np.asarray(counts)
    n_vocab = len(tokenizer)
    require(counts.ndim == 2, f"the count matrix should be 2-D, not {counts.ndim}-D")
    require(
        int(counts.sum()) == n_vocab,
        f"the matrix sums to {int(counts.sum()):,}, not {n_vocab:,}: add 1 per token with np.add.at "
        "(fancy-index += counts repeated pairs only once)",
    )
    _, chars, n_bytes = _reference(tokenizer)
    want = np.zeros((chars.max() + 1, n_bytes.max() + 1), dtype=int)
    np.add.at(want, (chars, n_bytes), 1)
    require(
        counts.shape == want.shape,
        f"the matrix should have shape {want.shape} (rows: characters 0..max, columns: bytes "
        f"0..max), not {counts.shape}",
    )
    require(
        np.array_equal(counts, want),
        "some cells are off: rows are character lengths, columns byte lengths",
    )
    return f"{n_vocab:,} tokens in {np.count_nonzero(want)} (characters, bytes) cells"


@check
def nonzero_cells(tokenizer: Any, char_cells: Any, byte_cells: Any, cell_counts: Any) -> str:
    """The (characters, bytes) coordinates of the non-zero cells of the count matrix and their
    counts: the data of the Part 1 scatter."""
    char_cells = np.asarray(char_cells)
    byte_cells = np.asarray(byte_cells)
    cell_counts = np.asarray(cell_counts)
    _, chars, n_bytes = _reference(tokenizer)
    want = np.zeros((chars.max() + 1, n_bytes.max() + 1), dtype=int)
    np.add.at(want, (chars, n_bytes), 1)
    want_chars, want_bytes = np.nonzero(want)
    require(
        char_cells.shape == byte_cells.shape == cell_counts.shape,
        "the three arrays should have the same length: one entry per non-zero cell",
    )
    require(
        len(char_cells) == len(want_chars),
        f"the count matrix has {len(want_chars)} non-zero cells, not {len(char_cells)}: "
        "np.nonzero(counts) gives their row and column indices",
    )
    got = sorted(zip(char_cells.tolist(), byte_cells.tolist(), cell_counts.tolist()))
    expected = sorted(
        zip(want_chars.tolist(), want_bytes.tolist(), want[want_chars, want_bytes].tolist())
    )
    require(
        [g[:2] for g in got] == [e[:2] for e in expected],
        "the coordinates are off: rows of the matrix are character lengths, columns byte lengths",
    )
    require(
        got == expected,
        "the counts are off: index the matrix with both coordinate arrays, counts[rows, cols]",
    )
    return f"{len(want_chars)} non-zero cells holding {int(want.sum()):,} tokens"


@check
def mismatches(
    tokenizer: Any,
    mismatch_ids: Sequence[int],
    n_with_replacement: int,
    sample: Sequence[int] | None = None,
) -> str:
    """The ids whose character and byte lengths differ, how many of them contain U+FFFD, and
    (optionally) a random sample of distinct mismatching ids."""
    texts, chars, n_bytes = _reference(tokenizer)
    want = np.flatnonzero(chars != n_bytes)
    got = np.sort(np.asarray(mismatch_ids, dtype=int))
    require(
        len(got) == len(want),
        f"found {len(got)} mismatching ids, but {len(want)} tokens have different character and "
        "byte lengths (with clean_up_tokenization_spaces=False)",
    )
    require(np.array_equal(got, want), "some ids are not mismatches: compare the two length arrays")
    want_replacement = sum(REPLACEMENT in texts[i] for i in want)
    require(
        int(n_with_replacement) == want_replacement,
        f"{int(n_with_replacement)} is not the number of mismatching tokens whose text contains "
        "U+FFFD ('\\ufffd')",
    )
    if sample is not None:
        sample = np.asarray(sample, dtype=int)
        require(
            len(np.unique(sample)) == len(sample),
            "the sample repeats ids: draw without replacement (replace=False)",
        )
        require(
            np.all(np.isin(sample, want)),
            "the sample holds ids whose lengths agree: draw it from the mismatching ids",
        )
    return f"{len(want)} mismatching tokens, {want_replacement} of them contain U+FFFD"


def _block_ids(n_vocab: int) -> Any:
    """The block (one of ten equal blocks of ids) of every id."""
    edges = np.linspace(0, n_vocab, 11).astype(int)
    return pd.cut(np.arange(n_vocab), bins=edges, right=False)


@check
def length_trends(
    tokenizer: Any, window: int, mean_chars: Any, mean_bytes: Any, block_means: Any
) -> str:
    """Centred rolling means of both lengths over ``window`` ids, and the mean lengths in ten
    equal blocks of ids."""
    _, chars, n_bytes = _reference(tokenizer)
    for name, got, reference in (
        ("mean_chars", mean_chars, chars),
        ("mean_bytes", mean_bytes, n_bytes),
    ):
        got = np.asarray(got, dtype=float)
        require(
            got.shape == reference.shape,
            f"{name} should have one value per id, shape {reference.shape}, not {got.shape}",
        )
        want = pd.Series(reference).rolling(window, center=True).mean().to_numpy()
        require(
            np.array_equal(np.isnan(got), np.isnan(want)),
            f"{name}: a centred window leaves NaN at both ends only: "
            f"rolling({window}, center=True)",
        )
        require(
            np.allclose(got[~np.isnan(want)], want[~np.isnan(want)]),
            f"{name} is off: the mean of each window of {window} ids, centred "
            f"(.rolling({window}, center=True).mean())",
        )
    require(
        isinstance(block_means, pd.DataFrame),
        "block_means should be a DataFrame: group a DataFrame of both lengths by the blocks",
    )
    for column in ("characters", "bytes"):
        require(column in block_means.columns, f"block_means needs a column named {column!r}")
    blocks = _block_ids(len(chars))
    want = (
        pd.DataFrame({"characters": chars, "bytes": n_bytes}).groupby(blocks, observed=True).mean()
    )
    require(
        len(block_means) == len(want),
        f"expected one row per block ({len(want)}), got {len(block_means)}: 11 edges from 0 to "
        "the vocabulary size make 10 blocks",
    )
    require(
        np.allclose(block_means[["characters", "bytes"]].to_numpy(dtype=float), want.to_numpy()),
        "the block means are off: pd.cut the ids with right=False, then groupby(...).mean()",
    )
    first, last = want["bytes"].iloc[0], want["bytes"].iloc[-1]
    return f"mean bytes per token {first:.2f} in the first block, {last:.2f} in the last"


@check
def mismatch_indicator(tokenizer: Any, indicator: Any, jittered: Any, width: float) -> str:
    """The 0/1 mismatch indicator per id and its jittered copy (within +-width)."""
    indicator = np.asarray(indicator)
    jittered = np.asarray(jittered, dtype=float)
    _, chars, n_bytes = _reference(tokenizer)
    require(
        indicator.shape == chars.shape,
        f"the indicator should have one entry per id, shape {chars.shape}, not {indicator.shape}",
    )
    require(
        set(np.unique(indicator).tolist()) <= {0, 1},
        "the indicator should hold only 0 and 1: (char_lengths != byte_lengths).astype(int)",
    )
    require(
        np.array_equal(indicator, (chars != n_bytes).astype(int)),
        "the indicator should be 1 exactly where the two lengths differ",
    )
    require(jittered.shape == chars.shape, "the jittered indicator should have one entry per id")
    offset = jittered - indicator
    require(
        np.all(np.abs(offset) <= width) and np.any(offset != 0),
        f"add a random offset between -{width} and {width} to the indicator (rng.uniform)",
    )
    return f"{int(indicator.sum())} ones among {len(indicator):,} ids, jitter within +-{width}"


@check
def mismatch_split(tokenizer: Any, n_single: int, n_merged: int, block_mismatches: Any) -> str:
    """Mismatches among the 256 single-byte ids, among the merged tokens, and per block of ids."""
    _, chars, n_bytes = _reference(tokenizer)
    mismatch = (chars != n_bytes).astype(int)
    want_single, want_merged = int(mismatch[:256].sum()), int(mismatch[256:].sum())
    require(
        int(n_single) == want_single,
        f"{want_single} of the first 256 ids mismatch, not {int(n_single)}: sum the indicator "
        "over ids 0..255",
    )
    require(
        int(n_merged) == want_merged,
        f"{want_merged} merged tokens mismatch, not {int(n_merged)}: sum the indicator from id "
        "256 on",
    )
    got = np.asarray(pd.Series(block_mismatches).to_numpy(), dtype=float)
    want = pd.Series(mismatch).groupby(_block_ids(len(chars)), observed=True).sum().to_numpy()
    require(
        got.shape == want.shape and np.array_equal(got, want),
        f"the mismatches per block should be {want.tolist()}: group the indicator by the Part 2 "
        "blocks and sum",
    )
    return f"{want_single} single bytes and {want_merged} merged tokens mismatch"


@check
def distributions(
    tokenizer: Any,
    byte_values: Any,
    byte_counts: Any,
    byte_percent: Any,
    char_values: Any,
    char_counts: Any,
    char_percent: Any,
) -> str:
    """np.unique(lengths, return_counts=True) in bytes and in characters, and the percentage of
    the vocabulary at each length."""
    _, chars, n_bytes = _reference(tokenizer)
    n_vocab = len(chars)
    for unit, values, counts, percent, reference in (
        ("byte", byte_values, byte_counts, byte_percent, n_bytes),
        ("character", char_values, char_counts, char_percent, chars),
    ):
        values, counts = np.asarray(values), np.asarray(counts)
        percent = np.asarray(percent, dtype=float)
        want_values, want_counts = np.unique(reference, return_counts=True)
        require(
            np.array_equal(values, want_values) and np.array_equal(counts, want_counts),
            f"the {unit} distribution is off: np.unique of the {unit} lengths, with "
            "return_counts=True",
        )
        require(
            np.isclose(percent.sum(), 100),
            f"the {unit} percentages sum to {percent.sum():.3g}, not 100: divide the counts by "
            f"{n_vocab:,} and multiply by 100",
        )
        require(
            np.allclose(percent, 100 * want_counts / n_vocab),
            f"some {unit} percentages are off: 100 * counts / vocabulary size",
        )
    return (
        f"{len(np.unique(n_bytes))} distinct byte lengths, {len(np.unique(chars))} distinct "
        "character lengths; each set of percentages sums to 100"
    )


@check
def distribution_table(tokenizer: Any, table: Any) -> str:
    """Both distributions in one table: rows = lengths, columns "bytes" and "characters", 0 where
    a length occurs in one unit only."""
    require(isinstance(table, pd.DataFrame), "build one DataFrame from the two Series")
    for column in ("bytes", "characters"):
        require(column in table.columns, f"the table needs a column named {column!r}")
    require(
        not table.isna().to_numpy().any(),
        "the table has NaN where a length occurs in one unit only: fill them with 0 (.fillna(0))",
    )
    _, chars, n_bytes = _reference(tokenizer)
    lengths = np.union1d(chars, n_bytes)
    require(
        sorted(np.asarray(table.index).tolist()) == lengths.tolist(),
        "the rows should be every length that occurs in bytes or in characters: index each "
        "Series by its distinct lengths (the values of np.unique)",
    )
    for column, reference in (("bytes", n_bytes), ("characters", chars)):
        values, counts = np.unique(reference, return_counts=True)
        want = pd.Series(100 * counts / len(reference), index=values).reindex(lengths, fill_value=0)
        got = table[column].reindex(lengths)
        require(
            np.allclose(got.to_numpy(dtype=float), want.to_numpy()),
            f"the {column!r} column is off: the percentages of np.unique, indexed by the lengths",
        )
    return f"{len(lengths)} lengths x 2 units; each column sums to 100"


@check
def longest_token(tokenizer: Any, token_id: int) -> str:
    """The id of the longest token in (decoded) bytes."""
    texts, _, n_bytes = _reference(tokenizer)
    token_id = int(token_id)
    require(0 <= token_id < len(texts), f"{token_id} is not a token id")
    require(
        n_bytes[token_id] == n_bytes.max(),
        f"id {token_id} has {n_bytes[token_id]} bytes, but the longest token has {n_bytes.max()}: "
        "take np.argmax of the byte lengths",
    )
    return f"id {token_id}, {n_bytes.max()} bytes"


@check
def true_bytes(
    tokenizer: Any,
    true_bytes: Any,
    has_replacement: Any,
    differs: Any,
    true_longest: int,
    examples: Any,
) -> str:
    """True byte counts from the vocabulary entries, the U+FFFD tokens, where the true and decoded
    byte counts differ, the longest token in true bytes and a sample of differing ids."""
    texts, _, n_bytes = _reference(tokenizer)
    entries = tokenizer.convert_ids_to_tokens(list(range(len(texts))))
    want_true = np.array([len(entry) for entry in entries])
    true_bytes = np.asarray(true_bytes)
    require(
        true_bytes.shape == want_true.shape,
        f"true_bytes should have one entry per id, shape {want_true.shape}, not {true_bytes.shape}",
    )
    require(
        np.array_equal(true_bytes, want_true),
        "true_bytes is off: the length of each vocabulary entry (convert_ids_to_tokens), which "
        "writes one character per byte",
    )
    want_replacement = np.array([REPLACEMENT in text for text in texts])
    require(
        np.array_equal(np.asarray(has_replacement, dtype=bool), want_replacement),
        f"has_replacement should be True for the {int(want_replacement.sum())} ids whose decoded "
        "text contains U+FFFD",
    )
    want_differs = want_true != n_bytes
    require(
        np.array_equal(np.asarray(differs, dtype=bool), want_differs),
        "differs should be True where true_bytes and the decoded byte lengths differ",
    )
    require(
        int(true_longest) == int(want_true.max()),
        f"the longest token has {int(want_true.max())} true bytes, not {int(true_longest)}",
    )
    examples = np.asarray(examples, dtype=int)
    require(
        len(np.unique(examples)) == len(examples) > 0,
        "draw distinct ids (replace=False) for the examples",
    )
    require(
        np.all(want_differs[examples]),
        "some examples are ids whose two byte counts agree: draw them from np.flatnonzero(differs)",
    )
    return (
        f"{int(want_differs.sum())} tokens differ, all with U+FFFD: "
        f"{bool(np.all(want_replacement[want_differs]))}; longest {int(want_true.max())} true bytes"
    )
