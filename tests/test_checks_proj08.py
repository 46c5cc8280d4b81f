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
    assert check.all_pairs(emb, STRIDE, rows, values, diagonal)
    assert "PASS all_pairs" in capsys.readouterr().out

    # the diagonal collected with the pairs
    n = rows.shape[0]
    full = (unit @ unit.T).numpy()
    i, j = np.triu_indices(n, k=0)
    assert not check.all_pairs(emb, STRIDE, rows, full[i, j], diagonal)
    assert "diagonal too" in capsys.readouterr().out
    # every entry of every block, not just the upper triangle
    assert not check.all_pairs(emb, STRIDE, rows, full.ravel(), diagonal)
    assert "only the upper triangle" in capsys.readouterr().out
    # rows not normalised: the block diagonal is the squared norm, not 1
    raw = torch.from_numpy(rows)
    raw_values, raw_diagonal = upper_triangle_cosines(raw, BLOCK)
    assert not check.all_pairs(emb, STRIDE, rows, raw_values, raw_diagonal)
    assert "normalise every row" in capsys.readouterr().out
    # right count, wrong order: the lower triangle row by row
    lower_i, lower_j = np.tril_indices(n, k=-1)
    assert not check.all_pairs(emb, STRIDE, rows, full[lower_i, lower_j], diagonal)
    assert "np.triu_indices order" in capsys.readouterr().out
    # each block only against itself: too few pairs
    short, short_diag = [], []
    for start in range(0, n, BLOCK):
        block = full[start : start + BLOCK, start : start + BLOCK]
        bi, bj = np.triu_indices(block.shape[0], k=1)
        short.append(block[bi, bj])
        short_diag.append(np.diag(block))
    assert not check.all_pairs(emb, STRIDE, rows, np.concatenate(short), np.concatenate(short_diag))
    assert "expected n(n-1)/2" in capsys.readouterr().out

    assert not check.all_pairs(emb, STRIDE, rows, ..., diagonal)
    assert "fill in the blank first" in capsys.readouterr().out
    # the loop of the function not filled in yet: nothing collected
    assert not check.all_pairs(emb, STRIDE, rows, np.array([]), np.array([]))
    assert "still empty" in capsys.readouterr().out
    # every 40th row starting from row 1, or another stride
    assert not check.all_pairs(emb, STRIDE, emb[1::STRIDE], values, diagonal)
    assert "embeddings[::stride] starts at row 0" in capsys.readouterr().out
    assert not check.all_pairs(emb, STRIDE, emb[:: STRIDE + 1], values, diagonal)
    assert "the kept rows should have shape" in capsys.readouterr().out


def test_correlations(bert, capsys):
    emb, _ = bert
    rows = emb[::STRIDE]
    centred = rows - rows.mean(axis=1, keepdims=True)
    r, r_diag = upper_triangle_cosines(F.normalize(torch.from_numpy(centred), dim=1), BLOCK)
    assert check.correlations(emb, STRIDE, r, r_diag)
    assert "PASS correlations" in capsys.readouterr().out
    # the reference really is Pearson r
    i, j = 3, 17
    n = rows.shape[0]
    position = i * n - i * (i + 1) // 2 + (j - i - 1)
    assert abs(r[position] - np.corrcoef(rows[i], rows[j])[0, 1]) < 1e-5

    # forgot to centre: plain cosines
    cos, cos_diag = upper_triangle_cosines(F.normalize(torch.from_numpy(rows), dim=1), BLOCK)
    assert not check.correlations(emb, STRIDE, cos, cos_diag)
    assert "subtract each row's mean" in capsys.readouterr().out
    # centred over the wrong axis (each dimension's mean over tokens)
    wrong = rows - rows.mean(axis=0, keepdims=True)
    w, w_diag = upper_triangle_cosines(F.normalize(torch.from_numpy(wrong), dim=1), BLOCK)
    assert not check.correlations(emb, STRIDE, w, w_diag)
    assert "FAIL correlations" in capsys.readouterr().out
    assert not check.correlations(emb, STRIDE, r, ...)
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


def test_set_summaries(bert, capsys):
    emb, tokenizer = bert
    _, ids, cos = unused_solution(emb, tokenizer)
    other = np.arange(5000, 5000 + len(ids))
    unit = F.normalize(torch.from_numpy(emb[other]), dim=1)
    other_cos = (unit @ unit.T).numpy()
    sets = {"unused": (ids, cos), "ordinary": (other, other_cos)}
    description = {name: describe(emb, i, c) for name, (i, c) in sets.items()}
    assert check.set_summaries(emb, sets, description)
    out = capsys.readouterr().out
    assert "PASS set_summaries: unused: 994 tokens" in out and "ordinary: 994 tokens" in out

    summary = description["unused"]
    with_diagonal = dict(description, unused=dict(summary, **{"mean off-diagonal": cos.mean()}))
    assert not check.set_summaries(emb, sets, with_diagonal)
    out = capsys.readouterr().out
    assert "FAIL set_summaries: unused: 'mean off-diagonal'" in out
    assert "leave out the diagonal" in out
    unit_norms = dict(description, ordinary=dict(description["ordinary"], **{"mean norm": 1.0}))
    assert not check.set_summaries(emb, sets, unit_norms)
    assert "before normalising" in capsys.readouterr().out
    missing = dict(description, unused={k: v for k, v in summary.items() if k != "sd of norms"})
    assert not check.set_summaries(emb, sets, missing)
    assert "lacks" in capsys.readouterr().out
    assert not check.set_summaries(emb, sets, {"unused": summary})
    assert "no entry for 'ordinary'" in capsys.readouterr().out
    # the loop not filled in yet
    assert not check.set_summaries(emb, sets, {})
    assert "description is still empty" in capsys.readouterr().out
    assert not check.set_summaries(emb, {"unused": (ids, ...)}, description)
    assert "fill in the blank first" in capsys.readouterr().out


def test_row_means(bert, capsys):
    emb, _ = bert
    rows = emb[::STRIDE]
    assert check.row_means(emb, STRIDE, rows.mean(axis=1), np.abs(rows).mean(axis=1))
    assert "PASS row_means" in capsys.readouterr().out
    assert not check.row_means(emb, STRIDE, rows.mean(axis=0), np.abs(rows).mean(axis=1))
    assert "axis=1" in capsys.readouterr().out
    assert not check.row_means(emb, STRIDE, rows.mean(axis=1), np.abs(rows.mean(axis=1)))
    assert "absolute values" in capsys.readouterr().out
    assert not check.row_means(emb, STRIDE, ..., np.abs(rows).mean(axis=1))
    assert "fill in the blank first" in capsys.readouterr().out


def test_pair_vectors(bert, capsys):
    emb, _ = bert
    assert check.pair_vectors(emb, 4021, 5876, emb[4021], emb[5876])
    assert "PASS pair_vectors: ids 4021 and 5876" in capsys.readouterr().out
    assert not check.pair_vectors(emb, 21, 5876, emb[21], emb[5876])
    assert "between 3,000 and 6,000" in capsys.readouterr().out
    assert not check.pair_vectors(emb, 4021, 4021, emb[4021], emb[4021])
    assert "replace=False" in capsys.readouterr().out
    assert not check.pair_vectors(emb, 4021, 5876, emb[4021], emb[5877])
    assert "second_vec is not row 5876" in capsys.readouterr().out
    assert not check.pair_vectors(emb, ..., ..., emb[4021], emb[5876])
    assert "fill in the blank first" in capsys.readouterr().out


def test_cosine_image_and_histogram(bert, capsys):
    emb, _ = bert
    rows = emb[::STRIDE]
    unit = F.normalize(torch.from_numpy(rows), dim=1)
    step = max(1, unit.shape[0] // 200)
    few = unit[::step]
    image = (few @ few.T).numpy()
    assert check.cosine_image(emb, STRIDE, 200, image)
    assert f"PASS cosine_image: {image.shape[0]} x {image.shape[0]}" in capsys.readouterr().out
    raw = torch.from_numpy(rows)[::step]
    assert not check.cosine_image(emb, STRIDE, 200, (raw @ raw.T).numpy())
    assert "differs from the cosines" in capsys.readouterr().out
    assert not check.cosine_image(emb, STRIDE, 200, image[:, :10])
    assert "square matrix" in capsys.readouterr().out
    assert not check.cosine_image(emb, STRIDE, 200, ...)
    assert "fill in the blank first" in capsys.readouterr().out

    values, _ = upper_triangle_cosines(unit, BLOCK)
    edges = np.linspace(-1, 1, 201)
    counts, _ = np.histogram(values, bins=edges)
    shares = (np.mean(values > 0.5), np.mean(values < 0))
    assert check.histogram(values, edges, counts, *shares)
    assert f"PASS histogram: {values.size:,} pairs in 200 bins" in capsys.readouterr().out
    assert check.histogram(values, edges, counts)
    capsys.readouterr()
    density, _ = np.histogram(values, bins=edges, density=True)
    assert not check.histogram(values, edges, density, *shares)
    assert "these are densities" in capsys.readouterr().out
    assert not check.histogram(values, edges, np.zeros(200), *shares)
    assert "still all zero" in capsys.readouterr().out
    assert not check.histogram(values, edges, np.histogram(values, bins=200)[0], *shares)
    assert "bins=bin_edges" in capsys.readouterr().out
    assert not check.histogram(values, edges, counts, np.sum(values > 0.5), shares[1])
    assert "above_half is" in capsys.readouterr().out
    assert not check.histogram(values, edges, counts, shares[0], ...)
    assert "fill in the blank first" in capsys.readouterr().out


def test_random_spread(capsys):
    emb = np.zeros((10, 128), dtype=np.float32)
    assert check.random_spread(emb, 1 / np.sqrt(128))
    assert "PASS random_spread: 1/sqrt(128)" in capsys.readouterr().out
    assert not check.random_spread(emb, 1 / 128)
    assert "square root" in capsys.readouterr().out
    assert not check.random_spread(emb, 1 / np.sqrt(10))
    assert "the number of columns" in capsys.readouterr().out
    assert not check.random_spread(emb, ...)
    assert "fill in the blank first" in capsys.readouterr().out


def test_ordinary_sample_and_gap(bert, capsys):
    emb, tokenizer = bert
    is_unused, unused_ids, unused_cos = unused_solution(emb, tokenizer)
    special = set(tokenizer.all_special_ids)
    pool = np.array([i for i in range(len(tokenizer)) if not is_unused[i] and i not in special])
    ordinary = np.sort(np.random.default_rng(8).choice(pool, size=len(unused_ids), replace=False))
    assert check.ordinary_sample(tokenizer, ordinary)
    assert "PASS ordinary_sample: 994 distinct ordinary tokens" in capsys.readouterr().out
    assert not check.ordinary_sample(tokenizer, ordinary[::-1])
    assert "np.sort" in capsys.readouterr().out
    assert not check.ordinary_sample(tokenizer, np.arange(994))
    assert "[unused...] ones" in capsys.readouterr().out
    assert not check.ordinary_sample(tokenizer, ordinary[:100])
    assert "(994), not 100" in capsys.readouterr().out
    assert not check.ordinary_sample(tokenizer, ...)
    assert "fill in the blank first" in capsys.readouterr().out

    off = ~np.eye(len(unused_ids), dtype=bool)
    unit = F.normalize(torch.from_numpy(emb[ordinary]), dim=1)
    gap = unused_cos[off].mean() - (unit @ unit.T).numpy()[off].mean()
    assert check.unused_gap(tokenizer, emb, ordinary, gap)
    assert "PASS unused_gap" in capsys.readouterr().out
    assert not check.unused_gap(tokenizer, emb, ordinary, -gap)
    assert "sign is flipped" in capsys.readouterr().out
    assert not check.unused_gap(tokenizer, emb, ordinary, unused_cos.mean())
    assert "FAIL unused_gap" in capsys.readouterr().out
    assert not check.unused_gap(tokenizer, emb, ordinary, ...)
    assert "fill in the blank first" in capsys.readouterr().out


def test_scatter_pairs_and_largest_gap(bert, capsys):
    emb, _ = bert
    rows = emb[::STRIDE]
    cos, _ = upper_triangle_cosines(F.normalize(torch.from_numpy(rows), dim=1), BLOCK)
    centred = rows - rows.mean(axis=1, keepdims=True)
    r, _ = upper_triangle_cosines(F.normalize(torch.from_numpy(centred), dim=1), BLOCK)
    step = 1000
    pick = np.arange(0, r.size, step)
    assert check.scatter_pairs(emb, STRIDE, step, cos[pick], r[pick])
    assert f"PASS scatter_pairs: {pick.size} pairs" in capsys.readouterr().out
    assert not check.scatter_pairs(emb, STRIDE, step, cos[pick], r[pick + 1])
    assert "scatter_r differs" in capsys.readouterr().out
    assert not check.scatter_pairs(emb, STRIDE, step, cos[1::step], r[pick])
    assert "scatter_cos differs from the pairs at positions 0" in capsys.readouterr().out
    assert not check.scatter_pairs(emb, STRIDE, step, cos[pick[:-1]], r[pick])
    assert "from position 0" in capsys.readouterr().out
    assert not check.scatter_pairs(emb, STRIDE, step, ..., r[pick])
    assert "fill in the blank first" in capsys.readouterr().out

    assert check.largest_gap(cos, r, np.abs(r - cos).max())
    assert "PASS largest_gap" in capsys.readouterr().out
    signed = (r - cos).max()
    if abs(signed - np.abs(r - cos).max()) > 1e-9:
        assert not check.largest_gap(cos, r, signed)
        assert "absolute difference" in capsys.readouterr().out
    assert not check.largest_gap(cos, r, np.abs(r - cos).mean())
    assert "FAIL largest_gap" in capsys.readouterr().out
    assert not check.largest_gap(cos, r, ...)
    assert "fill in the blank first" in capsys.readouterr().out
