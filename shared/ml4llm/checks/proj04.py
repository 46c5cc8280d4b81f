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

from ml4llm.checks import check, require
from ml4llm.tokens import decode_vocab

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
def distributions(
    tokenizer: Any,
    byte_distribution: Any,
    byte_percent: Any,
    char_distribution: Any,
    char_percent: Any,
) -> str:
    """np.unique(lengths, return_counts=True) in bytes and in characters, and the percentage of
    the vocabulary at each length."""
    _, chars, n_bytes = _reference(tokenizer)
    n_vocab = len(chars)
    for unit, distribution, percent, reference in (
        ("byte", byte_distribution, byte_percent, n_bytes),
        ("character", char_distribution, char_percent, chars),
    ):
        require(
            len(distribution) == 2,
            f"the {unit} distribution should be the two arrays of np.unique(..., "
            "return_counts=True): values and counts",
        )
        values, counts = (np.asarray(part) for part in distribution)
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
