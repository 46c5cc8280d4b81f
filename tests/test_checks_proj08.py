"""Project 8's checks pass on the solution's values, fail on wrong ones and spot blanks."""

from __future__ import annotations

import os

os.environ["ML4LLM_PROFILE"] = "offline"
os.environ["HF_HUB_OFFLINE"] = "1"

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ml4llm.checks import proj08 as check
from ml4llm.models import free, input_embeddings, load_model, load_tokenizer

STRIDE = 40  # about 760 BERT rows: the same code as the notebook, small enough for a test
BLOCK = 200


@pytest.fixture(scope="module")
def bert():
    model = load_model("bert-base-uncased")
    emb = input_embeddings(model)
    del model
    free()
    return emb, load_tokenizer("bert-base-uncased")


def upper_triangle_cosines(unit, block_size):
    """The solution's block loop (without the progress bar)."""
    n = unit.shape[0]
    values, diagonals = [], []
    for start in range(0, n, block_size):
        stop = min(start + block_size, n)
        block = (unit[start:stop] @ unit[start:].T).cpu().numpy()
        for r in range(stop - start):
            diagonals.append(block[r, r])
            values.append(block[r, r + 1 :])
    return np.concatenate(values), np.array(diagonals, dtype=np.float32)


def unused_solution(emb, tokenizer):
    strings = tokenizer.convert_ids_to_tokens(list(range(len(tokenizer))))
    is_unused = np.array([s.startswith("[unused") for s in strings])
    ids = np.flatnonzero(is_unused)
    unit = F.normalize(torch.from_numpy(emb[ids]), dim=1)
    return is_unused, ids, (unit @ unit.T).numpy()


def describe(emb, ids, cos):
    off = ~np.eye(len(ids), dtype=bool)
    pairs = cos[off]
    norms = np.linalg.norm(emb[ids], axis=1)
    return {
        "distinct cosines": len(np.unique(pairs)),
        "min off-diagonal": pairs.min(),
        "max off-diagonal": pairs.max(),
        "mean off-diagonal": pairs.mean(),
        "mean norm": norms.mean(),
        "sd of norms": norms.std(),
    }


def test_pair_cosine(bert, capsys):
    emb, _ = bert
    a, b = emb[4021], emb[5876]
    by_hand = np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b))
    with_torch = F.cosine_similarity(torch.from_numpy(a), torch.from_numpy(b), dim=0).item()
    assert check.pair_cosine(emb, 4021, 5876, by_hand, with_torch)
    assert "PASS pair_cosine" in capsys.readouterr().out
    assert not check.pair_cosine(emb, 4021, 5876, float(np.dot(a, b)), with_torch)
    assert "plain dot product" in capsys.readouterr().out
    assert not check.pair_cosine(emb, 4021, 5876, by_hand, with_torch + 0.1)
    assert "FAIL pair_cosine" in capsys.readouterr().out
    assert not check.pair_cosine(emb, 4021, 5876, by_hand, ...)
    assert "fill in the blank first" in capsys.readouterr().out


def test_all_pairs(bert, capsys):
    emb, _ = bert
    rows = emb[::STRIDE]
    unit = F.normalize(torch.from_numpy(rows), dim=1)
    values, diagonal = upper_triangle_cosines(unit, BLOCK)
    assert check.all_pairs(rows, values, diagonal)
    assert "PASS all_pairs" in capsys.readouterr().out

    # the diagonal collected with the pairs
    n = rows.shape[0]
    full = (unit @ unit.T).numpy()
    i, j = np.triu_indices(n, k=0)
    assert not check.all_pairs(rows, full[i, j], diagonal)
    assert "diagonal too" in capsys.readouterr().out
    # every entry of every block, not just the upper triangle
    assert not check.all_pairs(rows, full.ravel(), diagonal)
    assert "only the upper triangle" in capsys.readouterr().out
    # rows not normalised: the block diagonal is the squared norm, not 1
    raw = torch.from_numpy(rows)
    raw_values, raw_diagonal = upper_triangle_cosines(raw, BLOCK)
    assert not check.all_pairs(rows, raw_values, raw_diagonal)
    assert "normalise every row" in capsys.readouterr().out
    # right count, wrong order: the lower triangle row by row
    lower_i, lower_j = np.tril_indices(n, k=-1)
    assert not check.all_pairs(rows, full[lower_i, lower_j], diagonal)
    assert "np.triu_indices order" in capsys.readouterr().out
    # each block only against itself: too few pairs
    short, short_diag = [], []
    for start in range(0, n, BLOCK):
        block = full[start : start + BLOCK, start : start + BLOCK]
        bi, bj = np.triu_indices(block.shape[0], k=1)
        short.append(block[bi, bj])
        short_diag.append(np.diag(block))
    assert not check.all_pairs(rows, np.concatenate(short), np.concatenate(short_diag))
    assert "expected n(n-1)/2" in capsys.readouterr().out

    assert not check.all_pairs(rows, ..., diagonal)
    assert "fill in the blank first" in capsys.readouterr().out


def test_correlations(bert, capsys):
    emb, _ = bert
    rows = emb[::STRIDE]
    centred = rows - rows.mean(axis=1, keepdims=True)
    r, r_diag = upper_triangle_cosines(F.normalize(torch.from_numpy(centred), dim=1), BLOCK)
    assert check.correlations(rows, r, r_diag)
    assert "PASS correlations" in capsys.readouterr().out
    # the reference really is Pearson r
    i, j = 3, 17
    n = rows.shape[0]
    position = i * n - i * (i + 1) // 2 + (j - i - 1)
    assert abs(r[position] - np.corrcoef(rows[i], rows[j])[0, 1]) < 1e-5

    # forgot to centre: plain cosines
    cos, cos_diag = upper_triangle_cosines(F.normalize(torch.from_numpy(rows), dim=1), BLOCK)
    assert not check.correlations(rows, cos, cos_diag)
    assert "subtract each row's mean" in capsys.readouterr().out
    # centred over the wrong axis (each dimension's mean over tokens)
    wrong = rows - rows.mean(axis=0, keepdims=True)
    w, w_diag = upper_triangle_cosines(F.normalize(torch.from_numpy(wrong), dim=1), BLOCK)
    assert not check.correlations(rows, w, w_diag)
    assert "FAIL correlations" in capsys.readouterr().out
    assert not check.correlations(rows, r, ...)
    assert "fill in the blank first" in capsys.readouterr().out


def test_unused_tokens(bert, capsys):
    emb, tokenizer = bert
    is_unused, ids, cos = unused_solution(emb, tokenizer)
    assert check.unused_tokens(tokenizer, emb, is_unused, cos)
    out = capsys.readouterr().out
    assert "PASS unused_tokens" in out and "994" in out

    # one token too many: [UNK] flagged as well
    strings = tokenizer.convert_ids_to_tokens(list(range(len(tokenizer))))
    too_many = np.array([s.startswith("[unused") or s == "[UNK]" for s in strings])
    assert not check.unused_tokens(tokenizer, emb, too_many, cos)
    assert "995" in capsys.readouterr().out
    # the right number of flags shifted by one id
    shifted = np.roll(is_unused, 1)
    assert not check.unused_tokens(tokenizer, emb, shifted, cos)
    assert "not the right tokens" in capsys.readouterr().out
    # the submatrix of raw (unnormalised) rows
    raw = emb[ids] @ emb[ids].T
    assert not check.unused_tokens(tokenizer, emb, is_unused, raw)
    assert "normalise the unused rows" in capsys.readouterr().out
    assert not check.unused_tokens(tokenizer, emb, is_unused, ...)
    assert "fill in the blank first" in capsys.readouterr().out


def test_set_summary(bert, capsys):
    emb, tokenizer = bert
    _, ids, cos = unused_solution(emb, tokenizer)
    summary = describe(emb, ids, cos)
    assert check.set_summary(emb, ids, cos, summary)
    assert "PASS set_summary" in capsys.readouterr().out

    with_diagonal = dict(summary, **{"mean off-diagonal": cos.mean()})
    assert not check.set_summary(emb, ids, cos, with_diagonal)
    assert "leave out the diagonal" in capsys.readouterr().out
    unit_norms = dict(summary, **{"mean norm": 1.0})
    assert not check.set_summary(emb, ids, cos, unit_norms)
    assert "before normalising" in capsys.readouterr().out
    missing = {k: v for k, v in summary.items() if k != "sd of norms"}
    assert not check.set_summary(emb, ids, cos, missing)
    assert "lacks" in capsys.readouterr().out
    assert not check.set_summary(emb, ids, cos, dict(summary, **{"mean norm": ...}))
    assert "fill in the blank first" in capsys.readouterr().out


def test_row_means(bert, capsys):
    emb, _ = bert
    rows = emb[::STRIDE]
    assert check.row_means(rows, rows.mean(axis=1), np.abs(rows).mean(axis=1))
    assert "PASS row_means" in capsys.readouterr().out
    assert not check.row_means(rows, rows.mean(axis=0), np.abs(rows).mean(axis=1))
    assert "axis=1" in capsys.readouterr().out
    assert not check.row_means(rows, rows.mean(axis=1), np.abs(rows.mean(axis=1)))
    assert "absolute values" in capsys.readouterr().out
    assert not check.row_means(rows, ..., np.abs(rows).mean(axis=1))
    assert "fill in the blank first" in capsys.readouterr().out
