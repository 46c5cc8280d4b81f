"""What every project's checks share: comparators with their hints, and reference computations.

Comparators raise :class:`~ml4llm.checks.CheckFailed` with a hint and return the learner's value
converted (a NumPy array, a DataFrame, a function's result):

- :func:`require_values`: numbers, True/False flags or strings of any shape (a list, an array, a
  tensor on any device, a Series, a scalar) against a reference, with a table of known wrong
  answers (``traps``) each with its hint. None, NaN, the wrong type, shape or dtype, an empty or
  an all-zero value each get a FAIL that says what was expected.
- :func:`require_frame`: a DataFrame with the named columns (and index).
- :func:`call`: the result of a function the learner wrote (not callable, raises, returns None).
- :func:`is_symmetric`, :func:`has_unit_diagonal`: matrix properties, e.g. for traps.
- :func:`cosine_matrix`: the one cosine-matrix check every project uses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ml4llm.checks import CheckFailed, Expect, check, require

# (wrong answer, hint): the wrong answer is a value (compared like the reference) or a predicate
# called with the learner's value converted to a NumPy array.
Trap = tuple[Any, str]
_LOW_PRECISION = ("float16", "bfloat16")


def as_array(value: Any, dtype: Any = None) -> np.ndarray:
    """A NumPy array from an array, a list, a Series or a (CPU or GPU) torch tensor."""
    if hasattr(value, "detach"):
        value = value.detach().cpu()
        if str(value.dtype).removeprefix("torch.") in _LOW_PRECISION:
            value = value.float()
        value = value.numpy()
    return np.asarray(value, dtype=dtype)


def describe(value: Any) -> str:
    """A short description of a value's type, shape and dtype, for a hint."""
    if value is None:
        return "None"
    if hasattr(value, "detach") and hasattr(value, "shape"):  # a torch tensor
        kind = str(value.dtype).removeprefix("torch.")
        return f"{_a(kind)} tensor of shape {tuple(value.shape)} on {value.device}"
    if isinstance(value, np.ndarray):
        return f"{_a(str(value.dtype))} array of shape {value.shape}"
    if hasattr(value, "columns") and hasattr(value, "to_numpy"):
        return f"a DataFrame of {len(value)} rows with columns {list(value.columns)}"
    if hasattr(value, "to_numpy") and hasattr(value, "index"):
        return f"a Series of {len(value)} {value.dtype} values"
    if isinstance(value, (list, tuple, set, dict)):
        kind = type(value).__name__
        if not value:
            return f"an empty {kind}"
        items = value.values() if isinstance(value, dict) else value
        types = {type(v).__name__ for v in items}
        inner = f" {types.pop()}" if len(types) == 1 else ""
        return f"a {kind} of {len(value)}{inner} values"
    if isinstance(value, str):
        return f"the str {value[:40]!r}"
    if callable(value):
        return f"the function {getattr(value, '__name__', type(value).__name__)}"
    return f"{_a(type(value).__name__)} ({value!r:.40})"


def _a(word: str) -> str:
    return f"{'an' if word[:1] in 'aeiou' else 'a'} {word}"


def _expected(reference: np.ndarray) -> str:
    """What the learner should give, e.g. "18 numbers (shape (18,))"."""
    kind = {"b": "True/False values", "U": "strings", "S": "strings"}.get(
        reference.dtype.kind, "numbers"
    )
    if reference.ndim == 0:
        return "a str" if kind == "strings" else "one number (a scalar)"
    if reference.ndim == 1:
        return f"{reference.size} {kind}"
    return f"an array of {kind} of shape {reference.shape}"


def _plain(array: np.ndarray) -> np.ndarray:
    """An object array of only str, only bools or only numbers (e.g. a Series) as such an array."""
    if array.dtype.kind != "O" or not array.size:
        return array
    items = array.ravel().tolist()
    if all(isinstance(x, str) for x in items):
        return array.astype(str)
    if all(isinstance(x, (bool, np.bool_)) for x in items):
        return array.astype(bool)
    if all(isinstance(x, (int, float, np.number)) and not isinstance(x, bool) for x in items):
        return array.astype(np.float64)
    return array


def _convert(value: Any, want: np.ndarray, name: str) -> np.ndarray:
    """The learner's value as an array of the reference's kind, or a FAIL that says why not."""
    expected = _expected(want)
    require(value is not None, f"{name} is None: expected {expected}")
    kind = str(getattr(value, "dtype", "")).removeprefix("torch.")
    require(
        kind not in _LOW_PRECISION,
        f"{name} is {describe(value)}: expected {expected} in float32 or float64, because "
        f"{kind} rounds away the digits the check compares (convert it with .float())",
    )
    if want.dtype.kind in "US":
        require(
            want.ndim > 0 or isinstance(value, str),
            f"{name}: expected a str, got {describe(value)}",
        )
    try:
        got = as_array(value)
    except (TypeError, ValueError, RuntimeError) as err:
        why = "rows of different lengths" if "inhomogeneous" in str(err) else str(err)[:80]
        raise CheckFailed(f"{name}: expected {expected}, got {describe(value)} ({why})") from None
    numeric = want.dtype.kind in "biuf"
    text = want.dtype.kind in "US"
    got = _plain(got)
    require(
        not (numeric and got.dtype.kind not in "biuf")
        and not (text and got.dtype.kind not in "US"),
        f"{name}: expected {expected}, got {describe(value)}",
    )
    return got


def same(got: np.ndarray, want: np.ndarray, atol: float = 1e-5, rtol: float = 1e-4) -> bool:
    """True when two arrays have the same shape and values (floats within the tolerances)."""
    if got.shape != want.shape:
        return False
    if want.dtype.kind == "b":
        return got.dtype.kind == "b" and bool(np.array_equal(got, want))
    if want.dtype.kind in "iu" and got.dtype.kind in "biu":
        return bool(np.array_equal(got, want))
    if want.dtype.kind in "biuf" and got.dtype.kind in "biuf":
        return bool(np.allclose(got.astype(np.float64), want, atol=atol, rtol=rtol, equal_nan=True))
    return bool(np.array_equal(got, want))


def _trap_matches(wrong: Any, got: np.ndarray, want: np.ndarray, atol: float, rtol: float) -> bool:
    if callable(wrong):
        try:
            return bool(wrong(got))
        except Exception:  # a predicate that cannot judge this value does not match
            return False
    try:
        trap = as_array(wrong)
    except (TypeError, ValueError):
        return False
    # a wrong answer that equals the reference cannot tell a mistake from a right answer
    return not same(trap, want, atol, rtol) and same(got, trap, atol, rtol)


def _show(x: Any) -> str:
    x = x.item() if hasattr(x, "item") else x
    return f"{x:.6g}" if isinstance(x, float) else repr(x)[:40]


def _first_difference(got: np.ndarray, want: np.ndarray, atol: float, rtol: float) -> str:
    if want.ndim == 0 and want.dtype.kind in "US":  # two texts: where they part
        mine, right = str(got.item()), str(want.item())
        at = next(
            (i for i, (a, b) in enumerate(zip(mine, right)) if a != b), min(len(mine), len(right))
        )
        mine, right = mine[at : at + 20], right[at : at + 20]
        return f" (from character {at}: yours {mine!r}, expected {right!r})"
    if want.ndim == 0:
        return f" (yours {_show(got)}, expected {_show(want)})"
    if want.dtype.kind in "biuf" and got.dtype.kind in "biuf":
        a, b = got.astype(np.float64), want.astype(np.float64)
        differs = ~np.isclose(a, b, atol=atol, rtol=rtol, equal_nan=True)
    else:
        differs = got != want
    places = np.argwhere(differs)
    if not len(places):
        return ""
    where = tuple(int(i) for i in places[0])
    index = where[0] if len(where) == 1 else where
    return f" (first at index {index}: yours {_show(got[where])}, expected {_show(want[where])})"


def require_values(
    value: Any,
    reference: Any,
    *,
    name: str,
    hint: str,
    traps: Sequence[Trap] = (),
    atol: float = 1e-5,
    rtol: float = 1e-4,
) -> np.ndarray:
    """Fail with a hint unless ``value`` equals ``reference`` (floats within the tolerances).

    ``reference`` holds numbers, True/False flags or strings (any shape, or one number or str).
    When the value differs, an empty, NaN or all-zero value says so; then the first matching
    trap's hint is shown; then a wrong shape or a non-boolean value; otherwise ``hint`` with the
    first difference. Every message starts with ``name``. Traps are only compared with a value
    that is not the reference. Returns the value as an array.
    """
    want = _plain(as_array(reference))
    if want.dtype.kind not in "biufUS":
        raise TypeError(f"require_values compares numbers, flags or strings, not {want.dtype}")
    got = _convert(value, want, name)
    if same(got, want, atol, rtol):
        return got
    expected = _expected(want)
    numeric = want.dtype.kind in "biuf" and got.dtype.kind in "biuf"
    require(got.size > 0 or want.size == 0, f"{name} is empty: expected {expected}")
    if numeric:
        nan = np.isnan(got.astype(np.float64))
        if got.shape == want.shape:
            nan &= ~np.isnan(want.astype(np.float64))
        count = f" ({int(nan.sum())} of {got.size})" if got.size > 1 else ""
        require(not nan.any(), f"{name} holds NaN{count}: expected {expected}")
        require(
            np.any(got != 0) or not np.any(want != 0) or want.dtype.kind == "b",
            f"{name} is still all zero: fill in the code that computes it first",
        )
    for wrong, text in traps:
        require(not _trap_matches(wrong, got, want, atol, rtol), f"{name}: {text}")
    require(got.shape == want.shape, f"{name}: expected {expected}, got {describe(value)}; {hint}")
    require(
        want.dtype.kind != "b" or got.dtype.kind == "b",
        f"{name}: give True/False flags (a boolean array), not {got.dtype} values",
    )
    raise CheckFailed(f"{name}: {hint}{_first_difference(got, want, atol, rtol)}")


def require_frame(
    table: Any, *, name: str, columns: Sequence[str], index: Sequence[Any] | None = None
) -> Any:
    """Fail unless ``table`` is a DataFrame with ``columns`` (and ``index``, in order)."""
    wanted = ", ".join(repr(c) for c in columns)
    require(
        hasattr(table, "columns") and hasattr(table, "iloc"),
        f"{name}: expected a pandas DataFrame with the columns {wanted}, got {describe(table)}",
    )
    missing = [c for c in columns if c not in table.columns]
    require(
        not missing,
        f"{name} needs the columns {wanted}: {', '.join(map(repr, missing))} missing "
        f"(it has {list(table.columns)})",
    )
    if index is not None:
        shown = list(index)[:4]
        require(
            list(table.index) == list(index),
            f"{name}: the index should be {shown}... ({len(index)} entries), "
            f"got {list(table.index)[:4]}... ({len(table.index)} entries)",
        )
    return table


def _is_frame(value: Any) -> bool:
    return hasattr(value, "columns") and hasattr(value, "iloc")


def require_expected(value: Any, expect: Expect, name: str) -> None:
    """Compare one learner value with its :class:`~ml4llm.checks.Expect` (see there)."""
    want = expect.value
    options = {"hint": expect.hint, "traps": expect.traps, "atol": expect.atol, "rtol": expect.rtol}
    if expect.columns is not None:  # a DataFrame, or a list of rows with these columns
        import pandas as pd

        if _is_frame(want):
            default = list(want.index) == list(range(len(want)))
            index = None if default else want.index
            table = require_frame(value, name=name, columns=list(want.columns), index=index)
        else:
            table = _rows(value, list(expect.columns), len(want), name)
            want = pd.DataFrame(list(want), columns=list(expect.columns))
        for column, spec in expect.columns.items():
            hint, traps = (spec, ()) if isinstance(spec, str) else spec
            options |= {"hint": hint, "traps": traps}
            require_values(table[column], want[column], name=f"{name}[{column!r}]", **options)
    elif isinstance(want, Mapping):
        keys = list(want)
        require(
            isinstance(value, Mapping),
            f"{name}: expected a dict with the keys {keys}, got {describe(value)}",
        )
        require(set(value) == set(keys), f"{name}: expected the keys {keys}, got {list(value)}")
        for key in keys:
            traps = _element_traps(expect.traps, key, keys)
            options["traps"] = traps
            require_values(value[key], want[key], name=f"{name}[{key!r}]", **options)
    elif expect.items is not None:
        labels = list(expect.items)
        require(
            isinstance(value, (list, tuple)) and len(value) == len(labels),
            f"{name}: expected a list of {len(labels)} (one per {labels[0]!r}, ...), "
            f"got {describe(value)}",
        )
        for i, (label, item, right) in enumerate(zip(labels, value, want)):
            options["traps"] = _element_traps(expect.traps, i, labels)
            require_values(item, right, name=f"{name}[{label!r}]", **options)
    else:
        require_values(value, want, name=name, **options)


def _element_traps(traps: Sequence[Trap], key: Any, keys: list[Any]) -> list[Trap]:
    """The traps for one element of a dict or list: predicates as they are, and the element
    ``key`` of a wrong answer that is itself a dict (or a list) with one entry per element."""
    out: list[Trap] = []
    for wrong, hint in traps:
        if callable(wrong):
            out.append((wrong, hint))
        elif isinstance(wrong, Mapping) and key in wrong:
            out.append((wrong[key], hint))
        elif isinstance(wrong, (list, tuple)) and len(wrong) == len(keys):
            out.append((wrong[key], hint))
    return out


def require_array(
    value: Any, *, name: str, shape: tuple[int, ...], kind: str = "numbers"
) -> np.ndarray:
    """Fail unless ``value`` converts to an array of ``shape`` holding ``kind`` ("numbers",
    "integers" or "strings"): for values that have no single right answer (random draws)."""
    dummy = np.zeros(shape, dtype={"strings": str, "integers": int}.get(kind, float))
    got = _convert(value, dummy, name)
    expected = _expected(dummy).replace("numbers", kind)
    require(got.size > 0 or dummy.size == 0, f"{name} is empty: expected {expected}")
    require(got.shape == dummy.shape, f"{name}: expected {expected}, got {describe(value)}")
    if kind == "integers":
        as_float = got.astype(np.float64)
        require(
            np.all(np.isfinite(as_float)) and np.all(as_float == np.round(as_float)),
            f"{name}: expected {expected}, got values that are not whole numbers",
        )
        return got.astype(np.int64)
    return got


def _rows(value: Any, columns: list[str], n: int, name: str) -> Any:
    """The learner's list of rows (tuples) as a DataFrame with ``columns``."""
    import pandas as pd

    expected = f"a list of {n} rows of {len(columns)} values ({', '.join(columns)})"
    require(
        isinstance(value, (list, tuple)) and len(value) == n,
        f"{name}: expected {expected}, got {describe(value)}",
    )
    bad = [row for row in value if isinstance(row, str) or len(row) != len(columns)]
    require(
        not bad, f"{name}: expected {expected}, got {describe(bad[0] if bad else None)} as a row"
    )
    return pd.DataFrame([tuple(row) for row in value], columns=columns)


def call(function: Any, *args: Any, name: str, returns: str) -> Any:
    """``function(*args)`` for a function the learner wrote; FAIL unless it gives ``returns``."""
    require(callable(function), f"{name} should be a function, got {describe(function)}")
    try:
        result = function(*args)
    except Exception as err:
        raise CheckFailed(f"{name}(...) raised {type(err).__name__}: {err}") from None
    require(result is not None, f"{name}(...) returned None: it must return {returns}")
    return result


def is_symmetric(matrix: np.ndarray, atol: float = 1e-5) -> bool:
    """True for a square matrix equal to its transpose."""
    m = as_array(matrix, dtype=np.float64)
    return m.ndim == 2 and m.shape[0] == m.shape[1] and bool(np.allclose(m, m.T, atol=atol))


def has_unit_diagonal(matrix: np.ndarray, atol: float = 1e-4) -> bool:
    """True for a square matrix whose diagonal is all 1."""
    m = as_array(matrix, dtype=np.float64)
    return m.ndim == 2 and m.shape[0] == m.shape[1] and bool(np.allclose(np.diag(m), 1, atol=atol))


# --- reference computations ------------------------------------------------------------------


def unit_rows(matrix: Any, dtype: Any = np.float64) -> np.ndarray:
    """Rows divided by their lengths; all-zero rows (e.g. a padding embedding) stay zero."""
    m = as_array(matrix, dtype=dtype)
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return m / np.where(norms > 0, norms, 1.0)


def cosines(vectors: Any) -> np.ndarray:
    """The cosine similarity of every pair of rows (float64)."""
    unit = unit_rows(vectors)
    return unit @ unit.T


def upper(matrix: Any) -> np.ndarray:
    """The values above the diagonal, row by row (the order of ``np.triu_indices(n, k=1)``)."""
    matrix = as_array(matrix)
    rows, cols = np.triu_indices(len(matrix), k=1)
    return matrix[rows, cols]


def pearson(a: Any, b: Any) -> float:
    """Pearson r of two equally long sequences of numbers."""
    return float(np.corrcoef(as_array(a, np.float64), as_array(b, np.float64))[0, 1])


# --- the shared checks -------------------------------------------------------------------------

COSINE_HOW = "normalise every row (axis=1, or dim=1 for a tensor), then unit @ unit.T"
_DIAGONAL = "the diagonal is not 1: normalise every row before the product (axis=1, or dim=1)"


def cosine_expect(rows: Any) -> Expect:
    """The cosine matrix of ``rows`` with the shared hints: for every cosine-matrix check."""
    n = len(rows)
    traps = [
        (  # a learner who compared the columns (the computation runs only on a wrong matrix)
            lambda m: len(m) != n and same(m, cosines(as_array(rows, np.float64).T), 1e-4),
            f"this compares the columns: expected {n} x {n}, one row per item (pass the items "
            "as rows, e.g. frame.T for a table with one column per item)",
        ),
        (lambda m: m.shape == (n, n) and not is_symmetric(m), f"not symmetric: {COSINE_HOW}"),
        (lambda m: m.shape == (n, n) and not has_unit_diagonal(m), _DIAGONAL),
    ]
    hint = f"the entries differ from the cosines of the rows: {COSINE_HOW}"
    return Expect(cosines(rows), hint, traps=traps, atol=1e-4)


@check(reference=lambda rows: {"matrix": cosine_expect(rows)})
def cosine_matrix(rows: Any, *, matrix: Any, ref: dict[str, Any]) -> str:
    """The cosine matrix of ``rows`` (one row per item): symmetric, unit diagonal, the cosines."""
    n = len(ref["matrix"])
    return f"{n} x {n}, symmetric, unit diagonal"


def require_cosine_matrix(matrix: Any, vectors: Any, how: str) -> int:
    """Fail unless ``matrix`` is the rows' cosine matrix; ``how`` says how to compute it.

    For the checks not yet written with :func:`cosine_matrix` (issue 11's migration).
    """
    require(matrix is not None, f"got None: return the matrix ({how})")
    values = as_array(matrix, dtype=np.float64)
    n = len(vectors)
    require(values.shape == (n, n), f"expected a {n} x {n} matrix, got shape {values.shape}")
    require(np.allclose(values, values.T, atol=1e-5), f"the matrix is not symmetric: {how}")
    require(
        np.allclose(np.diag(values), 1, atol=1e-4),
        f"the diagonal is not 1: normalise every row before the product ({how})",
    )
    require(
        np.allclose(values, cosines(vectors), atol=1e-4),
        f"the entries differ from the cosines of the rows: {how}",
    )
    return n


__all__ = [
    "Trap",
    "as_array",
    "call",
    "cosine_expect",
    "cosine_matrix",
    "cosines",
    "describe",
    "has_unit_diagonal",
    "is_symmetric",
    "pearson",
    "require_array",
    "require_cosine_matrix",
    "require_expected",
    "require_frame",
    "require_values",
    "same",
    "unit_rows",
    "upper",
]
