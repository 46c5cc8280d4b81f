"""Every check of project 14 passes on the solution's values, fails on wrong ones and asks for blanks.

A seeded random matrix with one row per token of the offline RoBERTa tokenizer (and an all-zero
padding row, as in RoBERTa) stands in for the embedding matrix.
"""

import os

os.environ["ML4LLM_PROFILE"] = "offline"
os.environ["HF_HUB_OFFLINE"] = "1"

import numpy as np
import pandas as pd
import pytest

from ml4llm.checks import proj14 as check
from ml4llm.models import load_tokenizer
from ml4llm.tokens import decode_token, single_token_id, visible

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


def test_unit_rows_norms(tokenizer, embeddings, solution, capsys):
    unit = solution[0]
    norms = np.linalg.norm(embeddings, axis=1)
    zero_rows = np.flatnonzero(norms == 0)
    assert list(zero_rows) == [tokenizer.pad_token_id]
    after = np.linalg.norm(unit, axis=1)
    assert passed(check.unit_rows(embeddings, unit, norms, zero_rows, after), capsys)
    assert not check.unit_rows(embeddings, unit, norms**2, zero_rows, after)
    assert "FAIL unit_rows: norms should hold the L2 norm of every row" in capsys.readouterr().out
    assert not check.unit_rows(embeddings, unit, norms, np.array([], dtype=int), after)
    assert "FAIL unit_rows: zero_rows should list the ids" in capsys.readouterr().out
    assert not check.unit_rows(embeddings, unit, norms, zero_rows, norms)
    assert "FAIL unit_rows: unit_norms should be the row norms" in capsys.readouterr().out
    assert blank(check.unit_rows(embeddings, unit, norms, zero_rows, ...), capsys)


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


def test_axis_lengths(embeddings, solution, capsys):
    _, pos, neg, axis, raw_axis, _ = solution
    pos_norm = np.linalg.norm(embeddings[pos])
    neg_norm = np.linalg.norm(embeddings[neg])
    diff_norm = np.linalg.norm(embeddings[pos] - embeddings[neg])
    cos = axis @ raw_axis
    assert passed(
        check.axis_lengths(embeddings, pos, neg, pos_norm, neg_norm, diff_norm, cos), capsys
    )
    assert not check.axis_lengths(embeddings, pos, neg, neg_norm, pos_norm, diff_norm, cos)
    assert "FAIL axis_lengths: positive_norm should be" in capsys.readouterr().out
    assert not check.axis_lengths(embeddings, pos, neg, pos_norm, neg_norm, 1.0, cos)
    assert "FAIL axis_lengths: raw_difference_norm should be" in capsys.readouterr().out
    assert not check.axis_lengths(embeddings, pos, neg, pos_norm, neg_norm, diff_norm, 1.0)
    assert "FAIL axis_lengths: axes_cosine should be" in capsys.readouterr().out
    assert blank(check.axis_lengths(embeddings, pos, neg, ..., ..., ..., ...), capsys)


def test_projections(solution, capsys):
    unit, pos, neg, axis, _, proj = solution
    assert passed(check.projections(unit, axis, proj, pos, neg), capsys)
    # projected onto the wrong direction: the signs flip
    assert failed(check.projections(unit, -axis, -proj, pos, neg), capsys)
    # raw (unnormalised) difference as the axis: values outside [-1, 1] or off
    raw_diff = unit[pos] - unit[neg]
    assert failed(check.projections(unit, axis, unit @ (raw_diff * 5), pos, neg), capsys)
    assert blank(check.projections(unit, axis, ..., pos, neg), capsys)


def test_projections_pole_value(solution, capsys):
    unit, pos, neg, axis, _, proj = solution
    diff = unit[pos] - unit[neg]
    pole = (1 - unit[pos] @ unit[neg]) / np.linalg.norm(diff)
    assert passed(check.projections(unit, axis, proj, pos, neg, pole), capsys)
    # forgot to divide by |f - p|
    assert not check.projections(unit, axis, proj, pos, neg, 1 - unit[pos] @ unit[neg])
    assert "FAIL projections: pole_value should be (1 - cos(f, p)) / |f - p|" in (
        capsys.readouterr().out
    )
    assert blank(check.projections(unit, axis, proj, pos, neg, ...), capsys)


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


def _table(tok, projections, highest, lowest, labels=("high", "low")):
    return pd.DataFrame(
        {
            f"{labels[0]} end": [visible(decode_token(tok, i)) for i in highest],
            f"proj ({labels[0]})": projections[highest].round(3),
            f"{labels[1]} end": [visible(decode_token(tok, i)) for i in lowest],
            f"proj ({labels[1]})": projections[lowest].round(3),
        }
    )


def test_extremes_table(tokenizer, solution, capsys):
    proj = solution[-1]
    high, low = extremes(proj, N, tokenizer.all_special_ids)
    assert passed(check.extremes_table(_table, tokenizer, proj, high, low), capsys)

    def plain(tok, projections, highest, lowest, labels=("high", "low")):
        table = _table(tok, projections, highest, lowest, labels)
        table.iloc[:, 0] = [decode_token(tok, i) for i in highest]
        return table

    assert not check.extremes_table(plain, tokenizer, proj, high, low)
    assert "FAIL extremes_table: column 1: wrap each decoded token in visible" in (
        capsys.readouterr().out
    )

    def swapped(tok, projections, highest, lowest, labels=("high", "low")):
        return _table(tok, projections, lowest, highest, labels)

    assert not check.extremes_table(swapped, tokenizer, proj, high, low)
    assert "FAIL extremes_table: column 1 should hold the decoded high-end tokens" in (
        capsys.readouterr().out
    )

    def two_columns(tok, projections, highest, lowest, labels=("high", "low")):
        return _table(tok, projections, highest, lowest, labels).iloc[:, :2]

    assert not check.extremes_table(two_columns, tokenizer, proj, high, low)
    assert "FAIL extremes_table: expected 10 rows and 4 columns" in capsys.readouterr().out

    def stub(tok, projections, highest, lowest, labels=("high", "low")): ...

    assert not check.extremes_table(stub, tokenizer, proj, high, low)
    assert "FAIL extremes_table: extremes_table returns None" in capsys.readouterr().out
    assert blank(check.extremes_table(_table, tokenizer, proj, ..., ...), capsys)


PAIRS = [("good", "evil"), ("big", "small")]


def test_axis_ends(tokenizer, embeddings, solution, capsys):
    unit = solution[0]
    results = {pair: rank_on_axis(unit, tokenizer, *pair, N) for pair in PAIRS}
    assert passed(check.axis_ends(results, embeddings, tokenizer, PAIRS, N), capsys)
    swapped = {pair: rank_on_axis(unit, tokenizer, pair[1], pair[0], N) for pair in PAIRS}
    assert not check.axis_ends(swapped, embeddings, tokenizer, PAIRS, N)
    assert "FAIL axis_ends: ('good', 'evil'): the projections are off" in capsys.readouterr().out
    ends_only = {pair: rank_on_axis(unit, tokenizer, *pair, N)[1:] for pair in PAIRS}
    assert not check.axis_ends(ends_only, embeddings, tokenizer, PAIRS, N)
    assert "store the three values rank_on_axis returns" in capsys.readouterr().out
    by_word = {pair[0]: rank_on_axis(unit, tokenizer, *pair, N) for pair in PAIRS}
    assert not check.axis_ends(by_word, embeddings, tokenizer, PAIRS, N)
    assert "FAIL axis_ends: no result for the pair ('good', 'evil')" in capsys.readouterr().out
    assert not check.axis_ends(results, embeddings, tokenizer, PAIRS, 5)
    assert "FAIL axis_ends: give 5 ids for each end" in capsys.readouterr().out
    assert not check.axis_ends({}, embeddings, tokenizer, PAIRS, N)
    assert "FAIL axis_ends: still empty" in capsys.readouterr().out
    assert blank(
        check.axis_ends({PAIRS[0]: (..., ..., ...)}, embeddings, tokenizer, PAIRS, N), capsys
    )


def test_shared_words(tokenizer, capsys):
    bert = load_tokenizer("bert-base-uncased")
    capsys.readouterr()  # the loader's message
    high = [single_token_id(tokenizer, w) for w in ["future", "next", "soon"]]
    high2 = [single_token_id(bert, w) for w in ["soon", "future", "later"]]
    low = [single_token_id(tokenizer, w) for w in ["past", "ago"]]
    low2 = [single_token_id(bert, w) for w in ["former"]]
    assert passed(
        check.shared_words(tokenizer, bert, high, high2, low, low2, ["future", "soon"], []), capsys
    )
    assert not check.shared_words(tokenizer, bert, high, high2, low, low2, {"future", "soon"}, [])
    assert "FAIL shared_words: shared_high: sort the set into a list" in capsys.readouterr().out
    # compared without stripping, RoBERTa's leading space would make every word differ
    assert not check.shared_words(tokenizer, bert, high, high2, low, low2, [], [])
    assert "FAIL shared_words: shared_high should be the sorted words in both lists (2" in (
        capsys.readouterr().out
    )
    assert blank(check.shared_words(tokenizer, bert, high, high2, low, low2, ..., ...), capsys)


def test_projection_spread(capsys):
    rng = np.random.default_rng(4)
    projections = [rng.normal(0, 0.05, 500), rng.normal(0, 0.1, 300)]
    widths = [768, 384]
    sds = [p.std() for p in projections]
    random_sds = [1 / np.sqrt(w) for w in widths]
    assert passed(check.projection_spread(projections, widths, sds, random_sds), capsys)
    assert not check.projection_spread(
        projections, widths, [p.var() for p in projections], random_sds
    )
    assert "FAIL projection_spread: model 1: the standard deviation" in capsys.readouterr().out
    assert not check.projection_spread(projections, widths, sds, [1 / w for w in widths])
    assert "FAIL projection_spread: model 1: 1 / sqrt(768)" in capsys.readouterr().out
    assert not check.projection_spread(projections, widths, sds[:1], random_sds)
    assert "FAIL projection_spread: give one value per model (2)" in capsys.readouterr().out
    assert blank(check.projection_spread([..., ...], widths, sds, random_sds), capsys)


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
