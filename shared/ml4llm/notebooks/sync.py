"""Keeping the repository's notebooks in sync with the solutions: read, write, generate, check.

Notebooks are written deterministically (nbformat 4.5 JSON with ``indent=1``, final newline). The
generator refuses to overwrite a helper whose sources no longer match the hash it stored (a learner
edited it) unless forced, and then saves a backup first. Error messages number cells from 1, as
they appear in the notebook.
"""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from ml4llm.notebooks.errors import HelperEditedError, MarkerError, NotebookError
from ml4llm.notebooks.params import tag_parameters_cell
from ml4llm.notebooks.stamp import build_pair, repository_url, source_hash
from ml4llm.projects import PROJECTS, Project, get_project


def read_notebook(path: Path) -> NotebookNode:
    """Read a notebook as nbformat 4 (warnings about missing cell ids are silenced)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return nbformat.reads(path.read_text(encoding="utf-8"), as_version=4)


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


def _backup(path: Path) -> Path:
    """Copy a learner's file to ``<name>.bak-<YYYYmmdd-HHMMSS>`` (never over an older backup)."""
    stamp_text = datetime.now().strftime("%Y%m%d-%H%M%S")
    backup = path.with_name(f"{path.name}.bak-{stamp_text}")
    counter = 1
    while backup.exists():
        backup = path.with_name(f"{path.name}.bak-{stamp_text}-{counter}")
        counter += 1
    shutil.copy2(path, backup)
    return backup


def generate(root: Path, projects: Iterable[int] | None = None, force: bool = False) -> list[Path]:
    """Stamp the solutions and (re)write the helpers; return the files whose bytes changed.

    Projects without a solution notebook are skipped. Nothing is written when a helper on disk
    was edited by a learner (:class:`HelperEditedError`), unless ``force``: then each edited
    helper is first copied to ``<name>.ipynb.bak-<YYYYmmdd-HHMMSS>`` and the copy's path printed.
    """
    root = Path(root)
    planned = list(_plan(root, projects))
    edited = [
        item.helper_path
        for item in planned
        if item.helper_path.is_file()
        and _differs(item.helper_path, item.helper_text)
        and helper_was_edited(item.helper_path)
    ]
    if edited and not force:
        raise HelperEditedError([path.relative_to(root).as_posix() for path in edited])
    written: list[Path] = []
    for item in planned:
        for path, text in (
            (item.solution_path, item.solution_text),
            (item.helper_path, item.helper_text),
        ):
            if not _differs(path, text):
                continue
            if path in edited:
                print(f"Saved the edited {path.relative_to(root).as_posix()} to {_backup(path)}")
            path.write_bytes(text.encode("utf-8"))
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
