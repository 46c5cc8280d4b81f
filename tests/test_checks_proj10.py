"""Project 10's self-checks: each passes on the solution's value, fails on a wrong one, and asks
for the blank to be filled on `...`."""

from __future__ import annotations

import os

os.environ["ML4LLM_PROFILE"] = "offline"
os.environ["HF_HUB_OFFLINE"] = "1"

from collections import Counter

import numpy as np
import pytest

from ml4llm.checks import proj10 as check
from ml4llm.models import load_tokenizer
from ml4llm.tokens import encode

INTEGERS = np.arange(-1000, 1001)


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer("gpt2")


@pytest.fixture(scope="module")
def n_tokens(tokenizer):
    return np.array([len(encode(tokenizer, str(n))) for n in INTEGERS])


@pytest.fixture(scope="module")
def vectors():
    return np.random.default_rng(0).normal(size=(20, 16)).astype(np.float32)


def _cosines(x):
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    return unit @ unit.T


def test_exact_tokenizer_gives_the_books_counts(n_tokens):
    # The offline tokenizer is an exact copy of GPT-2's: the book's 820 / 1,000 / 181 hold.
    assert Counter(n_tokens.tolist()) == {1: 820, 2: 1000, 3: 181}


def test_token_counts(tokenizer, n_tokens, capsys):
    assert check.token_counts(INTEGERS, n_tokens, tokenizer)
    assert "PASS token_counts: 820 one-token, 1000 two-token, 181 three-token" in (
        capsys.readouterr().out
    )
    characters = np.array([len(str(n)) for n in INTEGERS])
    assert not check.token_counts(INTEGERS, characters, tokenizer)
    assert "FAIL token_counts: these are character counts" in capsys.readouterr().out
    spaced = np.array([len(encode(tokenizer, " " + str(n))) for n in INTEGERS])
    assert not check.token_counts(INTEGERS, spaced, tokenizer)
    assert "FAIL token_counts" in capsys.readouterr().out
    assert not check.token_counts(INTEGERS, ..., tokenizer)
    assert "fill in the blank first" in capsys.readouterr().out


def test_sign_mismatches(tokenizer, capsys):
    assert check.sign_mismatches(tokenizer, 1000, [])
    assert "PASS sign_mismatches: 0 mismatches" in capsys.readouterr().out
    assert not check.sign_mismatches(tokenizer, 1000, [5, 17])
    assert "FAIL sign_mismatches: expected 0 mismatches" in capsys.readouterr().out
    assert not check.sign_mismatches(tokenizer, 1000, ...)
    assert "fill in the blank first" in capsys.readouterr().out


def test_successive_cosines(vectors, capsys):
    digits = vectors[:11]
    solution = np.array([_cosines(digits)[k, k - 1] for k in range(1, 11)])
    assert check.successive_cosines(digits, solution)
    assert "PASS successive_cosines" in capsys.readouterr().out
    dots = np.array([digits[k] @ digits[k - 1] for k in range(1, 11)])
    assert not check.successive_cosines(digits, dots)
    assert "FAIL successive_cosines" in capsys.readouterr().out
    assert not check.successive_cosines(digits, solution[:-1])
    assert "FAIL successive_cosines: 11 digits give 10 successive pairs" in capsys.readouterr().out
    assert not check.successive_cosines(digits, np.roll(solution, 1))
    assert "FAIL successive_cosines" in capsys.readouterr().out
    assert not check.successive_cosines(digits, ...)
    assert "fill in the blank first" in capsys.readouterr().out


def test_cosine_matrix(vectors, capsys):
    assert check.cosine_matrix(vectors, _cosines(vectors))
    assert "PASS cosine_matrix: 20 x 20, symmetric, unit diagonal" in capsys.readouterr().out
    assert not check.cosine_matrix(vectors, vectors @ vectors.T)
    assert "FAIL cosine_matrix: the diagonal is not 1" in capsys.readouterr().out
    unit_columns = vectors / np.linalg.norm(vectors, axis=0, keepdims=True)
    assert not check.cosine_matrix(vectors, unit_columns @ unit_columns.T)
    assert "FAIL cosine_matrix" in capsys.readouterr().out
    assert not check.cosine_matrix(vectors, ...)
    assert "fill in the blank first" in capsys.readouterr().out


def test_token_id_table(tokenizer, capsys):
    encodings = [encode(tokenizer, str(n)) for n in INTEGERS]
    table = np.full((len(INTEGERS), 3), np.nan)
    for row, ids in enumerate(encodings):
        table[row, : len(ids)] = ids
    assert check.token_id_table(INTEGERS, table, tokenizer)
    assert "PASS token_id_table: 2001 rows x 3 token positions" in capsys.readouterr().out
    zero_filled = np.nan_to_num(table, nan=0.0)
    assert not check.token_id_table(INTEGERS, zero_filled, tokenizer)
    assert "FAIL token_id_table: the NaN cells are off" in capsys.readouterr().out
    right_aligned = np.full_like(table, np.nan)
    for row, ids in enumerate(encodings):
        right_aligned[row, 3 - len(ids) :] = ids
    assert not check.token_id_table(INTEGERS, right_aligned, tokenizer)
    assert "FAIL token_id_table" in capsys.readouterr().out
    assert not check.token_id_table(INTEGERS, ..., tokenizer)
    assert "fill in the blank first" in capsys.readouterr().out


def test_number_ids(tokenizer, capsys):
    strings = [str(d) for d in range(10)] + [str(t) for t in range(10, 101, 10)]
    solution = [encode(tokenizer, s)[0] for s in strings]
    assert check.number_ids(tokenizer, strings, solution)
    assert "PASS number_ids: 20 number strings, each a single token" in capsys.readouterr().out
    spaced = [encode(tokenizer, " " + s)[0] for s in strings]
    assert not check.number_ids(tokenizer, strings, spaced)
    assert "FAIL number_ids: '0': that is the id with a leading space" in capsys.readouterr().out
    assert not check.number_ids(tokenizer, strings, solution[:11])
    assert "FAIL number_ids: expected one id per number string" in capsys.readouterr().out
    assert not check.number_ids(tokenizer, strings, ...)
    assert "fill in the blank first" in capsys.readouterr().out
