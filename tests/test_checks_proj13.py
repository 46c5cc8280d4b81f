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
    # the containers made but the loop not filled in
    zeros = {c: np.zeros(N_SIMS, dtype=np.float32) for c in distances}
    assert not check.simulation(x, y, SCALE, zeros, zeros)
    assert "still all zero: fill in the loop first" in capsys.readouterr().out


def test_identity_curve(simulated, capsys):
    _, _, _, cosines = simulated
    unit = cosines["both unit length"]
    grid = np.linspace(unit.min(), unit.max(), 100)
    assert passed(check.identity_curve(cosines, grid, np.sqrt(2 - 2 * grid)), capsys)
    assert not check.identity_curve(cosines, grid, 2 - 2 * grid)
    assert "FAIL identity_curve: these are squared distances" in capsys.readouterr().out
    other = np.linspace(-1, 1, 100)  # not the observed range of the unit case
    assert not check.identity_curve(cosines, other, np.sqrt(2 - 2 * other))
    assert "FAIL identity_curve: the grid should span" in capsys.readouterr().out
    assert not check.identity_curve(cosines, grid, 1 - grid**2 / 2)
    assert "FAIL identity_curve: the curve should be d = sqrt(2 - 2 * cos)" in (
        capsys.readouterr().out
    )
    assert blank(check.identity_curve(cosines, ..., ...), capsys)


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


def test_identity_precision(capsys):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((N_SIMS, N_DIMS), dtype=np.float32)
    y = rng.standard_normal((N_SIMS, N_DIMS), dtype=np.float32)
    size = np.sum(x**2, axis=1) + np.sum(y**2, axis=1)

    def errors(a, b):
        d2 = np.sum((a - b) ** 2, axis=1)
        return 2 * np.sum(a * b, axis=1) - (np.sum(a**2, axis=1) + np.sum(b**2, axis=1) - d2)

    good = errors(x.astype(np.float64), y.astype(np.float64))
    assert passed(check.identity_precision(x, y, size, good), capsys)
    # computed in float32 (no cast): wrong dtype
    assert not check.identity_precision(x, y, size, errors(x, y))
    assert "FAIL identity_precision: errors64 is float32" in capsys.readouterr().out
    # float32 errors cast afterwards: float64 dtype but float32-sized errors
    assert not check.identity_precision(x, y, size, errors(x, y).astype(np.float64))
    assert "FAIL identity_precision: the float64 errors reach" in capsys.readouterr().out
    # the size of the terms without y'y
    assert not check.identity_precision(x, y, np.sum(x**2, axis=1), good)
    assert "FAIL identity_precision: term_size should be x'x + y'y" in capsys.readouterr().out
    assert blank(check.identity_precision(x, y, size, ...), capsys)


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


def test_seed_measures_correlation(embeddings, capsys):
    dist, cos = measures(embeddings, SEED_ID)
    keep = ~np.isnan(dist)
    r = np.corrcoef(dist[keep], cos[keep])[0, 1]
    assert passed(check.seed_measures(embeddings, SEED_ID, dist, cos, r), capsys)
    assert not check.seed_measures(embeddings, SEED_ID, dist, cos, np.nan)
    assert "FAIL seed_measures: the correlation is NaN" in capsys.readouterr().out
    assert not check.seed_measures(embeddings, SEED_ID, dist, cos, -r)
    assert "FAIL seed_measures: the correlation of distance and cosine" in capsys.readouterr().out
    assert blank(check.seed_measures(embeddings, SEED_ID, dist, cos, ...), capsys)


def test_min_max(capsys):
    def solution(values):
        low, high = np.nanmin(values), np.nanmax(values)
        return (values - low) / (high - low)

    assert passed(check.min_max(solution), capsys)

    def plain_min(values):  # np.min gives NaN for arrays with NaN
        return (values - values.min()) / (values.max() - values.min())

    assert not check.min_max(plain_min)
    assert "FAIL min_max: NaN should stay NaN, and only NaN" in capsys.readouterr().out

    def by_max(values):
        return values / np.nanmax(values)

    assert not check.min_max(by_max)
    assert "FAIL min_max: the smallest value should become 0" in capsys.readouterr().out

    def stub(values): ...

    assert not check.min_max(stub)
    assert "FAIL min_max: min_max returns None" in capsys.readouterr().out
    assert blank(check.min_max(...), capsys)


NAMES = ["[special]/[unused] or one character", "## + one character", "words and word pieces"]


def test_token_groups(embeddings, capsys):
    tokens = (["[PAD]", "[unused0]", "a", "!", "##s", "##ing", "beauty", "the"] * 50)[:400]
    want = ([NAMES[0]] * 4 + [NAMES[1]] + [NAMES[2]] * 3) * 50
    norms = np.linalg.norm(embeddings, axis=1)
    assert passed(check.token_groups(embeddings, tokens, NAMES, norms, want), capsys)
    # '##ing' is a word piece, not a single continuation character
    wrong = list(want)
    wrong[5] = NAMES[1]
    assert not check.token_groups(embeddings, tokens, NAMES, norms, wrong)
    assert "FAIL token_groups: the token '##ing' belongs to 'words and word pieces'" in (
        capsys.readouterr().out
    )
    assert not check.token_groups(embeddings, tokens, NAMES, norms, ["special"] * 400)
    assert "FAIL token_groups: use the names in group_names" in capsys.readouterr().out
    assert not check.token_groups(embeddings, tokens, NAMES, norms, [])
    assert "FAIL token_groups: the list of groups is still empty" in capsys.readouterr().out
    col_norms = np.linalg.norm(embeddings, axis=0)
    assert not check.token_groups(embeddings, tokens, NAMES, col_norms, want)
    assert "FAIL token_groups: one norm per token" in capsys.readouterr().out
    assert blank(check.token_groups(embeddings, tokens, NAMES, ..., []), capsys)


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
    shared = set(by_d.tolist()) & set(by_c.tolist())
    assert passed(check.top_neighbours(embeddings, SEED_ID, by_d, by_c, K, shared), capsys)
    union = set(by_d.tolist()) | set(by_c.tolist())
    assert not check.top_neighbours(embeddings, SEED_ID, by_d, by_c, K, union)
    assert "FAIL top_neighbours: shared should hold the ids that are in both lists" in (
        capsys.readouterr().out
    )
    assert blank(check.top_neighbours(embeddings, SEED_ID, by_d, by_c, K, ...), capsys)


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
    norms = np.linalg.norm(unit, axis=1)
    assert passed(
        check.normalised_rankings(embeddings, SEED_ID, unit, by_d, by_c, K, norms), capsys
    )
    raw_norms = np.linalg.norm(embeddings, axis=1)
    assert not check.normalised_rankings(embeddings, SEED_ID, unit, by_d, by_c, K, raw_norms)
    assert "FAIL normalised_rankings: unit_norms should be the norm" in capsys.readouterr().out
    assert blank(check.normalised_rankings(embeddings, SEED_ID, unit, by_d, by_c, K, ...), capsys)
