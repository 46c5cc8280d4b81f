"""Self-checks for project 17, "Probabilistic token selection".

Random draws have no single right answer: the checks validate them (shape, range, the support
they come from) and compare what is exact (counts of the learner's draws, expected frequencies,
filtered sets) with references built from the weights, the prompt and the model id.
"""

from __future__ import annotations

import contextlib
import functools
import io
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ml4llm.checks import Expect, check, common, require
from ml4llm.models import is_trained, load_model, load_tokenizer
from ml4llm.tokens import encode

RENORMALISE = "renormalise the kept tokens so that they sum to 1"
CROSSING = "keep the token whose cumulative probability crosses p: the kept set must reach p"


def _expected(weights: Sequence[float]) -> np.ndarray:
    w = common.as_array(weights, np.float64)
    return w / w.sum()


def _draws(weights: Sequence[float], n_draws: int) -> dict[str, Any]:
    expected = _expected(weights)
    example = np.repeat(np.arange(len(expected)), np.round(expected * n_draws).astype(int))
    example = example[:n_draws]
    counts = np.bincount(example, minlength=len(expected))
    return {  # counts and observed follow from the learner's draws: compared in the body
        "draws": example,
        "counts": counts,
        "observed": counts / n_draws,
        "expected": Expect(
            expected,
            "the normalised weights: weights / weights.sum()",
            traps=[
                (
                    common.as_array(weights, np.float64),
                    "normalise the weights (divide by their sum)",
                )
            ],
        ),
    }


@check(reference=_draws)
def draw_counts(weights, n_draws, *, draws, counts, observed, expected) -> str:
    """Counts of the learner's draws, their frequencies, and closeness to the normalised weights."""
    n = len(_expected(weights))
    got = common.require_array(draws, name="draws", shape=(int(n_draws),), kind="integers")
    require(
        got.min() >= 0 and got.max() < n,
        f"draws: every draw is a category index from 0 to {n - 1}",
    )
    right = np.bincount(got, minlength=n)
    gap = float(np.abs(right / len(got) - _expected(weights)).max())
    require(
        gap < 0.02,
        f"draws: the observed frequencies are {gap:.3f} from the expected ones (more than 0.02): "
        "draw with replacement from the weights, with a seeded torch.Generator",
    )
    common.require_values(
        counts,
        right,
        name="counts",
        hint=f"torch.bincount(draws, minlength={n}): how often each category was drawn",
        atol=0,
    )
    common.require_values(
        observed,
        right / len(got),
        name="observed",
        hint="the counts divided by the number of draws",
        traps=[(right, "divide the counts by the number of draws")],
    )
    return f"{len(got):,} draws; observed within {gap:.3f} of the normalised weights"


@functools.cache
def _tokenizer(model_id: str) -> Any:
    with contextlib.redirect_stdout(io.StringIO()):
        return load_tokenizer(model_id)


@functools.cache
def _model(model_id: str) -> Any:
    """The model for the checks (loaded once, quietly)."""
    with contextlib.redirect_stdout(io.StringIO()):
        return load_model(model_id, head="lm")


@functools.cache
def _final_logits(model_id: str, prompt: str) -> torch.Tensor:
    ids = torch.tensor([encode(_tokenizer(model_id), prompt)])
    model = _model(model_id)
    with torch.no_grad():
        return model(ids.to(model.device)).logits[0, -1].float().cpu()


def _greedy(model_id: str, prompt: str) -> dict[str, Any]:
    logits = _final_logits(model_id, prompt)
    probs = torch.softmax(logits, -1)
    return {
        "next_id": Expect(
            int(logits.argmax()),
            "the id of the largest logit after the last prompt token: logits[0, -1].argmax()",
            traps=[(int(_all_logits(model_id, prompt)[0].argmax()), "use the last position, -1")],
        ),
        "next_prob": Expect(
            float(probs.max()),
            "its probability: the softmax of the final logits at that id",
            traps=[(float(logits.max()), "this is the logit: take the softmax first")],
        ),
    }


@functools.cache
def _all_logits(model_id: str, prompt: str) -> torch.Tensor:
    ids = torch.tensor([encode(_tokenizer(model_id), prompt)])
    model = _model(model_id)
    with torch.no_grad():
        return model(ids.to(model.device)).logits[0].float().cpu()


@check(reference=_greedy)
def greedy(model_id, prompt, *, next_id, next_prob) -> str:
    """The greedy next token of the prompt and its probability."""
    word = _tokenizer(model_id).decode([int(next_id)])
    return f"greedy next token {word!r} with probability {float(next_prob):.3f}"


def _support(model_id: str, prompt: str, n_samples: int) -> dict[str, Any]:
    probs = torch.softmax(_final_logits(model_id, prompt), -1)
    return {"sampled_ids": common.as_array(probs.argsort(descending=True)[:n_samples])}


@check(reference=_support)
def samples(model_id, prompt, n_samples, *, sampled_ids) -> str:
    """Sampled next tokens: n_samples ids, each with a probability above 0."""
    probs = torch.softmax(_final_logits(model_id, prompt), -1).numpy()
    got = common.require_array(
        sampled_ids, name="sampled_ids", shape=(int(n_samples),), kind="integers"
    )
    require(
        got.min() >= 0 and got.max() < len(probs),
        f"sampled_ids: every id is a vocabulary index (0 to {len(probs) - 1})",
    )
    unlikely = got[probs[got] < 1e-9]
    require(
        not len(unlikely),
        f"sampled_ids: id {int(unlikely[0]) if len(unlikely) else 0} has a probability below 1e-9, "
        "which a draw from the probabilities practically never gives: sample from probs "
        "(torch.multinomial(probs, n_samples, replacement=True, generator=generator))",
    )
    top = int(np.argmax(probs))
    require(
        len(set(got.tolist())) > 1 or probs[got[0]] > 0.5 or len(got) < 5,
        f"sampled_ids: all {len(got)} ids are {int(got[0])}, whose probability is "
        f"{probs[got[0]]:.2g}: draw with replacement from probs (the argmax is {top})",
    )
    mean = float(probs[got].mean())
    return f"{len(got)} sampled ids, mean probability {mean:.3f} (uniform would be {1 / len(probs):.1e})"


def _top_k(probs: torch.Tensor, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k most probable ids and their renormalised probabilities."""
    values, ids = torch.topk(probs, k)
    return ids.numpy(), (values / values.sum()).numpy()


def _top_p(probs: torch.Tensor, p: float) -> tuple[np.ndarray, np.ndarray]:
    """The smallest most-probable prefix reaching p (the crossing token kept), renormalised."""
    values, ids = torch.sort(probs, descending=True)
    cumulative = values.double().cumsum(0)
    n_keep = int((cumulative < p).sum()) + 1
    kept = values[:n_keep].double()
    return ids[:n_keep].numpy(), (kept / kept.sum()).numpy()


def _filter_expect(ids: np.ndarray, renormalised: np.ndarray, raw: np.ndarray, wrong: list) -> dict:
    return {
        "ids": Expect(ids, "the kept ids, most probable first", traps=wrong),
        "probs": Expect(
            renormalised,
            "the kept tokens' probabilities, renormalised to sum to 1",
            traps=[(raw, RENORMALISE)],
        ),
    }


def _filters(model_id: str, prompt: str, k: int, p: float) -> dict[str, Any]:
    probs = torch.softmax(_final_logits(model_id, prompt), -1)
    k_ids, k_probs = _top_k(probs, int(k))
    p_ids, p_probs = _top_p(probs, float(p))
    return {
        "top_k_filter": _top_k,
        "top_p_filter": _top_p,
        "top_k_result": _filter_expect(
            k_ids, k_probs, probs[k_ids].numpy(), [(k_ids[::-1], "most probable first")]
        ),
        "top_p_result": _filter_expect(
            p_ids,
            p_probs,
            probs[p_ids].numpy(),
            [(p_ids[:-1], CROSSING), (p_ids[::-1], "most probable first")],
        ),
    }


def _require_filter(result: Any, expect: dict, name: str) -> tuple[np.ndarray, np.ndarray]:
    """The learner's (ids, probs) pair compared with the reference pair."""
    require(
        isinstance(result, (tuple, list)) and len(result) == 2,
        f"{name} should return a pair (ids, probabilities), got {common.describe(result)}",
    )
    ids = common.require_values(
        result[0],
        expect["ids"].value,
        name=f"{name} ids",
        hint=expect["ids"].hint,
        traps=expect["ids"].traps,
        atol=0,
    )
    probs = common.require_values(
        result[1],
        expect["probs"].value,
        name=f"{name} probabilities",
        hint=expect["probs"].hint,
        traps=expect["probs"].traps,
    )
    return ids, probs


@check(reference=_filters)
def top_k(model_id, prompt, k, p, *, top_k_filter, ref) -> str:
    """The learner's top-k filter on the prompt's next-token probabilities."""
    probs = torch.softmax(_final_logits(model_id, prompt), -1)
    result = common.call(
        top_k_filter, probs.clone(), int(k), name="top_k_filter", returns="(ids, probs)"
    )
    ids, kept = _require_filter(result, ref["top_k_result"], "top_k_filter(probs, k)")
    share = float(probs[torch.as_tensor(ids.astype(np.int64))].sum())
    return f"{len(ids)} ids holding {share:.1%} of the probability, renormalised to sum {kept.sum():.6f}"


@check(reference=_filters)
def top_p(model_id, prompt, k, p, *, top_p_filter, ref) -> str:
    """The learner's top-p filter: the smallest prefix that reaches p, the crossing token kept."""
    probs = torch.softmax(_final_logits(model_id, prompt), -1)
    result = common.call(
        top_p_filter, probs.clone(), float(p), name="top_p_filter", returns="(ids, probs)"
    )
    ids, _ = _require_filter(result, ref["top_p_result"], "top_p_filter(probs, p)")
    mass = probs[torch.as_tensor(ids.astype(np.int64))].double()
    return (
        f"nucleus of {len(ids)} ids: their probability {float(mass.sum()):.3f} reaches p = {p}, "
        f"without the last one {float(mass[:-1].sum()):.3f} does not"
    )


def _continuation(model_id: str, prompt: str, n_new: int) -> list[int]:
    """The greedy continuation of the prompt by n_new ids, appended one at a time."""
    model = _model(model_id)
    ids = torch.tensor([encode(_tokenizer(model_id), prompt)], device=model.device)
    with torch.no_grad():
        for _ in range(n_new):
            next_id = model(ids).logits[0, -1].argmax()
            ids = torch.cat([ids, next_id.view(1, 1)], dim=1)
    return ids[0].tolist()


def _generation(model_id: str, prompt: str, n_new: int) -> dict[str, Any]:
    def generate(ids: torch.Tensor, n_new: int, strategy: str, generator: Any) -> torch.Tensor:
        """Greedy for every strategy: a valid example (sampling needs only reproducibility)."""
        return torch.tensor([_continuation(model_id, prompt, n_new)])

    return {"generate": generate}


@check(reference=_generation)
def generation(model_id, prompt, n_new, *, generate) -> str:
    """The learner's loop: greedy equals the reference continuation; sampling is reproducible.

    Every step forwards the whole sequence, so the check generates only a few tokens: the first
    ``n_new`` (at most 5) greedily, and 2 per sampling strategy, twice with the same seed.
    """
    tokenizer = _tokenizer(model_id)
    prompt_ids = encode(tokenizer, prompt)
    n_greedy = min(int(n_new), 5)
    want = _continuation(model_id, prompt, n_greedy)
    start = torch.tensor([prompt_ids])

    def run(strategy: str, seed: int, n: int) -> np.ndarray:
        generator = torch.Generator().manual_seed(seed)
        out = common.call(
            generate,
            start.clone(),
            n,
            strategy,
            generator,
            name="generate",
            returns="the ids, prompt first",
        )
        got = common.as_array(out).reshape(-1)
        require(
            len(got) == len(prompt_ids) + n,
            f"generate(ids, {n}, {strategy!r}, generator) returned {len(got)} ids: expected the "
            f"{len(prompt_ids)} prompt ids followed by {n} new ones (append each new id to the input)",
        )
        return got

    greedy_ids = run("greedy", 0, n_greedy)
    require(
        list(greedy_ids[: len(prompt_ids)]) == prompt_ids,
        "generate: the output should start with the prompt's ids (append, do not replace)",
    )
    common.require_values(
        greedy_ids,
        want,
        name="generate('greedy')",
        hint="at each step forward the whole sequence, take the last position's argmax and append it",
        atol=0,
    )
    for strategy in ("sample", "top-k", "top-p"):
        first, again = run(strategy, 1, 2), run(strategy, 1, 2)
        require(
            np.array_equal(first, again),
            f"generate({strategy!r}) gives other ids for the same seed: draw with the generator "
            "passed in (torch.multinomial(..., generator=generator))",
        )
    trained = is_trained(_model(model_id))
    text = tokenizer.decode(want[len(prompt_ids) :])
    note = "" if trained else " (random weights)"
    return f"the first {n_greedy} greedy ids ({text!r}) and seeded sampling as expected{note}"
