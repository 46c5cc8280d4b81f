"""Where a learner stands across the course, read from their helper notebooks without running them.

For every project: the blanks still ``...`` out of the helper's blanks, the checks whose saved
output says PASS out of the helper's checks, and when the file last changed; then the totals per
chapter and for the course. The helpers are the repository's (a learner who works in a clone) or
those in a folder (e.g. notebooks downloaded from Colab or Google Drive): a file there counts for
project N when its name holds ``projNN_`` and ``helper`` (``Copy of proj12_..._helper.ipynb``),
except the generator's backups (``..._helper.backup-<time>.ipynb``); a built project without a
file there counts as not started (every blank left).
The totals are the numbers the generator stored in the file's metadata (those of the version the
learner started from), else those of the helper that the repository's solution generates.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ml4llm.projects import CHAPTER_TITLES, PROJECTS, Project

_NAME = re.compile(r"proj(\d{2})_.*helper.*\.ipynb$")


@dataclass
class Row:
    """One project's progress; ``note`` replaces the numbers when there are none to show."""

    project: Project
    blanks_left: int | None = None
    blanks: int | None = None
    passed: int | None = None
    checks: int | None = None
    changed: datetime | None = None
    path: Path | None = None
    note: str = ""
    absent: str = ""  # why there is no file (the project counts as not started)


def find_helpers(folder: Path) -> dict[int, Path]:
    """Project number -> the most recently changed helper file for it under ``folder``."""
    found: dict[int, Path] = {}
    for path in folder.rglob("*.ipynb"):
        match = _NAME.search(path.name)
        if not match or ".ipynb_checkpoints" in path.parts or ".backup-" in path.name:
            continue
        number = int(match.group(1))
        if number not in found or path.stat().st_mtime > found[number].stat().st_mtime:
            found[number] = path
    return found


def _totals(root: Path | None, project: Project, meta: object) -> tuple[int | None, int | None]:
    """(blanks, checks) of the project's untouched helper, as the file's metadata says.

    The generator stores them there. For a file without them (or no file), the repository's
    helper says, or else the helper that the repository's solution generates.
    """
    from ml4llm.notebooks import grade
    from ml4llm.notebooks.stamp import make_helper
    from ml4llm.notebooks.sync import read_notebook

    def stored(meta: object) -> tuple[int, int] | None:
        numbers = (meta.get("blanks"), meta.get("checks")) if isinstance(meta, dict) else ()
        return numbers if numbers and all(isinstance(n, int) for n in numbers) else None

    if found := stored(meta):
        return found
    if root is None or not project.exists(root):
        return None, None
    helper_path = root / project.notebook("helper")
    if helper_path.is_file() and (
        found := stored(read_notebook(helper_path).metadata.get("ml4llm"))
    ):
        return found
    helper = make_helper(read_notebook(root / project.notebook("solution")), project)
    return grade.count_blanks(helper), len(grade.check_sites(helper))


def _passed(nb) -> int:
    """Checks whose saved output says PASS, at most one per check call of each cell."""
    from ml4llm.checks import check_lines
    from ml4llm.notebooks import grade

    calls: dict[int, int] = {}
    for site in grade.check_sites(nb):
        calls[site.cell] = calls.get(site.cell, 0) + 1
    passed = 0
    for index, n_calls in calls.items():
        lines = check_lines(grade._stdout(nb.cells[index]))
        passed += min(n_calls, sum(status == "PASS" for status, _, _ in lines))
    return passed


def progress(folder: Path | None, root: Path | None) -> list[Row]:
    """One row per project of the book, from the helpers in ``folder`` (default: ``root``'s)."""
    from ml4llm.notebooks import grade
    from ml4llm.notebooks.sync import read_notebook

    files = find_helpers(folder) if folder is not None else {}
    rows = []
    for project in PROJECTS:
        built = root is not None and project.exists(root)
        if folder is None:
            path = root / project.notebook("helper") if root is not None else None
            path = path if path is not None and path.is_file() else None
        else:
            path = files.get(project.number)
        if path is None and built and folder is not None:  # not started: every blank is left
            blanks, checks = _totals(root, project, None)
            rows.append(Row(project, blanks, blanks, 0, checks, absent="not in this folder"))
            continue
        if path is None:
            note = "helper missing: run `ml4llm helpers`" if built else "not built yet"
            rows.append(Row(project, note=note))
            continue
        row = Row(project, path=path, changed=datetime.fromtimestamp(path.stat().st_mtime))
        try:
            nb = read_notebook(path)
            row.blanks, row.checks = _totals(root, project, nb.metadata.get("ml4llm"))
            row.blanks_left = grade.count_blanks(nb)
            row.passed = _passed(nb)
        except Exception as err:  # a file that no longer parses is reported, not a crash
            row.note = f"cannot read {path.name}: {type(err).__name__}: {str(err)[:80]}"
        if row.checks is not None and row.passed is not None:
            row.passed = min(row.passed, row.checks)
        rows.append(row)
    return rows


def _of(part: int | None, whole: int | None) -> str:
    if part is None:
        return "-"
    return f"{part} of {whole}" if whole is not None else f"{part} of ?"


def _sum(rows: Sequence[Row], name: str) -> int:
    return sum(getattr(row, name) or 0 for row in rows)


def _table(rows: Sequence[Row]) -> list[tuple[str, list[str]]]:
    """The table as (kind, cells): the header, then per chapter its projects (a "project" row, or a
    "note" row for one without numbers) and its "total", then the course's total."""
    table = [("header", ["#", "project", "blanks left", "checks passed", "last changed"])]

    def total(label: str, group: Sequence[Row]) -> tuple[str, list[str]]:
        counted = [row for row in group if row.blanks is not None and not row.note]
        if not counted:
            return ("total", ["", label, "-", "-", ""])
        left = _sum(counted, "blanks_left")
        passed, checks = _sum(counted, "passed"), _sum(counted, "checks")
        return (
            "total",
            ["", label, f"{left} of {_sum(counted, 'blanks')}", f"{passed} of {checks}", ""],
        )

    for chapter, title in CHAPTER_TITLES.items():
        group = [row for row in rows if row.project.chapter == chapter]
        for row in group:
            name = row.project.title
            name = name if len(name) <= 44 else name[:41] + "..."
            if row.note:
                table.append(("note", [str(row.project.number), name, row.note, "", ""]))
                continue
            changed = row.changed.strftime("%Y-%m-%d %H:%M") if row.changed else row.absent
            cells = [_of(row.blanks_left, row.blanks), _of(row.passed, row.checks), changed]
            table.append(("project", [str(row.project.number), name, *cells]))
        table.append(total(f"chapter {chapter}: {title}", group))
    table.append(total("course", rows))
    return table


def render(rows: Sequence[Row], markdown: bool = False) -> str:
    """The progress table as aligned text, or as a Markdown table (totals in bold)."""
    table = _table(rows)
    if markdown:
        out = ["| " + " | ".join(table[0][1]) + " |", "|---:|---|---:|---:|---|"]
        for kind, cells in table[1:]:
            shown = [c.replace("|", "\\|") for c in cells]
            if kind == "total":
                shown = [f"**{c}**" if c else c for c in shown]
            out.append("| " + " | ".join(shown) + " |")
        return "\n".join(out)
    widths = [max(len(cells[i]) for kind, cells in table if kind != "note") for i in range(5)]
    widths[1] = max(len(cells[1]) for _, cells in table)
    lines = []
    for kind, cells in table:
        if kind == "total":
            lines.append(" " * (widths[0] + 2) + "-" * (sum(widths[1:]) + 6))
        if kind == "note":
            lines.append(f"{cells[0]:>{widths[0]}}  {cells[1]:<{widths[1]}}  {cells[2]}")
            continue
        lines.append(
            f"{cells[0]:>{widths[0]}}  {cells[1]:<{widths[1]}}  {cells[2]:>{widths[2]}}  "
            f"{cells[3]:>{widths[3]}}  {cells[4]}".rstrip()
        )
    return "\n".join(lines)
