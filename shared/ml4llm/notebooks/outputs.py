"""Reading what an executed notebook printed: the rules the tests apply to solutions and helpers."""

from __future__ import annotations

import re

from nbformat import NotebookNode


def _stdout(cell: NotebookNode) -> str:
    return "".join(
        o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream"
    )


def _where(cell: NotebookNode, index: int) -> str:
    first = cell.source.strip().split("\n")[0][:60]
    return f"cell {index + 1} ({first!r})"


def strict_problems(nb: NotebookNode, error: str | None = None) -> list[str]:
    """Why an executed solution fails the tests (empty when it passes): strict mode.

    ``error`` is :class:`ExecResult`'s first error. Every self-check line must be PASS: a FAIL or
    "fill in the blank first" line fails, and so does the same PASS line twice (a check that runs
    more than once must name what each call checked, e.g. with ``label=``) and the blank guard's
    "fill in the blanks above first" line. Each problem names the cell and quotes the line.
    """
    from ml4llm.blanks import LINE
    from ml4llm.checks import check_lines

    problems = [error] if error else []
    seen: dict[str, int] = {}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        text = _stdout(cell)
        for status, _title, line in check_lines(text):
            if status != "PASS":
                problems.append(f"{_where(cell, index)}: {line}")
            elif line in seen:
                problems.append(
                    f"{_where(cell, index)}: {line!r} repeats the line of cell {seen[line]}: "
                    "give each call a label= that names what it checks"
                )
            else:
                seen[line] = index + 1
        if LINE in text:
            problems.append(f"{_where(cell, index)}: the solution still has a blank ({LINE!r})")
    return problems


def helper_problems(nb: NotebookNode, statuses: dict[int, str]) -> list[str]:
    """Why an untouched helper, executed with errors allowed, fails the tests (empty: it passes).

    ``statuses`` maps cell indices to the kernel's reply status. Every cell that calls a check
    must run and print "fill in the blank first" or a FAIL hint, never PASS. No cell may end in an
    error, show a traceback or print a warning: a cell that needs a blank says so in one line
    (``ml4llm.blanks``) and shows no figure.
    """
    from ml4llm.blanks import LINE
    from ml4llm.checks import check_lines

    problems: list[str] = []
    calls_check = re.compile(r"\bcheck\.\w+\(")
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        where = _where(cell, index)
        text = _stdout(cell)
        errors = [o for o in cell.outputs if o.get("output_type") == "error"]
        stderr = "".join(
            o.get("text", "")
            for o in cell.outputs
            if o.get("output_type") == "stream" and o.get("name") == "stderr"
        )
        if errors:
            problems.append(f"{where}: {errors[0].ename}: {errors[0].evalue[:120]}")
        elif statuses.get(index) == "error":
            problems.append(f"{where}: the cell ends in an error: {text.strip()[-120:]}")
        if "Warning" in stderr:
            problems.append(f"{where}: prints a warning: {stderr.strip()[:160]}")
        if LINE in text and any(
            o.get("output_type") == "display_data" and any(k.startswith("image/") for k in o.data)
            for o in cell.outputs
        ):
            problems.append(f"{where}: shows a figure although its data is still blank")
        if calls_check.search(cell.source):
            lines = check_lines(text)
            if any(status == "PASS" for status, _, _ in lines):
                problems.append(f"{where}: a check passes on the unfilled helper: {text[:120]}")
            elif not lines:
                problems.append(f"{where}: no check line printed")
    return problems
