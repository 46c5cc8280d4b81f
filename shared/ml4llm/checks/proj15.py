"""Self-checks for project 15, "Analogy vectors"."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ml4llm.checks import check, common, has_blank, require
from ml4llm.tokens import decode_token, encode, single_token_id, visible


def _analogy_cosines(embeddings: np.ndarray, ids: Sequence[int]) -> np.ndarray:
    """Cosine of start - subtract + add with every row (0 for all-zero rows)."""
    m = np.asarray(embeddings, dtype=np.float32)
    vector = m[ids[0]] - m[ids[1]] + m[ids[2]]
    return common.unit_rows(m, dtype=np.float32) @ (vector / np.linalg.norm(vector))


def _ids(values: Any) -> np.ndarray:
    return np.asarray([int(v) for v in np.asarray(values).ravel()], dtype=np.int64)


@check
def exploration(exploration_table: Callable[..., Any], tokenizer: Any, words: Sequence[str]) -> str:
    """Ids of each word without and with a leading space, encoded one string at a time."""
    table = exploration_table(tokenizer, list(words))
    require(
        not has_blank(table),
        "the table still holds `...`: fill in the blanks of exploration_table first",
    )
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
        for column, ids in [("pieces (no space)", bare), ("pieces (leading space)", spaced)]:
            require(
                list(table[column].iloc[k]) == tokenizer.convert_ids_to_tokens(ids),
                f"{column!r} of {word!r}: the vocabulary entries of the ids "
                "(tokenizer.convert_ids_to_tokens)",
            )
    return f"{len(words)} words encoded with and without a leading space"


@check
def first_entries(
    tokenizer: Any,
    ids: Sequence[int],
    raw: Sequence[str],
    decoded: Sequence[str],
    special_tokens: Any = None,
) -> str:
    """The raw vocabulary entry and the decoded text (visible spaces) of the first ids."""
    ids = [int(i) for i in ids]
    require(len(raw) == len(ids) and len(decoded) == len(ids), f"one entry per id ({len(ids)})")
    require(
        list(raw) == tokenizer.convert_ids_to_tokens(ids),
        "the raw entries should come from tokenizer.convert_ids_to_tokens",
    )
    plain = [decode_token(tokenizer, i) for i in ids]
    shown = [visible(text) for text in plain]
    require(
        list(decoded) == shown or list(decoded) != plain,
        "wrap each decoded text in visible(...) so that spaces show",
    )
    require(list(decoded) == shown, "decode each id alone: visible(decode_token(tokenizer, i))")
    if special_tokens is not None:
        reference = dict(zip(tokenizer.all_special_tokens, tokenizer.all_special_ids))
        require(
            dict(special_tokens) == reference,
            "special_tokens should map each of tokenizer.all_special_tokens to its id "
            "(tokenizer.all_special_ids, same order)",
        )
    return f"{len(ids)} entries, raw and decoded"


@check
def string_vs_list(tokenizer: Any, king_ids: Any, king_ids_special: Any, pre_split: Any) -> str:
    """' king' as one string (without and with special tokens) and as a pre-split token."""
    reference = tokenizer.encode(" king", add_special_tokens=False)
    got = [int(i) for i in king_ids]
    require(
        got != tokenizer.encode("king", add_special_tokens=False) or got == reference,
        "king_ids: keep the leading space, ' king'",
    )
    require(
        got == reference, f"king_ids should be {reference}: encode ' king' without special tokens"
    )
    with_special = tokenizer.encode(" king")
    require(
        [int(i) for i in king_ids_special] == with_special,
        f"king_ids_special should be {with_special}: the same call with the default special tokens",
    )
    lookup = tokenizer.convert_tokens_to_ids([" king"])
    require(
        [int(i) for i in pre_split] == list(lookup),
        "pre_split: look ' king' up as a vocabulary entry with convert_tokens_to_ids([' king'])",
    )
    return f"{reference} as a string, {list(lookup)} as a pre-split token (unk id {tokenizer.unk_token_id})"


@check
def quartet_frame(
    frame: Any, embeddings: Any, tokenizer: Any, words: Sequence[str], summary: Any = None
) -> str:
    """A DataFrame of shape (hidden size, 4): one column per word, holding its embedding.

    With ``summary``: the frame's ``describe()``.
    """
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
    if summary is not None:
        import pandas as pd

        reference = pd.DataFrame(
            {w: m[single_token_id(tokenizer, w)] for w in words}, columns=list(words)
        ).describe()
        require(
            hasattr(summary, "index") and list(summary.index) == list(reference.index),
            "the summary should be the DataFrame's describe() (count, mean, std, min, ..., max)",
        )
        require(
            [str(c) for c in summary.columns] == list(words),
            "the summary should have one column per word: describe() the quartet DataFrame",
        )
        require(
            np.allclose(summary.to_numpy(dtype=np.float64), reference.to_numpy(), rtol=1e-4),
            "the summary values differ from describe() of the four columns",
        )
    return f"shape ({hidden}, {len(words)}), one embedding per column"


@check
def unit_rows(embeddings: Any, unit_embeddings: Any) -> str:
    """Every non-zero row has norm 1 and keeps its direction; zero rows stay zero (no NaN)."""
    raw = np.asarray(embeddings, dtype=np.float32)
    require(unit_embeddings is not None, "got None: normalise_rows must return the matrix")
    unit = np.asarray(unit_embeddings, dtype=np.float32)
    require(unit.shape == raw.shape, f"keep the shape {raw.shape}, got {unit.shape}")
    require(
        not np.isnan(unit).any(),
        "there are NaN values: a zero row divided by its norm 0 gives NaN, keep such rows at zero",
    )
    nonzero = np.linalg.norm(raw, axis=1) > 0
    require(
        np.allclose(np.linalg.norm(unit, axis=1)[nonzero], 1, atol=1e-5),
        "some rows are not unit length: divide each row by its own norm (axis=1, keepdims=True)",
    )
    require(
        np.allclose(unit, common.unit_rows(raw, dtype=np.float32), atol=1e-5),
        "the rows changed direction: divide each row by its norm, nothing else",
    )
    return f"{int(nonzero.sum()):,} unit rows"


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
    rows = common.unit_rows(np.asarray(embeddings)[list(ids)], dtype=np.float32)
    require(
        np.allclose(c, rows @ rows.T, atol=1e-5), "the values differ from the cosine similarities"
    )
    return f"{n} x {n}, symmetric with a unit diagonal"


@check
def analogy_cosines(embeddings: Any, ids: Sequence[int], cosines: Any, vector: Any = None) -> str:
    """Cosine of king - man + woman with every token (and, if given, the vector itself)."""
    if vector is not None:
        m = np.asarray(embeddings, dtype=np.float32)
        reference = m[ids[0]] - m[ids[1]] + m[ids[2]]
        require(
            np.allclose(np.asarray(vector, dtype=np.float32), reference, atol=1e-5),
            "the analogy vector should be embeddings[king] - embeddings[man] + embeddings[woman]",
        )
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
def top_table(
    table_function: Callable[..., Any], embeddings: Any, tokenizer: Any, ids: Sequence[int]
) -> str:
    """top_table gives token, id, cosine and r^2 (squared Pearson r) for each id, by rank."""
    m = np.asarray(embeddings, dtype=np.float32)
    vector = m[ids[0]] - m[ids[1]] + m[ids[2]]
    cosines = _analogy_cosines(m, ids)
    token_ids = np.argsort(-cosines, kind="stable")[:5]
    table = table_function(vector, token_ids, cosines)
    require(table is not None, "top_table returns None: fill in its body (return the DataFrame)")
    for column in ("token", "id", "cosine", "r^2"):
        require(column in table, f"the table needs a column named {column!r}")
    require(len(table) == len(token_ids), f"one row per id ({len(token_ids)})")
    require(
        [int(i) for i in table["id"]] == [int(i) for i in token_ids],
        "the 'id' column should list the ids in the order given",
    )
    tokens = [visible(decode_token(tokenizer, int(i))) for i in token_ids]
    require(list(table["token"]) == tokens, "'token': visible(decode_token(tokenizer, i)) per id")
    require(
        np.allclose(table["cosine"].to_numpy(dtype=float), cosines[token_ids], atol=1e-3),
        "'cosine' should hold cosines[i] for each id",
    )
    r = np.array([np.corrcoef(vector, m[i])[0, 1] for i in token_ids])
    values = table["r^2"].to_numpy(dtype=float)
    require(
        not np.allclose(values, r, atol=1e-3) or np.allclose(r, r**2, atol=1e-3),
        "'r^2' holds r itself: square it",
    )
    require(
        not np.allclose(values, cosines[token_ids] ** 2, atol=1e-3)
        or np.allclose(r**2, cosines[token_ids] ** 2, atol=1e-3),
        "'r^2' holds the squared cosine: r comes from np.corrcoef (it centres both vectors)",
    )
    require(
        np.allclose(values, r**2, atol=1e-3),
        "'r^2' should be the squared Pearson r of the vector and each token's embedding",
    )
    require(
        [int(i) for i in table.index] == list(range(1, len(token_ids) + 1)),
        "index the rows by rank, starting at 1",
    )
    return "token, id, cosine and r^2 for each id, ranked from 1"


@check
def queen_rank(
    cosines: Any, input_ids: Sequence[int], queen_id: int, rank: int, rank_without: int
) -> str:
    """The rank of 'queen' (from 1) among all tokens and without the three input words."""
    c = np.nan_to_num(np.asarray(cosines, dtype=np.float64), nan=-np.inf)
    order = np.argsort(-c, kind="stable")
    full = int(np.flatnonzero(order == int(queen_id))[0]) + 1
    without = order[~np.isin(order, [int(i) for i in input_ids])]
    reduced = int(np.flatnonzero(without == int(queen_id))[0]) + 1
    require(int(rank) != full - 1, "ranks start at 1: add one to the position")
    require(int(rank) == full, f"'queen' is at rank {full} among all tokens")
    require(int(rank_without) == reduced, f"'queen' is at rank {reduced} without the input words")
    return f"'queen' ranks {full} among all tokens, {reduced} without the input words"


@check
def expected_ranks(
    ranks: Any, analogies: Sequence[Any], embeddings: Any, tokenizer: Any, k: int
) -> str:
    """For each analogy: the rank (from 1) of each expected word in the top k, None if absent."""
    require(len(ranks) > 0, "still empty: fill in the loop over the analogies first")
    found = 0
    for start, subtract, add, expected in analogies:
        key = (start, subtract, add)
        require(key in ranks, f"no entry for {key}: key the dict by (start, subtract, add)")
        ids = [single_token_id(tokenizer, w) for w in key]
        cosines = _analogy_cosines(embeddings, ids)
        order = np.argsort(-cosines, kind="stable")
        top = order[~np.isin(order, ids)][:k].tolist()
        for word in expected:
            require(word in ranks[key], f"{key}: give a rank for {word!r}")
            word_id = single_token_id(tokenizer, word)
            want = top.index(word_id) + 1 if word_id in top else None
            got = ranks[key][word]
            require(
                (got is None and want is None) or (got is not None and int(got) == want),
                f"{key}: {word!r} should be "
                + (f"at rank {want} (ranks start at 1)" if want else f"None (not in the top {k})"),
            )
            found += want is not None
    return f"{len(analogies)} analogies; {found} expected answers in the top {k}"


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
    require(table is not None, "analogy returns None: fill in its body (it must return the table)")
    require("id" in table, "return the table (with its 'id' column)")
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
