"""Self-checks that the helper notebooks call after each part.

A check compares the learner's value with a reference computed here or with an invariant, never
with the learner's own numbers. It prints one line and returns a :class:`CheckResult`, truthy when it passed:

- ``PASS <check>: <what was verified>``
- ``FAIL <check>: <hint at what is wrong>``
- ``<check>: fill in the blank first`` when a value is still ``...``

Per-project checks live in ``ml4llm.checks.projNN``; notebooks use them as
``from ml4llm.checks import proj01 as check`` and then ``check.char_vocab(...)``.
Write a check as a function decorated with :func:`check` that calls :func:`require` (or raises
:class:`CheckFailed`) and returns a short description of what passed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any


class CheckFailed(AssertionError):
    """Raised inside a check; its message is the hint shown to the learner."""


def require(condition: Any, hint: str) -> None:
    """Fail the running check with ``hint`` unless ``condition`` holds."""
    if not bool(condition):
        raise CheckFailed(hint)


def has_blank(value: Any, depth: int = 3) -> bool:
    """True when ``value`` is ``...`` or holds it: lists, tuples, sets, dicts, object arrays, DataFrames."""
    if value is Ellipsis:
        return True
    if depth == 0:
        return False
    dtype = getattr(value, "dtype", None)
    if dtype is not None and getattr(dtype, "kind", "") == "O":  # NumPy / pandas object data
        flat = value.to_numpy().ravel() if hasattr(value, "to_numpy") else value.ravel()
        return any(v is Ellipsis for v in flat)
    if hasattr(value, "columns") and hasattr(value, "to_numpy"):  # a DataFrame of mixed columns
        return any(has_blank(value[c], depth - 1) for c in value.columns)
    if isinstance(value, Mapping):
        return any(has_blank(v, depth - 1) for v in value.values())
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(has_blank(v, depth - 1) for v in value)
    return False


class CheckResult:
    """The outcome of a check: truthy when it passed; shows nothing as a cell's last value."""

    def __init__(self, passed: bool, message: str) -> None:
        self.passed = passed
        self.message = message

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        return f"CheckResult(passed={self.passed}, message={self.message!r})"

    def _ipython_display_(self) -> None:
        """The line is already printed; a notebook shows nothing more."""


def check(func: Callable[..., str | None]) -> Callable[..., CheckResult]:
    """Turn ``func`` into a self-check that prints PASS, FAIL or "fill in the blank first"."""
    name = func.__name__

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> CheckResult:
        if any(has_blank(v) for v in (*args, *kwargs.values())):
            return _report(
                False, f"{name}: fill in the blank first (a value you pass is still `...`)."
            )
        try:
            detail = func(*args, **kwargs)
        except CheckFailed as failed:
            return _report(False, f"FAIL {name}: {failed}")
        except Exception as err:  # the learner's value has the wrong type or shape
            return _report(
                False, f"FAIL {name}: could not check your value ({type(err).__name__}: {err})."
            )
        return _report(True, f"PASS {name}" + (f": {detail}" if detail else ""))

    wrapper.is_check = True  # type: ignore[attr-defined]
    return wrapper


def _report(passed: bool, message: str) -> CheckResult:
    print(message)
    return CheckResult(passed, message)
