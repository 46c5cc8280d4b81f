"""Headless execution of a notebook in a kernel of its own, never touching the source file."""

from __future__ import annotations

import atexit
import os
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from nbformat import NotebookNode

from ml4llm.notebooks.stamp import KERNEL_NAME
from ml4llm.notebooks.sync import dumps, read_notebook


@dataclass
class ExecResult:
    """What :func:`execute` did: the executed notebook, new figures, wall time, first error.

    ``statuses`` maps each executed cell's index to the kernel's reply ("ok" or "error");
    ``error_cell`` is the index of the cell that raised :attr:`error` (None when no cell did).
    """

    notebook: Path
    figures: list[Path] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None
    statuses: dict[int, str] = field(default_factory=dict)
    error_cell: int | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def _figure_state(folder: Path) -> dict[Path, tuple[int, int]]:
    if not folder.is_dir():
        return {}
    return {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in folder.rglob("*") if p.is_file()}


def execute(
    path: Path,
    out_dir: Path,
    timeout: float | None = 600,
    allow_errors: bool = False,
    env: Mapping[str, str] | None = None,
) -> ExecResult:
    """Run a notebook headless with the working directory ``out_dir``; never touch the source.

    The executed copy is written to ``out_dir/<same name>`` even when a cell fails; figures the
    notebook saves land in ``out_dir/figures/``. ``timeout`` is per cell, in seconds. The kernel
    (``python3``) inherits this process's environment (e.g. ``ML4LLM_PROFILE``), updated with
    ``env``; its own log lines are kept out of the terminal and added to :attr:`ExecResult.error` when it fails. With
    ``allow_errors`` every cell runs whatever the cells before it did (a helper with blanks).
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    path, out_dir = Path(path), Path(out_dir)
    nb = read_notebook(path)
    out_dir.mkdir(parents=True, exist_ok=True)
    figures_before = _figure_state(out_dir / "figures")
    current = {"index": 0}
    statuses: dict[int, str] = {}

    def on_cell_start(cell: NotebookNode, cell_index: int) -> None:
        current["index"] = cell_index

    def on_cell_executed(cell: NotebookNode, cell_index: int, execute_reply: dict) -> None:
        statuses[cell_index] = execute_reply["content"]["status"]

    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=KERNEL_NAME,
        resources={"metadata": {"path": str(out_dir.resolve())}},
        on_cell_start=on_cell_start,
        on_cell_executed=on_cell_executed,
        allow_errors=allow_errors,
    )
    error: str | None = None
    error_cell: int | None = None
    kernel_env = {**os.environ, **(env or {})}
    started = time.perf_counter()
    # The kernel process's own log lines (ipykernel's "Kernel is running over TCP without
    # encryption", say) are noise to a learner: they go to a file, shown only when the kernel
    # fails. What the cells print and raise reaches the notebook as before.
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as kernel_log:
        try:
            client.execute(stdout=kernel_log, stderr=kernel_log, env=kernel_env)
        except (CellExecutionError, CellTimeoutError, DeadKernelError) as err:
            index = error_cell = current["index"]
            lines = nb.cells[index].source.strip().split("\n")
            where = f"cell {index + 1} ({lines[0][:60]!r})"
            if isinstance(err, CellExecutionError):
                error = f"{where}: {err.ename}: {err.evalue}"
            elif isinstance(err, CellTimeoutError):
                error = f"{where}: timed out after {timeout} s"
            else:
                error = f"{where}: the kernel died ({err}){_log_tail(kernel_log)}"
        except RuntimeError as err:  # e.g. "Kernel died before replying to kernel_info"
            error = f"the kernel did not start ({err}){_log_tail(kernel_log)}"
            # nbclient has cleaned up already but leaves its exit hook, which would fail later
            # with a traceback of its own.
            atexit.unregister(client._cleanup_kernel)
    seconds = time.perf_counter() - started
    notebook_path = out_dir / path.name
    notebook_path.write_text(dumps(nb), encoding="utf-8")
    figures_after = _figure_state(out_dir / "figures")
    figures = sorted(p for p, state in figures_after.items() if figures_before.get(p) != state)
    return ExecResult(notebook_path, figures, seconds, error, statuses, error_cell)


# Kernel log lines that say nothing about why a kernel failed (they would mislead a learner).
_KERNEL_NOISE = ("Kernel is running over TCP without encryption",)


def _log_tail(log: IO[str], lines: int = 20) -> str:
    """The last lines of the kernel's log, indented, for an error message ('' when empty)."""
    log.flush()
    log.seek(0)
    kept = [
        line.rstrip()
        for line in log.read().splitlines()
        if line.strip() and not any(noise in line for noise in _KERNEL_NOISE)
    ]
    tail = kept[-lines:]
    if not tail:
        return ""
    return "\nThe kernel's last messages:\n" + "\n".join(f"  {line}" for line in tail)
