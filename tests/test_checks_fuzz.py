"""Every check of every migrated project, called with odd values, still says something useful.

For each check, each learner value is replaced, one at a time, by odd values (None, NaN, a str,
an empty list, a list, a tensor of another dtype or device, a wrong shape; see
``checkutil.odd_values``) while the others keep their right values. Each call must print one
line without a traceback or warning: a FAIL that is not the vague "could not check your value",
or a PASS only for a value that holds the right values in another container. ``...`` must give
"fill in the blank first". The right values themselves must PASS.

A project is migrated when its checks follow the style of CONTRIBUTING.md ("Self-checks"): each
has a ``reference``, keyword-only learner values, and its test module defines ``inputs()`` and
a ``WRONG`` table that names every check.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import checkutil
import pytest

import ml4llm.checks as checks_pkg

MIGRATED = ["common", "proj01", "proj12", "proj16", "proj17"]
# Not yet in the style of CONTRIBUTING.md (issue 11). Migrate a project, then move it from here to
# MIGRATED; this list must end up empty.
PENDING = [f"proj{n:02d}" for n in (2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15)]


def checks_of(module_name: str) -> list[str]:
    module = importlib.import_module(f"ml4llm.checks.{module_name}")
    return sorted(
        name
        for name, f in inspect.getmembers(module)
        if getattr(f, "is_check", False) and f.__module__ == module.__name__
    )


def test_every_check_module_is_migrated_or_pending():
    modules = {info.name for info in pkgutil.iter_modules(checks_pkg.__path__)}
    assert not set(MIGRATED) & set(PENDING)
    assert modules == set(MIGRATED) | set(PENDING), "list each check module in one of the two"


@pytest.mark.parametrize("module_name", MIGRATED)
def test_migrated_checks_follow_the_style(module_name):
    module = importlib.import_module(f"ml4llm.checks.{module_name}")
    tests = importlib.import_module(f"test_checks_{module_name}")
    source = inspect.getsource(module)
    if module_name != "common":  # as_array itself wraps np.asarray
        assert "np.asarray(" not in source, "use common.as_array: it also takes GPU tensors"
    tabled = {name for name, rows in tests.WRONG.items() if rows}
    for name in checks_of(module_name):
        check = getattr(module, name)
        assert check.reference is not None, f"{name} has no reference"
        reference_inputs = list(inspect.signature(check.reference).parameters)
        assert list(check.inputs) == reference_inputs[: len(check.inputs)], name
        assert checkutil.learner_parameters(check), f"{name}: no keyword-only learner values"
        assert name in tabled, f"{name} has no wrong answer in test_checks_{module_name}.WRONG"
        assert name in tests.inputs(), f"{name} has no inputs in test_checks_{module_name}"


CASES = [(m, name) for m in MIGRATED for name in checks_of(m)]


@pytest.mark.parametrize(("module_name", "name"), CASES, ids=[f"{m}.{n}" for m, n in CASES])
def test_odd_values_get_a_clear_line(module_name, name, capsys):
    check = getattr(importlib.import_module(f"ml4llm.checks.{module_name}"), name)
    args = importlib.import_module(f"test_checks_{module_name}").inputs()[name]
    ref = checkutil.right_values(check, args)
    right = {p: ref[p] for p in checkutil.learner_parameters(check)}
    out = checkutil.run(check, args, right, capsys)
    assert out.startswith(f"PASS {name}"), f"the right values do not pass: {out}"
    problems = []
    for parameter, value in right.items():
        odd = [("...", ..., None), *checkutil.odd_values(value)]
        for description, wrong, may_pass in odd:
            try:
                out = checkutil.run(check, args, {**right, parameter: wrong}, capsys)
            except Exception as err:  # a warning turned into an error, or a crash
                problems.append(f"{parameter} = {description}: {type(err).__name__}: {err}")
                continue
            if may_pass is None:
                ok = out == f"{name}: fill in the blank first (a value you pass is still `...`)."
            elif out.startswith("PASS"):
                ok = may_pass
            else:
                ok = out.startswith(f"FAIL {name}: ") and "could not check your value" not in out
            if not ok or "\n" in out or "Traceback" in out:
                problems.append(f"{parameter} = {description}: {out}")
    assert not problems, "\n".join(problems)
