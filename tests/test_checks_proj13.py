"""Every check of project 13 passes on the solution's values, fails on wrong ones and asks for blanks.

The checks take plain arrays, so a small seeded matrix stands in for the embedding matrix.
"""

import os

os.environ["ML4LLM_PROFILE"] = "offline"
os.environ["HF_HUB_OFFLINE"] = "1"

import numpy as np
import pytest

from ml4llm.checks import proj13 as check

N_SIMS, N_DIMS, SCALE, K = 50, 64, 0.1, 10


@pytest.fixture(scope="module")
def simulated():
    """The solution's simulation, vectorised: vectors, and distances/cosines of the three cases."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N_SIMS, N_DIMS), dtype=np.float32)
    y = rng.standard_normal((N_SIMS, N_DIMS), dtype=np.float32)
    pairs = [
        (x, y),
        (x, y * SCALE),
        (
            x / np.linalg.norm(x, axis=1, keepdims=True),
            y / np.linalg.norm(y, axis=1, keepdims=True),
        ),
    ]
    cases = ["both standard", "one scaled", "both unit length"]
    distances = {c: np.linalg.norm(a - b, axis=1) for c, (a, b) in zip(cases, pairs)}
    cosines = {
        c: np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
        for c, (a, b) in zip(cases, pairs)
    }
    return x, y, distances, cosines


@pytest.fixture(scope="module")
def embeddings():
    """A seeded matrix with rows of very different lengths, like a real embedding matrix."""
    rng = np.random.default_rng(1)
    matrix = rng.standard_normal((400, 16)).astype(np.float32)
    return matrix * rng.uniform(0.1, 2.0, size=(400, 1)).astype(np.float32)


SEED_ID = 7


def measures(matrix, seed_id):
    """The solution's seed_measures."""
    seed = matrix[seed_id]
    dist = np.linalg.norm(matrix - seed, axis=1)
    cos = (matrix @ seed) / (np.linalg.norm(matrix, axis=1) * np.linalg.norm(seed))
    dist[seed_id] = np.nan
    cos[seed_id] = np.nan
    return dist, cos


def top(dist, cos, k):
    """The solution's top_neighbours."""
    by_distance = np.argsort(dist, kind="stable")[:k]
    by_cosine = np.argsort(-np.where(np.isnan(cos), -np.inf, cos), kind="stable")[:k]
    return by_distance, by_cosine


def passed(result, capsys, word="PASS"):
    out = capsys.readouterr().out
    return bool(result) and out.startswith(word)


def failed(result, capsys):
    out = capsys.readouterr().out
    return not result and out.startswith("FAIL") and ":" in out


def blank(result, capsys):
    out = capsys.readouterr().out
    return not result and "fill in the blank first" in out


# ------------------------------------------------------------------ simulation


def test_simulation(simulated, capsys):
    x, y, distances, cosines = simulated
    assert passed(check.simulation(x, y, SCALE, distances, cosines), capsys)
    # distances of the scaled case computed without the scale
    wrong = dict(distances)
    wrong["one scaled"] = distances["both standard"]
    assert failed(check.simulation(x, y, SCALE, wrong, cosines), capsys)
    # cosine without dividing by the norms
    wrong_cos = {c: v * 3 for c, v in cosines.items()}
    assert failed(check.simulation(x, y, SCALE, distances, wrong_cos), capsys)
    assert blank(check.simulation(x, y, SCALE, ..., cosines), capsys)


def test_unit_identity(simulated, capsys):
    _, _, distances, cosines = simulated
    c, d = cosines["both unit length"], distances["both unit length"]
    assert passed(check.unit_identity(c, d, c - (1 - d**2 / 2)), capsys)
    # the standard case: not unit vectors
    c0, d0 = cosines["both standard"], distances["both standard"]
    assert failed(check.unit_identity(c0, d0, c0 - (1 - d0**2 / 2)), capsys)
    # a wrong formula (d instead of d**2)
    assert failed(check.unit_identity(c, d, c - (1 - d / 2)), capsys)
    assert blank(check.unit_identity(c, d, ...), capsys)


def test_general_identity(capsys):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((N_SIMS, N_DIMS), dtype=np.float32)
    y = rng.standard_normal((N_SIMS, N_DIMS), dtype=np.float32)
    d2 = np.sum((x - y) ** 2, axis=1)
    right = np.sum(x**2, axis=1) + np.sum(y**2, axis=1) - d2
    good = 2 * np.sum(x * y, axis=1) - right
    assert passed(check.general_identity(x, y, good), capsys)
    # forgot the factor 2
    assert failed(check.general_identity(x, y, np.sum(x * y, axis=1) - right), capsys)
    assert blank(check.general_identity(x, y, ...), capsys)


# ------------------------------------------------------------------ seed word


def test_seed_measures(embeddings, capsys):
    dist, cos = measures(embeddings, SEED_ID)
    assert passed(check.seed_measures(embeddings, SEED_ID, dist, cos), capsys)
    # self-match kept
    dist_self, cos_self = dist.copy(), cos.copy()
    dist_self[SEED_ID], cos_self[SEED_ID] = 0.0, 1.0
    assert failed(check.seed_measures(embeddings, SEED_ID, dist_self, cos_self), capsys)
    # cosine without the norms (plain dot products)
    dots = embeddings @ embeddings[SEED_ID]
    dots[SEED_ID] = np.nan
    assert failed(check.seed_measures(embeddings, SEED_ID, dist, dots), capsys)
    assert blank(check.seed_measures(embeddings, SEED_ID, ..., cos), capsys)


def test_top_neighbours(embeddings, capsys):
    dist, cos = measures(embeddings, SEED_ID)
    by_d, by_c = top(dist, cos, K)
    assert passed(check.top_neighbours(embeddings, SEED_ID, by_d, by_c, K), capsys)
    # the classic NaN trap: reversing an ascending argsort puts the seed (NaN) first
    trap = np.argsort(cos)[::-1][:K]
    assert SEED_ID in trap
    assert failed(check.top_neighbours(embeddings, SEED_ID, by_d, trap, K), capsys)
    # largest distances instead of smallest
    assert failed(
        check.top_neighbours(embeddings, SEED_ID, np.argsort(-np.nan_to_num(dist))[:K], by_c, K),
        capsys,
    )
    assert blank(check.top_neighbours(embeddings, SEED_ID, ..., by_c, K), capsys)


def test_normalised_rankings(embeddings, capsys):
    unit = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    by_d, by_c = top(*measures(unit, SEED_ID), K)
    assert np.array_equal(by_d, by_c)
    assert passed(check.normalised_rankings(embeddings, SEED_ID, unit, by_d, by_c, K), capsys)
    # normalised over the wrong axis (columns)
    wrong_unit = embeddings / np.linalg.norm(embeddings, axis=0, keepdims=True)
    assert failed(check.normalised_rankings(embeddings, SEED_ID, wrong_unit, by_d, by_c, K), capsys)
    # rankings taken from the raw matrix: the distance list differs
    raw_d, raw_c = top(*measures(embeddings, SEED_ID), K)
    assert not np.array_equal(raw_d, raw_c)
    assert failed(check.normalised_rankings(embeddings, SEED_ID, unit, raw_d, raw_c, K), capsys)
    assert blank(check.normalised_rankings(embeddings, SEED_ID, unit, ..., by_c, K), capsys)
