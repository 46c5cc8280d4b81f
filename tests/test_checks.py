"""The self-check mechanism, and a guard that every project's checks are tested."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

import ml4llm.checks as checks_pkg
from ml4llm.checks import CheckResult, Expect, check, check_lines, has_blank, require


@check
def positive(x):
    require(x > 0, "the value should be positive")
    return f"{x} > 0"


def test_pass_fail_and_blank_lines(capsys):
    assert positive(3)
    assert capsys.readouterr().out == "PASS positive: 3 > 0\n"
    result = positive(-1)
    assert not result and isinstance(result, CheckResult)
    assert capsys.readouterr().out == "FAIL positive: the value should be positive\n"
    assert not positive(...)
    assert "fill in the blank first" in capsys.readouterr().out


def test_wrong_type_is_a_fail_with_the_error_not_a_crash(capsys):
    assert not positive("three")
    out = capsys.readouterr().out
    assert out.startswith("FAIL positive: could not check your value (TypeError")


def test_blanks_are_found_inside_containers():
    assert has_blank(...)
    assert has_blank([1, ...]) and has_blank({"a": (2, ...)})
    assert not has_blank([1, 2]) and not has_blank("...")


def test_every_project_check_module_has_a_test_file():
    """A check that is not tested could pass anything: each checks/projNN.py needs its tests."""
    tests = Path(__file__).parent
    for info in pkgutil.iter_modules(checks_pkg.__path__):
        if info.name == "common":  # shared reference computations, no checks of its own
            continue
        module = importlib.import_module(f"ml4llm.checks.{info.name}")
        names = [  # a check re-exported from another project is tested with that project
            n
            for n, f in inspect.getmembers(module)
            if getattr(f, "is_check", False) and f.__module__ == module.__name__
        ]
        assert names, f"{info.name} defines no checks"
        test_file = tests / f"test_checks_{info.name}.py"
        assert test_file.exists(), f"missing {test_file.name}"
        source = test_file.read_text()
        for name in names:
            assert name in source, f"check {info.name}.{name} is not exercised in {test_file.name}"


def test_blanks_are_found_in_arrays_and_frames():
    import numpy as np
    import pandas as pd

    assert has_blank(np.array([1, ...], dtype=object))
    assert not has_blank(np.array([1.0, 2.0]))
    assert has_blank(pd.Series([1, ...]))
    assert has_blank(pd.DataFrame({"a": [1, 2], "b": ["x", ...]}))
    assert not has_blank(pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}))


def test_a_label_names_the_call_and_a_wrong_call_says_how_to_call(capsys):
    assert positive(2, label="two")
    assert capsys.readouterr().out == "PASS positive (two): 2 > 0\n"
    assert not positive(1, 2)
    assert "call it as check.positive(x)" in capsys.readouterr().out


@check(reference=lambda n: {"squares": Expect([i * i for i in range(n)], "square each index")})
def squares(n, *, squares):
    return f"{n} squares"


def test_the_decorator_compares_each_expected_value_before_the_body(capsys):
    assert squares(3, squares=[0, 1, 4]) and not squares(3, squares=[0, 1, 2])
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "PASS squares: 3 squares",
        "FAIL squares: squares: square each index (first at index 2: yours 2, expected 4)",
    ]
    assert squares.reference(3)["squares"].value == [0, 1, 4] and squares.inputs == ("n",)


def test_check_lines_reads_what_checks_print():
    text = "PASS a: ok\nother\nFAIL b (gpt2 (hub)): no\nc: fill in the blank first (...)."
    assert [(s, t) for s, t, _ in check_lines(text)] == [
        ("PASS", "a"),
        ("FAIL", "b (gpt2 (hub))"),
        ("BLANK", "c"),
    ]
