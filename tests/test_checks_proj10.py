"""Project 10's self-checks: each passes on the solution's value, fails on a wrong one, and asks
for the blank to be filled on `...`."""

from __future__ import annotations

import os

os.environ["ML4LLM_PROFILE"] = "offline"
os.environ["HF_HUB_OFFLINE"] = "1"

from collections import Counter

import numpy as np
import pandas as pd
import pytest

from ml4llm.checks import proj10 as check
from ml4llm.models import load_tokenizer
from ml4llm.tokens import encode

INTEGERS = np.arange(-1000, 1001)
STRINGS = [str(d) for d in range(10)] + [str(t) for t in range(10, 101, 10)]


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
    minus = encode(tokenizer, "-")
    assert check.sign_mismatches(tokenizer, 1000, minus, [])
    assert "PASS sign_mismatches: 0 mismatches" in capsys.readouterr().out
    assert not check.sign_mismatches(tokenizer, 1000, minus, [5, 17])
    assert "FAIL sign_mismatches: expected 0 mismatches" in capsys.readouterr().out
    assert not check.sign_mismatches(tokenizer, 1000, encode(tokenizer, " -"), [])
    assert "FAIL sign_mismatches: minus_ids should be the ids of '-' alone" in (
        capsys.readouterr().out
    )
    assert not check.sign_mismatches(tokenizer, 1000, minus, ...)
    assert "fill in the blank first" in capsys.readouterr().out
    assert not check.sign_mismatches(tokenizer, 1000, ..., ...)
    assert "fill in the blank first" in capsys.readouterr().out


def test_count_tally(tokenizer, n_tokens, capsys):
    tally = pd.Series(n_tokens).value_counts().sort_index()
    assert check.count_tally(INTEGERS, tally, tokenizer)
    assert "PASS count_tally: 820 one-token, 1000 two-token, 181 three-token" in (
        capsys.readouterr().out
    )
    assert check.count_tally(INTEGERS, dict(Counter(n_tokens.tolist())), tokenizer)
    assert "PASS count_tally" in capsys.readouterr().out
    # value_counts of the integers instead of their token counts
    assert not check.count_tally(INTEGERS, pd.Series(INTEGERS).value_counts(), tokenizer)
    assert "FAIL count_tally" in capsys.readouterr().out
    # only the positive integers counted
    half = pd.Series(n_tokens[INTEGERS > 0]).value_counts()
    assert not check.count_tally(INTEGERS, half, tokenizer)
    assert "FAIL count_tally: the tally adds up to 1000 integers, not 2001" in (
        capsys.readouterr().out
    )
    assert not check.count_tally(INTEGERS, n_tokens, tokenizer)
    assert "FAIL count_tally: tally should map each token count" in capsys.readouterr().out
    assert not check.count_tally(INTEGERS, pd.Series(dtype=int), tokenizer)
    assert "still empty" in capsys.readouterr().out
    assert not check.count_tally(INTEGERS, ..., tokenizer)
    assert "fill in the blank first" in capsys.readouterr().out


def test_jittered_counts(tokenizer, n_tokens, capsys):
    rng = np.random.default_rng(10)
    jittered = n_tokens + rng.uniform(-0.15, 0.15, size=len(n_tokens))
    assert check.jittered_counts(INTEGERS, jittered, 0.15, tokenizer)
    assert "PASS jittered_counts: 2001 jittered counts" in capsys.readouterr().out
    # no jitter at all, or one offset for every point
    assert not check.jittered_counts(INTEGERS, n_tokens.astype(float), 0.15, tokenizer)
    assert "FAIL jittered_counts: the points are not spread" in capsys.readouterr().out
    assert not check.jittered_counts(INTEGERS, n_tokens + 0.1, 0.15, tokenizer)
    assert "FAIL jittered_counts: the points are not spread" in capsys.readouterr().out
    # offsets from a standard normal: far beyond the jitter
    assert not check.jittered_counts(
        INTEGERS, n_tokens + rng.normal(size=len(n_tokens)), 0.15, tokenizer
    )
    assert "more than jitter = 0.15 away" in capsys.readouterr().out
    assert not check.jittered_counts(INTEGERS, jittered[:100], 0.15, tokenizer)
    assert "FAIL jittered_counts: expected one y value per integer" in capsys.readouterr().out
    assert not check.jittered_counts(INTEGERS, ..., 0.15, tokenizer)
    assert "fill in the blank first" in capsys.readouterr().out


def test_spelling_ids(tokenizer, capsys):
    spellings = ["42", " 42", "-42", " -42"]
    solution = [encode(tokenizer, text) for text in spellings]
    assert check.spelling_ids(tokenizer, spellings, solution)
    assert "PASS spelling_ids: 4 spellings" in capsys.readouterr().out
    stripped = [encode(tokenizer, text.strip()) for text in spellings]
    assert not check.spelling_ids(tokenizer, spellings, stripped)
    assert "keep the leading space" in capsys.readouterr().out
    with_specials = [tokenizer(text)["input_ids"] + [tokenizer.eos_token_id] for text in spellings]
    assert not check.spelling_ids(tokenizer, spellings, with_specials)
    assert "FAIL spelling_ids: '42' should give" in capsys.readouterr().out
    assert not check.spelling_ids(tokenizer, spellings, solution[:2])
    assert "FAIL spelling_ids: expected one list of ids per spelling" in capsys.readouterr().out
    assert not check.spelling_ids(tokenizer, spellings, ...)
    assert "fill in the blank first" in capsys.readouterr().out


def test_number_vectors(tokenizer, capsys):
    strings = [str(d) for d in range(10)] + [str(t) for t in range(10, 101, 10)]
    embeddings = np.random.default_rng(1).normal(size=(len(tokenizer), 8)).astype(np.float32)
    ids = [encode(tokenizer, s)[0] for s in strings]
    assert check.number_vectors(embeddings, tokenizer, strings, embeddings[ids])
    assert "PASS number_vectors: 20 rows of width 8" in capsys.readouterr().out
    spaced = [encode(tokenizer, " " + s)[0] for s in strings]
    assert not check.number_vectors(embeddings, tokenizer, strings, embeddings[spaced])
    assert "FAIL number_vectors: the rows are not the number tokens' rows" in (
        capsys.readouterr().out
    )
    assert not check.number_vectors(embeddings, tokenizer, strings, embeddings[ids[:11]])
    assert (
        "FAIL number_vectors: expected 20 rows of width 8 (one per number string)"
        in capsys.readouterr().out
    )
    assert not check.number_vectors(embeddings, tokenizer, strings, ...)
    assert "fill in the blank first" in capsys.readouterr().out


def test_successive_cosines(vectors, capsys):
    digits = vectors[:11]
    solution = np.array([_cosines(digits)[k, k - 1] for k in range(1, 11)])
    assert check.successive_cosines(vectors, STRINGS, solution)
    assert "PASS successive_cosines" in capsys.readouterr().out
    dots = np.array([digits[k] @ digits[k - 1] for k in range(1, 11)])
    assert not check.successive_cosines(vectors, STRINGS, dots)
    assert "FAIL successive_cosines" in capsys.readouterr().out
    assert not check.successive_cosines(vectors, STRINGS, solution[:-1])
    assert "FAIL successive_cosines: 11 digits give 10 successive pairs" in capsys.readouterr().out
    assert not check.successive_cosines(vectors, STRINGS, np.roll(solution, 1))
    assert "FAIL successive_cosines" in capsys.readouterr().out
    assert not check.successive_cosines(vectors, STRINGS, ...)
    assert "fill in the blank first" in capsys.readouterr().out
    assert not check.successive_cosines(..., STRINGS, solution)
    assert "fill in the blank first" in capsys.readouterr().out


def test_pair_labels(capsys):
    labels = [f"{STRINGS[k - 1]}–{STRINGS[k]}" for k in range(1, 11)]
    assert check.pair_labels(STRINGS, labels)
    assert "PASS pair_labels: 10 labels, '0–1' … '9–10'" in capsys.readouterr().out
    assert check.pair_labels(STRINGS, [label.replace("–", "-") for label in labels])
    assert "PASS pair_labels" in capsys.readouterr().out
    # current-previous instead of previous-current
    reversed_labels = [f"{STRINGS[k]}–{STRINGS[k - 1]}" for k in range(1, 11)]
    assert not check.pair_labels(STRINGS, reversed_labels)
    assert "FAIL pair_labels: label 1 is '1–0'" in capsys.readouterr().out
    assert not check.pair_labels(STRINGS, STRINGS[1:11] + ["x"])
    assert "FAIL pair_labels: 11 digits give 10 pairs" in capsys.readouterr().out
    assert not check.pair_labels(STRINGS, ...)
    assert "fill in the blank first" in capsys.readouterr().out


def test_group_blocks(vectors, capsys):
    full = _cosines(vectors)
    off = ~np.eye(10, dtype=bool)
    digit_block, tens_block, across = full[:10, :10][off], full[10:, 10:][off], full[:10, 10:]
    assert check.group_blocks(vectors, digit_block, tens_block, across)
    assert "PASS group_blocks: mean cosine" in capsys.readouterr().out
    assert not check.group_blocks(vectors, full[:10, :10], tens_block, across)
    assert "holds the diagonal too" in capsys.readouterr().out
    assert not check.group_blocks(vectors, digit_block, full[:10, :10][off], across)
    assert "FAIL group_blocks: the mean of tens_block" in capsys.readouterr().out
    assert not check.group_blocks(vectors, digit_block, tens_block, np.array([]))
    assert "across_block is still empty" in capsys.readouterr().out
    assert not check.group_blocks(vectors, digit_block, tens_block, ...)
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
