"""Keeping the repository's notebooks in sync with the solutions: read, write, generate, check.

Notebooks are written deterministically (nbformat 4.5 JSON with ``indent=1``, final newline). The
generator refuses to overwrite a helper whose sources no longer match the hash it stored (a learner
edited it) unless forced. Before it rewrites a helper that holds anything it did not write (edited
cells, or the outputs of a run) it saves a backup, ``<name>.backup-<YYYYmmdd-HHMMSS>.ipynb``, which
Jupyter opens like any notebook. It checks that every file it has to write is writable before it
writes any. Error messages number cells from 1, as they appear in the notebook.
"""

from __future__ import annotations

import os
import shutil
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from ml4llm.notebooks.errors import CannotWriteError, HelperEditedError, MarkerError, NotebookError
from ml4llm.notebooks.params import tag_parameters_cell
from ml4llm.notebooks.stamp import KEPT_CELL_METADATA, build_pair, repository_url, source_hash
from ml4llm.projects import PROJECTS, Project, get_project

# The notebook metadata that the generator writes (:func:`ml4llm.notebooks.stamp.stamp`).
GENERATED_METADATA = ("kernelspec", "language_info", "ml4llm")


def read_notebook(path: Path) -> NotebookNode:
    """Read a notebook as nbformat 4 (warnings about missing cell ids are silenced).

    A file that is not a notebook raises :class:`NotebookError` naming it.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return nbformat.reads(text, as_version=4)
    except (OSError, UnicodeDecodeError) as err:
        reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
        raise NotebookError(f"Cannot read {path} ({reason}).") from None
    except Exception as err:  # nbformat's NotJSONError, a JSON or a schema error
        first_line = str(err).strip().split("\n")[0][:120]
        raise NotebookError(
            f"{path} is not a notebook that can be read ({first_line}): give a .ipynb file "
            "saved by Jupyter or Colab."
        ) from None


def dumps(nb: NotebookNode) -> str:
    """The notebook's file text: nbformat 4 JSON, ``indent=1``, sorted keys, final newline."""
    text = nbformat.writes(nb, version=4)
    return text if text.endswith("\n") else text + "\n"


def helper_was_edited(path: Path) -> bool:
    """True when the helper at ``path`` has sources that the generator did not write."""
    try:
        nb = read_notebook(path)
    except Exception:  # unreadable: treat it as the learner's, never overwrite it silently
        return True
    meta = nb.metadata.get("ml4llm", {})
    stored = meta.get("sha256") if isinstance(meta, dict) else None
    return stored is None or stored != source_hash(nb)


def helper_was_changed(path: Path) -> bool:
    """True when the helper at ``path`` holds anything that the generator did not write.

    That is edited cells (:func:`helper_was_edited`), the outputs or execution counts of a run,
    or metadata that Jupyter or Colab added: regenerating it would lose them, so the generator
    backs it up first.
    """
    if helper_was_edited(path):
        return True
    nb = read_notebook(path)
    for cell in nb.cells:
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count")):
            return True
        if set(cell.get("metadata", {})) - set(KEPT_CELL_METADATA):
            return True
    return bool(set(nb.metadata) - set(GENERATED_METADATA))


def find_repo_root(start: Path | None = None) -> Path:
    """The repository root: a folder with ``pyproject.toml`` and ``ch02_tokenization/``.

    Searched from ``start`` (default: the working directory) upwards, then from this package's
    location upwards.
    """
    for base in (start or Path.cwd(), Path(__file__).resolve().parent):
        base = base.resolve()
        for folder in (base, *base.parents):
            if (folder / "pyproject.toml").is_file() and (folder / "ch02_tokenization").is_dir():
                return folder
    raise NotebookError(
        "Cannot find the ml4llm repository: run this inside a clone of the repository "
        "(a folder with pyproject.toml and ch02_tokenization/)."
    )


@dataclass
class _Planned:
    """The files that one project's solution notebook generates."""

    project: Project
    solution_path: Path
    solution_text: str
    helper_path: Path
    helper_text: str


def _select(projects: Iterable[int] | None) -> list[Project]:
    return list(PROJECTS) if projects is None else [get_project(n) for n in projects]


def _plan(root: Path, projects: Iterable[int] | None) -> Iterator[_Planned]:
    """Regenerate in memory every selected project that has a solution notebook.

    Every solution must have a parameters cell (:mod:`ml4llm.notebooks.params`), which
    ``ml4llm run N --set`` changes: one without is an error.
    """
    repo_url = repository_url(root)
    for project in _select(projects):
        solution_path = root / project.notebook("solution")
        if not solution_path.is_file():
            continue
        try:
            solution, helper = build_pair(read_notebook(solution_path), project, repo_url)
            tag_parameters_cell(solution)  # an error when the solution has none
        except NotebookError as err:
            error_type = MarkerError if isinstance(err, MarkerError) else NotebookError
            raise error_type(f"{project.notebook('solution')}: {err}") from None
        yield _Planned(
            project,
            solution_path,
            dumps(solution),
            root / project.notebook("helper"),
            dumps(helper),
        )


def _differs(path: Path, text: str) -> bool:
    return not path.is_file() or path.read_bytes() != text.encode("utf-8")


def back_up(path: Path) -> Path:
    """Copy a learner's file to ``<stem>.backup-<YYYYmmdd-HHMMSS><suffix>``; return the copy.

    A notebook's backup ends in ``.ipynb``, so Jupyter opens it. An older backup is never
    overwritten (a counter is added within the same second).
    """
    stamp_text = datetime.now().strftime("%Y%m%d-%H%M%S")
    backup = path.with_name(f"{path.stem}.backup-{stamp_text}{path.suffix}")
    counter = 2
    while backup.exists():
        backup = path.with_name(f"{path.stem}.backup-{stamp_text}-{counter}{path.suffix}")
        counter += 1
    shutil.copy2(path, backup)
    return backup


def _not_writable(path: Path) -> Path | None:
    """The folder or file that stops ``path`` from being written (or backed up), else None."""
    if not os.access(path.parent, os.W_OK | os.X_OK):
        return path.parent
    if path.exists() and not os.access(path, os.W_OK):
        return path
    return None


def generate(root: Path, projects: Iterable[int] | None = None, force: bool = False) -> list[Path]:
    """Stamp the solutions and (re)write the helpers; return the files whose bytes changed.

    Projects without a solution notebook are skipped. Nothing is written when a helper on disk
    was edited by a learner (:class:`HelperEditedError`), unless ``force``, or when a file to
    write is not writable (:class:`CannotWriteError`). Each helper that holds anything the
    generator did not write (:func:`helper_was_changed`: edited cells, a run's outputs) is first
    copied to ``<name>.backup-<YYYYmmdd-HHMMSS>.ipynb`` and the copy's path printed.
    """
    root = Path(root)
    planned = list(_plan(root, projects))
    changes = [
        (path, text)
        for item in planned
        for path, text in (
            (item.solution_path, item.solution_text),
            (item.helper_path, item.helper_text),
        )
        if _differs(path, text)
    ]
    helpers = {item.helper_path for item in planned}
    to_back_up = [
        path
        for path, _ in changes
        if path in helpers and path.is_file() and helper_was_changed(path)
    ]
    edited = [path for path in to_back_up if helper_was_edited(path)]
    if edited and not force:
        raise HelperEditedError([path.relative_to(root).as_posix() for path in edited])
    for path, _ in changes:
        blocker = _not_writable(path)
        if blocker is not None:
            raise CannotWriteError(
                f"Cannot write {path.relative_to(root).as_posix()}: {blocker} is read-only. "
                f"Make it writable (chmod u+w {blocker}) and run the command again; nothing "
                "was written."
            )
    written: list[Path] = []
    for path, text in changes:
        shown = path.relative_to(root).as_posix()
        try:
            if path in to_back_up:
                print(f"Saved your {shown} to {back_up(path)} before regenerating it")
            path.write_bytes(text.encode("utf-8"))
        except OSError as err:
            raise CannotWriteError(
                f"Could not write {shown} ({err.strerror}); free some space or make it "
                "writable and run the command again (a helper with your work was backed up "
                "before it was rewritten)."
            ) from None
        written.append(path)
    return written


def check(root: Path, projects: Iterable[int] | None = None) -> list[str]:
    """Paths (relative to ``root``) of solutions and helpers that differ from a regeneration.

    Writes nothing.
    """
    root = Path(root)
    stale: list[str] = []
    for item in _plan(root, projects):
        for path, text in (
            (item.solution_path, item.solution_text),
            (item.helper_path, item.helper_text),
        ):
            if _differs(path, text):
                stale.append(path.relative_to(root).as_posix())
    return stale
