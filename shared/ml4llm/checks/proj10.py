"""Self-checks for project 10, "Sequential number cosine similarity"."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from ml4llm.checks import check, common, require
from ml4llm.tokens import encode


def _tally(counts: Sequence[int]) -> str:
    """'820 one-token, 1000 two-token, ...' for a sequence of token counts."""
    words = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five"}
    tally = Counter(int(c) for c in counts)
    return ", ".join(f"{tally[k]} {words.get(k, str(k))}-token" for k in sorted(tally))


@check
def token_counts(integers: Sequence[int], n_tokens: Sequence[int], tokenizer: Any) -> str:
    """The number of tokens of every integer, compared with the tokenizer's own encoding."""
    integers = [int(n) for n in integers]
    counts = np.asarray(n_tokens).ravel()
    require(
        len(counts) == len(integers),
        f"expected one count per integer ({len(integers)}), got {len(counts)}",
    )
    reference = np.array([len(encode(tokenizer, str(n))) for n in integers])
    digits = np.array([len(str(n)) for n in integers])
    require(
        not np.array_equal(counts, digits),
        "these are character counts: encode each integer with the tokenizer and count the ids",
    )
    require(
        not np.array_equal(counts, reference + 1) and not np.array_equal(counts, reference + 2),
        "every count is too high: encode without special tokens (add_special_tokens=False)",
    )
    wrong = np.flatnonzero(counts != reference)
    if len(wrong):
        n = integers[int(wrong[0])]
        require(
            False,
            f"{len(wrong)} counts differ, e.g. {n} has {reference[wrong[0]]} tokens, you have "
            f"{counts[wrong[0]]}: encode str(n) with no leading space, one string per call",
        )
    return f"{_tally(reference)} integers among {min(integers)}…{max(integers)}"


@check
def count_tally(integers: Sequence[int], tally: Any, tokenizer: Any) -> str:
    """How many integers take 1, 2, 3 ... tokens: a pandas Series (or dict) count -> integers."""
    reference = Counter(len(encode(tokenizer, str(int(n)))) for n in integers)
    values = dict(tally.items()) if hasattr(tally, "items") else None
    require(
        values is not None,
        "tally should map each token count to its number of integers: "
        "pd.Series(n_tokens).value_counts()",
    )
    require(len(values) > 0, "the tally is still empty: count the integers per token count")
    found = {int(k): int(v) for k, v in values.items()}
    require(
        sum(found.values()) == sum(reference.values()),
        f"the tally adds up to {sum(found.values())} integers, not {sum(reference.values())}: "
        "count every integer once",
    )
    require(
        set(found) == set(reference),
        f"the token counts in the tally are {sorted(found)}, expected {sorted(reference)}: "
        "the index should be the number of tokens, the values the number of integers",
    )
    for k in sorted(reference):
        require(
            found[k] == reference[k],
            f"{found[k]} integers with {k} token(s), expected {reference[k]}: count n_tokens "
            "with value_counts()",
        )
    return _tally(list(reference.elements()))


@check
def jittered_counts(integers: Sequence[int], jittered: Any, jitter: float, tokenizer: Any) -> str:
    """Each integer's token count plus a random offset in [-jitter, jitter] (the y data of figure 1a)."""
    counts = np.array([len(encode(tokenizer, str(int(n)))) for n in integers], dtype=np.float64)
    values = np.asarray(jittered, dtype=np.float64).ravel()
    require(
        values.size == counts.size,
        f"expected one y value per integer ({counts.size}), got {values.size}",
    )
    offsets = values - counts
    require(
        np.all(np.abs(offsets) <= jitter + 1e-9),
        f"some values are more than jitter = {jitter} away from the integer's token count: add "
        "rng.uniform(-jitter, jitter, size=...) to n_tokens",
    )
    require(
        np.ptp(offsets) > jitter / 2,
        "the points are not spread: draw a different random offset for every integer "
        "(size=len(n_tokens))",
    )
    return f"{values.size} jittered counts, each within ±{jitter} of its token count"


@check
def sign_mismatches(
    tokenizer: Any, highest: int, minus_ids: Sequence[int], mismatches: Sequence[int]
) -> str:
    """The integers n = 1..highest whose tokens(-n) differ from the minus token + tokens(n)."""
    minus = encode(tokenizer, "-")
    require(
        list(minus_ids) == minus,
        f"minus_ids should be the ids of '-' alone, {minus}, not {list(minus_ids)}: "
        "encode('-') without special tokens and without a space",
    )
    reference = [
        n
        for n in range(1, int(highest) + 1)
        if encode(tokenizer, str(-n)) != minus + encode(tokenizer, str(n))
    ]
    found = sorted(int(n) for n in mismatches)
    require(
        found == reference,
        f"expected {len(reference)} mismatches, you found {len(found)}: compare "
        "encode(str(-n)) with encode('-') + encode(str(n)) as lists, for n = 1 … highest",
    )
    return f"{len(reference)} mismatches among n = 1 … {highest}: the minus sign is always its own token"


@check
def spelling_ids(tokenizer: Any, spellings: Sequence[str], ids: Sequence[Sequence[int]]) -> str:
    """The token ids of each spelling of a number (with and without a space or minus sign)."""
    ids = list(ids)
    require(
        len(ids) == len(spellings),
        f"expected one list of ids per spelling ({len(spellings)}), got {len(ids)}",
    )
    for text, found in zip(spellings, ids):
        reference = encode(tokenizer, text)
        found = [int(i) for i in np.asarray(found).ravel()]
        stripped = encode(tokenizer, text.strip())
        hint = (
            ": keep the leading space, it changes the tokens"
            if found == stripped and stripped != reference
            else ": encode the string as it is, without special tokens"
        )
        require(found == reference, f"{text!r} should give {reference}, not {found}{hint}")
    return f"{len(ids)} spellings, each encoded on its own"


def _digit_count(number_strings: Sequence[str]) -> int:
    """How many of the number strings are the digits '0' … '9' and '10' (they come first)."""
    strings = [str(s) for s in number_strings]
    return strings.index("10") + 1 if "10" in strings else len(strings)


@check
def number_vectors(
    embeddings: Any, tokenizer: Any, number_strings: Sequence[str], vectors: Any
) -> str:
    """The embedding rows of the number tokens, in the order of the number strings."""
    matrix = np.asarray(embeddings)
    ids = [encode(tokenizer, text)[0] for text in number_strings]
    values = np.asarray(vectors)
    require(
        values.shape == (len(ids), matrix.shape[1]),
        f"expected {len(ids)} rows of width {matrix.shape[1]} (one per number string), "
        f"got shape {values.shape}: index the embedding matrix with the list of ids",
    )
    require(
        np.array_equal(values, matrix[ids]),
        "the rows are not the number tokens' rows: embeddings[number_ids] (row i is token id i)",
    )
    return f"{len(ids)} rows of width {matrix.shape[1]}"


@check
def successive_cosines(number_vectors: Any, number_strings: Sequence[str], successive: Any) -> str:
    """Cosine of each digit's embedding with the previous digit's (one value per pair)."""
    n = _digit_count(number_strings)
    vectors = np.asarray(number_vectors, dtype=np.float64)[:n]
    values = np.asarray(successive, dtype=np.float64).ravel()
    require(
        len(values) == n - 1,
        f"{n} digits give {n - 1} successive pairs, you have {len(values)} values",
    )
    require(np.all(np.abs(values) <= 1 + 1e-5), "a cosine similarity lies between -1 and 1")
    full = common.cosines(vectors)
    reference = np.array([full[k, k - 1] for k in range(1, n)])
    dots = np.array([vectors[k] @ vectors[k - 1] for k in range(1, n)])
    require(
        not np.allclose(values, dots, atol=1e-4),
        "these are dot products: divide by both vectors' norms (or normalise first)",
    )
    require(
        np.allclose(values, reference, atol=1e-4),
        "the values differ from cos(vector[k], vector[k-1]) for k = 1 … n-1: pair each digit with "
        "the one before it",
    )
    return f"{n - 1} successive cosines, from {reference.min():.3f} to {reference.max():.3f}"


@check
def pair_labels(number_strings: Sequence[str], labels: Sequence[str]) -> str:
    """The bar labels 'previous–current' of the successive digit pairs ('0–1' … '9–10')."""
    n = _digit_count(number_strings)
    digits = [str(s) for s in number_strings[:n]]
    labels = [str(label) for label in labels]
    require(
        len(labels) == n - 1,
        f"{n} digits give {n - 1} pairs, so {n - 1} labels; you have {len(labels)}",
    )
    for k, label in enumerate(labels, start=1):
        previous, current = digits[k - 1], digits[k]
        middle = label[len(previous) : len(label) - len(current)]
        require(
            label.startswith(previous) and label.endswith(current) and 0 < len(middle) <= 3,
            f"label {k} is {label!r}; expected the previous digit, a dash and the current one, "
            f"e.g. '{previous}–{current}'",
        )
    return f"{len(labels)} labels, '{labels[0]}' … '{labels[-1]}'"


@check
def group_blocks(number_vectors: Any, digit_block: Any, tens_block: Any, across_block: Any) -> str:
    """The cosines within the digits, within 10 … 100 (diagonal left out) and across the groups."""
    full = common.cosines(number_vectors)
    off = ~np.eye(10, dtype=bool)
    reference = {
        "digit_block": full[:10, :10][off],
        "tens_block": full[10:, 10:][off],
        "across_block": full[:10, 10:],
    }
    found = {"digit_block": digit_block, "tens_block": tens_block, "across_block": across_block}
    for name, expected in reference.items():
        values = np.asarray(found[name], dtype=np.float64).ravel()
        require(values.size > 0, f"{name} is still empty: select its part of number_cosines")
        if name != "across_block" and values.size == 100:
            require(
                False, f"{name} holds the diagonal too (100 values): keep the 90 off-diagonal ones"
            )
        require(
            values.size == expected.size,
            f"{name} should hold {expected.size} cosines, not {values.size}",
        )
        require(
            np.isclose(values.mean(), expected.mean(), atol=1e-4),
            f"the mean of {name} is {values.mean():.4f}, expected {expected.mean():.4f}: "
            "digits are rows/columns 0-9, the tens 10-19",
        )
    return (
        f"mean cosine {reference['digit_block'].mean():.3f} among digits, "
        f"{reference['tens_block'].mean():.3f} among tens, {reference['across_block'].mean():.3f} across"
    )


@check
def cosine_matrix(number_vectors: Any, matrix: Any) -> str:
    """The cosine matrix of the number tokens: symmetric, unit diagonal, equal to the reference."""
    n = common.require_cosine_matrix(
        matrix, number_vectors, how="normalise each row (dim=1), then unit @ unit.T"
    )
    return f"{n} x {n}, symmetric, unit diagonal"


@check
def token_id_table(integers: Sequence[int], id_table: Any, tokenizer: Any) -> str:
    """One row per integer: the ids of its 1st, 2nd, 3rd ... token, NaN where it has fewer."""
    integers = [int(n) for n in integers]
    table = np.asarray(id_table, dtype=np.float64)
    encodings = [encode(tokenizer, str(n)) for n in integers]
    width = max(len(ids) for ids in encodings)
    require(
        table.shape == (len(integers), width),
        f"expected shape ({len(integers)}, {width}): one row per integer, one column per token "
        f"position; got {table.shape}",
    )
    reference = np.full(table.shape, np.nan)
    for row, ids in enumerate(encodings):
        reference[row, : len(ids)] = ids
    require(
        np.array_equal(np.isnan(table), np.isnan(reference)),
        "the NaN cells are off: an integer with k tokens fills columns 0 … k-1 and leaves the rest NaN",
    )
    require(
        np.array_equal(table[~np.isnan(table)], reference[~np.isnan(reference)]),
        "some ids differ from the integers' token ids: put the ids of row i's integer in order",
    )
    return f"{len(integers)} rows x {width} token positions, NaN where a token is absent"


@check
def number_ids(tokenizer: Any, number_strings: Sequence[str], ids: Sequence[int]) -> str:
    """The single token id of every number string (no leading space)."""
    ids = [int(i) for i in ids]
    require(
        len(ids) == len(number_strings),
        f"expected one id per number string ({len(number_strings)}), got {len(ids)}",
    )
    for text, token_id in zip(number_strings, ids):
        reference = encode(tokenizer, text)
        require(len(reference) == 1, f"{text!r} is not a single token: it should be rejected")
        if token_id != reference[0]:
            spaced = encode(tokenizer, " " + text)
            hint = (
                "that is the id with a leading space: encode the bare string"
                if spaced == [token_id]
                else f"its id is {reference[0]}, not {token_id}"
            )
            require(False, f"{text!r}: {hint}")
    return f"{len(ids)} number strings, each a single token"
