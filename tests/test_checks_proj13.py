"""Project 13's checks: each wrong answer gets its hint (the solution notebook is the pass test)."""

from __future__ import annotations

import functools

import checkutil
import numpy as np

from ml4llm.checks import proj13 as check

MODEL, SEED, K = "bert-large-uncased", "beauty", 10
CASES = ["both standard", "one scaled by 0.1", "both unit length"]
GROUP_NAMES = ["[special]/[unused] or one character", "## + one character", "words and pieces"]
rng = np.random.default_rng(0)
X, Y, X_NEW, Y_NEW = (rng.standard_normal((50, 64), dtype=np.float32) for _ in range(4))
SIM = (X, Y, 0.1, CASES)
PART3 = (MODEL, SEED)


@functools.cache
def inputs() -> dict[str, tuple]:
    return {
        **dict.fromkeys(["simulation", "identity_curve", "unit_identity"], SIM),
        "general_identity": (X_NEW, Y_NEW),
        "seed_measures": PART3,
        "min_max": (),
        "token_groups": (MODEL, GROUP_NAMES),
        **dict.fromkeys(["top_neighbours", "normalised_rankings"], (*PART3, K)),
    }


# the finding of issue 11: the first id of tokenizer.encode is [CLS], not the seed word
CLS = check._tokenizer(MODEL).encode(SEED)[0]


def case(values: str, k: int, change):
    """A wrong dict of the three cases: case k changed to ``change(r[values], r)``."""
    return lambda r: {**r[values], CASES[k]: change(r[values], r)}


def terms(x, y, squared: bool = True):
    d = np.sum((x - y) ** 2, axis=1)
    return 2 * np.sum(x * y, axis=1) - (
        np.sum(x**2, axis=1) + np.sum(y**2, axis=1) - (d if squared else np.sqrt(d))
    )


def raw_measures(r: dict):
    """The seed's distance and cosine to every token, without the NaN at the seed."""
    matrix = check._embeddings(MODEL)
    seed = matrix[r["seed_id"]]
    norms = np.linalg.norm(matrix, axis=1)
    return np.linalg.norm(matrix - seed, axis=1), matrix @ seed / norms / norms[r["seed_id"]]


def with_seed(r: dict, key: str) -> list[int]:
    return [r["seed_id"], *r[key][:-1].tolist()]


WRONG = {  # check -> [(learner value, wrong answer from the right values r, hint substring)]
    "simulation": [
        ("distances", case("distances", 1, lambda d, r: d[CASES[0]]), "scale the second vector"),
        ("distances", case("distances", 2, lambda d, r: d[CASES[0]]), "divide both vectors"),
        ("distances", case("distances", 0, lambda d, r: 2 * d[CASES[0]]), "np.linalg.norm(a - b)"),
        ("distances", case("distances", 0, lambda d, r: 0 * d[CASES[0]]), "still all zero"),
        ("distances", lambda r: dict(list(r["distances"].items())[:2]), "expected the keys"),
        ("cosines", case("cosines", 0, lambda c, r: np.sum(X * Y, axis=1)), "dot products"),
        ("cosines", case("cosines", 1, lambda c, r: c[CASES[1]] + 0.1), "divide a @ b by both"),
    ],
    "identity_curve": [
        ("cos_grid", lambda r: r["cos_grid"][::-1], "should rise from the smallest"),
        (
            "cos_grid",
            lambda r: np.linspace(-1, 1, 100),  # the range of any cosine, not the observed one
            "span the cosines of the unit-length case",
        ),
        ("dist_curve", lambda r: 2 - 2 * r["cos_grid"], "these are squared distances"),
        ("dist_curve", lambda r: np.sqrt(2 - r["cos_grid"]), "d = sqrt(2 - 2 * cos)"),
    ],
    "unit_identity": [
        ("unit_cos", lambda r: r["unit_cos"] + 0.01, "the cosines of the third"),
        ("unit_dist", lambda r: r["distances"][CASES[0]], "unit vectors are at most 2 apart"),
        ("unit_dist", lambda r: r["unit_dist"] * 0.99, "the distances of the third"),
        (
            "unit_errors",
            lambda r: r["cosines"][CASES[0]] - (1 - r["distances"][CASES[0]] ** 2 / 2),
            "far above rounding size",
        ),
        ("unit_errors", lambda r: r["unit_errors"] + 1e-4, "cos - (1 - d**2 / 2)"),
    ],
    "general_identity": [
        ("general_errors", lambda r: terms(X_NEW, Y_NEW, squared=False), "d**2 is the squared"),
        ("term_size", lambda r: np.sum(X_NEW**2, axis=1), "x'x + y'y for each simulation"),
        ("errors64", lambda r: terms(X_NEW, Y_NEW), "cast the vectors with .astype(np.float64)"),
        ("errors64", lambda r: r["errors64"] + 1e-3, "every term from the float64 copies"),
    ],
    "seed_measures": [
        ("seed_id", lambda r: CLS, "a special token's id ([CLS]"),
        ("seed_id", lambda r: r["seed_id"] + 1, f"the seed word's own id: {check.ONE_ID}"),
        ("seed_distances", lambda r: raw_measures(r)[0], "set the seed's own distance"),
        ("seed_distances", lambda r: 2 * r["seed_distances"], "the distances are off"),
        ("seed_cosines", lambda r: raw_measures(r)[1], "and cosine to np.nan"),
        ("seed_cosines", lambda r: r["seed_cosines"] / 2, "the cosines are off"),
        ("distance_cosine_r", lambda r: float("nan"), "leave out the seed's NaN"),
        ("distance_cosine_r", lambda r: -r["distance_cosine_r"], "over all tokens but the seed"),
    ],
    "min_max": [
        ("min_max", lambda r: lambda v: (v - v.min()) / (v.max() - v.min()), "np.nanmin"),
        ("min_max", lambda r: lambda v: v / np.nanmax(v), "the smallest value should become 0"),
        ("min_max", lambda r: lambda v: None, "min_max(...) returned None"),
    ],
    "token_groups": [
        ("token_norms", lambda r: r["token_norms"] ** 2, "the length of each row"),
        ("groups", lambda r: [GROUP_NAMES[2]] * len(r["groups"]), "each token's group by its"),
        ("groups", lambda r: ["words"] * len(r["groups"]), "use the names in group_names"),
        ("groups", lambda r: [], "expected 30522 strings, got an empty list"),
    ],
    "top_neighbours": [
        ("seed_id", lambda r: CLS, "a special token's id ([CLS]"),
        ("top_by_distance", lambda r: np.argsort(r["seed_distances"])[-K - 1 : -1], "not the top"),
        ("top_by_distance", lambda r: with_seed(r, "top_by_distance"), "the seed itself is in"),
        ("top_by_distance", lambda r: [r["top_by_distance"][0]] * K, "repeats an id"),
        ("top_by_distance", lambda r: r["top_by_distance"][:5], f"expected {K} integers"),
        ("top_by_cosine", lambda r: np.argsort(r["seed_cosines"])[::-1][:K], "the seed itself"),
        ("shared", lambda r: set(), "a set intersection"),
    ],
    "normalised_rankings": [
        ("seed_id", lambda r: CLS, "a special token's id ([CLS]"),
        ("unit_norms", lambda r: np.linalg.norm(check._embeddings(MODEL), axis=1), "not unit len"),
        ("unit_norms", lambda r: r["unit_norms"] * (1 + 5e-6), "norm of every row of the normal"),
        ("unit_distances", lambda r: check._seed(*PART3, K)["seed_distances"].value, "of Part 3"),
        ("unit_distances", lambda r: r["unit_distances"] * 1.1, "original row's direction"),
        ("unit_cosines", lambda r: r["unit_cosines"] / 2, "the cosines on the normalised rows"),
        (
            "unit_by_distance",
            lambda r: check._top(*check._measures(check._embeddings(MODEL), r["seed_id"]), K)[0],
            "the distance list is not the top 10",
        ),
        ("unit_by_cosine", lambda r: r["unit_by_cosine"][::-1], "identical, id for id"),
    ],
}

test_wrong_answers = checkutil.wrong_answers(check, inputs, WRONG)


def test_a_seed_word_that_is_not_one_token_is_named(capsys):
    check.seed_measures(
        MODEL,
        "kumquatberry",
        seed_id=0,
        seed_distances=[0],
        seed_cosines=[0],
        distance_cosine_r=0.0,
    )
    assert "FAIL seed_measures: choose another seed word:" in capsys.readouterr().out


def test_the_cls_seed_of_issue_11_fails_parts_3_to_5(capsys):
    """A learner who took tokenizer.encode(seed_word)[0], with every value computed from it."""
    matrix = check._embeddings(MODEL)
    dist, cos = check._measures(matrix, CLS)
    by_d, by_c = check._top(dist, cos, K)
    unit = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
    unit_d, unit_c = check._measures(unit, CLS)
    r = float(np.corrcoef(dist[~np.isnan(dist)], cos[~np.isnan(cos)])[0, 1])
    check.seed_measures(
        *PART3, seed_id=CLS, seed_distances=dist, seed_cosines=cos, distance_cosine_r=r
    )
    shared = set(by_d.tolist()) & set(by_c.tolist())
    check.top_neighbours(
        *PART3, K, seed_id=CLS, top_by_distance=by_d, top_by_cosine=by_c, shared=shared
    )
    unit_by_d, _ = check._top(unit_d, unit_c, K)
    check.normalised_rankings(
        *PART3,
        K,
        seed_id=CLS,
        unit_norms=np.linalg.norm(unit, axis=1),
        unit_distances=unit_d,
        unit_cosines=unit_c,
        unit_by_distance=unit_by_d,
        unit_by_cosine=unit_by_d,
    )
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    for line, name in zip(lines, ["seed_measures", "top_neighbours", "normalised_rankings"]):
        assert line.startswith(f"FAIL {name}: seed_id: that is a special token's id ([CLS]"), line
