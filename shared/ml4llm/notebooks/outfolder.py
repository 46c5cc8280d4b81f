"""Output folders of ``ml4llm run`` and ``ml4llm check --out``: never overwrite what they did not write.

Each output folder keeps a record, :data:`RECORD_NAME`, of the notebooks the tools wrote there with
the sha256 of their bytes. Before a run, :func:`prepare` checks the folder and claims the notebook
it will write:

- the folder must not be a file (nor lie under one), nor hold the course's sources: a repository
  root, or a folder inside its chapter folders, ``shared/``, ``tests/``, ``tools/``,
  ``benchmarks/``, ``.ci/``, ``.github/`` or ``.git/`` (:class:`OutputFolderError`);
- it must be writable, or else the folder it would be created in (:class:`OutputFolderError`);
- a notebook of the same name that the record does not hold with those exact bytes (the learner
  changed it, or another program wrote it) is not overwritten (:class:`OutputChangedError`),
  unless ``force``: then it is first copied to ``<name>.backup-<YYYYmmdd-HHMMSS>.ipynb``.

After the run, :func:`record` stores the new notebook's hash. The figures the notebook saves under
``figures/`` are its own outputs and are rewritten by each run.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from ml4llm.notebooks.errors import BACKUP_PATTERN, OutputChangedError, OutputFolderError
from ml4llm.notebooks.sync import back_up
from ml4llm.projects import CHAPTERS

RECORD_NAME = ".ml4llm-written.json"

# The top-level folders of a repository that hold the course's sources (besides the root).
SOURCE_FOLDERS = (
    *CHAPTERS.values(),
    "shared",
    "tests",
    "tools",
    "benchmarks",
    ".ci",
    ".github",
    ".git",
)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _is_repository(folder: Path) -> bool:
    return (folder / "pyproject.toml").is_file() and (folder / "ch02_tokenization").is_dir()


def _read_record(out_dir: Path) -> dict[str, str]:
    """File name -> sha256 of what the tools wrote in ``out_dir`` ({} when unknown)."""
    try:
        data = json.loads((out_dir / RECORD_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):  # no record, or a damaged one: nothing counts as ours
        return {}
    written = data.get("written") if isinstance(data, dict) else None
    if not isinstance(written, dict):
        return {}
    return {name: digest for name, digest in written.items() if isinstance(digest, str)}


def source_folder(out_dir: Path) -> Path | None:
    """The repository whose sources ``out_dir`` is or lies among, else None."""
    resolved = Path(out_dir).resolve()
    for folder in (resolved, *resolved.parents):
        if not _is_repository(folder):
            continue
        if folder == resolved:
            return folder
        if resolved.relative_to(folder).parts[0] in SOURCE_FOLDERS:
            return folder
    return None


def check_folder(out_dir: Path, option: str = "--out") -> None:
    """Refuse an output folder that is a file, holds course sources or is not writable.

    The folder is created when missing. ``option`` names the setting in the messages.
    """
    out_dir = Path(out_dir)
    for folder in (out_dir, *out_dir.parents):
        if folder.exists() and not folder.is_dir():
            where = (
                "is a file, not a folder" if folder == out_dir else f"lies under the file {folder}"
            )
            raise OutputFolderError(
                f"{option} {out_dir} {where}: give a folder (it is created when "
                "missing), e.g. runs/mine."
            )
    repository = source_folder(out_dir)
    if repository is not None:
        raise OutputFolderError(
            f"{option} {out_dir} holds the course's sources (in the repository {repository}): "
            "write the run elsewhere, e.g. into runs/ (the default when you leave out "
            f"{option})."
        )
    existing = next(folder for folder in (out_dir, *out_dir.parents) if folder.exists())
    if not os.access(existing, os.W_OK | os.X_OK):
        inside = "" if existing == out_dir else f" (it would be created in {existing})"
        raise OutputFolderError(
            f"{option} {out_dir} is not writable{inside}: choose a folder you can write to, "
            f"or make it writable (chmod u+w {existing})."
        )
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputFolderError(
            f"{option} {out_dir}: cannot create the folder ({err.strerror}): choose a folder "
            "you can write to."
        ) from None


def prepare(out_dir: Path, name: str, force: bool = False, option: str = "--out") -> Path | None:
    """Check ``out_dir`` (:func:`check_folder`) and claim ``out_dir/name`` for a new notebook.

    Returns the backup made of a notebook there that the tools did not write (or that changed
    since), with ``force``; without it such a notebook raises :class:`OutputChangedError`.
    Nothing is executed or written before these checks pass.
    """
    out_dir = Path(out_dir)
    check_folder(out_dir, option)
    target = out_dir / name
    if not target.exists():
        return None
    if _read_record(out_dir).get(name) == _sha256(target):
        return None
    if not force:
        raise OutputChangedError(
            f"Not overwriting {target}: it changed since ml4llm wrote it (or ml4llm did not "
            "write it). Keep your work: choose another folder with --out, or add --force to "
            f"save it to {BACKUP_PATTERN} first."
        )
    return back_up(target)


def record(notebook: Path) -> None:
    """Note in its folder's record that the tools wrote ``notebook`` as it is now."""
    notebook = Path(notebook)
    out_dir = notebook.parent
    written = _read_record(out_dir)
    written[notebook.name] = _sha256(notebook)
    data = {
        "about": "Notebooks that ml4llm wrote in this folder, with the sha256 of their bytes: "
        "it overwrites only these, and only while they are unchanged.",
        "written": dict(sorted(written.items())),
    }
    scratch = out_dir / f"{RECORD_NAME}.tmp"
    scratch.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    os.replace(scratch, out_dir / RECORD_NAME)
