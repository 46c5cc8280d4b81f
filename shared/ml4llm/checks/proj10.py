"""Self-checks for project 10, "Sequential number cosine similarity".

Every reference starts from the integers, the number strings, the tokenizer and the model id:
the checks of Parts 3 and 4 load the embedding rows themselves (once per session).
"""

from __future__ import annotations

import contextlib
import functools
import io
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ml4llm.checks import CheckFailed, Expect, check, common, require
from ml4llm.models import free, input_embeddings, load_model, load_tokenizer
from ml4llm.tokens import encode

ORDINAL = "digits are rows/columns 0-9, the tens 10-19"
TALLY = "tally should map each token count to its number of integers: pd.Series(n_tokens).value_counts()"


def _ndarrays(**values: Any) -> None:
    """The prints and plots after a check call .tolist(), .shape, .mean(): NumPy arrays only."""
    for name, value in values.items():
        require(
            isinstance(value, np.ndarray),
            f"{name}: give a NumPy array (np.array(...)), not {common.describe(value)}",
        )


def _tally(counts: Sequence[int]) -> str:
    """'820 one-token, 1000 two-token, ...' for a sequence of token counts."""
    words = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five"}
    tally = Counter(int(c) for c in counts)
    return ", ".join(f"{tally[k]} {words.get(k, str(k))}-token" for k in sorted(tally))


def _integers(integers: Sequence[int], tokenizer: Any, jitter: float = 0.15) -> dict[str, Any]:
    """Parts 1 and 2: token counts, their tally, the jittered counts and the id table."""
    encodings = [encode(tokenizer, str(int(n))) for n in integers]
    counts = np.array([len(ids) for ids in encodings])
    too_high = "every count is too high: encode without special tokens (add_special_tokens=False)"
    table = np.full((len(encodings), counts.max()), np.nan)
    for row, ids in enumerate(encodings):
        table[row, : len(ids)] = ids
    nan_cells = (
        lambda v: v.shape == table.shape and not np.array_equal(np.isnan(v), np.isnan(table)),
        "the NaN cells are off: an integer with k tokens fills columns 0 … k-1, the rest NaN",
    )
    return {
        "n_tokens": Expect(
            counts,
            "encode str(n) with no leading space, one string per call, and count the ids",
            traps=[
                (
                    [len(str(int(n))) for n in integers],
                    "these are character counts: encode each "
                    "integer with the tokenizer and count the ids",
                ),
                (counts + 1, too_high),
                (counts + 2, too_high),
            ],
        ),
        "tally": pd.Series(counts).value_counts().sort_index(),
        "jittered": counts + jitter * np.linspace(-0.9, 0.9, len(counts)),  # one valid draw
        "id_table": Expect(
            table,
            "one row per integer, one column per token position: the ids of row i's integer in "
            "order",
            traps=[nan_cells],
        ),
    }


@check(reference=_integers)
def token_counts(integers, tokenizer, *, n_tokens) -> str:
    """The number of tokens of every integer, compared with the tokenizer's own encoding."""
    _ndarrays(n_tokens=n_tokens)
    return f"{_tally(n_tokens)} integers among {min(integers)}…{max(integers)}"


@check(reference=_integers)
def count_tally(integers, tokenizer, *, tally, ref) -> str:
    """How many integers take 1, 2, 3 ... tokens: a pandas Series (or dict) count -> integers."""
    right = ref["tally"]
    require(isinstance(tally, pd.Series), f"tally: {TALLY}")
    try:
        items = sorted((float(k), v) for k, v in tally.items())
    except (TypeError, ValueError):
        raise CheckFailed(f"tally: the index should be token counts (numbers): {TALLY}") from None
    require(items, "tally is still empty: count the integers per token count")
    keys, values = [k for k, _ in items], [v for _, v in items]
    common.require_values(
        keys,
        list(right.index),
        name="tally",
        hint="the index should be the number of tokens, the values the number of integers",
    )
    common.require_values(
        values,
        list(right.to_numpy()),
        name="tally",
        hint="count n_tokens with value_counts()",
        traps=[(lambda v: v.sum() != right.sum(), "count every integer once")],
    )
    return _tally(np.repeat(right.index, right.to_numpy()))


@check(reference=_integers)
def jittered_counts(integers, tokenizer, jitter, *, jittered) -> str:
    """Each integer's token count plus a random offset in [-jitter, jitter] (figure 1a's y)."""
    counts = _integers(integers, tokenizer)["n_tokens"].value
    values = common.require_array(jittered, name="jittered", shape=counts.shape)
    offsets = values - counts
    require(
        np.all(np.abs(offsets) <= jitter + 1e-9),
        f"jittered: some values are more than jitter = {jitter} away from the token count: add "
        "rng.uniform(-jitter, jitter, size=...) to n_tokens",
    )
    require(
        np.ptp(offsets) > jitter / 2,
        "jittered: the points are not spread: draw a different random offset for every integer "
        "(size=len(n_tokens))",
    )
    return f"{values.size} jittered counts, each within ±{jitter} of its token count"


@check(reference=_integers)
def token_id_table(integers, tokenizer, *, id_table) -> str:
    """One row per integer: the ids of its 1st, 2nd, 3rd ... token, NaN where it has fewer."""
    _ndarrays(id_table=id_table)
    rows, width = id_table.shape
    return f"{rows} rows x {width} token positions, NaN where a token is absent"


def _signs(tokenizer: Any, highest: int) -> dict[str, Any]:
    minus = encode(tokenizer, "-")
    flags = [
        encode(tokenizer, str(-n)) != minus + encode(tokenizer, str(n))
        for n in range(1, int(highest) + 1)
    ]
    return {
        "minus_ids": Expect(
            minus,
            "minus_ids should be the ids of '-' alone: encode('-') without special tokens and "
            "without a space",
        ),
        "is_mismatch": Expect(
            flags,
            "compare encode(str(-n)) with minus_ids + encode(str(n)) as lists, for n = 1 … highest",
        ),
    }


@check(reference=_signs)
def sign_mismatches(tokenizer, highest, *, minus_ids, is_mismatch) -> str:
    """The integers n = 1..highest whose tokens(-n) differ from the minus token + tokens(n)."""
    count = int(np.sum(common.as_array(is_mismatch)))
    return f"{count} mismatches among n = 1 … {highest}"


def _spellings(tokenizer: Any, spellings: Sequence[str]) -> dict[str, Any]:
    return {
        "spelling_ids": Expect(
            [encode(tokenizer, text) for text in spellings],
            "encode the string as it is, without special tokens",
            items=list(spellings),
            traps=[
                (
                    [encode(tokenizer, text.strip()) for text in spellings],
                    "keep the leading space, it changes the tokens",
                )
            ],
        )
    }


@check(reference=_spellings)
def spelling_ids(tokenizer, spellings, *, spelling_ids) -> str:
    """The token ids of each spelling of a number (with and without a space or minus sign)."""
    return f"{len(spellings)} spellings, each encoded on its own"


def _ids(tokenizer: Any, number_strings: Sequence[str]) -> list[int]:
    ids = []
    for text in number_strings:
        pieces = encode(tokenizer, text)
        if len(pieces) != 1:
            raise CheckFailed(f"{text!r} is not a single token: it should be rejected")
        ids.append(pieces[0])
    return ids


def _number_ids(tokenizer: Any, number_strings: Sequence[str]) -> dict[str, Any]:
    spaced = [encode(tokenizer, " " + text)[0] for text in number_strings]
    return {
        "number_ids": Expect(
            _ids(tokenizer, number_strings),
            "the single token id of each number string, in order",
            traps=[(spaced, "that is the id with a leading space: encode the bare string")],
        )
    }


@check(reference=_number_ids)
def number_ids(tokenizer, number_strings, *, number_ids) -> str:
    """The single token id of every number string (no leading space)."""
    return f"{len(number_strings)} number strings, each a single token"


@check(
    reference=lambda embeddings, tokenizer, number_strings: {
        "number_vectors": Expect(
            common.as_array(embeddings)[_ids(tokenizer, number_strings)],
            "one row per number string: embeddings[number_ids] (row i is token id i)",
        )
    }
)
def number_vectors(embeddings, tokenizer, number_strings, *, number_vectors) -> str:
    """The embedding rows of the number tokens, in the order of the number strings."""
    _ndarrays(number_vectors=number_vectors)
    rows, width = number_vectors.shape
    return f"{rows} rows of width {width}"


@functools.cache
def _vectors(model_id: str, number_strings: tuple[str, ...]) -> np.ndarray:
    """The number tokens' rows of the model's input embedding matrix (float64)."""
    with contextlib.redirect_stdout(io.StringIO()):  # a check prints its own line only
        tokenizer = load_tokenizer(model_id)
        model = load_model(model_id, head="base")
    rows = input_embeddings(model)[_ids(tokenizer, number_strings)].astype(np.float64)
    del model
    free()
    return rows


def _digit_count(number_strings: Sequence[str]) -> int:
    """How many of the number strings are the digits '0' … '9' and '10' (they come first)."""
    strings = [str(s) for s in number_strings]
    return strings.index("10") + 1 if "10" in strings else len(strings)


def _numbers(model_id: str, number_strings: Sequence[str]) -> dict[str, Any]:
    """Parts 3 and 4: successive digit cosines, the cosine matrix and its blocks."""
    vectors = _vectors(model_id, tuple(number_strings))
    n = _digit_count(number_strings)
    full = common.cosines(vectors)
    dots = [vectors[k] @ vectors[k - 1] for k in range(1, n)]
    digits = [str(s) for s in number_strings[:n]]
    off = ~np.eye(10, dtype=bool)
    diagonal = (lambda v: v.size == 100, "holds the diagonal too (100 values): keep the 90 others")
    return {
        "successive": Expect(
            [full[k, k - 1] for k in range(1, n)],
            "the values differ from cos(vector[k], vector[k-1]) for k = 1 … n-1: pair each digit "
            "with the one before it",
            traps=[
                (
                    dots,
                    "these are dot products: divide by both vectors' norms (or normalise first)",
                ),
                (lambda v: np.any(np.abs(v) > 1 + 1e-5), "a cosine lies between -1 and 1"),
            ],
            atol=1e-4,
        ),
        "pairs": [f"{a}–{b}" for a, b in zip(digits, digits[1:])],
        "number_cosines": common.cosine_expect(vectors),
        "digit_block": Expect(full[:10, :10][off], ORDINAL, traps=[diagonal], atol=1e-4),
        "tens_block": Expect(full[10:, 10:][off], ORDINAL, traps=[diagonal], atol=1e-4),
        "across_block": Expect(full[:10, 10:], ORDINAL, atol=1e-4),
    }


@check(reference=_numbers)
def successive_cosines(model_id, number_strings, *, successive) -> str:
    """Cosine of each digit's embedding with the previous digit's (one value per pair)."""
    values = common.as_array(successive)
    return f"{values.size} successive cosines, from {values.min():.3f} to {values.max():.3f}"


@check(reference=_numbers)
def pair_labels(model_id, number_strings, *, pairs) -> str:
    """The bar labels 'previous–current' of the successive digit pairs ('0–1' … '9–10')."""
    n = _digit_count(number_strings)
    digits = [str(s) for s in number_strings[:n]]
    labels = common.require_array(pairs, name="pairs", shape=(n - 1,), kind="strings").tolist()
    for k, label in enumerate(labels, start=1):
        previous, current = digits[k - 1], digits[k]
        middle = label[len(previous) : len(label) - len(current)]
        require(
            label.startswith(previous) and label.endswith(current) and 0 < len(middle) <= 3,
            f"pairs[{k - 1}] is {label!r}; expected the previous digit, a dash and the current "
            f"one, e.g. '{previous}–{current}'",
        )
    return f"{len(labels)} labels, '{labels[0]}' … '{labels[-1]}'"


@check(reference=_numbers)
def cosine_matrix(model_id, number_strings, *, number_cosines) -> str:
    """The cosine matrix of the number tokens: symmetric, unit diagonal, equal to the reference."""
    _ndarrays(number_cosines=number_cosines)
    n = len(number_strings)
    return f"{n} x {n}, symmetric, unit diagonal"


@check(reference=_numbers)
def group_blocks(model_id, number_strings, *, digit_block, tens_block, across_block, ref) -> str:
    """The cosines within the digits, within 10 … 100 (diagonal left out) and across the groups."""
    _ndarrays(digit_block=digit_block, tens_block=tens_block, across_block=across_block)
    means = [float(ref[k].mean()) for k in ("digit_block", "tens_block", "across_block")]
    return (
        f"mean cosine {means[0]:.3f} among digits, {means[1]:.3f} among tens, {means[2]:.3f} across"
    )
