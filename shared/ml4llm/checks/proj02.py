"""Self-checks for project 2, "Book lengths in characters, words, and tokens".

The units are always in the order characters, words, GPT-2 tokens. References are computed here
from the texts and the tokenizer.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats

from ml4llm.checks import check, require
from ml4llm.tokens import visible

UNITS = ("characters", "words", "GPT-2 tokens")


@functools.lru_cache(maxsize=32)
def _encode(tokenizer: Any, text: str) -> tuple[int, ...]:
    """The ids of a whole text without special tokens (no "too long for the model" warning)."""
    return tuple(tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"])


def _reference_counts(texts: Sequence[str], tokenizer: Any) -> tuple[np.ndarray, np.ndarray]:
    """Totals and uniques, shape (3, n_books), computed from the texts."""
    totals = np.zeros((3, len(texts)), dtype=int)
    uniques = np.zeros((3, len(texts)), dtype=int)
    for b, text in enumerate(texts):
        words = text.split()
        ids = _encode(tokenizer, text)
        totals[:, b] = [len(text), len(words), len(ids)]
        uniques[:, b] = [len(set(text)), len(set(words)), len(set(ids))]
    return totals, uniques


@check
def token_ids(texts: Sequence[str], tokenizer: Any, ids_per_book: Sequence[Sequence[int]]) -> str:
    """One id list per book, equal to encoding the text without special tokens."""
    require(
        len(ids_per_book) == len(texts),
        f"expected one list of ids per book ({len(texts)}), got {len(ids_per_book)}",
    )
    for b, (text, ids) in enumerate(zip(texts, ids_per_book)):
        expected = _encode(tokenizer, text)
        require(
            len(ids) == len(expected),
            f"book {b}: {len(ids)} ids instead of {len(expected)}; encode the whole text once, "
            "with add_special_tokens=False",
        )
        require(
            tuple(int(i) for i in ids) == expected,
            f"book {b}: the ids differ from encoding its text without special tokens",
        )
    return f"{len(texts)} books encoded whole, without special tokens"


@check
def book_table(
    texts: Sequence[str],
    tokenizer: Any,
    n_characters: Sequence[int],
    n_words: Sequence[int],
    n_tokens: Sequence[int],
) -> str:
    """The three lengths per book; every book has fewer GPT-2 tokens than characters."""
    totals, _ = _reference_counts(texts, tokenizer)
    hints = (
        "use len(text)",
        "use len(text.split()): words are the pieces between white space",
        "use len(ids) of each book's token ids",
    )
    for k, values in enumerate((n_characters, n_words, n_tokens)):
        require(
            len(values) == len(texts),
            f"give one {UNITS[k]} count per book ({len(texts)}), not {len(values)}",
        )
        require(
            np.array_equal(np.asarray(values, dtype=int), totals[k]),
            f"the {UNITS[k]} counts are off: {hints[k]}",
        )
    require(
        np.all(totals[2] < totals[0]),
        "every book should have fewer GPT-2 tokens than characters",
    )
    return f"{len(texts)} books; every book has fewer GPT-2 tokens than characters"


@check
def ratios(texts: Sequence[str], tokenizer: Any, chars_per_token: Any, tokens_per_word: Any) -> str:
    """Characters per token and tokens per word, one value per book."""
    totals, _ = _reference_counts(texts, tokenizer)
    chars_per_token = np.asarray(chars_per_token, dtype=float)
    tokens_per_word = np.asarray(tokens_per_word, dtype=float)
    for name, values in (
        ("chars_per_token", chars_per_token),
        ("tokens_per_word", tokens_per_word),
    ):
        require(
            values.size > 0,
            f"{name} is still empty: fill in the three count lists above it first",
        )
        require(
            values.shape == (len(texts),),
            f"{name} should hold one value per book ({len(texts)}), not shape {values.shape}",
        )
    require(
        np.allclose(chars_per_token, totals[0] / totals[2]),
        "chars_per_token is off: divide each book's characters by its GPT-2 tokens",
    )
    require(
        np.allclose(tokens_per_word, totals[2] / totals[1]),
        "tokens_per_word is off: divide each book's GPT-2 tokens by its words",
    )
    return (
        f"one token holds {chars_per_token.min():.2f} to {chars_per_token.max():.2f} characters; "
        f"a word costs {tokens_per_word.min():.2f} to {tokens_per_word.max():.2f} tokens"
    )


@check
def round_trip(texts: Sequence[str], decoded_texts: Sequence[str], same: Sequence[bool]) -> str:
    """Decoding each book's ids gives back its text exactly; ``same`` says so for every book."""
    require(
        len(decoded_texts) == len(texts),
        f"expected one decoded text per book ({len(texts)}), got {len(decoded_texts)}",
    )
    for b, (text, decoded) in enumerate(zip(texts, decoded_texts)):
        require(isinstance(decoded, str), f"book {b}: decode the ids into one string")
        if decoded != text:
            where = next(
                (i for i, (x, y) in enumerate(zip(decoded, text)) if x != y),
                min(len(decoded), len(text)),
            )
            require(
                False,
                f"book {b} differs from its text from character {where} on: decode all its ids at "
                "once with clean_up_tokenization_spaces=False",
            )
    require(
        len(same) == len(texts),
        f"same should hold one True/False per book ({len(texts)}), got {len(same)}",
    )
    require(
        all(value is True or value is np.True_ for value in same),
        "every decoded book equals its text, so same should be all True: compare decoded == text "
        "for each book",
    )
    return f"all {len(texts)} books decode back to their exact text (byte-level BPE is lossless)"


@check
def counts(texts: Sequence[str], tokenizer: Any, totals: Any, uniques: Any) -> str:
    """Totals and uniques (3 units x books): equal to the reference and unique <= total."""
    totals = np.asarray(totals)
    uniques = np.asarray(uniques)
    shape = (len(UNITS), len(texts))
    require(totals.shape == shape, f"totals should have shape {shape}, not {totals.shape}")
    require(uniques.shape == shape, f"uniques should have shape {shape}, not {uniques.shape}")
    require(
        totals.any() and uniques.any(), "the arrays are still all zeros: fill in the loop first"
    )
    require(
        np.all(uniques <= totals),
        "some unique count is larger than its total: a unique count comes from a set of the units",
    )
    n_vocab = len(tokenizer)
    require(
        np.all(uniques[2] <= n_vocab),
        f"a book cannot use more than the {n_vocab:,} token ids of the vocabulary",
    )
    want_totals, want_uniques = _reference_counts(texts, tokenizer)
    for k, unit in enumerate(UNITS):
        require(
            np.array_equal(totals[k], want_totals[k]),
            f"row {k} of totals ({unit}) is off: characters = len(text), words = len(text.split()), "
            "tokens = len(ids)",
        )
        require(
            np.array_equal(uniques[k], want_uniques[k]),
            f"row {k} of uniques ({unit}) is off: count the set of characters, of words, of ids",
        )
    return (
        f"{len(texts)} books x 3 units; unique <= total everywhere and unique token ids <= "
        f"{n_vocab:,}"
    )


@check
def unit_means(
    texts: Sequence[str],
    tokenizer: Any,
    mean_totals: Any,
    mean_uniques: Any,
    unique_share: Any,
) -> str:
    """The mean total and mean unique count of every unit over the books, and their ratio."""
    totals, uniques = _reference_counts(texts, tokenizer)
    want_totals = totals.mean(axis=1)
    want_uniques = uniques.mean(axis=1)
    values = {
        "mean_totals": np.asarray(mean_totals, dtype=float),
        "mean_uniques": np.asarray(mean_uniques, dtype=float),
        "unique_share": np.asarray(unique_share, dtype=float),
    }
    for name, value in values.items():
        require(
            value.shape == (len(UNITS),),
            f"{name} should hold one value per unit (3), not shape {value.shape}: average each "
            "row over the books with .mean(axis=1)",
        )
    require(
        np.allclose(values["mean_totals"], want_totals),
        "mean_totals is off: the mean of every row of totals (axis=1)",
    )
    require(
        np.allclose(values["mean_uniques"], want_uniques),
        "mean_uniques is off: the mean of every row of uniques (axis=1)",
    )
    require(
        np.allclose(values["unique_share"], want_uniques / want_totals),
        "unique_share is off: divide the mean unique count by the mean total",
    )
    return "unique / total = " + ", ".join(
        f"{u} {v:.4f}" for u, v in zip(UNITS, want_uniques / want_totals)
    )


@check
def correlations(texts: Sequence[str], tokenizer: Any, r_values: Sequence[float]) -> str:
    """Pearson r between unique and total counts, one per unit."""
    r_values = np.asarray(r_values, dtype=float)
    require(r_values.shape == (3,), "give three r values: characters, words, GPT-2 tokens")
    require(r_values.any(), "the r values are still all zeros: fill in the loop first")
    require(
        np.all(np.abs(r_values) <= 1 + 1e-9),
        "a Pearson r lies between -1 and 1: use stats.pearsonr",
    )
    totals, uniques = _reference_counts(texts, tokenizer)
    for k, unit in enumerate(UNITS):
        want = stats.pearsonr(totals[k], uniques[k])[0]
        require(
            np.isclose(r_values[k], want, atol=1e-6),
            f"r for {unit} is off: correlate totals[{k}] with uniques[{k}] across the books",
        )
    return "r = " + ", ".join(f"{u} {r:.2f}" for u, r in zip(UNITS, r_values))


@check
def most_unique_chars(
    texts: Sequence[str],
    index: int,
    chars: Sequence[str],
    non_ascii: Sequence[str],
    listing: Sequence[str],
) -> str:
    """The book with the most distinct characters, its sorted characters, the non-ASCII ones and
    the printable listing (non-ASCII characters in brackets, the others made visible)."""
    n_unique = [len(set(text)) for text in texts]
    index = int(index)
    require(0 <= index < len(texts), f"the index should be between 0 and {len(texts) - 1}")
    require(
        n_unique[index] == max(n_unique),
        f"book {index} has {n_unique[index]} distinct characters, but another book has "
        f"{max(n_unique)}: take the argmax of the unique character counts",
    )
    want = sorted(set(texts[index]))
    require(
        list(chars) == want,
        "list the book's distinct characters sorted: sorted(set(text))",
    )
    require(len(listing) > 0, "listing is still empty: fill in the loop first")
    want_listing = [f"[{c}]" if ord(c) > 127 else visible(c) for c in want]
    require(
        list(listing) == want_listing,
        "listing should hold one entry per character in sorted order: [c] for a non-ASCII "
        "character, visible(c) for the others",
    )
    want_non_ascii = [c for c in want if ord(c) > 127]
    require(
        list(non_ascii) == want_non_ascii,
        f"expected {len(want_non_ascii)} non-ASCII characters: those with ord(c) > 127",
    )
    return f"book {index}: {len(want)} distinct characters, {len(want_non_ascii)} of them non-ASCII"
