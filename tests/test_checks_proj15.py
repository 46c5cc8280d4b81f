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
from ml4llm.tokens import encode, single_token_id

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
        rows.append({"word": word, "ids (no space)": bare, "ids (leading space)": spaced})
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
    assert blank(check.exploration(..., tokenizer, WORDS), capsys)


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
