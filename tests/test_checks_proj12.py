"""Project 12's self-checks: each passes on the solution's value, fails on a wrong one, and asks
for the blank to be filled on `...`."""

from __future__ import annotations

import os

os.environ["ML4LLM_PROFILE"] = "offline"
os.environ["HF_HUB_OFFLINE"] = "1"

import numpy as np
import pytest
from scipy import stats

from ml4llm.checks import proj12 as check
from ml4llm.models import load_tokenizer
from ml4llm.tokens import decode_token, encode

WORDS = [
    "planet", "moon", "comet", "galaxy", "asteroid", "universe",
    "chair", "sofa", "desk", "shelf", "couch", "wardrobe",
    "apple", "banana", "cherry", "grape", "lemon", "peach",
]  # fmt: skip
CATEGORIES = ["space"] * 6 + ["furniture"] * 6 + ["fruit"] * 6
MODELS = ["bert-base-uncased", "gpt2", "gpt2-medium"]


@pytest.fixture(scope="module")
def tokenizers():
    return load_tokenizer("bert-base-uncased"), load_tokenizer("gpt2")


@pytest.fixture(scope="module")
def vectors():
    rng = np.random.default_rng(3)
    widths = {"bert-base-uncased": 48, "gpt2": 16, "gpt2-medium": 24}
    # the first model gets category structure, the others are random
    out = {m: rng.normal(size=(18, w)).astype(np.float32) for m, w in widths.items()}
    centres = rng.normal(size=(3, 48))
    out["bert-base-uncased"] += np.repeat(centres, 6, axis=0).astype(np.float32)
    return out


def _cosines(x):
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    return unit @ unit.T


def _upper(m):
    return m[np.triu_indices(len(m), k=1)]


def _rsa(a, b):
    return stats.pearsonr(_upper(a), _upper(b))[0]


def test_the_notebooks_words_are_single_tokens_in_both_models(tokenizers, capsys):
    bert, gpt2 = tokenizers
    bert_ids = [encode(bert, w)[0] for w in WORDS]
    gpt2_ids = [encode(gpt2, " " + w)[0] for w in WORDS]
    assert check.word_ids(WORDS, bert, gpt2, bert_ids, gpt2_ids)
    assert "PASS word_ids: 18 words, each a single token" in capsys.readouterr().out


def test_word_ids_fails(tokenizers, capsys):
    bert, gpt2 = tokenizers
    bert_ids = [encode(bert, w)[0] for w in WORDS]
    gpt2_ids = [encode(gpt2, " " + w)[0] for w in WORDS]
    bare = [encode(gpt2, w)[0] for w in WORDS]  # first piece of the word without its space
    assert not check.word_ids(WORDS, bert, gpt2, bert_ids, bare)
    assert "FAIL word_ids: 'planet': that is the id without the leading space" in (
        capsys.readouterr().out
    )
    split = [*WORDS[:-1], "kumquat"]  # not one token
    assert not check.word_ids(split, bert, gpt2, bert_ids, gpt2_ids)
    assert "FAIL word_ids: replace 'kumquat'" in capsys.readouterr().out
    assert not check.word_ids(WORDS, bert, gpt2, bert_ids, ...)
    assert "fill in the blank first" in capsys.readouterr().out


def _counts(tokenizers):
    bert, gpt2 = tokenizers
    return (
        [len(encode(bert, w)) for w in WORDS],
        [len(encode(gpt2, w)) for w in WORDS],
        [len(encode(gpt2, " " + w)) for w in WORDS],
        [[decode_token(gpt2, i) for i in encode(gpt2, w)] for w in WORDS],
    )


def test_token_counts(tokenizers, capsys):
    bert, gpt2 = tokenizers
    bert_counts, bare, space, pieces = _counts(tokenizers)
    assert check.token_counts(WORDS, bert, gpt2, bert_counts, bare, space, pieces)
    assert "PASS token_counts:" in capsys.readouterr().out
    assert max(bare) > 1  # some words split without the space: the hint below can trigger
    assert not check.token_counts(WORDS, bert, gpt2, bert_counts, bare, bare, pieces)
    assert "FAIL token_counts: gpt2_space_counts equals the counts without a space" in (
        capsys.readouterr().out
    )
    assert not check.token_counts(WORDS, bert, gpt2, bert_counts, space, space, pieces)
    assert "FAIL token_counts: gpt2_bare_counts" in capsys.readouterr().out
    joined = ["|".join(p) for p in pieces]
    assert not check.token_counts(WORDS, bert, gpt2, bert_counts, bare, space, joined)
    assert "not one string" in capsys.readouterr().out
    assert not check.token_counts(WORDS, bert, gpt2, bert_counts[:-1], bare, space, pieces)
    assert "FAIL token_counts: bert_counts: expected one entry per word" in capsys.readouterr().out
    assert not check.token_counts(WORDS, bert, gpt2, ..., ..., ..., ...)
    assert "fill in the blank first" in capsys.readouterr().out


def test_per_word_r(vectors, capsys):
    a, b = vectors["bert-base-uncased"], vectors["gpt2"]
    n = min(a.shape[1], b.shape[1])
    solution = [stats.pearsonr(a[i, :n], b[i, :n])[0] for i in range(18)]
    assert check.per_word_r(vectors, "bert-base-uncased", "gpt2", solution)
    assert "PASS per_word_r: 18 correlations" in capsys.readouterr().out
    cosines = [_cosines(np.stack([a[i, :n], b[i, :n]]))[0, 1] for i in range(18)]
    assert not check.per_word_r(vectors, "bert-base-uncased", "gpt2", cosines)
    assert "FAIL per_word_r: these are cosines" in capsys.readouterr().out
    assert not check.per_word_r(vectors, "bert-base-uncased", "gpt2", solution[::-1])
    assert "FAIL per_word_r" in capsys.readouterr().out
    assert not check.per_word_r(vectors, "bert-base-uncased", "gpt2", np.zeros(18))
    assert "FAIL per_word_r: still all zero" in capsys.readouterr().out
    assert not check.per_word_r({}, "bert-base-uncased", "gpt2", solution)
    assert "run the cell of Part 1 that loads the models" in capsys.readouterr().out
    assert not check.per_word_r({}, "bert-base-uncased", "gpt2", ...)
    assert "fill in the blank first" in capsys.readouterr().out


def test_example_pair(vectors, capsys):
    a, b = vectors["bert-base-uncased"], vectors["gpt2"]
    n = min(a.shape[1], b.shape[1])
    ids = ("bert-base-uncased", "gpt2")
    assert check.example_pair(vectors, *ids, a[0, :n], b[0, :n])
    assert f"PASS example_pair: {n} points" in capsys.readouterr().out
    assert not check.example_pair(vectors, *ids, b[0, :n], a[0, :n])
    assert "FAIL example_pair: x and y are swapped" in capsys.readouterr().out
    assert not check.example_pair(vectors, *ids, a[0], b[0])
    assert "FAIL example_pair: both arrays need the" in capsys.readouterr().out
    assert not check.example_pair(vectors, *ids, a[1, :n], b[0, :n])
    assert "FAIL example_pair: x should be row 0" in capsys.readouterr().out
    assert not check.example_pair(vectors, *ids, ..., ...)
    assert "fill in the blank first" in capsys.readouterr().out


def test_cosine_matrix(vectors, capsys):
    x = vectors["gpt2"]
    assert check.cosine_matrix(vectors, "gpt2", _cosines(x))
    assert "PASS cosine_matrix: 18 x 18, symmetric, unit diagonal" in capsys.readouterr().out
    assert not check.cosine_matrix(vectors, "gpt2", x @ x.T)
    assert "FAIL cosine_matrix: the diagonal is not 1" in capsys.readouterr().out
    assert not check.cosine_matrix(vectors, "gpt2", _cosines(vectors["gpt2-medium"]))
    assert "FAIL cosine_matrix: the entries differ" in capsys.readouterr().out
    assert not check.cosine_matrix(vectors, "gpt2", None)
    assert "FAIL cosine_matrix: got None" in capsys.readouterr().out
    assert not check.cosine_matrix(vectors, "gpt2", ...)
    assert "fill in the blank first" in capsys.readouterr().out


def test_upper_triangle(vectors, capsys):
    m = _cosines(vectors["gpt2"])
    assert check.upper_triangle(m, _upper(m))
    assert "PASS upper_triangle: 153 values above the diagonal" in capsys.readouterr().out
    assert not check.upper_triangle(m, m[np.triu_indices(18)])
    assert "FAIL upper_triangle: the diagonal is included" in capsys.readouterr().out
    assert not check.upper_triangle(m, m[np.tril_indices(18, k=-1)] + 0.5)
    assert "FAIL upper_triangle" in capsys.readouterr().out
    assert not check.upper_triangle(m, ...)
    assert "fill in the blank first" in capsys.readouterr().out


def test_rsa(vectors, capsys):
    a, b = vectors["bert-base-uncased"], vectors["gpt2"]
    ua, ub = _upper(_cosines(a)), _upper(_cosines(b))
    pearson, spearman = stats.pearsonr(ua, ub)[0], stats.spearmanr(ua, ub)[0]
    ids = ("bert-base-uncased", "gpt2")
    assert check.rsa(vectors, *ids, _rsa, pearson, spearman)
    assert "PASS rsa: rsa(M, M) = 1" in capsys.readouterr().out

    def whole(m1, m2):
        return stats.pearsonr(m1.ravel(), m2.ravel())[0]

    assert not check.rsa(vectors, *ids, whole, whole(_cosines(a), _cosines(b)), spearman)
    assert "FAIL rsa: this correlates the whole matrices" in capsys.readouterr().out
    assert not check.rsa(vectors, *ids, _rsa, pearson, pearson)
    assert "FAIL rsa: the Spearman RSA should be" in capsys.readouterr().out

    def blank(m1, m2):
        return None

    assert not check.rsa(vectors, *ids, blank, pearson, spearman)
    assert "FAIL rsa: rsa(...) returned None" in capsys.readouterr().out
    assert not check.rsa(vectors, *ids, _rsa, ..., spearman)
    assert "fill in the blank first" in capsys.readouterr().out


def test_permutation_test(vectors, capsys):
    ca, cb = _cosines(vectors["bert-base-uncased"]), _cosines(vectors["gpt2"])
    observed = _rsa(ca, cb)
    rng = np.random.default_rng(0)
    null = []
    for _ in range(200):
        order = rng.permutation(18)
        null.append(_rsa(ca, cb[order][:, order]))
    null = np.array(null)
    p = (np.sum(null >= observed) + 1) / (len(null) + 1)
    assert check.permutation_test(null, p, observed, 200)
    assert "PASS permutation_test: 200 shuffles" in capsys.readouterr().out
    assert not check.permutation_test(np.full(200, observed), p, observed, 200)
    assert "FAIL permutation_test: all null values are equal" in capsys.readouterr().out
    assert not check.permutation_test(null, 1 - p, observed, 200)
    assert "FAIL permutation_test: p should be the share" in capsys.readouterr().out
    assert not check.permutation_test(np.zeros(200), p, observed, 200)
    assert "FAIL permutation_test: the null is still all zero" in capsys.readouterr().out
    assert not check.permutation_test(null[:100], p, observed, 200)
    assert "FAIL permutation_test: expected one RSA per permutation" in capsys.readouterr().out
    assert not check.permutation_test(..., p, observed, 200)
    assert "fill in the blank first" in capsys.readouterr().out


def test_same_category_pairs(capsys):
    labels = np.array(CATEGORIES)
    solution = _upper(labels[:, None] == labels[None, :])
    assert check.same_category_pairs(CATEGORIES, solution)
    assert "PASS same_category_pairs: 45 of 153 pairs within a category" in capsys.readouterr().out
    rows, cols = np.tril_indices(18, k=-1)  # the lower triangle: same count, another order
    lower = (labels[:, None] == labels[None, :])[rows, cols]
    assert not check.same_category_pairs(CATEGORIES, lower)
    assert "FAIL same_category_pairs: the flags are not in the upper-triangle order" in (
        capsys.readouterr().out
    )
    full = (labels[:, None] == labels[None, :]).ravel()
    assert not check.same_category_pairs(CATEGORIES, full)
    assert "FAIL same_category_pairs: 18 words give 153 pairs" in capsys.readouterr().out
    assert not check.same_category_pairs(CATEGORIES, solution.astype(int))
    assert "FAIL same_category_pairs: give True/False flags" in capsys.readouterr().out
    assert not check.same_category_pairs(CATEGORIES, ...)
    assert "fill in the blank first" in capsys.readouterr().out


def _rsa_matrix(vectors):
    n = len(MODELS)
    out = np.ones((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            out[i, j] = out[j, i] = _rsa(_cosines(vectors[MODELS[i]]), _cosines(vectors[MODELS[j]]))
    return out


def test_rsa_matrix(vectors, capsys):
    solution = _rsa_matrix(vectors)
    assert check.rsa_matrix(MODELS, vectors, solution)
    assert "PASS rsa_matrix: 3 x 3, symmetric, unit diagonal" in capsys.readouterr().out
    upper_only = np.triu(solution)
    assert not check.rsa_matrix(MODELS, vectors, upper_only)
    assert "FAIL rsa_matrix: the RSA matrix is not symmetric" in capsys.readouterr().out
    assert not check.rsa_matrix(MODELS, vectors, np.ones((3, 3)))
    assert "FAIL rsa_matrix: every entry is still 1" in capsys.readouterr().out
    zero_diagonal = solution - np.eye(3)
    assert not check.rsa_matrix(MODELS, vectors, zero_diagonal)
    assert "FAIL rsa_matrix: the diagonal should be 1" in capsys.readouterr().out
    swapped = solution.copy()
    swapped[0, 1] = swapped[1, 0] = solution[0, 2]
    assert not check.rsa_matrix(MODELS, vectors, swapped)
    assert "FAIL rsa_matrix: entry (bert-base-uncased, gpt2)" in capsys.readouterr().out
    assert not check.rsa_matrix(MODELS, vectors, ...)
    assert "fill in the blank first" in capsys.readouterr().out


def test_category_scores(vectors, capsys):
    labels = np.array(CATEGORIES)
    same = labels[:, None] == labels[None, :]
    off = ~np.eye(18, dtype=bool)
    solution, with_diagonal = {}, {}
    for m in MODELS:
        c = _cosines(vectors[m])
        solution[m] = c[same & off].mean() - c[~same].mean()
        with_diagonal[m] = c[same].mean() - c[~same].mean()
    assert check.category_scores(MODELS, vectors, CATEGORIES, solution)
    assert "PASS category_scores: 3 scores" in capsys.readouterr().out
    assert solution["bert-base-uncased"] > 0.1  # the structured fixture scores clearly above 0
    assert not check.category_scores(MODELS, vectors, CATEGORIES, with_diagonal)
    assert "includes the diagonal's 1s" in capsys.readouterr().out
    assert not check.category_scores(MODELS, vectors, CATEGORIES, {MODELS[0]: 0.0})
    assert "FAIL category_scores: give one score per model id" in capsys.readouterr().out
    assert not check.category_scores(MODELS, vectors, CATEGORIES, {m: ... for m in MODELS})
    assert "fill in the blank first" in capsys.readouterr().out


def _family_pairs(vectors, matrix):
    families = {"bert-base-uncased": "bert", "gpt2": "gpt2", "gpt2-medium": "gpt2"}
    out = []
    for i in range(len(MODELS)):
        for j in range(i + 1, len(MODELS)):
            a, b = MODELS[i], MODELS[j]
            kind = "within family" if families[a] == families[b] else "across families"
            identical = np.array_equal(vectors[a], vectors[b])
            out.append((a, b, kind, identical, matrix[i, j]))
    return out


def test_family_pairs(vectors, capsys):
    solution = _family_pairs(vectors, _rsa_matrix(vectors))
    assert check.family_pairs(MODELS, vectors, solution)
    assert "PASS family_pairs: 3 pairs, 1 within a family" in capsys.readouterr().out
    wrong_kind = [(a, b, "within family", same, r) for a, b, _, same, r in solution]
    assert not check.family_pairs(MODELS, vectors, wrong_kind)
    assert "FAIL family_pairs: (bert-base-uncased, gpt2): the kind is 'across families'" in (
        capsys.readouterr().out
    )
    wrong_rsa = [(a, b, kind, same, 1.0) for a, b, kind, same, _ in solution]
    assert not check.family_pairs(MODELS, vectors, wrong_rsa)
    assert "FAIL family_pairs: (bert-base-uncased, gpt2): the RSA should be" in (
        capsys.readouterr().out
    )
    assert not check.family_pairs(MODELS, vectors, solution + solution[:1])
    assert "FAIL family_pairs: 3 models give 3 pairs" in capsys.readouterr().out
    assert not check.family_pairs(MODELS, vectors, [])
    assert "FAIL family_pairs: the list is still empty" in capsys.readouterr().out
    assert not check.family_pairs(MODELS, vectors, ...)
    assert "fill in the blank first" in capsys.readouterr().out
