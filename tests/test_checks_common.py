"""The shared comparators of ml4llm.checks.common, and the shared cosine_matrix check."""

from __future__ import annotations

import functools

import checkutil
import numpy as np
import pandas as pd
import pytest
import torch

from ml4llm.checks import CheckFailed, Expect
from ml4llm.checks import common as check

ROWS = np.array([[3.0, 4.0, 0.0], [1.0, 0.0, 0.0], [0.0, 2.0, 1.0], [1.0, 1.0, 1.0]])


@functools.cache
def inputs() -> dict[str, tuple]:
    return {"cosine_matrix": (ROWS,)}


WRONG = {  # check -> [(learner value, wrong answer from the right values r, hint substring)]
    "cosine_matrix": [
        ("matrix", lambda r: ROWS @ ROWS.T, "the diagonal is not 1"),
        ("matrix", lambda r: np.triu(r["matrix"]), "not symmetric"),
        ("matrix", lambda r: check.cosines(ROWS.T), "this compares the columns"),
        ("matrix", lambda r: r["matrix"] ** 2, "differ from the cosines"),
    ],
}

test_wrong_answers = checkutil.wrong_answers(check, inputs, WRONG)


def fails(value, expect: Expect, name: str = "x") -> str:
    with pytest.raises(CheckFailed) as info:
        check.require_expected(value, expect, name)
    return str(info.value)


def test_values_say_what_was_expected():
    right = Expect(np.array([0.1, 0.2, 0.3]), "HINT")
    assert fails(None, right) == "x is None: expected 3 numbers"
    assert "float16" in fails(torch.tensor([0.1, 0.2, 0.3], dtype=torch.float16), right)
    assert fails([0.1, 0.2], right).startswith("x: expected 3 numbers, got a list of 2 float")
    assert fails([0.1, 0.2, 0.4], right) == "x: HINT (first at index 2: yours 0.4, expected 0.3)"
    assert (
        fails(np.zeros(3), right) == "x is still all zero: fill in the code that computes it first"
    )
    check.require_expected(torch.tensor([0.1, 0.2, 0.3]), right, "x")  # a tensor is fine
    assert "True/False" in fails([1, 0], Expect(np.array([True, False]), "H"))
    assert "expected a str" in fails(["a"], Expect("a", "H"))


def test_a_trap_never_catches_the_right_answer():
    right = np.array([0.5, 0.25])
    close = right + 4e-4  # a wrong answer closer to the right one than its tolerance
    check.require_expected(right + 1e-6, Expect(right, "H", traps=[(close, "TRAP")]), "x")
    message = fails(close, Expect(right, "H", traps=[(close, "TRAP")], atol=1e-5))
    assert message == "x: TRAP"
    # a trap equal to the reference cannot tell a mistake: it is skipped
    assert fails(right * 2, Expect(right, "H", traps=[(right, "TRAP")])).startswith("x: H")


def test_frames_dicts_and_items():
    table = pd.DataFrame({"word": ["a", "b"], "n": [1, 2]}, index=["p", "q"])
    right = Expect(table, columns={"n": "NHINT"})
    check.require_expected(table.copy(), right, "t")
    assert "needs the columns 'word', 'n'" in fails(table[["n"]], right, "t")
    assert "the index should be" in fails(table.reset_index(drop=True), right, "t")
    assert fails(table.assign(n=[1, 3]), right, "t").startswith("t['n']: NHINT")
    assert "expected a pandas DataFrame" in fails([("a", 1), ("b", 2)], right, "t")
    rows = Expect([("a", 1), ("b", 2)], columns={"word": "WHINT", "n": "NHINT"})
    check.require_expected([("a", 1), ("b", 2)], rows, "t")
    assert "a list of 2 rows of 2 values (word, n)" in fails([("a",), ("b",)], rows, "t")
    assert fails([("a", 1), ("c", 2)], rows, "t").startswith("t['word']: WHINT")
    scores = Expect({"m1": 0.5, "m2": 0.25}, "SHINT")
    assert "the keys ['m1', 'm2']" in fails({"m1": 0.5}, scores)
    assert fails({"m1": 0.5, "m2": 0.3}, scores).startswith("x['m2']: SHINT")
    pieces = Expect([["a", "b"], ["c"]], "PHINT", items=["ab", "c"])
    assert fails([["a", "b"], ["d"]], pieces).startswith("x['c']: PHINT")
    assert "expected a list of 2" in fails("ab|c", pieces)


def test_call_and_reference_helpers():
    assert check.call(lambda a: a + 1, 1, name="f", returns="a number") == 2
    with pytest.raises(CheckFailed, match=r"f\(\.\.\.\) returned None: it must return a number"):
        check.call(lambda a: None, 1, name="f", returns="a number")
    with pytest.raises(CheckFailed, match="raised ZeroDivisionError"):
        check.call(lambda a: 1 / 0, 1, name="f", returns="a number")
    unit = check.unit_rows(np.array([[3.0, 4.0], [0.0, 0.0]]))
    assert np.allclose(unit, [[0.6, 0.8], [0.0, 0.0]])
    assert list(check.upper(np.arange(9).reshape(3, 3))) == [1, 2, 5]
    assert check.is_symmetric(np.eye(2)) and not check.is_symmetric(np.triu(np.ones((2, 2))))
    assert check.has_unit_diagonal(np.eye(2)) and not check.has_unit_diagonal(np.zeros((2, 2)))
