"""Self-checks for project 2, "Book lengths in characters, words, and tokens".

The units are always in the order characters, words, GPT-2 tokens. Every reference is computed
here from the texts and the tokenizer, never from the learner's ids or counts.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats

from ml4llm.checks import Expect, check
from ml4llm.tokens import encode, visible

UNITS = "[characters, words, GPT-2 tokens]"
MEAN = "one value per unit (3): average each row over the books with .mean(axis=1)"


def _one_per_unit(v: np.ndarray) -> bool:
    return v.shape != (3,)


@functools.lru_cache(maxsize=4)
def _counts(texts: tuple[str, ...], tokenizer: Any) -> dict[str, Any]:
    """Every book's ids, totals and uniques (3 units x books), from the texts alone."""
    ids = [encode(tokenizer, text) for text in texts]
    words = [text.split() for text in texts]
    totals = np.array([[len(t) for t in texts], [len(w) for w in words], [len(i) for i in ids]])
    uniques = np.array(
        [[len(set(t)) for t in texts], [len(set(w)) for w in words], [len(set(i)) for i in ids]]
    )
    return {"ids": ids, "totals": totals, "uniques": uniques}


def _characters(texts: Sequence[str]) -> dict[str, Any]:
    """Part 3's outlier: the book with the most distinct characters and its listing."""
    n_unique = [len(set(text)) for text in texts]
    best = int(np.argmax(n_unique))
    chars = sorted(set(texts[best]))
    non_ascii = [c for c in chars if ord(c) > 127]
    above_255 = [c for c in chars if ord(c) > 255]
    return {
        "outlier": Expect(
            best,
            f"take the argmax of the unique character counts: book {best} has {max(n_unique)} "
            "distinct characters",
            traps=[
                (
                    lambda v: not 0 <= v < len(texts),
                    f"the index should be between 0 and {len(texts) - 1}",
                )
            ],
        ),
        "outlier_chars": Expect(
            chars,
            "list the book's distinct characters sorted: sorted(set(text))",
            traps=[
                (
                    lambda v: sorted(v.tolist()) == chars,
                    "the characters are not sorted: sorted(...)",
                )
            ],
        ),
        "non_ascii": Expect(
            non_ascii,
            f"expected {len(non_ascii)} non-ASCII characters: those with ord(c) > 127",
            traps=[
                (
                    above_255,
                    "ord(c) > 255 leaves out é, ü, ß, « and the rest of 128-255: ASCII ends at 127",
                ),
                (chars, "these are all the characters: keep those with ord(c) > 127"),
            ],
        ),
        "listing": Expect(
            [f"[{c}]" if ord(c) > 127 else visible(c) for c in chars],
            "listing should hold one entry per character in sorted order: [c] for a non-ASCII "
            "character, visible(c) for the others",
            traps=[
                (
                    [f"[{c}]" if ord(c) > 255 else visible(c) for c in chars],
                    "bracket every character with ord(c) > 127, not only those above 255",
                ),
                (
                    [f"[{c}]" if ord(c) > 127 else c for c in chars],
                    "spaces and line breaks are invisible: show the ASCII characters as visible(c)",
                ),
            ],
        ),
    }


def _reference(texts: Sequence[str], tokenizer: Any = None) -> dict[str, Any]:
    """The right value of every learner variable, from the texts and GPT-2's tokenizer."""
    texts = [str(text) for text in texts]
    labels = [f"book {b}" for b in range(len(texts))]
    ref = _characters(texts) | {
        "decoded_texts": Expect(
            texts,
            "the decoded book differs from its text: decode all its ids at once with "
            "clean_up_tokenization_spaces=False",
            items=labels,
        ),
        "same": Expect(
            [True] * len(texts),
            "every decoded book equals its text, so same should be all True: compare "
            "decoded == text for each book",
        ),
    }
    if tokenizer is None:
        return ref
    counts = _counts(tuple(texts), tokenizer)
    (chars, words, tokens), uniques = counts["totals"], counts["uniques"]
    n_vocab = len(tokenizer)
    return ref | {
        "token_ids": Expect(
            counts["ids"],
            "encode each whole text once, without special tokens (add_special_tokens=False)",
            items=labels,
        ),
        "n_characters": Expect(
            chars,
            "the characters counts are off: use len(text)",
            traps=[
                (
                    [len(t.encode("utf-8")) for t in texts],
                    "these are UTF-8 bytes: count the characters with len(text)",
                )
            ],
        ),
        "n_words": Expect(
            words,
            "the words counts are off: use len(text.split()): words are the pieces between white "
            "space",
            traps=[
                (
                    [len(t.split(" ")) for t in texts],
                    "split(' ') cuts at spaces only: text.split() cuts at every white space, "
                    "line breaks too",
                )
            ],
        ),
        "n_tokens": Expect(
            tokens,
            "the GPT-2 tokens counts are off: use len(ids) of each book's token ids",
            traps=[
                (
                    lambda v: np.any(v >= chars),
                    "every book should have fewer GPT-2 tokens than characters: count each "
                    "book's ids",
                )
            ],
        ),
        "chars_per_token": Expect(
            chars / tokens,
            "chars_per_token is off: divide each book's characters by its GPT-2 tokens",
            traps=[(tokens / chars, "this is tokens per character: characters / tokens")],
        ),
        "tokens_per_word": Expect(
            tokens / words,
            "tokens_per_word is off: divide each book's GPT-2 tokens by its words",
            traps=[(words / tokens, "this is words per token: tokens / words")],
        ),
        "totals": Expect(
            counts["totals"],
            "totals is off: row 0 characters = len(text), row 1 words = len(text.split()), "
            "row 2 tokens = len(ids)",
            traps=[(uniques, "these are the unique counts: totals count every unit")],
        ),
        "uniques": Expect(
            uniques,
            "uniques is off: count the set of characters, of words, of ids",
            traps=[
                (
                    lambda v: np.any(v[2] > n_vocab),
                    f"a book cannot use more than the {n_vocab:,} token ids of the vocabulary",
                ),
                (
                    lambda v: np.any(v > counts["totals"]),
                    "some unique count is larger than its total: a unique count comes from a "
                    "set of the units",
                ),
                (
                    _lowercased(uniques, texts),
                    "lowercased words: case counts, so 'Love' and 'love' are two words",
                ),
            ],
        ),
        "mean_totals": Expect(
            counts["totals"].mean(axis=1),
            "mean_totals is off: the mean of every row of totals (axis=1)",
            traps=[(_one_per_unit, MEAN)],
        ),
        "mean_uniques": Expect(
            uniques.mean(axis=1),
            "mean_uniques is off: the mean of every row of uniques (axis=1)",
            traps=[
                (_one_per_unit, MEAN),
                (counts["totals"].mean(axis=1), "these are the mean totals: average uniques"),
            ],
        ),
        "unique_share": Expect(
            uniques.mean(axis=1) / counts["totals"].mean(axis=1),
            "unique_share is off: divide the mean unique count by the mean total",
            traps=[
                (_one_per_unit, MEAN),
                (
                    (uniques / counts["totals"]).mean(axis=1),
                    "this is the mean of the per-book shares: divide mean_uniques by mean_totals",
                ),
            ],
        ),
        "r_values": _r_values(counts["totals"], uniques),
    }


def _lowercased(uniques: np.ndarray, texts: Sequence[str]) -> np.ndarray:
    """The uniques with the words lowercased first (a typical wrong answer)."""
    wrong = uniques.copy()
    wrong[1] = [len(set(t.lower().split())) for t in texts]
    return wrong


def _r_values(totals: np.ndarray, uniques: np.ndarray) -> Expect:
    pearson = [float(stats.pearsonr(t, u)[0]) for t, u in zip(totals, uniques)]
    spearman = [float(stats.spearmanr(t, u)[0]) for t, u in zip(totals, uniques)]
    return Expect(
        pearson,
        f"one r per unit {UNITS}: stats.pearsonr(totals[k], uniques[k]) across the books",
        traps=[
            (
                lambda v: np.any(np.abs(v) > 1 + 1e-9),
                "a Pearson r lies between -1 and 1: use stats.pearsonr",
            ),
            (spearman, "these are Spearman's rank correlations: use stats.pearsonr"),
            (pearson[::-1], f"the r values are in reverse order: {UNITS}"),
        ],
    )


@check(reference=_reference)
def token_ids(texts, tokenizer, *, token_ids) -> str:
    """One id list per book, equal to encoding the whole text without special tokens."""
    return f"{len(texts)} books encoded whole, without special tokens"


@check(reference=_reference)
def book_table(texts, tokenizer, *, n_characters, n_words, n_tokens) -> str:
    """The three lengths per book; every book has fewer GPT-2 tokens than characters."""
    return f"{len(texts)} books; every book has fewer GPT-2 tokens than characters"


@check(reference=_reference)
def ratios(texts, tokenizer, *, chars_per_token, tokens_per_word, ref: dict) -> str:
    """Characters per token and tokens per word, one value per book."""
    cpt, tpw = ref["chars_per_token"], ref["tokens_per_word"]
    return (
        f"one token holds {cpt.min():.2f} to {cpt.max():.2f} characters; "
        f"a word costs {tpw.min():.2f} to {tpw.max():.2f} tokens"
    )


@check(reference=_reference)
def round_trip(texts, *, decoded_texts, same) -> str:
    """Decoding each book's ids gives back its text exactly; ``same`` says so for every book."""
    return f"all {len(texts)} books decode back to their exact text (byte-level BPE is lossless)"


@check(reference=_reference)
def counts(texts, tokenizer, *, totals, uniques) -> str:
    """Totals and uniques (3 units x books): equal to the reference, so unique <= total."""
    return (
        f"{len(texts)} books x 3 units; unique <= total everywhere and unique token ids <= "
        f"{len(tokenizer):,}"
    )


@check(reference=_reference)
def unit_means(texts, tokenizer, *, mean_totals, mean_uniques, unique_share, ref: dict) -> str:
    """The mean total and mean unique count of every unit over the books, and their ratio."""
    shares = ", ".join(f"{v:.4f}" for v in ref["unique_share"])
    return f"unique / total of {UNITS} = {shares}"


@check(reference=_reference)
def correlations(texts, tokenizer, *, r_values, ref: dict) -> str:
    """Pearson r between unique and total counts across the books, one per unit."""
    return f"r of {UNITS} = " + ", ".join(f"{r:.2f}" for r in ref["r_values"])


@check(reference=_reference)
def most_unique_chars(texts, *, outlier, outlier_chars, non_ascii, listing, ref: dict) -> str:
    """The book with the most distinct characters, its sorted characters, the non-ASCII ones
    (ord > 127) and the printable listing (non-ASCII characters in brackets)."""
    n_chars, n_non_ascii = len(ref["outlier_chars"]), len(ref["non_ascii"])
    return f"book {ref['outlier']}: {n_chars} distinct characters, {n_non_ascii} of them non-ASCII"
