"""Project 17's checks: each wrong answer gets its hint (the solution notebook is the pass test)."""

from __future__ import annotations

import functools

import checkutil
import numpy as np
import torch

from ml4llm.checks import proj17 as check
from ml4llm.models import SMOLLM2

WEIGHTS = [1.0, 2.0, 5.0]
PROMPT = "I brush my teeth every"


@functools.cache
def inputs() -> dict[str, tuple]:
    return {
        "draw_counts": (WEIGHTS, 10_000),
        "greedy": (SMOLLM2, PROMPT),
        "samples": (SMOLLM2, PROMPT, 10),
        "top_k": (SMOLLM2, PROMPT, 10, 0.9),
        "top_p": (SMOLLM2, PROMPT, 10, 0.9),
        "generation": (SMOLLM2, PROMPT, 15),
    }


def probs() -> torch.Tensor:
    return torch.softmax(check._final_logits(SMOLLM2, PROMPT), -1)


def seeded_draws(n: int = 10_000) -> torch.Tensor:
    return torch.multinomial(
        torch.tensor(WEIGHTS), n, replacement=True, generator=torch.Generator().manual_seed(0)
    )


def top_k_unnormalised(p, k):
    values, ids = torch.topk(p, k)
    return ids, values


def top_p_without_crossing(p, top):
    values, ids = torch.sort(p, descending=True)
    n = int((values.cumsum(0) < top).sum())  # the crossing token left out
    return ids[:n], values[:n] / values[:n].sum()


def top_p_unnormalised(p, top):
    ids, _ = check._top_p(p, top)
    return ids, p[torch.as_tensor(ids)]


def generate_with(pick):
    """A generation loop for the check's model that picks each next id with ``pick(logits, gen)``."""
    model = check._model(SMOLLM2)

    def generate(ids, n_new, strategy, generator):
        for _ in range(n_new):
            with torch.no_grad():
                logits = model(ids).logits[0, -1]
            ids = torch.cat([ids, torch.tensor([[pick(logits, strategy, generator)]])], dim=1)
        return ids

    return generate


def unseeded(logits, strategy, generator):
    if strategy == "greedy":
        return int(logits.argmax())
    return int(torch.multinomial(torch.softmax(logits, -1), 1))  # ignores the generator


WRONG = {  # check -> [(learner value, wrong answer from the right values r, hint substring)]
    "draw_counts": [
        ("draws", lambda r: seeded_draws() + 1, "category index from 0 to 2"),
        ("draws", lambda r: torch.zeros(10_000, dtype=torch.long), "more than 0.02"),
        ("draws", lambda r: seeded_draws(100), "10000 integers"),
        ("counts", lambda r: np.bincount(r["draws"])[::-1], "how often each category"),
        ("counts", lambda r: np.bincount(r["draws"]) + 1, "torch.bincount(draws, minlength=3)"),
        ("observed", lambda r: np.bincount(r["draws"]), "divide the counts by the number"),
        ("observed", lambda r: np.bincount(r["draws"]) / 100, "the counts divided by"),
        ("expected", lambda r: np.array(WEIGHTS), "divide by their sum"),
        ("expected", lambda r: np.array([1, 1, 1]) / 3, "weights / weights.sum()"),
    ],
    "greedy": [
        ("next_id", lambda r: int(check._all_logits(SMOLLM2, PROMPT)[0].argmax()), "position, -1"),
        ("next_id", lambda r: r["next_id"] + 1, "the id of the largest logit"),
        ("next_prob", lambda r: float(check._final_logits(SMOLLM2, PROMPT).max()), "the logit"),
        ("next_prob", lambda r: r["next_prob"] / 2, "its probability"),
    ],
    "samples": [
        ("sampled_ids", lambda r: r["sampled_ids"][:5], "10 integers"),
        ("sampled_ids", lambda r: np.full(10, 10**6), "every id is a vocabulary index"),
        ("sampled_ids", lambda r: np.argsort(probs().numpy())[:10], "sample from probs"),
        ("sampled_ids", lambda r: np.full(10, r["sampled_ids"][1]), "draw with replacement"),
    ],
    "top_k": [
        ("top_k_filter", lambda r: top_k_unnormalised, "renormalise the kept tokens"),
        (
            "top_k_filter",
            lambda r: lambda p, k: tuple(x.flip(0) for x in torch.topk(p, k)[::-1]),
            "most probable first",
        ),
        ("top_k_filter", lambda r: lambda p, k: check._top_k(p, k - 1), "the kept ids"),
        (
            "top_k_filter",
            lambda r: lambda p, k: torch.topk(p, k).indices,
            "a pair (ids, probabilities)",
        ),
    ],
    "top_p": [
        # the off-by-one of the curriculum: the token that crosses p must be kept
        ("top_p_filter", lambda r: top_p_without_crossing, "keep the token whose cumulative"),
        ("top_p_filter", lambda r: top_p_unnormalised, "renormalise the kept tokens"),
        ("top_p_filter", lambda r: lambda p, top: check._top_p(p, 0.5), "the kept ids"),
    ],
    "generation": [
        ("generate", lambda r: lambda ids, n, s, g: ids, "followed by"),
        (
            "generate",
            lambda r: lambda ids, n, s, g: torch.cat([torch.zeros(1, n, dtype=torch.long), ids], 1),
            "start with the prompt",
        ),
        (
            "generate",
            lambda r: generate_with(lambda lg, s, g: int(lg.argmin())),
            "last position's argmax",
        ),
        ("generate", lambda r: generate_with(unseeded), "generator passed in"),
    ],
}

test_wrong_answers = checkutil.wrong_answers(check, inputs, WRONG)


def test_a_nucleus_reaches_p_and_stops_at_the_crossing_token():
    ids, kept = check._top_p(probs(), 0.9)
    mass = probs()[torch.as_tensor(ids)].double()
    assert mass.sum() >= 0.9 > mass[:-1].sum()
    assert abs(float(torch.as_tensor(kept).sum()) - 1) < 1e-6
