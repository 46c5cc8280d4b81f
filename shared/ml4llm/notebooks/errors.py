"""The errors of the notebook tools: each message says what the user has to do."""

from __future__ import annotations


class NotebookError(Exception):
    """A problem with a course notebook that the user has to fix; the message says how."""


class MarkerError(NotebookError):
    """A solution marker that cannot be turned into a helper blank, or a cell that is not Python."""


class HelperEditedError(NotebookError):
    """Regenerating would overwrite helper notebooks that a learner has edited."""

    def __init__(self, paths: list[str]) -> None:
        self.paths = paths
        names = "\n".join(f"  {path}" for path in paths)
        super().__init__(
            "Not overwriting these helper notebooks: their cells were edited since they were "
            f"generated (or they were not written by the generator):\n{names}\n"
            "Keep your work, or run `ml4llm helpers --force` to save each one to "
            "<name>.ipynb.bak-<YYYYmmdd-HHMMSS> first and then regenerate it."
        )
