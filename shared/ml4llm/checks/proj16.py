"""Self-checks for project 16, "Softmax probability distributions".

The references start from the course's numbers, the model id and the prompt: the checks run the
model themselves (once per session, quietly), so a wrong position or a wrong model upstream
cannot make them pass.
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
from ml4llm.models import free, is_trained, load_model, load_tokenizer
from ml4llm.tokens import decode_token, encode

SUM_TO_ONE = "divide by the sum of the exponentials, so that the probabilities sum to 1"
EXP_FIRST = "exponentiate first: softmax is exp(x) / exp(x).sum(), not x / x.sum()"
BY_MAX = "this divides by the largest exponential: divide by their sum instead"
LAST = "this is the distribution after the first token: take logits[0, -1], the last position"
NOT_LOGITS = "these look like probabilities: keep the raw logits (before any softmax)"


def _softmax(x: Any) -> np.ndarray:
    """The right softmax along the last axis (float64), from torch."""
    return torch.softmax(torch.as_tensor(common.as_array(x, np.float64)), dim=-1).numpy()


def _softmax_traps(x: np.ndarray) -> list[tuple[Any, str]]:
    e = np.exp(x)
    return [
        (e / e.max(axis=-1, keepdims=True), BY_MAX),
        (e, SUM_TO_ONE),
        (
            lambda v: v.shape == x.shape and np.allclose(v, x / x.sum(axis=-1, keepdims=True)),
            EXP_FIRST,
        ),
    ]


def _numbers(numbers: Sequence[float]) -> dict[str, Any]:
    x = common.as_array(numbers, np.float64)
    return {
        "probs": Expect(
            _softmax(x),
            "the hand softmax differs from torch.softmax",
            traps=_softmax_traps(x),
            atol=1e-6,
        ),
        "torch_probs": Expect(
            _softmax(x), "torch.softmax(torch.tensor(numbers), dim=0)", atol=1e-6
        ),
        "softmax": lambda v: np.exp(v) / np.exp(v).sum(),
    }


@check(reference=_numbers)
def hand_softmax(numbers, *, softmax, probs, torch_probs) -> str:
    """The learner's softmax function on the numbers (and on other input) equals torch.softmax."""
    x = common.as_array(numbers, np.float64)
    for name, other in (("numbers", x), ("2 * numbers", 2 * x), ("[0, 1]", np.array([0.0, 1.0]))):
        result = common.call(softmax, other.copy(), name="softmax", returns="the probabilities")
        common.require_values(
            result,
            _softmax(other),
            name=f"softmax({name})",
            hint="differs from torch.softmax",
            traps=_softmax_traps(other),
            atol=1e-6,
        )
    gap = float(np.abs(common.as_array(probs, np.float64) - _softmax(x)).max())
    return f"{len(x)} probabilities summing to 1; largest gap to torch.softmax {gap:.1e}"


def _temperatures(x: Sequence[float], temperatures: Sequence[float]) -> dict[str, Any]:
    x = common.as_array(x, np.float64)
    temps = common.as_array(temperatures, np.float64)
    rows = np.stack([_softmax(x / t) for t in temps])
    times = np.stack([_softmax(x * t) for t in temps])
    return {
        "temperature_probs": Expect(
            rows,
            "row k should be softmax(x / temperatures[k])",
            traps=[
                (times, "this multiplies by the temperature: divide the logits by T"),
                (np.stack([np.exp(x / t) for t in temps]), SUM_TO_ONE),
                (rows[::-1], "the rows are in the reverse order of temperatures"),
                (rows.T, "one row per temperature, one column per x value (transpose it)"),
            ],
            atol=1e-6,
        )
    }


@check(reference=_temperatures)
def temperature_curves(x, temperatures, *, temperature_probs) -> str:
    """One softmax per temperature, each summing to 1."""
    return f"{len(temperatures)} temperatures, every row sums to 1 (within 1e-6)"


@functools.cache
def _forward(model_id: str, text: str) -> tuple[np.ndarray, bool]:
    """The model's logits at every position of the text (float64), and whether it is trained."""
    with contextlib.redirect_stdout(io.StringIO()):  # a check prints its own line only
        tokenizer = load_tokenizer(model_id)
        model = load_model(model_id, head="lm")
    ids = torch.tensor([encode(tokenizer, text)], device=model.device)
    with torch.no_grad():
        logits = model(ids).logits[0].double().cpu().numpy()
    trained = is_trained(model)
    del model
    free()
    return logits, trained


def _logits(model_id: str, text: str) -> np.ndarray:
    """The model's logits at every position of the text, (positions, vocabulary), float64."""
    return _forward(model_id, text)[0]


def _final(model_id: str, prompt: str) -> dict[str, Any]:
    logits = _logits(model_id, prompt)
    probs = _softmax(logits[-1])
    top = np.argsort(-probs, kind="stable")[:10]
    return {
        "final_logits": Expect(
            logits[-1],
            "the logits after the last prompt token: model(ids).logits[0, -1]",
            traps=[(logits[0], LAST), (probs, NOT_LOGITS)],
            atol=1e-3,
        ),
        "argmax_id": Expect(
            int(top[0]),
            "the id with the largest logit: final_logits.argmax()",
            traps=[(int(np.argmin(logits[-1])), "this is the smallest logit: use argmax")],
        ),
        "top_ids": Expect(
            top,
            "the 10 ids of the largest probabilities, largest first (torch.topk(probs, 10))",
            traps=[(top[::-1], "the ids are in increasing order: topk gives the largest first")],
        ),
        "top_probs": Expect(
            probs[top],
            "the probabilities of the top 10 ids (softmax of the final logits), largest first",
            traps=[(logits[-1][top], "these are logits: apply softmax, then topk")],
            atol=1e-5,
        ),
    }


@check(reference=_final)
def final_logits(model_id, prompt, *, final_logits, argmax_id) -> str:
    """The final-position logits of the prompt and their argmax."""
    tokenizer = _tokenizer(model_id)
    return f"{len(final_logits)} logits; the argmax is {decode_token(tokenizer, int(argmax_id))!r}"


def _top(model_id: str, prompt: str, temperatures: Sequence[float]) -> dict[str, Any]:
    ref = _final(model_id, prompt)
    logits = _logits(model_id, prompt)[-1]
    top = ref["top_ids"].value
    by_t = {t: _softmax(logits / t)[top] for t in temperatures}
    return ref | {
        "top_by_temperature": Expect(
            by_t,
            "softmax(final_logits / T) over the whole vocabulary, then the top ids' entries",
            traps=[
                (
                    {t: _softmax(logits * t)[top] for t in temperatures},
                    "this multiplies by T: divide",
                ),
                (
                    {t: _softmax(logits[top] / t) for t in temperatures},
                    "this renormalises over the 10 ids only: softmax over the whole vocabulary first",
                ),
            ],
            atol=1e-5,
        )
    }


@check(reference=_top)
def top_tokens(model_id, prompt, temperatures, *, top_ids, top_probs, top_by_temperature) -> str:
    """The 10 most probable next tokens and their probabilities; peaked when the model is trained."""
    probs = common.as_array(top_probs, np.float64)
    vocabulary = len(_logits(model_id, prompt)[-1])
    ratio = probs[0] * vocabulary  # how many times the uniform probability 1 / V
    if _forward(model_id, prompt)[1]:
        require(
            ratio > 100,
            f"top_probs: a trained model's top probability is far above 1/V; got {probs[0]:.2g} "
            f"({ratio:.0f} x uniform): use the trained model's final logits",
        )
        shape = f"peaked: the top token is {ratio:,.0f} x the uniform 1/V"
    else:
        shape = f"random weights: the top token is only {ratio:.1f} x the uniform 1/V"
    tokenizer = _tokenizer(model_id)
    return f"top token {decode_token(tokenizer, int(top_ids[0]))!r} at {probs[0]:.3f}; {shape}"


@functools.cache
def _tokenizer(model_id: str) -> Any:
    with contextlib.redirect_stdout(io.StringIO()):
        return load_tokenizer(model_id)


def _shifted(vector: np.ndarray, top: float) -> np.ndarray:
    """A float32 copy of ``vector`` moved so that its largest entry is ``top``."""
    v = vector.astype(np.float64)
    return (v - v.max() + top).astype(np.float32)


def _stable_softmax(z: np.ndarray) -> np.ndarray:
    """A right max-subtracting softmax (the reference's example of the learner's function)."""
    e = np.exp(z - z.max())
    return e / e.sum()


def _stable(model_id: str, text: str) -> dict[str, Any]:
    logits = _logits(model_id, text)[-1]
    return {
        "stable_softmax": _stable_softmax,
        "stable_probs": Expect(
            _softmax(logits),
            "the max-subtracted hand softmax should equal F.softmax of the same logits",
            traps=[(_softmax(_logits(model_id, text)[0]), LAST)],
            atol=1e-5,
        ),
    }


@check(reference=_stable)
def stable_softmax(model_id, text, *, stable_softmax, stable_probs) -> str:
    """The learner's max-subtracting softmax survives logits far from 0, in float32."""
    logits = _logits(model_id, text)[-1]
    cases = {
        f"logits whose maximum is {top:g}": _shifted(logits, top) for top in (-120.0, 0.0, 120.0)
    }
    # a range wider than float32's exp can take: subtracting the minimum would overflow
    cases["logits / 0.1 (a wide range)"] = (logits / 0.1).astype(np.float32)
    for case, z in cases.items():
        with np.errstate(all="ignore"):  # a naive softmax's overflow shows as NaN below
            result = common.call(
                stable_softmax, z.copy(), name="stable_softmax", returns="the probabilities"
            )
        got = common.as_array(result, np.float64)
        require(
            got.shape == z.shape and not np.isnan(got).any(),
            f"stable_softmax gives NaN or a wrong shape for {case}: subtract the "
            "maximum (not the minimum) before np.exp",
        )
        common.require_values(
            got,
            _softmax(z),
            name=f"stable_softmax({case})",
            hint="differs from F.softmax: exp(z - z.max()) / its sum",
            atol=1e-6,
        )
    return (
        "equals F.softmax for logits moved to a maximum of -120, 0 and +120, and for logits / 0.1"
    )


def _parameters(model_id: str) -> dict[str, Any]:
    return {"count_parameters": lambda model: sum(p.numel() for p in model.parameters())}


@check(reference=_parameters)
def parameter_count(model_id, *, count_parameters) -> str:
    """The learner's parameter counter gives each tensor once (tied weights are shared)."""
    with contextlib.redirect_stdout(io.StringIO()):
        model = load_model(model_id, head="lm")
    try:
        right = sum(p.numel() for p in model.parameters())
        twice = sum(v.numel() for v in model.state_dict().values())
        got = common.call(count_parameters, model, name="count_parameters", returns="a number")
        tied = "this counts the tied input/output weights twice: sum over model.parameters()"
        common.require_values(
            got,
            right,
            name="count_parameters(model)",
            hint="sum p.numel() over model.parameters()",
            traps=[(twice, tied)] if twice != right else [],
            atol=0,
            rtol=0,
        )
    finally:
        del model
        free()
    tied_note = " (tied weights counted once)" if twice != right else ""
    return f"{model_id}: {right:,} parameters{tied_note}"
