"""Self-checks that the helper notebooks call after each part.

A check prints one line and returns a :class:`CheckResult`, truthy when it passed:

- ``PASS <check>: <what was verified>``
- ``FAIL <check>: <hint at what is wrong>``
- ``<check>: fill in the blank first`` when a value is still ``...``

A call given ``label="..."`` names what it checked: ``PASS cosine_matrix (gpt2): ...``; label
every call of a check that runs more than once in a notebook.

Per-project checks live in ``ml4llm.checks.projNN``; notebooks use them as
``from ml4llm.checks import proj01 as check``, then ``check.char_vocab(sentence, char_vocab=...)``.
A check is a function decorated with :func:`check`. Its positional parameters are the package's
inputs (the words, the tokenizer, the text, the model id); its keyword-only parameters are the
learner's values. ``reference`` computes, from the inputs alone, the right value of every
keyword-only parameter. A right value wrapped in :class:`Expect` (with its hint and the known
wrong answers) is compared by the decorator itself; the check's body receives the plain values
as ``ref``, compares the rest with :mod:`ml4llm.checks.common` and returns what passed (see
CONTRIBUTING.md, "Self-checks").
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


class CheckFailed(AssertionError):
    """Raised inside a check; its message is the hint shown to the learner."""


def require(condition: Any, hint: str) -> None:
    """Fail the running check with ``hint`` unless ``condition`` holds."""
    if not bool(condition):
        raise CheckFailed(hint)


def has_blank(value: Any, depth: int = 3) -> bool:
    """True when ``value`` is ``...`` or holds it (lists, tuples, sets, dicts, arrays, frames)."""
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


@dataclass(frozen=True)
class Expect:
    """The right value of one learner parameter, for the decorator to compare.

    ``value`` holds numbers, flags or strings (compared by ``common.require_values`` with
    ``hint``, ``traps`` and the tolerances), or it is a dict (each key's value compared so). With
    ``columns`` (each compared column's hint, or ``(hint, traps)``) it is a DataFrame, which the
    learner must give with those columns (an index other than 0, 1, 2, ... is compared too), or a
    list of rows (tuples in the order of ``columns``), which the learner gives as such a list.
    With ``items`` (one label per item), ``value`` is a list compared item by item, e.g. a list of
    pieces per word. A trap is ``(wrong answer, hint)``: a wrong value, or a predicate on the
    learner's value converted to an array.
    """

    value: Any
    hint: str = ""
    traps: Sequence[tuple[Any, str]] = ()
    atol: float = 1e-5
    rtol: float = 1e-4
    columns: Mapping[str, str | tuple[str, Sequence[tuple[Any, str]]]] | None = None
    items: Sequence[Any] | None = None

    def require(self, value: Any, name: str) -> None:
        """Fail with a hint unless ``value`` is this right value."""
        from ml4llm.checks import common

        common.require_expected(value, self, name)


Reference = Callable[..., Mapping[str, Any]]


def check(
    func: Callable[..., str | None] | None = None, *, reference: Reference | None = None
) -> Any:
    """Turn ``func`` into a self-check that prints PASS, FAIL or "fill in the blank first".

    Use as ``@check`` or ``@check(reference=fn)``. With a reference, ``fn`` is called with the
    check's positional inputs (by name) and returns ``{learner parameter: right value}`` (more
    keys are allowed: one function can serve all checks of a project). Each learner value whose
    right value is an :class:`Expect` is compared first, in parameter order; then ``func`` runs
    (given the plain right values as ``ref`` when it has that keyword) and returns what passed.
    The wrapper takes ``label=`` to name the call.
    """
    if func is None:
        return functools.partial(check, reference=reference)
    name = func.__name__
    signature = inspect.signature(func)
    inputs = [
        p.name
        for p in signature.parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    if "label" in signature.parameters:
        raise TypeError(f"check {name}: `label` is reserved for naming a call")
    shown = signature.replace(
        parameters=[p for p in signature.parameters.values() if p.name != "ref"]
    )
    learner = [p.name for p in shown.parameters.values() if p.kind is p.KEYWORD_ONLY]
    usage = ", ".join([*inputs, *(f"{k}=..." for k in learner)])

    @functools.wraps(func)
    def wrapper(*args: Any, label: str | None = None, **kwargs: Any) -> CheckResult:
        title = f"{name} ({label})" if label else name
        if any(has_blank(v) for v in (*args, *kwargs.values())):
            return _report(
                False, f"{title}: fill in the blank first (a value you pass is still `...`)."
            )
        try:
            bound = shown.bind(*args, **kwargs)
        except TypeError as err:
            return _report(False, f"FAIL {title}: {err}; call it as check.{name}({usage})")
        try:
            if reference is not None:
                given = {k: v for k, v in bound.arguments.items() if k in inputs}
                ref = dict(reference(**given))
                for key in learner:
                    if isinstance(ref.get(key), Expect):
                        ref[key].require(bound.arguments[key], key)
                ref = {k: v.value if isinstance(v, Expect) else v for k, v in ref.items()}
                extra = {"ref": ref} if "ref" in signature.parameters else {}
                detail = func(*bound.args, **bound.kwargs, **extra)
            else:
                detail = func(*bound.args, **bound.kwargs)
        except CheckFailed as failed:
            return _report(False, f"FAIL {title}: {failed}")
        except Exception as err:  # a check that does not foresee this value: still no crash
            return _report(
                False, f"FAIL {title}: could not check your value ({type(err).__name__}: {err})."
            )
        return _report(True, f"PASS {title}" + (f": {detail}" if detail else ""))

    wrapper.__signature__ = shown  # type: ignore[attr-defined]
    wrapper.is_check = True  # type: ignore[attr-defined]
    wrapper.reference = reference  # type: ignore[attr-defined]
    wrapper.inputs = tuple(inputs)  # type: ignore[attr-defined]
    return wrapper


def _report(passed: bool, message: str) -> CheckResult:
    """Print the check's line and record it for the notebook's scorecard (:mod:`ml4llm.scorecard`)."""
    from ml4llm import scorecard

    print(message)
    for status, title, _line in check_lines(message)[:1]:
        scorecard.record(status, title, message)
    return CheckResult(passed, message)


# The lines a check prints, as a notebook's output shows them (strict mode reads them back).
_TITLE = r"[A-Za-z_]\w*(?: \([^()]*(?:\([^()]*\)[^()]*)*\))?"
_LINE = re.compile(
    rf"^(?:(?P<status>PASS|FAIL) (?P<title>{_TITLE})(?::|$)"
    rf"|(?P<blank>{_TITLE}): fill in the blank first)"
)


def check_lines(text: str) -> list[tuple[str, str, str]]:
    """``(status, title, line)`` of every check line in printed text; status PASS, FAIL or BLANK."""
    found = []
    for line in text.splitlines():
        match = _LINE.match(line)
        if match and match["blank"]:
            found.append(("BLANK", match["blank"], line))
        elif match:
            found.append((match["status"], match["title"], line))
    return found
