"""Every check of project 15 passes on the solution's values, fails on wrong ones and asks for blanks.

A seeded random matrix with one row per token of the offline RoBERTa tokenizer (all-zero padding
row included, as in RoBERTa) stands in for the embedding matrix.
"""

import os

os.environ["ML4LLM_PROFILE"] = "offline"
os.environ["HF_HUB_OFFLINE"] = "1"

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics.pairwise import cosine_similarity

from ml4llm.checks import proj15 as check
from ml4llm.models import load_tokenizer
from ml4llm.tokens import decode_token, encode, single_token_id, visible

QUARTET = ["king", "man", "woman", "queen"]
WORDS = ["table", "algorithm", "strawberry", "sunflower"]


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer("roberta-large")


@pytest.fixture(scope="module")
def embeddings(tokenizer):
    rng = np.random.default_rng(0)
    matrix = rng.standard_normal((len(tokenizer), 24)).astype(np.float32) + 0.3
    matrix[tokenizer.pad_token_id] = 0.0
    return matrix


@pytest.fixture(scope="module")
def unit(embeddings):
    norms = np.linalg.norm(embeddings, axis=1, keepdims=True)
    return embeddings / np.where(norms > 0, norms, 1.0)


@pytest.fixture(scope="module")
def quartet_ids(tokenizer):
    return [single_token_id(tokenizer, w) for w in QUARTET]


def exploration_table(tok, words):
    rows = []
    for word in words:
        bare, spaced = encode(tok, word), encode(tok, " " + word)
        rows.append(
            {
                "word": word,
                "ids (no space)": bare,
                "pieces (no space)": tok.convert_ids_to_tokens(bare),
                "ids (leading space)": spaced,
                "pieces (leading space)": tok.convert_ids_to_tokens(spaced),
            }
        )
    return pd.DataFrame(rows)


def make_analogy(tokenizer, embeddings, unit, exclude_inputs=True, validate=True):
    def analogy(start, subtract, add, k=10):
        if validate:
            ids = [single_token_id(tokenizer, w) for w in (start, subtract, add)]
        else:  # the first piece of each word, silently
            ids = [encode(tokenizer, " " + w)[0] for w in (start, subtract, add)]
        vector = embeddings[ids[0]] - embeddings[ids[1]] + embeddings[ids[2]]
        cosines = unit @ (vector / np.linalg.norm(vector))
        order = np.argsort(-cosines, kind="stable")
        if exclude_inputs:
            order = order[~np.isin(order, ids)]
        print("printed by the function")
        return pd.DataFrame({"id": order[:k]})

    return analogy


def passed(result, capsys):
    return bool(result) and capsys.readouterr().out.startswith("PASS")


def failed(result, capsys):
    return not result and capsys.readouterr().out.startswith("FAIL")


def blank(result, capsys):
    return not result and "fill in the blank first" in capsys.readouterr().out


def test_exploration(tokenizer, capsys):
    assert passed(check.exploration(exploration_table, tokenizer, WORDS), capsys)

    def no_space(tok, words):
        table = exploration_table(tok, words)
        table["ids (leading space)"] = table["ids (no space)"]
        return table

    assert failed(check.exploration(no_space, tokenizer, WORDS), capsys)

    def with_specials(tok, words):
        rows = [
            {"ids (no space)": tok.encode(w), "ids (leading space)": tok.encode(" " + w)}
            for w in words
        ]
        return pd.DataFrame(rows)

    assert failed(check.exploration(with_specials, tokenizer, WORDS), capsys)

    def decoded_pieces(tok, words):
        table = exploration_table(tok, words)
        table["pieces (leading space)"] = [
            [decode_token(tok, i) for i in ids] for ids in table["ids (leading space)"]
        ]
        return table

    assert not check.exploration(decoded_pieces, tokenizer, WORDS)
    assert "'pieces (leading space)' of 'table': the vocabulary entries" in capsys.readouterr().out

    def untouched(tok, words):  # the helper as generated: every value still `...`
        rows = [{"word": w, "ids (no space)": ..., "ids (leading space)": ...} for w in words]
        return pd.DataFrame(rows)

    assert not check.exploration(untouched, tokenizer, WORDS)
    assert "FAIL exploration: the table still holds `...`" in capsys.readouterr().out
    assert blank(check.exploration(..., tokenizer, WORDS), capsys)


def test_first_entries(tokenizer, capsys):
    ids = [*range(20), single_token_id(tokenizer, "the")]  # ' the' has a space to show
    raw = tokenizer.convert_ids_to_tokens(ids)
    decoded = [visible(decode_token(tokenizer, i)) for i in ids]
    special = dict(zip(tokenizer.all_special_tokens, tokenizer.all_special_ids))
    assert passed(check.first_entries(tokenizer, ids, raw, decoded, special), capsys)
    plain = [decode_token(tokenizer, i) for i in ids]
    assert plain != decoded  # some of the first entries hold spaces
    assert not check.first_entries(tokenizer, ids, raw, plain, special)
    assert "FAIL first_entries: wrap each decoded text in visible" in capsys.readouterr().out
    assert not check.first_entries(tokenizer, ids, decoded, decoded, special)
    assert "FAIL first_entries: the raw entries should come from" in capsys.readouterr().out
    assert not check.first_entries(tokenizer, ids, raw, decoded, dict(list(special.items())[:2]))
    assert "FAIL first_entries: special_tokens should map" in capsys.readouterr().out
    assert blank(check.first_entries(tokenizer, ids, ..., ..., ...), capsys)


def test_string_vs_list(tokenizer, capsys):
    king = tokenizer.encode(" king", add_special_tokens=False)
    special = tokenizer.encode(" king")
    pre_split = tokenizer.convert_tokens_to_ids([" king"])
    assert pre_split == [tokenizer.unk_token_id]
    assert passed(check.string_vs_list(tokenizer, king, special, pre_split), capsys)
    bare = tokenizer.encode("king", add_special_tokens=False)
    assert not check.string_vs_list(tokenizer, bare, special, pre_split)
    assert "FAIL string_vs_list: king_ids: keep the leading space" in capsys.readouterr().out
    assert not check.string_vs_list(tokenizer, king, king, pre_split)
    assert "FAIL string_vs_list: king_ids_special should be" in capsys.readouterr().out
    assert not check.string_vs_list(tokenizer, king, special, king)
    assert "FAIL string_vs_list: pre_split: look ' king' up" in capsys.readouterr().out
    assert blank(check.string_vs_list(tokenizer, king, special, ...), capsys)


def test_quartet_frame(tokenizer, embeddings, quartet_ids, capsys):
    frame = pd.DataFrame(embeddings[quartet_ids].T, columns=QUARTET)
    assert passed(check.quartet_frame(frame, embeddings, tokenizer, QUARTET), capsys)
    # not transposed: rows are words
    rows = pd.DataFrame(embeddings[quartet_ids], index=QUARTET)
    assert failed(check.quartet_frame(rows, embeddings, tokenizer, QUARTET), capsys)
    # ids without the leading space
    bare = [encode(tokenizer, w)[0] for w in QUARTET]
    wrong = pd.DataFrame(embeddings[bare].T, columns=QUARTET)
    assert failed(check.quartet_frame(wrong, embeddings, tokenizer, QUARTET), capsys)
    assert blank(check.quartet_frame(..., embeddings, tokenizer, QUARTET), capsys)
    summary = frame.describe()
    assert passed(check.quartet_frame(frame, embeddings, tokenizer, QUARTET, summary), capsys)
    assert not check.quartet_frame(frame, embeddings, tokenizer, QUARTET, frame.T.describe())
    assert "FAIL quartet_frame: the summary should have one column per word" in (
        capsys.readouterr().out
    )
    assert not check.quartet_frame(frame, embeddings, tokenizer, QUARTET, wrong.describe())
    assert "FAIL quartet_frame: the summary values differ" in capsys.readouterr().out
    assert not check.quartet_frame(frame, embeddings, tokenizer, QUARTET, frame.mean())
    assert "FAIL quartet_frame: the summary should be the DataFrame's describe()" in (
        capsys.readouterr().out
    )
    assert blank(check.quartet_frame(frame, embeddings, tokenizer, QUARTET, ...), capsys)


def test_unit_rows(embeddings, unit, capsys):
    assert passed(check.unit_rows(embeddings, unit), capsys)
    with np.errstate(invalid="ignore", divide="ignore"):
        naive = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    assert not check.unit_rows(embeddings, naive)
    assert "FAIL unit_rows: there are NaN values" in capsys.readouterr().out
    by_columns = embeddings / np.linalg.norm(embeddings, axis=0, keepdims=True)
    assert not check.unit_rows(embeddings, by_columns)
    assert "FAIL unit_rows: some rows are not unit length" in capsys.readouterr().out
    assert not check.unit_rows(embeddings, None)
    assert "FAIL unit_rows: got None" in capsys.readouterr().out
    assert blank(check.unit_rows(embeddings, ...), capsys)


def test_cosine_matrix(embeddings, quartet_ids, capsys):
    frame = pd.DataFrame(embeddings[quartet_ids].T, columns=QUARTET)
    good = cosine_similarity(frame.T.to_numpy())
    assert passed(check.cosine_matrix(good, embeddings, quartet_ids), capsys)
    # columns compared (dimensions), not words
    assert failed(
        check.cosine_matrix(cosine_similarity(frame.to_numpy()), embeddings, quartet_ids), capsys
    )
    # correlation instead of cosine (the rows are off-centre)
    assert failed(
        check.cosine_matrix(np.corrcoef(frame.T.to_numpy()), embeddings, quartet_ids), capsys
    )
    assert blank(check.cosine_matrix(..., embeddings, quartet_ids), capsys)


def test_analogy_cosines(embeddings, unit, quartet_ids, capsys):
    king, man, woman, _ = quartet_ids
    vector = embeddings[king] - embeddings[man] + embeddings[woman]
    good = unit @ (vector / np.linalg.norm(vector))
    assert passed(check.analogy_cosines(embeddings, quartet_ids, good), capsys)
    # sign error: king + man - woman
    flipped = embeddings[king] + embeddings[man] - embeddings[woman]
    assert failed(
        check.analogy_cosines(embeddings, quartet_ids, unit @ (flipped / np.linalg.norm(flipped))),
        capsys,
    )
    # dot products with raw rows: not cosines
    assert failed(check.analogy_cosines(embeddings, quartet_ids, embeddings @ vector), capsys)
    assert blank(check.analogy_cosines(embeddings, quartet_ids, ...), capsys)
    assert passed(check.analogy_cosines(embeddings, quartet_ids, good, vector), capsys)
    assert not check.analogy_cosines(embeddings, quartet_ids, good, flipped)
    assert "FAIL analogy_cosines: the analogy vector should be" in capsys.readouterr().out
    assert blank(check.analogy_cosines(embeddings, quartet_ids, good, ...), capsys)


def _top_table(embeddings, tokenizer):
    def top_table(vector, token_ids, cosines):
        r_squared = [np.corrcoef(vector, embeddings[i])[0, 1] ** 2 for i in token_ids]
        return pd.DataFrame(
            {
                "token": [visible(decode_token(tokenizer, i)) for i in token_ids],
                "id": [int(i) for i in token_ids],
                "cosine": [round(float(cosines[i]), 3) for i in token_ids],
                "r^2": np.round(r_squared, 3),
            },
            index=pd.RangeIndex(1, len(token_ids) + 1, name="rank"),
        )

    return top_table


def test_top_table(tokenizer, embeddings, quartet_ids, capsys):
    good = _top_table(embeddings, tokenizer)
    assert passed(check.top_table(good, embeddings, tokenizer, quartet_ids), capsys)

    def r_not_squared(vector, token_ids, cosines):
        table = good(vector, token_ids, cosines)
        table["r^2"] = [np.corrcoef(vector, embeddings[i])[0, 1] for i in token_ids]
        return table

    assert not check.top_table(r_not_squared, embeddings, tokenizer, quartet_ids)
    assert "FAIL top_table: 'r^2' holds r itself: square it" in capsys.readouterr().out

    def cosine_squared(vector, token_ids, cosines):
        table = good(vector, token_ids, cosines)
        table["r^2"] = [cosines[i] ** 2 for i in token_ids]
        return table

    assert not check.top_table(cosine_squared, embeddings, tokenizer, quartet_ids)
    assert "FAIL top_table: 'r^2' holds the squared cosine" in capsys.readouterr().out

    def from_zero(vector, token_ids, cosines):
        return good(vector, token_ids, cosines).reset_index(drop=True)

    assert not check.top_table(from_zero, embeddings, tokenizer, quartet_ids)
    assert "FAIL top_table: index the rows by rank, starting at 1" in capsys.readouterr().out

    def stub(vector, token_ids, cosines): ...

    assert not check.top_table(stub, embeddings, tokenizer, quartet_ids)
    assert "FAIL top_table: top_table returns None" in capsys.readouterr().out
    assert blank(check.top_table(good, embeddings, tokenizer, ...), capsys)


def test_rankings(embeddings, unit, quartet_ids, capsys):
    king, man, woman, _ = quartet_ids
    vector = embeddings[king] - embeddings[man] + embeddings[woman]
    cosines = unit @ (vector / np.linalg.norm(vector))
    inputs = [king, man, woman]
    ranked = np.argsort(-cosines, kind="stable")
    without = ranked[~np.isin(ranked, inputs)]
    assert passed(check.rankings(cosines, inputs, ranked, without), capsys)
    # ascending instead of descending
    ascending = np.argsort(cosines, kind="stable")
    assert failed(
        check.rankings(cosines, inputs, ascending, ascending[~np.isin(ascending, inputs)]), capsys
    )
    # inputs kept in the second list
    assert failed(check.rankings(cosines, inputs, ranked, ranked), capsys)
    assert blank(check.rankings(cosines, inputs, ranked, ...), capsys)


def test_queen_rank(embeddings, unit, quartet_ids, capsys):
    king, man, woman, queen = quartet_ids
    vector = embeddings[king] - embeddings[man] + embeddings[woman]
    cosines = unit @ (vector / np.linalg.norm(vector))
    inputs = [king, man, woman]
    ranked = np.argsort(-cosines, kind="stable")
    without = ranked[~np.isin(ranked, inputs)]
    rank = int(np.flatnonzero(ranked == queen)[0]) + 1
    rank_without = int(np.flatnonzero(without == queen)[0]) + 1
    assert passed(check.queen_rank(cosines, inputs, queen, rank, rank_without), capsys)
    assert not check.queen_rank(cosines, inputs, queen, rank - 1, rank_without - 1)
    assert "FAIL queen_rank: ranks start at 1" in capsys.readouterr().out
    assert not check.queen_rank(cosines, inputs, queen, rank, rank)
    if rank != rank_without:  # the inputs rank above queen in this fixture, or not
        assert "FAIL queen_rank: 'queen' is at rank" in capsys.readouterr().out
    else:
        capsys.readouterr()
    assert blank(check.queen_rank(cosines, inputs, queen, ..., ...), capsys)


ANALOGIES = [("glove", "hand", "foot", ["sock", "shoe"]), ("dogs", "dog", "cat", ["cats"])]


def _expected_ranks(tokenizer, embeddings, unit, k):
    ranks = {}
    for start, subtract, add, expected in ANALOGIES:
        ids = [single_token_id(tokenizer, w) for w in (start, subtract, add)]
        vector = embeddings[ids[0]] - embeddings[ids[1]] + embeddings[ids[2]]
        order = np.argsort(-(unit @ (vector / np.linalg.norm(vector))), kind="stable")
        top = order[~np.isin(order, ids)][:k].tolist()
        ranks[(start, subtract, add)] = {
            w: top.index(single_token_id(tokenizer, w)) + 1
            if single_token_id(tokenizer, w) in top
            else None
            for w in expected
        }
    return ranks


def test_expected_ranks(tokenizer, embeddings, unit, capsys):
    # a k as large as the vocabulary puts every expected word in the list, so ranks are numbers
    k = len(tokenizer)
    ranks = _expected_ranks(tokenizer, embeddings, unit, k)
    assert passed(check.expected_ranks(ranks, ANALOGIES, embeddings, tokenizer, k), capsys)
    shifted = {key: {w: r - 1 for w, r in value.items()} for key, value in ranks.items()}
    assert not check.expected_ranks(shifted, ANALOGIES, embeddings, tokenizer, k)
    assert "FAIL expected_ranks: ('glove', 'hand', 'foot'): 'sock' should be at rank" in (
        capsys.readouterr().out
    )
    # with k = 10 on random embeddings the expected words are (almost surely) absent: None
    small = _expected_ranks(tokenizer, embeddings, unit, 10)
    assert passed(check.expected_ranks(small, ANALOGIES, embeddings, tokenizer, 10), capsys)
    zeros = {key: {w: 0 for w in value} for key, value in small.items()}
    assert not check.expected_ranks(zeros, ANALOGIES, embeddings, tokenizer, 10)
    assert "None (not in the top 10)" in capsys.readouterr().out
    by_start = {key[0]: value for key, value in ranks.items()}
    assert not check.expected_ranks(by_start, ANALOGIES, embeddings, tokenizer, k)
    assert "FAIL expected_ranks: no entry for ('glove', 'hand', 'foot')" in capsys.readouterr().out
    assert not check.expected_ranks({}, ANALOGIES, embeddings, tokenizer, k)
    assert "FAIL expected_ranks: still empty" in capsys.readouterr().out
    assert blank(check.expected_ranks(..., ANALOGIES, embeddings, tokenizer, k), capsys)


def test_analogy_function(tokenizer, embeddings, unit, capsys):
    good = make_analogy(tokenizer, embeddings, unit)
    assert passed(check.analogy_function(good, embeddings, tokenizer), capsys)
    keeps_inputs = make_analogy(tokenizer, embeddings, unit, exclude_inputs=False)
    assert failed(check.analogy_function(keeps_inputs, embeddings, tokenizer), capsys)
    no_validation = make_analogy(tokenizer, embeddings, unit, validate=False)
    assert failed(check.analogy_function(no_validation, embeddings, tokenizer), capsys)

    def stub(start, subtract, add, k=10):
        return None

    assert failed(check.analogy_function(stub, embeddings, tokenizer), capsys)
    assert blank(check.analogy_function(..., embeddings, tokenizer), capsys)
