"""Project 16's checks: each wrong answer gets its hint (the solution notebook is the pass test)."""

from __future__ import annotations

import functools

import checkutil
import numpy as np
import pytest

from ml4llm.checks import proj16 as check
from ml4llm.models import SMOLLM2, load_model

NUMBERS = [1.0, 2.0, 2.1, 3.5, 5.0, 5.1, 7.0]
PROMPT = "It was a dark and stormy"
RARE = "Quixotic quokkas quietly quarrel"
X = np.linspace(-5, 5, 101)
TEMPERATURES = [0.3, 0.6, 1.0, 1.4]
TOP_TEMPERATURES = [0.5, 1.0, 1.5]


@functools.cache
def inputs() -> dict[str, tuple]:
    return {
        "hand_softmax": (NUMBERS,),
        "temperature_curves": (X, TEMPERATURES),
        "parameter_count": ("gpt2",),
        "final_logits": (SMOLLM2, PROMPT),
        "top_tokens": (SMOLLM2, PROMPT, TOP_TEMPERATURES),
        "stable_softmax": (SMOLLM2, RARE),
    }


def exp_over(norm):
    return lambda x: np.exp(x) / norm(np.exp(x))


def naive(z):  # softmax without the max subtraction
    return np.exp(z) / np.exp(z).sum()


def logits(text: str = PROMPT) -> np.ndarray:
    return check._logits(SMOLLM2, text)


WRONG = {  # check -> [(learner value, wrong answer from the right values r, hint substring)]
    "hand_softmax": [
        ("softmax", lambda r: exp_over(np.max), "divides by the largest exponential"),
        ("softmax", lambda r: np.exp, "divide by the sum of the exponentials"),
        ("softmax", lambda r: lambda x: x / x.sum(), "exponentiate first"),
        ("probs", lambda r: np.exp(NUMBERS) / np.exp(NUMBERS).max(), "divides by the largest"),
        ("torch_probs", lambda r: r["torch_probs"][::-1], "torch.softmax(torch.tensor(numbers)"),
    ],
    "temperature_curves": [
        (
            "temperature_probs",
            lambda r: np.stack([check._softmax(X * t) for t in TEMPERATURES]),
            "multiplies by the temperature",
        ),
        (
            "temperature_probs",
            lambda r: np.stack([np.exp(X / t) for t in TEMPERATURES]),
            "sum of the exponentials",
        ),
        ("temperature_probs", lambda r: r["temperature_probs"][::-1], "reverse order"),
        ("temperature_probs", lambda r: r["temperature_probs"].T, "one row per temperature"),
        (
            "temperature_probs",
            lambda r: r["temperature_probs"] * 1.1,
            "softmax(x / temperatures[k])",
        ),
    ],
    "parameter_count": [
        (
            "count_parameters",
            lambda r: lambda m: sum(v.numel() for v in m.state_dict().values()),
            "tied input/output weights twice",
        ),
        (
            "count_parameters",
            lambda r: lambda m: len(list(m.parameters())),
            "sum p.numel() over model.parameters()",
        ),
    ],
    "final_logits": [
        # the pitfall of the chapter: the distribution after the first token, not the last
        ("final_logits", lambda r: logits()[0], "logits[0, -1], the last position"),
        ("final_logits", lambda r: check._softmax(r["final_logits"]), "look like probabilities"),
        ("argmax_id", lambda r: int(np.argmin(r["final_logits"])), "smallest logit"),
        ("argmax_id", lambda r: r["argmax_id"] + 1, "final_logits.argmax()"),
    ],
    "top_tokens": [
        ("top_ids", lambda r: r["top_ids"][::-1], "increasing order"),
        ("top_ids", lambda r: np.argsort(-logits()[0])[:10], "the 10 ids of the largest"),
        ("top_probs", lambda r: logits()[-1][r["top_ids"]], "these are logits"),
        (
            "top_by_temperature",
            lambda r: {t: check._softmax(logits()[-1] * t)[r["top_ids"]] for t in TOP_TEMPERATURES},
            "multiplies by T",
        ),
        (
            "top_by_temperature",
            lambda r: {t: check._softmax(logits()[-1][r["top_ids"]] / t) for t in TOP_TEMPERATURES},
            "renormalises over the 10 ids",
        ),
    ],
    "stable_softmax": [
        ("stable_softmax", lambda r: naive, "subtract the maximum (not the minimum)"),
        ("stable_softmax", lambda r: lambda z: naive(z - z.min()), "subtract the maximum"),
        ("stable_softmax", lambda r: lambda z: np.exp(z - z.max()), "exp(z - z.max()) / its sum"),
        ("stable_probs", lambda r: check._softmax(logits(RARE)[0]), "logits[0, -1]"),
        ("stable_probs", lambda r: r["stable_probs"][::-1], "should equal F.softmax"),
    ],
}

test_wrong_answers = checkutil.wrong_answers(check, inputs, WRONG)


def test_top_tokens_demands_a_peak_only_from_a_trained_model(capsys):
    """On the trained SmolLM2 a flat distribution fails; a random stand-in is only described."""
    model_id, prompt, temps = inputs()["top_tokens"]
    ref = checkutil.right_values(check.top_tokens, (model_id, prompt, temps))
    values = {p: ref[p] for p in checkutil.learner_parameters(check.top_tokens)}
    assert "peaked" in checkutil.run(check.top_tokens, (model_id, prompt, temps), values, capsys)
    gpt2 = ("gpt2", prompt, temps)
    ref = checkutil.right_values(check.top_tokens, gpt2)
    values = {p: ref[p] for p in checkutil.learner_parameters(check.top_tokens)}
    out = checkutil.run(check.top_tokens, gpt2, values, capsys)
    assert out.startswith("PASS top_tokens") and "random weights" in out, out


@pytest.mark.parametrize("model_id", [SMOLLM2, "gpt2"])
def test_the_reference_logits_are_the_model_output(model_id):
    """The checks' logits equal a fresh forward pass of the registry's model."""
    import torch

    from ml4llm.models import load_tokenizer
    from ml4llm.tokens import encode

    model, tokenizer = load_model(model_id, head="lm"), load_tokenizer(model_id)
    with torch.no_grad():
        fresh = model(torch.tensor([encode(tokenizer, PROMPT)])).logits[0].double().numpy()
    np.testing.assert_allclose(check._logits(model_id, PROMPT), fresh, atol=1e-5)
