"""Self-checks for project 15, "Analogy vectors".

Every reference starts from the model id and the words: the checks load the tokenizer and the
embedding matrix themselves (quietly, once per session; the loaders of project 14) and look each
word up with ``single_token_id``, so that an id looked up wrongly upstream cannot make them pass.
"""

from __future__ import annotations

import contextlib
import functools
import io
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ml4llm.checks import Expect, check, common, has_blank, require
from ml4llm.checks.proj14 import _ids, _tokenizer, _unit, unit_rows
from ml4llm.tokens import decode_token, encode, single_token_id, visible

__all__ = ["unit_rows"]  # Part 5 normalises the rows as project 14 does: the same check


def _exploration_table(tok: Any, words: Sequence[str]) -> pd.DataFrame:
    """The right exploration_table: ids and pieces of each word without and with a space."""
    rows = []
    for word in words:
        bare, spaced = encode(tok, word), encode(tok, " " + word)
        pieces = tok.convert_ids_to_tokens(bare), tok.convert_ids_to_tokens(spaced)
        rows.append((word, bare, pieces[0], spaced, pieces[1]))
    columns = ["word", "ids (no space)", "pieces (no space)", "ids (leading space)"]
    return pd.DataFrame(rows, columns=[*columns, "pieces (leading space)"])


def _analogy(model_id: str, words: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """The vector start - subtract + add and its cosine with every token (0 for zero rows)."""
    raw, ids = _unit(model_id, raw=True), _ids(model_id, words[:3])
    vector = raw[ids[0]] - raw[ids[1]] + raw[ids[2]]
    return vector, _unit(model_id) @ (vector / np.linalg.norm(vector))


def _top_table(model_id: str, vector: Any, token_ids: Any, cosines: Any) -> pd.DataFrame:
    """The right top_table: token, id, cosine and r^2 (rounded to 3 decimals) by rank."""
    ids = [int(i) for i in token_ids]
    rows = _unit(model_id, raw=True)[ids]
    return pd.DataFrame(
        {
            "token": [visible(decode_token(_tokenizer(model_id), i)) for i in ids],
            "id": ids,
            "cosine": np.round(common.as_array(cosines)[ids], 3),
            "r^2": np.round([np.corrcoef(vector, row)[0, 1] ** 2 for row in rows], 3),
        },
        index=pd.RangeIndex(1, len(ids) + 1, name="rank"),
    )


def _top_expect(right: pd.DataFrame, r: Any, cosines: Any) -> Expect:
    """``right`` with the r^2 traps; ``r`` and ``cosines`` unrounded, one per row.

    The learner rounds r^2 to 3 decimals, so the tolerance is 1e-3. A trap is tried only on a
    value that failed as r^2, and it must match within 1e-4 (rounded or not): so a right answer
    is never taken for the squared cosine, even where the two differ by less than 1e-3.
    """

    def near(wrong: np.ndarray) -> Any:
        return lambda v: any(np.allclose(v, w, atol=1e-4) for w in (wrong, np.round(wrong, 3)))

    r, cosines = common.as_array(r, np.float64), common.as_array(cosines, np.float64)
    return Expect(
        right,
        atol=1e-3,
        columns={
            "token": "visible(decode_token(tokenizer, i)) per id",
            "id": "the 'id' column should list the ids in the order given",
            "cosine": "cosines[i] for each id",
            "r^2": (
                "the squared Pearson r of the vector and each token's embedding",
                [
                    (near(r), "'r^2' holds r itself: square it"),
                    (near(cosines**2), "'r^2' holds the squared cosine: r comes from np.corrcoef "
                     "(it centres both vectors)"),
                ],
            ),
        },
    )  # fmt: skip


def _reference(model_id: str, quartet: Sequence[str]) -> dict[str, Any]:
    """Parts 2 to 5 from the model id and the quartet."""
    raw = _unit(model_id, raw=True)
    ids, bare = _ids(model_id, quartet), _ids(model_id, quartet, bare=True)
    frame = pd.DataFrame(raw[ids].T, columns=list(quartet))
    bare_frame = pd.DataFrame(raw[bare].T, columns=list(quartet))
    space = "use single_token_id for the id (it adds the leading space byte-level BPE needs)"
    vector, cosines = _analogy(model_id, quartet)
    order = np.argsort(-cosines, kind="stable")
    without = order[~np.isin(order, ids[:3])]
    rank, rank_without = [int(np.flatnonzero(o == ids[3])[0]) + 1 for o in (order, without)]
    outside = "cosines lie in [-1, 1]: normalise the rows and the analogy vector"
    return {
        "quartet_df": frame,
        "quartet_columns": Expect(
            frame,
            columns={w: (f"the column {w!r} is not that word's embedding: {space}",
                         [(bare_frame[w], f"{w!r}: {space}")]) for w in quartet},
        ),  # fmt: skip
        "quartet_summary": Expect(
            frame.describe(),
            columns=dict.fromkeys(quartet, "the summary values differ from describe()"),
        ),
        "matrix": common.cosine_expect(raw[ids]),
        "analogy_vector": Expect(
            vector,
            "embeddings[king] - embeddings[man] + embeddings[woman]",
            traps=[(raw[bare[0]] - raw[bare[1]] + raw[bare[2]], f"the ids: {space}")],
        ),
        "analogy_cosines": Expect(
            cosines,
            "the cosines are off: the vector is start - subtract + add (king - man + woman)",
            traps=[(lambda v: np.any(np.abs(v) > 1 + 1e-5), outside)],
        ),
        "ranked": order,
        "ranked_without_inputs": without,
        "queen_rank": Expect(rank, f"'queen' is at rank {rank} among all tokens",
                             traps=[(rank - 1, "ranks start at 1: add one to the position")]),
        "queen_rank_without": Expect(rank_without, "the rank without the three input words",
                                     traps=[(rank_without - 1, "ranks start at 1")]),
        "top_table": functools.partial(_top_table, model_id),
        "analogy": functools.partial(_analogy_top, model_id),
    }  # fmt: skip


def _analogy_top(model_id: str, start: str, subtract: str, add: str, k: int = 10):
    """The right analogy function: the top k ids by cosine, the input words left out."""
    ids = [single_token_id(_tokenizer(model_id), w) for w in (start, subtract, add)]  # ValueError
    order = np.argsort(-_analogy(model_id, (start, subtract, add))[1], kind="stable")
    return pd.DataFrame({"id": order[~np.isin(order, ids)][:k]})


def _tokens(book_model_id: str, first_ids: Sequence[int] = range(20)) -> dict[str, Any]:
    """Part 1 from the book's tokenizer (and the first ids, for first_entries)."""
    tok, first = _tokenizer(book_model_id), [int(i) for i in first_ids]
    plain = [decode_token(tok, i) for i in first]
    king, bare = encode(tok, " king"), encode(tok, "king")
    return {
        "first_raw": Expect(
            tok.convert_ids_to_tokens(first),
            "the raw entries should come from tokenizer.convert_ids_to_tokens",
        ),
        "first_decoded": Expect(
            [visible(text) for text in plain],
            "decode each id alone: visible(decode_token(tokenizer, i))",
            traps=[(plain, "wrap each decoded text in visible(...) so that spaces show")],
        ),
        "special_tokens": Expect(
            dict(zip(tok.all_special_tokens, tok.all_special_ids)),
            "map each of tokenizer.all_special_tokens to its id (tokenizer.all_special_ids)",
        ),
        "king_ids": Expect(
            king,
            f"encode ' king' without special tokens ({king})",
            traps=[(bare, "keep the leading space, ' king'")],
        ),
        "king_ids_special": Expect(
            tok.encode(" king"), "the same call with the default special tokens"
        ),
        "pre_split": Expect(
            tok.convert_tokens_to_ids([" king"]),
            "look ' king' up as a vocabulary entry with convert_tokens_to_ids([' king'])",
        ),
    }


@check(reference=lambda book_model_id, exploration_words: {"exploration_table": _exploration_table})
def exploration(book_model_id, exploration_words, *, exploration_table) -> str:
    """Ids and pieces of each word without and with a leading space, one string at a time."""
    tok = _tokenizer(book_model_id)
    table = common.call(exploration_table, tok, list(exploration_words),
                        name="exploration_table", returns="the DataFrame")  # fmt: skip
    require(not has_blank(table), "the table still holds `...`: fill in exploration_table first")
    right = _exploration_table(tok, exploration_words)
    common.require_frame(table, name="exploration_table(...)", columns=list(right.columns))
    require(len(table) == len(right), f"one row per word ({len(right)})")
    for k, word in enumerate(exploration_words):
        for column, how in [
            ("ids (no space)", "encode the bare word, add_special_tokens=False"),
            ("ids (leading space)", "encode ' ' + word"),
            ("pieces (no space)", "tokenizer.convert_ids_to_tokens of the ids"),
            ("pieces (leading space)", "tokenizer.convert_ids_to_tokens of the ids"),
        ]:
            got = [str(i) for i in table[column].iloc[k]]
            want = [str(i) for i in right[column].iloc[k]]
            require(got == want, f"{column!r} of {word!r} is off: {how}")
    return f"{len(exploration_words)} words encoded with and without a leading space"


@check(reference=_tokens)
def first_entries(book_model_id, first_ids, *, first_raw, first_decoded, special_tokens) -> str:
    """The raw vocabulary entry and the decoded text (visible spaces) of the first ids."""
    return f"{len(first_raw)} entries, raw and decoded; {len(special_tokens)} special tokens"


@check(reference=_tokens)
def string_vs_list(book_model_id, *, king_ids, king_ids_special, pre_split) -> str:
    """' king' as one string (without and with special tokens) and as a pre-split token."""
    return f"{list(king_ids)} as a string, {list(pre_split)} as a pre-split token"


@check(reference=_reference)
def quartet_frame(model_id, quartet, *, quartet_df, quartet_summary, ref) -> str:
    """A DataFrame of shape (hidden size, 4): one column per word; and its describe()."""
    shape = ref["quartet_df"].shape
    require(
        getattr(quartet_df, "shape", None) != shape[::-1],
        f"quartet_df: expected shape {shape}: rows = dimensions, columns = words (transpose the "
        "rows you took from the matrix)",
    )
    ref_columns = _reference(model_id, quartet)["quartet_columns"]
    common.require_expected(quartet_df, ref_columns, "quartet_df")
    return f"shape {tuple(quartet_df.shape)}, one embedding per column, and its summary"


@check(reference=_reference)
def cosine_matrix(model_id, quartet, *, matrix) -> str:
    """The words' cosine matrix (the hints every cosine-matrix check shares)."""
    return f"{len(quartet)} x {len(quartet)}, symmetric, unit diagonal"


@check(reference=_reference)
def analogy_cosines(model_id, quartet, *, analogy_vector, analogy_cosines) -> str:
    """The vector king - man + woman and its cosine with every token."""
    return f"{len(analogy_cosines):,} cosines with king - man + woman"


@check(reference=_reference)
def rankings(model_id, quartet, *, ranked, ranked_without_inputs) -> str:
    """All ids by descending cosine (ties in any order), and the same without the inputs."""
    cosines, inputs = _analogy(model_id, quartet)[1], set(_ids(model_id, quartet[:3]))
    n = len(cosines)
    full = common.require_array(ranked, name="ranked", shape=(n,), kind="integers")
    require(len(set(full.tolist())) == n and full.min() >= 0 and full.max() < n,
            f"ranked: rank every token once ({n:,} ids)")  # fmt: skip
    require(np.all(np.diff(cosines[full]) <= 1e-9), "ranked should go from the largest cosine down")
    shape = (n - len(inputs),)
    w = common.require_array(ranked_without_inputs, name="ranked_without_inputs", shape=shape,
                             kind="integers")  # fmt: skip
    require(not inputs & set(w.tolist()), "the list without inputs still holds an input word")
    require(
        np.array_equal(w, full[~np.isin(full, list(inputs))]),
        "drop only the input words from the full ranking, keeping the order",
    )
    return f"{n:,} tokens ranked; the input words removed from the second list"


@check(reference=_reference)
def queen_rank(model_id, quartet, *, queen_rank, queen_rank_without) -> str:
    """The rank of 'queen' (from 1) among all tokens and without the three input words."""
    return f"'queen' ranks {queen_rank} among all tokens, {queen_rank_without} without the inputs"


@check(reference=_reference)
def top_table(model_id, quartet, *, top_table) -> str:
    """top_table gives token, id, cosine and r^2 (squared Pearson r) for each id, by rank."""
    vector, cosines = _analogy(model_id, quartet)
    ids = np.argsort(-cosines, kind="stable")[:5]
    table = common.call(top_table, vector, ids, cosines, name="top_table", returns="the DataFrame")
    rows = _unit(model_id, raw=True)[ids]
    r = [np.corrcoef(vector, row)[0, 1] for row in rows]
    right = _top_table(model_id, vector, ids, cosines)
    common.require_expected(table, _top_expect(right, r, cosines[ids]), "top_table")
    return "token, id, cosine and r^2 for each id, ranked from 1"


def _ranks(model_id: str, analogies: Sequence[Any], top_k: int) -> dict[str, Any]:
    ranks = {}
    for start, subtract, add, expected in analogies:
        top = _analogy_top(model_id, start, subtract, add, top_k)["id"].tolist()
        ids = _ids(model_id, expected)
        ranks[(start, subtract, add)] = {
            w: top.index(i) + 1 if i in top else None for w, i in zip(expected, ids)
        }
    return {"expected_ranks": ranks}


@check(reference=_ranks)
def expected_ranks(model_id, analogies, top_k, *, expected_ranks, ref) -> str:
    """For each analogy: the rank (from 1) of each expected word in the top k, None if absent."""
    require(
        isinstance(expected_ranks, Mapping) and len(expected_ranks) > 0,
        "expected_ranks is still empty: fill in the loop over the analogies first",
    )
    for key, right in ref["expected_ranks"].items():
        require(
            key in expected_ranks, f"no entry for {key}: key the dict by (start, subtract, add)"
        )
        given = expected_ranks[key]
        for word, want in right.items():
            require(
                isinstance(given, Mapping) and word in given, f"{key}: give a rank for {word!r}"
            )
            got = given[word]
            ok = got is None if want is None else isinstance(got, (int, np.integer)) and got == want
            where = (
                f"at rank {want} (ranks start at 1)" if want else f"None (not in the top {top_k})"
            )
            require(ok, f"{key}: {word!r} should be {where}")
    found = sum(r is not None for ranks in ref["expected_ranks"].values() for r in ranks.values())
    return f"{len(analogies)} analogies; {found} expected answers in the top {top_k}"


@check(reference=_reference)
def analogy_function(model_id, quartet, *, analogy) -> str:
    """``analogy`` returns the top k without the inputs and raises ValueError for a split word."""
    words, k = tuple(quartet[:3]), 5
    with contextlib.redirect_stdout(io.StringIO()):  # the function's own printing
        table = common.call(analogy, *words, k, name="analogy", returns="the table")
    require(hasattr(table, "columns") and "id" in table, "return the table (with its 'id' column)")
    got = common.require_array(table["id"], name="analogy(...)['id']", shape=(k,), kind="integers")
    ids, cosines = _ids(model_id, words), _analogy(model_id, quartet)[1].copy()
    require(not set(ids) & set(got.tolist()), "leave the three input words out of the result")
    cosines[ids] = -np.inf
    require(
        np.allclose(cosines[got], np.sort(cosines)[::-1][:k], atol=1e-5),
        "the result is not the top k by cosine with start - subtract + add",
    )
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            analogy("blorptastic", *words[1:])
        raised = False
    except ValueError:
        raised = True
    require(raised, "a made-up word that splits into several tokens should raise ValueError: look "
            "each word up with single_token_id")  # fmt: skip
    return f"top {k} of {' - '.join(words[:2])} + {words[2]} match; a split word raises ValueError"
