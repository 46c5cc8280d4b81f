"""Self-checks for project 10, "Sequential number cosine similarity"."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from ml4llm.checks import check, require
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
def sign_mismatches(tokenizer: Any, highest: int, mismatches: Sequence[int]) -> str:
    """The integers n = 1..highest whose tokens(-n) differ from the minus token + tokens(n)."""
    minus = encode(tokenizer, "-")
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


def _cosines(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float64)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    return unit @ unit.T


@check
def successive_cosines(digit_vectors: Any, successive: Any) -> str:
    """Cosine of each digit's embedding with the previous digit's (one value per pair)."""
    vectors = np.asarray(digit_vectors, dtype=np.float64)
    values = np.asarray(successive, dtype=np.float64).ravel()
    n = len(vectors)
    require(
        len(values) == n - 1,
        f"{n} digits give {n - 1} successive pairs, you have {len(values)} values",
    )
    require(np.all(np.abs(values) <= 1 + 1e-5), "a cosine similarity lies between -1 and 1")
    full = _cosines(vectors)
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
def cosine_matrix(number_vectors: Any, matrix: Any) -> str:
    """The cosine matrix of the number tokens: symmetric, unit diagonal, equal to the reference."""
    vectors = np.asarray(number_vectors, dtype=np.float64)
    values = np.asarray(matrix, dtype=np.float64)
    n = len(vectors)
    require(values.shape == (n, n), f"expected a {n} x {n} matrix, got shape {values.shape}")
    require(
        np.allclose(values, values.T, atol=1e-5), "the matrix is not symmetric: use unit @ unit.T"
    )
    require(
        np.allclose(np.diag(values), 1, atol=1e-4),
        "the diagonal is not 1: normalise each row (dim=1) before the product",
    )
    require(
        np.allclose(values, _cosines(vectors), atol=1e-4),
        "the entries differ from the cosines of the rows: normalise rows, then unit @ unit.T",
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
