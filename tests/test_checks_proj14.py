"""Every check of project 14 passes on the solution's values, fails on wrong ones and asks for blanks.

A seeded random matrix with one row per token of the offline RoBERTa tokenizer (and an all-zero
padding row, as in RoBERTa) stands in for the embedding matrix.
"""

import os

os.environ["ML4LLM_PROFILE"] = "offline"
os.environ["HF_HUB_OFFLINE"] = "1"

import numpy as np
import pytest

from ml4llm.checks import proj14 as check
from ml4llm.models import load_tokenizer
from ml4llm.tokens import single_token_id

N = 10


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer("roberta-base")


@pytest.fixture(scope="module")
def embeddings(tokenizer):
    rng = np.random.default_rng(0)
    matrix = rng.standard_normal((len(tokenizer), 16)).astype(np.float32)
    matrix *= rng.uniform(0.2, 2.0, size=(len(tokenizer), 1)).astype(np.float32)
    matrix[tokenizer.pad_token_id] = 0.0
    return matrix


def normalise_rows(matrix):
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms > 0, norms, 1.0)


def extremes(projections, n, excluded_ids):
    order = np.argsort(projections, kind="stable")
    order = order[~np.isin(order, list(excluded_ids))]
    return order[::-1][:n], order[:n]


def rank_on_axis(unit_matrix, tokenizer, positive, negative, n=10, exclude_special=True):
    excluded_ids = tokenizer.all_special_ids if exclude_special else []
    pos_id = single_token_id(tokenizer, positive)
    neg_id = single_token_id(tokenizer, negative)
    diff = unit_matrix[pos_id] - unit_matrix[neg_id]
    proj = unit_matrix @ (diff / np.linalg.norm(diff))
    high, low = extremes(proj, n, excluded_ids)
    return proj, high, low


@pytest.fixture(scope="module")
def solution(tokenizer, embeddings):
    unit = normalise_rows(embeddings)
    pos = single_token_id(tokenizer, "future")
    neg = single_token_id(tokenizer, "past")
    diff = unit[pos] - unit[neg]
    axis = diff / np.linalg.norm(diff)
    raw = embeddings[pos] - embeddings[neg]
    raw_axis = raw / np.linalg.norm(raw)
    return unit, pos, neg, axis, raw_axis, unit @ axis


def passed(result, capsys):
    return bool(result) and capsys.readouterr().out.startswith("PASS")


def failed(result, capsys):
    return not result and capsys.readouterr().out.startswith("FAIL")


def blank(result, capsys):
    return not result and "fill in the blank first" in capsys.readouterr().out


def test_unit_rows(embeddings, solution, capsys):
    unit = solution[0]
    assert passed(check.unit_rows(embeddings, unit), capsys)
    # the padding row divided by 0 gives NaN
    with np.errstate(invalid="ignore", divide="ignore"):
        naive = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    assert failed(check.unit_rows(embeddings, naive), capsys)
    # normalised by the columns instead of the rows
    assert failed(
        check.unit_rows(embeddings, embeddings / np.linalg.norm(embeddings, axis=0)), capsys
    )
    assert blank(check.unit_rows(embeddings, ...), capsys)


def test_axis(embeddings, solution, capsys):
    _, pos, neg, axis, raw_axis, _ = solution
    assert passed(check.axis(embeddings, pos, neg, axis, raw_axis), capsys)
    assert failed(check.axis(embeddings, pos, neg, -axis, raw_axis), capsys)
    # the raw axis used for both (differs because the rows have different lengths)
    assert failed(check.axis(embeddings, pos, neg, raw_axis, raw_axis), capsys)
    # not normalised
    unit = solution[0]
    assert failed(check.axis(embeddings, pos, neg, unit[pos] - unit[neg], raw_axis), capsys)
    assert blank(check.axis(embeddings, pos, neg, axis, ...), capsys)


def test_projections(solution, capsys):
    unit, pos, neg, axis, _, proj = solution
    assert passed(check.projections(unit, axis, proj, pos, neg), capsys)
    # projected onto the wrong direction: the signs flip
    assert failed(check.projections(unit, -axis, -proj, pos, neg), capsys)
    # raw (unnormalised) difference as the axis: values outside [-1, 1] or off
    raw_diff = unit[pos] - unit[neg]
    assert failed(check.projections(unit, axis, unit @ (raw_diff * 5), pos, neg), capsys)
    assert blank(check.projections(unit, axis, ..., pos, neg), capsys)


def test_extremes(tokenizer, solution, capsys):
    unit, _, _, axis, _, proj = solution
    excluded = sorted(tokenizer.all_special_ids)
    high, low = extremes(proj, N, excluded)
    assert passed(check.extremes(unit, axis, high, low, excluded, N), capsys)
    # ends swapped
    assert failed(check.extremes(unit, axis, low, high, excluded, N), capsys)
    # special tokens not excluded: the padding row (projection 0) is no problem, so put one in
    with_special = np.array([tokenizer.mask_token_id, *high[:-1]])
    assert failed(check.extremes(unit, axis, with_special, low, excluded, N), capsys)
    assert blank(check.extremes(unit, axis, ..., low, excluded, N), capsys)


def test_rank_function(tokenizer, solution, capsys):
    unit = solution[0]
    assert passed(check.rank_function(rank_on_axis, unit, tokenizer, ("good", "evil")), capsys)

    def swapped(unit_matrix, tok, positive, negative, n=10, exclude_special=True):
        return rank_on_axis(unit_matrix, tok, negative, positive, n, exclude_special)

    assert failed(check.rank_function(swapped, unit, tokenizer, ("good", "evil")), capsys)

    def first_piece(unit_matrix, tok, positive, negative, n=10, exclude_special=True):
        # silently takes the first piece of a word that splits
        pos_id = tok(" " + positive, add_special_tokens=False)["input_ids"][0]
        neg_id = single_token_id(tok, negative)
        diff = unit_matrix[pos_id] - unit_matrix[neg_id]
        proj = unit_matrix @ (diff / np.linalg.norm(diff))
        high, low = extremes(proj, n, tok.all_special_ids)
        return proj, high, low

    assert failed(check.rank_function(first_piece, unit, tokenizer, ("good", "evil")), capsys)

    def stub(unit_matrix, tok, positive, negative, n=10, exclude_special=True):
        return ..., ..., ...

    assert failed(check.rank_function(stub, unit, tokenizer, ("good", "evil")), capsys)
    assert blank(check.rank_function(..., unit, tokenizer, ("good", "evil")), capsys)
