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
PER_UNIT = (
    lambda v: v.shape != (3,),
    "one value per unit (3): average each row over the books with .mean(axis=1)",
)
BYTES = "these are UTF-8 bytes: count the characters with len(text)"
SPACES = "split(' ') cuts at spaces only: text.split() cuts at every white space, line breaks too"
FEWER = "every book should have fewer GPT-2 tokens than characters: count each book's ids"
LARGER = "some unique count is larger than its total: a unique count comes from a set of the units"
LOWER = "lowercased words: case counts, so 'Love' and 'love' are two words"
SHARES = "this is the mean of the per-book shares: divide mean_uniques by mean_totals"
ABOVE_255 = "ord(c) > 255 leaves out é, ü, ß, « and the rest of 128-255: ASCII ends at 127"
LISTING = "listing should hold one entry per character in sorted order: [c] for a non-ASCII one"
INVISIBLE = "spaces and line breaks are invisible: show the ASCII characters as visible(c)"
DECODED = "decode all its ids at once with clean_up_tokenization_spaces=False"
SAME = "every decoded book equals its text, so same should be all True: compare decoded == text"


@functools.lru_cache(maxsize=4)
def _counts(texts: tuple[str, ...], tokenizer: Any) -> dict[str, Any]:
    """Every book's ids, totals and uniques (3 units x books), from the texts alone."""
    ids = [encode(tokenizer, text) for text in texts]
    words = [text.split() for text in texts]
    totals = np.array([[len(t) for t in texts], [len(w) for w in words], [len(i) for i in ids]])
    uniques = np.array([[len(set(x)) for x in unit] for unit in (texts, words, ids)])
    lowered = uniques.copy()
    lowered[1] = [len(set(t.lower().split())) for t in texts]
    return {"ids": ids, "totals": totals, "uniques": uniques, "lowered": lowered}


def _characters(texts: Sequence[str]) -> dict[str, Any]:
    """Part 3's outlier: the book with the most distinct characters and its listing."""
    n_unique = [len(set(text)) for text in texts]
    best = int(np.argmax(n_unique))
    chars = sorted(set(texts[best]))
    n_books, n_most = len(texts), max(n_unique)

    def marked(limit: int) -> list[str]:
        return [f"[{c}]" if ord(c) > limit else visible(c) for c in chars]

    return {
        "outlier": Expect(
            best,
            f"take the argmax of the unique character counts: book {best} has {n_most}",
            traps=[(lambda v: not 0 <= v < n_books, f"the index lies in 0..{n_books - 1}")],
        ),
        "outlier_chars": Expect(
            chars,
            "list the book's distinct characters sorted: sorted(set(text))",
            traps=[(lambda v: sorted(v.tolist()) == chars, "the characters are not sorted")],
        ),
        "non_ascii": Expect(
            [c for c in chars if ord(c) > 127],
            "the non-ASCII characters are those with ord(c) > 127",
            traps=[
                ([c for c in chars if ord(c) > 255], ABOVE_255),
                (chars, "keep only ord(c) > 127"),
            ],
        ),
        "listing": Expect(
            marked(127),
            f"{LISTING}, visible(c) for the others",
            traps=[
                (marked(255), ABOVE_255),
                ([f"[{c}]" if ord(c) > 127 else c for c in chars], INVISIBLE),
            ],
        ),
    }


def _reference(texts: Sequence[str], tokenizer: Any = None) -> dict[str, Any]:
    """The right value of every learner variable, from the texts and GPT-2's tokenizer."""
    texts = [str(text) for text in texts]
    labels = [f"book {b}" for b in range(len(texts))]
    ref = _characters(texts) | {
        "decoded_texts": Expect(
            texts, f"the decoded book differs from its text: {DECODED}", items=labels
        ),
        "same": Expect([True] * len(texts), SAME),
    }
    if tokenizer is None:
        return ref
    counts = _counts(tuple(texts), tokenizer)
    totals, uniques, n_vocab = counts["totals"], counts["uniques"], len(tokenizer)
    chars, words, tokens = totals
    means = totals.mean(axis=1), uniques.mean(axis=1)
    pearson = [float(stats.pearsonr(t, u)[0]) for t, u in zip(totals, uniques)]
    spearman = [float(stats.spearmanr(t, u)[0]) for t, u in zip(totals, uniques)]
    return ref | {
        "token_ids": Expect(
            counts["ids"], "encode each whole text once, add_special_tokens=False", items=labels
        ),
        "n_characters": Expect(
            chars, "use len(text)", traps=[([len(t.encode("utf-8")) for t in texts], BYTES)]
        ),
        "n_words": Expect(
            words,
            "use len(text.split()): words are the pieces between white space",
            traps=[([len(t.split(" ")) for t in texts], SPACES)],
        ),
        "n_tokens": Expect(
            tokens, "use len(ids) of each book's ids", traps=[(lambda v: np.any(v >= chars), FEWER)]
        ),
        "chars_per_token": Expect(
            chars / tokens,
            "divide each book's characters by its GPT-2 tokens",
            traps=[(tokens / chars, "this is tokens per character: characters / tokens")],
        ),
        "tokens_per_word": Expect(
            tokens / words,
            "divide each book's GPT-2 tokens by its words",
            traps=[(words / tokens, "this is words per token: tokens / words")],
        ),
        "totals": Expect(
            totals,
            "row 0 characters = len(text), row 1 words = len(text.split()), row 2 tokens = len(ids)",
            traps=[(uniques, "these are the unique counts: totals count every unit")],
        ),
        "uniques": Expect(
            uniques,
            "count the set of characters, of words, of ids",
            traps=[
                (
                    lambda v: np.any(v[2] > n_vocab),
                    f"a book cannot use more than the {n_vocab:,} token ids",
                ),
                (lambda v: np.any(v > totals), LARGER),
                (counts["lowered"], LOWER),
            ],
        ),
        "mean_totals": Expect(
            means[0], "the mean of every row of totals (axis=1)", traps=[PER_UNIT]
        ),
        "mean_uniques": Expect(
            means[1],
            "the mean of every row of uniques (axis=1)",
            traps=[PER_UNIT, (means[0], "these are the mean totals: average uniques")],
        ),
        "unique_share": Expect(
            means[1] / means[0],
            "divide the mean unique count by the mean total",
            traps=[PER_UNIT, ((uniques / totals).mean(axis=1), SHARES)],
        ),
        "r_values": Expect(
            pearson,
            f"one r per unit {UNITS}: stats.pearsonr(totals[k], uniques[k]) across the books",
            traps=[
                (
                    lambda v: np.any(np.abs(v) > 1 + 1e-9),
                    "a Pearson r lies in -1..1: stats.pearsonr",
                ),
                (spearman, "these are Spearman's rank correlations: use stats.pearsonr"),
                (pearson[::-1], f"the r values are in reverse order: {UNITS}"),
            ],
        ),
    }


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
