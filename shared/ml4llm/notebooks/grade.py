"""Grading a learner's helper: its self-check calls, what each printed, and the scorecard.

A helper's checks are the calls ``check.<name>(...)`` in its code cells (``check`` is the name the
notebook imports a module of :mod:`ml4llm.checks` as), in notebook order; a call given a constant
``label="..."`` is titled ``name (label)``, as the check prints it. Each call belongs to the part
of the notebook it sits in: the last ``## `` markdown heading above it.

:func:`grade` matches the check lines an executed notebook printed (``PASS``, ``FAIL``, "fill in the
blank first") to those calls, cell by cell. A call that printed nothing did not run: the run
stopped at an earlier cell (or in its own cell) with an error, which the line names, or it sits
under ``if is_trained(...)`` and was skipped on a random stand-in.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from dataclasses import dataclass

from nbformat import NotebookNode

PASS, FAIL, BLANK, NOT_RUN, SKIP = "PASS", "FAIL", "BLANK", "NOT RUN", "SKIP"

_CALL = re.compile(r"\bcheck\.(\w+)\(")
_HEADING = re.compile(r"^##\s+(.+?)\s*#*\s*$", re.MULTILINE)
_SKIPPED = "it needs trained weights"
_PROJECT = re.compile(r"proj\d+$")


@dataclass(frozen=True)
class CheckSite:
    """One self-check call in a notebook's source."""

    cell: int  # index of the code cell (0-based)
    name: str
    title: str  # ``name (label)`` for a constant label, else the name
    part: str
    trained_only: bool = False  # inside ``if is_trained(...)``


@dataclass(frozen=True)
class Graded:
    """What one check said in a run: its status and its line (or why it did not run)."""

    cell: int
    title: str
    status: str  # PASS, FAIL, BLANK, NOT RUN or SKIP
    text: str
    part: str


def _check_aliases(tree: ast.Module) -> set[str]:
    """The names a cell binds to a project's check module (``from ml4llm.checks import proj01 as
    check``), and any module of ``ml4llm.checks`` imported as ``check``."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "ml4llm.checks":
            pairs = [(alias.name, alias.asname or alias.name) for alias in node.names]
        elif isinstance(node, ast.Import):
            pairs = [
                (alias.name.rpartition(".")[2], alias.asname)
                for alias in node.names
                if alias.name.startswith("ml4llm.checks.") and alias.asname
            ]
        else:
            continue
        names.update(bound for module, bound in pairs if _PROJECT.match(module) or bound == "check")
    return names


def part_names(nb: NotebookNode) -> list[str]:
    """For every cell, the last ``## `` heading at or above it ('' before the first one)."""
    current = ""
    parts = []
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.get("metadata", {}).get("ml4llm") != "header":
            headings = _HEADING.findall(cell.source)
            if headings:
                current = headings[-1].strip()
        parts.append(current)
    return parts


def _calls_in(tree: ast.Module, aliases: set[str]) -> list[tuple[ast.Call, bool]]:
    """The check calls of a parsed cell in source order, each with "inside if is_trained(...)"."""
    found: list[tuple[ast.Call, bool]] = []

    def is_trained_test(node: ast.AST) -> bool:
        return any(
            isinstance(n, ast.Call)
            and (
                (isinstance(n.func, ast.Name) and n.func.id == "is_trained")
                or (isinstance(n.func, ast.Attribute) and n.func.attr == "is_trained")
            )
            for n in ast.walk(node)
        )

    def visit(node: ast.AST, trained: bool) -> None:
        if isinstance(node, ast.If) and is_trained_test(node.test):
            for child in node.body:
                visit(child, True)
            for child in node.orelse:
                visit(child, trained)
            return
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in aliases
        ):
            found.append((node, trained))
        for child in ast.iter_child_nodes(node):
            visit(child, trained)

    visit(tree, False)
    return sorted(found, key=lambda item: (item[0].lineno, item[0].col_offset))


def check_sites(nb: NotebookNode) -> list[CheckSite]:
    """Every self-check call of the notebook, in notebook order.

    The alias is the name a cell imports from ``ml4llm.checks`` (``check`` when none is found); a
    cell that does not parse is read with a regular expression.
    """
    aliases: set[str] = set()
    trees: dict[int, ast.Module | None] = {}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        try:
            trees[index] = ast.parse(cell.source)
        except SyntaxError:
            trees[index] = None
            continue
        aliases |= _check_aliases(trees[index])
    aliases = aliases or {"check"}
    parts = part_names(nb)
    sites: list[CheckSite] = []
    for index, tree in trees.items():
        if tree is None:
            for name in _CALL.findall(nb.cells[index].source):
                sites.append(CheckSite(index, name, name, parts[index]))
            continue
        for call, trained in _calls_in(tree, aliases):
            name = call.func.attr  # type: ignore[attr-defined]
            label = next((k.value for k in call.keywords if k.arg == "label"), None)
            title = name
            if isinstance(label, ast.Constant) and isinstance(label.value, str):
                title = f"{name} ({label.value})"
            sites.append(CheckSite(index, name, title, parts[index], trained))
    return sites


_STUB_LINE = re.compile(r"^\s*(?:[^#=]+=\s*)?\.\.\.(?:\s*,\s*\.\.\.)*\s*(?:#.*)?$")


def count_blanks(nb: NotebookNode) -> int:
    """The blanks still ``...`` in a notebook's code cells: stubs ``...`` and ``x = ...``.

    The cells the generator stamps are left out. A cell that does not parse (a learner's
    half-written line) is read line by line.
    """
    from ml4llm.blanks import _is_stub

    total = 0
    for cell in nb.cells:
        if cell.cell_type != "code" or cell.get("metadata", {}).get("ml4llm"):
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            total += sum(bool(_STUB_LINE.match(line)) for line in cell.source.split("\n"))
            continue
        total += sum(_is_stub(node) for node in ast.walk(tree) if isinstance(node, ast.stmt))
    return total


def _stdout(cell: NotebookNode) -> str:
    return "".join(
        o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream"
    )


def _one_line(text: str, limit: int = 160) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def raised(nb: NotebookNode, index: int, error: str | None = None) -> str:
    """One line on why cell ``index`` stopped: its error, or the blank guard's line."""
    from ml4llm.blanks import LINE

    cell = nb.cells[index]
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            evalue = str(output.get("evalue", "")).strip().split("\n")[0]
            return _one_line(f"cell {index + 1} raised {output.get('ename')}: {evalue}")
    for line in _stdout(cell).splitlines():
        if line.startswith(LINE):
            return _one_line(f"cell {index + 1} stopped: {line}")
    return _one_line(error) if error else f"cell {index + 1} raised an error"


def grade(
    nb: NotebookNode,
    statuses: dict[int, str] | None = None,
    error: str | None = None,
    error_cell: int | None = None,
) -> list[Graded]:
    """What every check of an executed notebook said, in notebook order.

    ``statuses`` (cell index -> "ok"/"error", from :class:`~ml4llm.notebooks.run.ExecResult`) says
    which cells ran; without it a cell ran when it has outputs. ``error`` and ``error_cell`` are the
    run's first error and the index of the cell that raised it.
    """
    from ml4llm.checks import check_lines

    sites = check_sites(nb)
    by_cell: dict[int, list[CheckSite]] = {}
    for site in sites:
        by_cell.setdefault(site.cell, []).append(site)
    if error_cell is None and statuses:
        error_cell = next((i for i, s in sorted(statuses.items()) if s == "error"), None)
    stop = raised(nb, error_cell, error) if error_cell is not None else error
    parts = part_names(nb)

    graded: list[Graded] = []
    for index, cell_sites in sorted(by_cell.items()):
        cell = nb.cells[index]
        ran = index in statuses if statuses is not None else bool(cell.get("outputs"))
        if not ran:
            reason = stop or "its cell has not run"
            graded += [Graded(index, s.title, NOT_RUN, reason, s.part) for s in cell_sites]
            continue
        text = _stdout(cell)
        pending = list(cell_sites)
        for status, title, line in check_lines(text):
            name = title.split(" (")[0]
            match = next((s for s in pending if s.title == title), None)
            match = match or next((s for s in pending if s.name == name), None)
            if match is not None:
                pending.remove(match)
            graded.append(Graded(index, title, status, line, parts[index]))
        for site in pending:
            if site.trained_only and _SKIPPED in text:
                graded.append(Graded(index, site.title, SKIP, "needs trained weights", site.part))
            elif index == error_cell:
                graded.append(Graded(index, site.title, NOT_RUN, stop or "", site.part))
            else:
                reason = "its cell ran but printed no line for it"
                graded.append(Graded(index, site.title, NOT_RUN, reason, site.part))
    return graded


def count(graded: Sequence[Graded]) -> tuple[int, int]:
    """(checks that pass, checks that count): skipped checks do not count."""
    counted = [g for g in graded if g.status != SKIP]
    return sum(g.status == PASS for g in counted), len(counted)


def first_to_revisit(graded: Sequence[Graded]) -> Graded | None:
    """The first check in notebook order that did not pass (a skipped one is fine)."""
    return next((g for g in graded if g.status not in (PASS, SKIP)), None)


def report_lines(graded: Sequence[Graded]) -> list[str]:
    """One line per check: ``cell 12  FAIL     title: hint`` (its own line for what it printed)."""
    lines = []
    for g in graded:
        if g.status in (PASS, FAIL):
            detail = g.text[len(g.status) + 1 :]
        elif g.status == BLANK:
            detail = g.text
        else:
            detail = f"{g.title}: {g.text}"
        lines.append(f"cell {g.cell + 1:<3}  {g.status:<7}  {detail}")
    return lines
