"""Self-checks for project 5, "Is tokenization compression?".

The tables the notebook builds have fixed column names (the notebook sets them, not the learner):
``characters``, ``words``, ``bytes``, ``tokens``, ``tokens per 100 chars``, ``tokens per 100 words``,
``tokens per 100 bytes`` and ``zlib ratio``, one row per document, indexed by its name.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from typing import Any

import numpy as np

from ml4llm.checks import check, require

PER_CHARS = "tokens per 100 chars"
PER_WORDS = "tokens per 100 words"
PER_BYTES = "tokens per 100 bytes"
MIN_HTML_DOCUMENTS = 6


def _column(table: Any, name: str) -> np.ndarray:
    require(name in table.columns, f"the table has no column {name!r}: keep the notebook's names")
    return np.asarray(table[name], dtype=float)


def _same_rows(table: Any, texts: Mapping[str, str], what: str) -> None:
    require(
        list(table.index) == list(texts),
        f"the table should have one row per {what}, in order, indexed by its name "
        f"(expected {len(texts)} rows)",
    )


def _ratio_column(table: Any, column: str, numerator: str, denominator: str) -> np.ndarray:
    """The column must equal 100 * numerator / denominator and lie in (0, 100]."""
    values = _column(table, column)
    want = 100 * _column(table, numerator) / _column(table, denominator)
    require(
        np.allclose(values, want, rtol=1e-9),
        f"{column!r} should be 100 * {numerator} / {denominator} for every row",
    )
    require(
        np.all((values > 0) & (values <= 100)),
        f"every {column!r} value should lie in (0, 100]",
    )
    return values


@check
def book_table(book_texts: Mapping[str, str], table: Any, tokenizer: Any) -> str:
    """Characters, words, tokens and the two ratios for every book."""
    _same_rows(table, book_texts, "book")
    texts = list(book_texts.values())
    n_chars = _column(table, "characters")
    n_words = _column(table, "words")
    n_tokens = _column(table, "tokens")
    require(
        np.array_equal(n_chars, [len(t) for t in texts]), "characters should be len(text) per book"
    )
    require(
        np.array_equal(n_words, [len(t.split()) for t in texts]),
        "words should be len(text.split()) per book (split at any white space)",
    )
    # Encoding every book again would double the notebook's cost: re-encode the shortest one.
    k = int(np.argmin([len(t) for t in texts]))
    want = len(tokenizer(texts[k], add_special_tokens=False)["input_ids"])
    require(
        int(n_tokens[k]) == want,
        f"the token count of {list(book_texts)[k]!r} should be {want}: "
        "len(encode(tokenizer, text)), without special tokens",
    )
    require(np.all(n_tokens < n_chars), "every book should have fewer tokens than characters")
    _ratio_column(table, PER_CHARS, "tokens", "characters")
    per_words = _column(table, PER_WORDS)
    require(
        np.allclose(per_words, 100 * n_tokens / n_words, rtol=1e-9),
        f"{PER_WORDS!r} should be 100 * tokens / words",
    )
    require(
        np.all(per_words > 100),
        "every book should have more tokens than words (tokens per 100 words > 100)",
    )
    return (
        f"{len(texts)} books: {per_words.min():.0f}-{per_words.max():.0f} tokens per 100 words, "
        f"{_column(table, PER_CHARS).min():.1f}-{_column(table, PER_CHARS).max():.1f} per 100 characters"
    )


@check
def html_table(html_texts: Mapping[str, str], table: Any, tokenizer: Any) -> str:
    """Characters, UTF-8 bytes, tokens and the two ratios for every HTML document."""
    require(
        len(html_texts) >= MIN_HTML_DOCUMENTS,
        f"at least {MIN_HTML_DOCUMENTS} HTML documents are needed, found {len(html_texts)}",
    )
    _same_rows(table, html_texts, "HTML document")
    texts = list(html_texts.values())
    require(
        np.array_equal(_column(table, "characters"), [len(t) for t in texts]),
        "characters should be len(text) per document",
    )
    require(
        np.array_equal(_column(table, "bytes"), [len(t.encode("utf-8")) for t in texts]),
        "bytes should be len(text.encode('utf-8')) per document",
    )
    want = [len(tokenizer(t, add_special_tokens=False)["input_ids"]) for t in texts]
    require(
        np.array_equal(_column(table, "tokens"), want),
        "some token counts are off: len(encode(tokenizer, text)), without special tokens",
    )
    per_chars = _ratio_column(table, PER_CHARS, "tokens", "characters")
    per_bytes = _ratio_column(table, PER_BYTES, "tokens", "bytes")
    require(
        np.all(per_bytes <= per_chars),
        "tokens per 100 bytes can never exceed tokens per 100 characters (a character is >= 1 byte)",
    )
    return f"{len(texts)} HTML documents tokenized, {sum(want):,} tokens in all"


@check
def zlib_ratios(texts: Mapping[str, str], table: Any, level: int = 9) -> str:
    """Bytes, tokens per 100 bytes and the zlib ratio (compressed / raw UTF-8 bytes) per document."""
    _same_rows(table, texts, "document")
    ratios = _column(table, "zlib ratio")
    want = []
    for text in texts.values():
        raw = text.encode("utf-8")
        want.append(len(zlib.compress(raw, level)) / len(raw))
    require(
        np.all((ratios > 0) & (ratios <= 1)),
        "every zlib ratio should lie in (0, 1]: compressed bytes / raw bytes",
    )
    require(
        np.allclose(ratios, want, rtol=1e-9),
        f"some zlib ratios are off: len(zlib.compress(raw, level={level})) / len(raw), "
        "with raw = text.encode('utf-8')",
    )
    require(
        np.array_equal(_column(table, "bytes"), [len(t.encode("utf-8")) for t in texts.values()]),
        "bytes should be len(text.encode('utf-8')) for every document, books included",
    )
    per_chars = _column(table, PER_CHARS)
    per_bytes = _ratio_column(table, PER_BYTES, "tokens", "bytes")
    require(
        np.all((per_chars > 0) & (per_chars <= 100) & (per_bytes > 0) & (per_bytes <= 100)),
        "every tokens per 100 characters / bytes should lie in (0, 100]",
    )
    require(
        np.all(per_bytes <= per_chars),
        "for every document tokens per 100 bytes should be <= tokens per 100 characters",
    )
    return f"{len(want)} documents, zlib ratios {min(want):.2f}-{max(want):.2f}"


@check
def id_bits(table: Any, tokenizer: Any) -> str:
    """``id bits / text bits``: tokens x log2(vocabulary size) divided by 8 x bytes."""
    bits_per_id = float(np.log2(len(tokenizer)))
    want = _column(table, "tokens") * bits_per_id / (8 * _column(table, "bytes"))
    got = _column(table, "id bits / text bits")
    require(
        np.allclose(got, want, rtol=1e-6),
        f"one id takes log2(len(tokenizer)) = {bits_per_id:.2f} bits and one byte 8 bits: "
        "divide tokens * bits_per_id by 8 * bytes",
    )
    return f"one id = {bits_per_id:.2f} bits; id bits / text bits {got.min():.2f}-{got.max():.2f}"
