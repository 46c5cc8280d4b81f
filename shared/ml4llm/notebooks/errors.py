"""The errors of the notebook tools: each message says what the user has to do.

The command line turns each into one ``error: ...`` line. Its exit status: 2 for a problem with
the command's arguments (:class:`NotebookError`, :class:`OutputFolderError`), 1 when the tools
refuse to overwrite a learner's file or cannot write (:class:`RefusedError`), and after Ctrl-C.
"""

from __future__ import annotations

# How a backup is named: `<stem>.backup-<YYYYmmdd-HHMMSS>.ipynb`, so that Jupyter opens it.
BACKUP_PATTERN = "<name>.backup-<YYYYmmdd-HHMMSS>.ipynb"


class NotebookError(Exception):
    """A problem with a course notebook that the user has to fix; the message says how."""


class MarkerError(NotebookError):
    """A solution marker that cannot be turned into a helper blank, or a cell that is not Python."""


class OutputFolderError(NotebookError):
    """An output folder that cannot be used: a file, not writable, or a folder of course sources."""


class RefusedError(NotebookError):
    """Nothing was written: doing it would lose a learner's file, or the folder is not writable."""


class HelperEditedError(RefusedError):
    """Regenerating would overwrite helper notebooks that a learner has edited."""

    def __init__(self, paths: list[str]) -> None:
        self.paths = paths
        super().__init__(
            f"Not overwriting {', '.join(paths)}: cells were edited since the generator wrote "
            "them (or it did not write them); keep your work, or run `ml4llm helpers --force` "
            f"to save each one to {BACKUP_PATTERN} first and then regenerate it."
        )


class OutputChangedError(RefusedError):
    """A notebook in an output folder that the tools did not write, or that changed since."""


class CannotWriteError(RefusedError):
    """A file that the tools have to write is in a folder (or is a file) that is not writable."""
