"""The self-check mechanism, and a guard that every project's checks are tested."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

import ml4llm.checks as checks_pkg
from ml4llm.checks import CheckFailed, CheckResult, check, has_blank, require


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
        names = [n for n, f in inspect.getmembers(module) if getattr(f, "is_check", False)]
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


def test_common_reference_helpers():
    import numpy as np
    import torch

    from ml4llm.checks import common

    rows = np.array([[3.0, 4.0], [0.0, 0.0], [1.0, 0.0]])
    unit = common.unit_rows(rows)
    assert np.allclose(unit, [[0.6, 0.8], [0.0, 0.0], [1.0, 0.0]])
    assert np.allclose(common.as_array(torch.tensor([1.0, 2.0])), [1.0, 2.0])
    matrix = common.cosines(rows[[0, 2]])
    assert np.allclose(matrix, [[1.0, 0.6], [0.6, 1.0]])
    assert list(common.upper(np.arange(9).reshape(3, 3))) == [1, 2, 5]
    assert common.require_cosine_matrix(matrix, rows[[0, 2]], how="unit @ unit.T") == 2
    with pytest.raises(CheckFailed, match="not symmetric"):
        common.require_cosine_matrix(np.array([[1.0, 0.5], [0.6, 1.0]]), rows[[0, 2]], how="x")
