"""Self-checks for project 15, "Analogy vectors"."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ml4llm.checks import check, require
from ml4llm.tokens import encode, single_token_id


def _unit(matrix: np.ndarray) -> np.ndarray:
    """Rows divided by their norms, zero rows kept at zero (float32, like the embeddings)."""
    m = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return m / np.where(norms > 0, norms, 1.0)


def _analogy_cosines(embeddings: np.ndarray, ids: Sequence[int]) -> np.ndarray:
    """Cosine of start - subtract + add with every row (0 for all-zero rows)."""
    m = np.asarray(embeddings, dtype=np.float32)
    vector = m[ids[0]] - m[ids[1]] + m[ids[2]]
    return _unit(m) @ (vector / np.linalg.norm(vector))


def _ids(values: Any) -> np.ndarray:
    return np.asarray([int(v) for v in np.asarray(values).ravel()], dtype=np.int64)


@check
def exploration(exploration_table: Callable[..., Any], tokenizer: Any, words: Sequence[str]) -> str:
    """Ids of each word without and with a leading space, encoded one string at a time."""
    table = exploration_table(tokenizer, list(words))
    require(len(table) == len(words), f"one row per word ({len(words)})")
    for k, word in enumerate(words):
        bare = [int(i) for i in table["ids (no space)"].iloc[k]]
        spaced = [int(i) for i in table["ids (leading space)"].iloc[k]]
        require(
            bare == encode(tokenizer, word),
            f"the ids of {word!r} without a space are off: encode the bare word, "
            "add_special_tokens=False",
        )
        require(
            spaced == encode(tokenizer, " " + word),
            f"the ids of {word!r} with a leading space are off: encode ' ' + word",
        )
    return f"{len(words)} words encoded with and without a leading space"


@check
def quartet_frame(frame: Any, embeddings: Any, tokenizer: Any, words: Sequence[str]) -> str:
    """A DataFrame of shape (hidden size, 4): one column per word, holding its embedding."""
    m = np.asarray(embeddings)
    hidden = m.shape[1]
    require(
        tuple(frame.shape) == (hidden, len(words)),
        f"expected shape ({hidden}, {len(words)}): rows = dimensions, columns = words "
        "(transpose the rows you took from the matrix)",
    )
    require(
        [str(c) for c in frame.columns] == list(words),
        f"name the columns after the words, in order: {list(words)}",
    )
    for word in words:
        ref = m[single_token_id(tokenizer, word)]
        require(
            np.allclose(frame[word].to_numpy(dtype=np.float64), ref, atol=1e-6),
            f"the column {word!r} is not that word's embedding: use single_token_id for the id",
        )
    return f"shape ({hidden}, {len(words)}), one embedding per column"


@check
def cosine_matrix(matrix: Any, embeddings: Any, ids: Sequence[int]) -> str:
    """The words' cosine matrix: symmetric, unit diagonal, equal to the reference."""
    c = np.asarray(matrix, dtype=np.float64)
    n = len(ids)
    require(
        c.shape == (n, n),
        f"expected a {n} x {n} matrix: sklearn compares rows, so pass the words as rows (frame.T)",
    )
    require(np.allclose(c, c.T, atol=1e-6), "the matrix should be symmetric")
    require(
        np.allclose(np.diag(c), 1, atol=1e-5), "the diagonal should be 1 (each word with itself)"
    )
    rows = _unit(np.asarray(embeddings)[list(ids)])
    require(
        np.allclose(c, rows @ rows.T, atol=1e-5), "the values differ from the cosine similarities"
    )
    return f"{n} x {n}, symmetric with a unit diagonal"


@check
def analogy_cosines(embeddings: Any, ids: Sequence[int], cosines: Any) -> str:
    """Cosine of king - man + woman with every token."""
    ref = _analogy_cosines(embeddings, ids)
    c = np.asarray(cosines, dtype=np.float64)
    require(c.shape == ref.shape, f"one cosine per token ({len(ref):,}), got shape {c.shape}")
    nonzero = np.linalg.norm(np.asarray(embeddings), axis=1) > 0
    require(
        np.all(np.abs(c[nonzero]) <= 1 + 1e-5),
        "cosines lie in [-1, 1]: normalise the rows and the analogy vector",
    )
    require(
        np.allclose(c[nonzero], ref[nonzero], atol=1e-5),
        "the cosines are off: the vector is start - subtract + add (king - man + woman)",
    )
    return f"{len(c):,} cosines with king - man + woman"


@check
def rankings(
    cosines: Any, input_ids: Sequence[int], ranked: Any, ranked_without_inputs: Any
) -> str:
    """All ids by descending cosine, and the same without the three input words."""
    c = np.nan_to_num(np.asarray(cosines, dtype=np.float64), nan=-np.inf)
    r = _ids(ranked)
    w = _ids(ranked_without_inputs)
    require(
        len(r) == len(c) and len(set(r.tolist())) == len(c),
        f"rank every token once ({len(c):,} ids)",
    )
    require(np.all(np.diff(c[r]) <= 1e-9), "the ranking should go from the largest cosine down")
    inputs = {int(i) for i in input_ids}
    require(not inputs & set(w.tolist()), "the list without inputs still holds an input word")
    require(
        len(w) == len(c) - len(inputs) and np.all(np.diff(c[w]) <= 1e-9),
        "drop only the input words from the full ranking, keeping the order",
    )
    return f"{len(r):,} tokens ranked; the input words removed from the second list"


@check
def analogy_function(analogy: Callable[..., Any], embeddings: Any, tokenizer: Any) -> str:
    """``analogy`` returns the top k without the inputs and raises ValueError for a split word."""
    words = ("king", "man", "woman")
    k = 5
    ids = [single_token_id(tokenizer, w) for w in words]
    ref = _analogy_cosines(embeddings, ids)
    ref[ids] = -np.inf
    best = np.sort(ref)[::-1][:k]
    with contextlib.redirect_stdout(io.StringIO()):  # the function's own printing
        table = analogy(*words, k=k)
    require(table is not None and "id" in table, "return the table (with its 'id' column)")
    got = _ids(table["id"])
    require(len(got) == k, f"analogy(..., k={k}) should give {k} rows, got {len(got)}")
    require(not set(ids) & set(got.tolist()), "leave the three input words out of the result")
    require(
        np.allclose(ref[got], best, atol=1e-5),
        "the result is not the top k by cosine with start - subtract + add",
    )
    raised = False
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            analogy("blorptastic", "man", "woman")
    except ValueError:
        raised = True
    require(
        raised,
        "a made-up word that splits into several tokens should raise ValueError: "
        "look each word up with single_token_id",
    )
    return f"top {k} of king - man + woman match; 'blorptastic' raises ValueError"
