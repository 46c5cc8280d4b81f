"""Self-checks for project 5, "Is tokenization compression?".

The Part 1 and Part 2 tables have fixed column names, given in the notebook's hints:
``characters``, ``words``, ``bytes``, ``tokens``, ``tokens per 100 chars``, ``tokens per 100 words``
and ``tokens per 100 bytes``, one row per document, indexed by its name. Part 3 works on plain
lists and arrays in document order (books first, then HTML). Every reference is computed here from
the texts; each text is encoded once for all checks.
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ml4llm.checks import check, require

PER_CHARS = "tokens per 100 chars"
PER_WORDS = "tokens per 100 words"
PER_BYTES = "tokens per 100 bytes"
RATIO_COLUMNS = (PER_BYTES, "id bits / text bits", "zlib ratio")
MIN_HTML_DOCUMENTS = 6


@functools.lru_cache(maxsize=64)
def _measures(tokenizer: Any, text: str, level: int) -> dict[str, float]:
    """Every measure of one document; each text is encoded (and compressed) once for all checks."""
    raw = text.encode("utf-8")
    n_tokens = len(tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"])
    n_words = max(len(text.split()), 1)
    return {
        "characters": len(text),
        "words": len(text.split()),
        "bytes": len(raw),
        "tokens": n_tokens,
        PER_CHARS: 100 * n_tokens / len(text),
        PER_WORDS: 100 * n_tokens / n_words,
        PER_BYTES: 100 * n_tokens / len(raw),
        "id bits / text bits": n_tokens * np.log2(len(tokenizer)) / (8 * len(raw)),
        "zlib ratio": len(zlib.compress(raw, level)) / len(raw),
    }


def _reference(texts: Mapping[str, str], tokenizer: Any, level: int = 9) -> pd.DataFrame:
    """Every measure of every document, one row per document in the given order."""
    rows = {name: _measures(tokenizer, text, level) for name, text in texts.items()}
    return pd.DataFrame.from_dict(rows, orient="index")


def _column(table: Any, name: str) -> np.ndarray:
    require(name in table.columns, f"the table has no column {name!r}: use the names in the hint")
    return np.asarray(table[name], dtype=float)


def _same_rows(table: Any, texts: Mapping[str, str], what: str) -> None:
    require(
        isinstance(table, pd.DataFrame),
        f"build one DataFrame with one row per {what}",
    )
    require(
        list(table.index) == list(texts),
        f"the table should have one row per {what}, in order, indexed by its name "
        f"(expected {len(texts)} rows, got {len(table)})",
    )


def _compare(table: Any, want: pd.DataFrame, column: str, hint: str) -> np.ndarray:
    values = _column(table, column)
    require(
        np.allclose(values, want[column].to_numpy(dtype=float), rtol=1e-9),
        f"{column!r} is off: {hint}",
    )
    return values


def _in_range(values: np.ndarray, what: str) -> None:
    require(np.all((values > 0) & (values <= 100)), f"every {what} value should lie in (0, 100]")


def _filled(values: Any, name: str, n: int) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    require(values.size > 0, f"{name} is still empty: fill in the loop first")
    require(
        values.shape == (n,),
        f"{name} should hold one value per document ({n}), not shape {values.shape}",
    )
    return values


@check
def book_table(book_texts: Mapping[str, str], table: Any, tokenizer: Any) -> str:
    """Characters, words, tokens and the two ratios for every book."""
    _same_rows(table, book_texts, "book")
    want = _reference(book_texts, tokenizer)
    n_chars = _compare(table, want, "characters", "len(text) per book")
    n_words = _compare(
        table, want, "words", "len(text.split()) per book (split at any white space)"
    )
    n_tokens = _compare(
        table, want, "tokens", "len(encode(tokenizer, text)) per book, without special tokens"
    )
    require(np.all(n_tokens < n_chars), "every book should have fewer tokens than characters")
    per_chars = _compare(table, want, PER_CHARS, "100 * tokens / characters for every book")
    per_words = _compare(table, want, PER_WORDS, "100 * tokens / words for every book")
    _in_range(per_chars, PER_CHARS)
    require(
        np.all(per_words > 100),
        "every book should have more tokens than words (tokens per 100 words > 100)",
    )
    require(np.all(n_tokens > n_words), "every book should have more tokens than words")
    return (
        f"{len(book_texts)} books: {per_words.min():.0f}-{per_words.max():.0f} tokens per 100 "
        f"words, {per_chars.min():.1f}-{per_chars.max():.1f} per 100 characters"
    )


@check
def html_table(html_texts: Mapping[str, str], table: Any, tokenizer: Any) -> str:
    """Characters, UTF-8 bytes, tokens and the two ratios for every HTML document."""
    require(
        len(html_texts) >= MIN_HTML_DOCUMENTS,
        f"at least {MIN_HTML_DOCUMENTS} HTML documents are needed, found {len(html_texts)}",
    )
    _same_rows(table, html_texts, "HTML document")
    want = _reference(html_texts, tokenizer)
    _compare(table, want, "characters", "len(text) per document")
    _compare(table, want, "bytes", "len(text.encode('utf-8')) per document")
    _compare(
        table,
        want,
        "tokens",
        "len(encode(tokenizer, text)) per document, without special tokens",
    )
    per_chars = _compare(table, want, PER_CHARS, "100 * tokens / characters for every document")
    per_bytes = _compare(table, want, PER_BYTES, "100 * tokens / bytes for every document")
    _in_range(per_chars, PER_CHARS)
    _in_range(per_bytes, PER_BYTES)
    require(
        np.all(per_bytes <= per_chars),
        "tokens per 100 bytes can never exceed tokens per 100 characters (a character is >= 1 "
        "byte)",
    )
    return (
        f"{len(html_texts)} HTML documents tokenized, {int(want['tokens'].sum()):,} tokens in all"
    )


@check
def zlib_ratios(
    texts: Mapping[str, str],
    tokenizer: Any,
    n_bytes: Sequence[int],
    per_100_bytes: Any,
    ratios: Sequence[float],
    level: int = 9,
) -> str:
    """UTF-8 bytes, tokens per 100 bytes and the zlib ratio (compressed / raw bytes) per document."""
    n = len(texts)
    n_bytes = _filled(n_bytes, "the byte list", n)
    ratios = _filled(ratios, "the zlib ratio list", n)
    per_100_bytes = _filled(per_100_bytes, "tokens per 100 bytes", n)
    want = _reference(texts, tokenizer, level)
    require(
        np.array_equal(n_bytes, want["bytes"].to_numpy()),
        "some byte counts are off: len(text.encode('utf-8')) for every document, books included",
    )
    require(
        np.all((ratios > 0) & (ratios <= 1)),
        "every zlib ratio should lie in (0, 1]: compressed bytes / raw bytes",
    )
    require(
        np.allclose(ratios, want["zlib ratio"].to_numpy(), rtol=1e-9),
        f"some zlib ratios are off: len(zlib.compress(raw, level={level})) / len(raw), "
        "with raw = text.encode('utf-8')",
    )
    require(
        np.allclose(per_100_bytes, want[PER_BYTES].to_numpy(), rtol=1e-9),
        "tokens per 100 bytes is off: 100 * tokens / bytes for every document",
    )
    _in_range(per_100_bytes, PER_BYTES)
    require(
        np.all(per_100_bytes <= want[PER_CHARS].to_numpy() + 1e-9),
        "for every document tokens per 100 bytes should be <= tokens per 100 characters",
    )
    return f"{n} documents, zlib ratios {ratios.min():.2f}-{ratios.max():.2f}"


@check
def id_bits(
    texts: Mapping[str, str], tokenizer: Any, bits_per_id: float, id_bits_ratio: Any
) -> str:
    """Bits per id (log2 of the vocabulary size) and, per document, tokens x bits per id divided
    by 8 x bytes."""
    want_bits = float(np.log2(len(tokenizer)))
    require(
        np.isclose(float(bits_per_id), want_bits),
        f"one id takes log2(len(tokenizer)) = {want_bits:.2f} bits, not {float(bits_per_id):.2f}",
    )
    got = _filled(id_bits_ratio, "id_bits_ratio", len(texts))
    want = _reference(texts, tokenizer)["id bits / text bits"].to_numpy()
    require(
        np.allclose(got, want, rtol=1e-6),
        "one byte takes 8 bits: divide tokens * bits_per_id by 8 * bytes for every document",
    )
    return f"one id = {want_bits:.2f} bits; id bits / text bits {want.min():.2f}-{want.max():.2f}"


@check
def group_means(
    book_texts: Mapping[str, str],
    html_texts: Mapping[str, str],
    tokenizer: Any,
    means: Any,
    level: int = 9,
) -> str:
    """The mean of every Part 3 ratio over the books and over the HTML documents."""
    require(isinstance(means, pd.DataFrame), "group the table by 'group', then take .mean()")
    require(
        sorted(means.index) == ["HTML", "book"],
        f"expected one row per group ('book' and 'HTML'), got {list(means.index)}",
    )
    for name, texts in (("book", book_texts), ("HTML", html_texts)):
        want = _reference(texts, tokenizer, level)
        for column in RATIO_COLUMNS:
            require(column in means.columns, f"the means need a column {column!r}")
            require(
                np.isclose(float(means.loc[name, column]), want[column].mean(), rtol=1e-9),
                f"the {name} mean of {column!r} is off: the plain mean of the documents' values "
                "in the group",
            )
    books = _reference(book_texts, tokenizer, level)
    pages = _reference(html_texts, tokenizer, level)
    return (
        f"tokens per 100 bytes: books {books[PER_BYTES].mean():.1f}, HTML "
        f"{pages[PER_BYTES].mean():.1f}"
    )
