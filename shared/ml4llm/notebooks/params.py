"""The parameters cell: the workload knobs of a project, and running it with other values.

Every solution has one code cell that gathers its knobs (the model id, the sizes, the number of
permutations): the first code cell after a markdown cell whose heading starts with
``## Parameters``, or else the first code cell with a ``name = value  # book: ...`` line. The
generator tags it ``parameters`` in both notebooks (cell metadata ``tags``, as papermill does), so
nobody tags it by hand; a solution without one is an error.

``ml4llm run N --set NAME=VALUE`` runs a copy of the solution with a cell injected after the
parameters cell (tagged ``injected-parameters``): it assigns the new values, then runs again the
statements of the parameters cell that use them (``integers = np.arange(lowest, highest + 1)``
after ``--set lowest=-10``), never one that would overwrite a value that was set. The executed
copy records the values in ``metadata.ml4llm.parameters`` and in the injected cell's comment.
"""

from __future__ import annotations

import ast
import copy
import re
from typing import Any

import nbformat
from nbformat import NotebookNode

from ml4llm.notebooks.errors import NotebookError

PARAMETERS_TAG = "parameters"
INJECTED_TAG = "injected-parameters"

_HEADING = re.compile(r"^##\s+Parameters\b", re.MULTILINE)
_BOOK_KNOB = re.compile(r"^[A-Za-z_][\w, ]*=[^#\n]+#\s*book:", re.MULTILINE)


class ParameterError(NotebookError):
    """A ``--set`` that names no knob of the parameters cell, or whose value cannot be read."""


def _tags(cell: NotebookNode) -> list[str]:
    tags = cell.get("metadata", {}).get("tags", [])
    return list(tags) if isinstance(tags, list) else []


def find_parameters_cell(nb: NotebookNode, use_tag: bool = True) -> int | None:
    """The index of the parameters cell (see the module docstring), or None.

    With ``use_tag`` a cell already tagged ``parameters`` wins; the generator passes False, so
    that the tag always follows the rule.
    """
    if use_tag:
        for index, cell in enumerate(nb.cells):
            if cell.cell_type == "code" and PARAMETERS_TAG in _tags(cell):
                return index
    after_heading = False
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            after_heading = after_heading or bool(_HEADING.search(cell.source))
        elif cell.cell_type == "code" and after_heading:
            return index
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and _BOOK_KNOB.search(cell.source):
            return index
    return None


def tag_parameters_cell(nb: NotebookNode, required: bool = True) -> None:
    """Tag the parameters cell of ``nb`` in place, and no other cell.

    Without a parameters cell no cell is tagged, and with ``required`` that is an error.
    """
    index = find_parameters_cell(nb, use_tag=False)
    if index is None and required:
        raise NotebookError(
            "The notebook has no parameters cell: put the code cell that sets the workload knobs "
            "(model id, sizes, counts) right after a markdown cell headed `## Parameters`, or mark "
            "its knobs `name = value  # book: ..., Colab: ..., offline: ...`. "
            "`ml4llm run N --set NAME=VALUE` changes the values of that cell."
        )
    for position, cell in enumerate(nb.cells):
        tags = [t for t in _tags(cell) if t != PARAMETERS_TAG]
        if position == index:
            tags.append(PARAMETERS_TAG)
        if tags:
            cell.metadata["tags"] = tags
        else:
            cell.metadata.pop("tags", None)


def knobs(source: str) -> dict[str, str]:
    """The names the parameters cell assigns at top level, each with its value's source text."""
    tree = ast.parse(source)
    found: dict[str, str] = {}
    for statement in tree.body:
        if isinstance(statement, ast.Assign):
            targets, value = statement.targets, statement.value
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            targets, value = [statement.target], statement.value
        else:
            continue
        text = ast.get_source_segment(source, value) or ast.unparse(value)
        for target in targets:
            if isinstance(target, ast.Name):
                found.setdefault(target.id, text)
            elif isinstance(target, (ast.Tuple, ast.List)):
                values = value.elts if isinstance(value, (ast.Tuple, ast.List)) else None
                for position, element in enumerate(target.elts):
                    if isinstance(element, ast.Name):
                        part = text
                        if values is not None and len(values) == len(target.elts):
                            part = ast.get_source_segment(source, values[position]) or text
                        found.setdefault(element.id, part)
    return found


def parse_assignment(text: str) -> tuple[str, Any]:
    """``"n=200"`` -> ``("n", 200)``: a Python literal, or else the text as a string.

    ``model_id=EleutherAI/pythia-410m`` gives the string; quote a string that reads as a literal
    (``name='None'``). A value that starts like a list, tuple, dict or string but does not parse
    is an error rather than a string.
    """
    name, sep, raw = text.partition("=")
    name, raw = name.strip(), raw.strip()
    if not sep or not name.isidentifier():
        raise ParameterError(f"--set {text!r}: write NAME=VALUE, e.g. --set n_permutations=200.")
    if not raw:
        raise ParameterError(f"--set {text!r}: give a value after `=` (quote an empty string: '').")
    try:
        return name, ast.literal_eval(raw)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        if raw[0] in "[({'\"":
            raise ParameterError(
                f"--set {text!r}: {raw!r} is not a Python literal; write a list as [1, 2], a "
                "string as 'text' (quoted for the shell: \"name='a b'\")."
            ) from None
        return name, raw


def _statement_source(source: str, statement: ast.stmt) -> str:
    lines = source.split("\n")
    decorators = getattr(statement, "decorator_list", [])
    start = min([statement.lineno] + [d.lineno for d in decorators])
    return "\n".join(lines[start - 1 : statement.end_lineno or statement.lineno])


def _reruns(source: str, values: dict[str, Any]) -> list[str]:
    """The top-level statements of the parameters cell that use a set value, as source text.

    A statement reading a set name (or a name such a statement re-binds) runs again; one that
    binds a set name never does, so the values set are the values used.
    """
    from ml4llm.blanks import _names

    changed = set(values)
    again = []
    for statement in ast.parse(source).body:
        reads, binds, mutates = _names([statement])
        if (binds | mutates) & set(values):
            continue
        if reads & changed:
            again.append(_statement_source(source, statement))
            changed |= binds | mutates
    return again


def _short(text: str, limit: int = 70) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 4] + " ..."


def _recorded(value: Any) -> Any:
    """The value as notebook metadata (JSON): itself when plain, else its Python repr."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def inject(nb: NotebookNode, values: dict[str, Any], command: str) -> NotebookNode:
    """A copy of ``nb`` with ``values`` injected after its parameters cell.

    ``command`` is quoted in the injected cell's comment (e.g. ``ml4llm run 12 --set n=200``).
    An unknown name is an error that lists the cell's knobs with their values.
    """
    index = find_parameters_cell(nb)
    if index is None:
        raise ParameterError(
            "This notebook has no parameters cell (a code cell after a `## Parameters` heading, "
            "or tagged `parameters`), so --set has nothing to change."
        )
    source = nb.cells[index].source
    try:
        known = knobs(source)
    except SyntaxError as err:
        raise ParameterError(
            f"The parameters cell (cell {index + 1}) does not parse: {err}"
        ) from None
    unknown = [name for name in values if name not in known]
    if unknown:
        listing = "\n".join(f"  {name} = {_short(text)}" for name, text in known.items())
        names = ", ".join(unknown)
        raise ParameterError(
            f"The parameters cell (cell {index + 1}) has no knob {names}. Its knobs:\n{listing}"
        )
    lines = [f"# Injected by `{command}`: these values replace those of the parameters cell above."]
    lines += [f"{name} = {value!r}" for name, value in values.items()]
    again = _reruns(source, values)
    if again:
        lines += ["", "# The statements of the parameters cell that use them, run again:", *again]
    injected = nbformat.v4.new_code_cell("\n".join(lines), metadata={"tags": [INJECTED_TAG]})
    injected.id = "injected-parameters"
    copied = copy.deepcopy(nb)
    copied.cells.insert(index + 1, injected)
    meta = copied.metadata.setdefault("ml4llm", {})
    meta["parameters"] = {name: _recorded(value) for name, value in values.items()}
    return copied
