"""What the check tests share: calling a check, its right values, wrong-answer tables, odd values.

A project's test module ``tests/test_checks_projNN.py`` defines

- ``inputs()``: ``{check name: (positional inputs,)}``, the package's inputs of every check
  (cached: tokenizers and models load once);
- ``WRONG``: ``{check name: [(learner parameter, wrong answer, hint), ...]}``, where the wrong
  answer is a function of the check's right values (a dict) and the hint is a substring that the
  FAIL line must contain;
- ``test_wrong_answers = checkutil.wrong_answers(check, inputs, WRONG)``.

``tests/test_checks_fuzz.py`` then calls every check with odd values (:func:`odd_values`), and
the solution notebook (strict mode) is each check's pass test.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np
import pytest

from ml4llm.checks import Expect


def expect(result, capsys, outcome: str) -> str:
    """``outcome`` is "pass", "fail" (a FAIL line with a hint) or "blank"; returns the output."""
    out = capsys.readouterr().out
    if outcome == "pass":
        assert result and out.startswith("PASS"), out
    elif outcome == "fail":
        assert not result and out.startswith("FAIL") and ": " in out, out
    else:
        assert not result and "fill in the blank first" in out, out
    return out


def learner_parameters(check: Callable) -> list[str]:
    """The keyword-only parameters of a check: the learner's values."""
    import inspect

    return [
        p.name
        for p in inspect.signature(check).parameters.values()
        if p.kind is p.KEYWORD_ONLY and p.name != "label"
    ]


def right_values(check: Callable, args: tuple) -> dict[str, Any]:
    """The reference's plain values (Expect unwrapped) for the check's positional ``args``."""
    ref = check.reference(**dict(zip(check.inputs, args)))
    return {k: v.value if isinstance(v, Expect) else v for k, v in ref.items()}


def run(check: Callable, args: tuple, values: Mapping[str, Any], capsys) -> str:
    """Call ``check(*args, **values)``; its printed line, with any warning as a failure."""
    capsys.readouterr()  # what came before, e.g. a tokenizer's loading line
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check(*args, **values)
    captured = capsys.readouterr()
    assert not captured.err, f"the check wrote to stderr: {captured.err}"
    return captured.out.strip()


def wrong_answers(module, inputs: Callable[[], dict], table: dict[str, list[tuple]]) -> Callable:
    """A parametrised test: each wrong answer of ``table`` FAILs with its hint."""
    rows = [(name, *row) for name, entries in table.items() for row in entries]

    @pytest.mark.parametrize(
        ("name", "parameter", "wrong", "hint"),
        rows,
        ids=[f"{row[0]}-{row[1]}-{i}" for i, row in enumerate(rows)],
    )
    def test_wrong_answer_gets_its_hint(name, parameter, wrong, hint, capsys):
        check = getattr(module, name)
        args = inputs()[name]
        ref = right_values(check, args)
        values = {p: ref[p] for p in learner_parameters(check)}
        out = run(check, args, {**values, parameter: wrong(ref)}, capsys)
        assert out.startswith(f"FAIL {name}: ") and hint in out, out

    return test_wrong_answer_gets_its_hint


def _raises(*args: Any) -> Any:
    raise ValueError("a bug in the learner's function")


def odd_values(right: Any) -> Iterator[tuple[str, Any, bool]]:
    """(description, odd value, may it pass) for a right value: None, NaN, wrong types, shapes,
    dtypes and devices. A value that may pass holds the right values in another container."""
    import torch

    yield "None", None, False
    yield "NaN", float("nan"), False
    yield "a str", "not the value", False
    yield "an empty list", [], False
    if callable(right):
        yield "a function returning None", lambda *args: None, False
        yield "a function that raises", _raises, False
        yield "a number instead of a function", 3, False
        return
    if hasattr(right, "columns") and hasattr(right, "iloc"):
        yield "a DataFrame without its last row", right.iloc[:-1], False
        yield "a DataFrame without its last column", right.iloc[:, :-1], False
        yield "the DataFrame as a dict", right.to_dict("list"), False
        yield "the rows as a list of tuples", list(right.itertuples(index=False)), True
        return
    if isinstance(right, Mapping):
        yield "an empty dict", {}, False
        yield "a dict of None", dict.fromkeys(right), False
        yield "a dict of NaN", dict.fromkeys(right, float("nan")), False
        yield "a dict without its last key", dict(list(right.items())[:-1]), False
        return
    yield "a dict", {"a": 1}, False
    if isinstance(right, list) and right and isinstance(right[0], tuple):  # rows
        yield "one row less", right[:-1], False
        yield "rows of one value less", [row[:-1] for row in right], False
        yield "the rows as one str", str(right), False
        return
    try:
        array = np.asarray(right)
    except ValueError:  # ragged: a list of lists of different lengths
        yield "a list without its last item", list(right)[:-1], False
        yield "the items joined into strings", ["|".join(map(str, r)) for r in right], False
        return
    if array.dtype.kind in "biuf":
        yield "a list", array.tolist(), True
        yield "a torch tensor", torch.tensor(array), True
        if torch.cuda.is_available():
            yield "a CUDA tensor", torch.tensor(array).cuda(), True
        if array.dtype.kind != "b":
            yield "a float16 tensor", torch.tensor(array, dtype=torch.float16), False
        if array.ndim:
            yield "one entry less", array.tolist()[:-1], False
            yield "an extra axis", array[None], False
            yield "all NaN", np.full(array.shape, np.nan), False
            if array.any():
                yield "all zero", np.zeros(array.shape), False
        else:
            yield "a list of one number", [array.item()], False
    elif array.dtype.kind in "US":
        if array.ndim:
            yield "a tuple", tuple(array.tolist()), True
            yield "one entry less", array.tolist()[:-1], False
            yield "numbers", list(range(array.size)), False
        else:
            yield "another str", str(right) + " (changed)", False
            yield "a list of the characters", list(str(right)), False
