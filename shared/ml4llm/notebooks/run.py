"""Headless execution of a notebook in a kernel of its own, never touching the source file.

Ctrl-C (SIGINT) during a run interrupts the kernel as Jupyter's interrupt button does: the running
cell stops with ``KeyboardInterrupt``, no later cell runs, and the partly executed copy is written
as usual (:attr:`ExecResult.interrupted`). A second Ctrl-C stops the kernel at once, for a cell
that does not answer the first.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import signal
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
    interrupted: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


def _figure_state(folder: Path) -> dict[Path, tuple[int, int]]:
    if not folder.is_dir():
        return {}
    return {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in folder.rglob("*") if p.is_file()}


class Interrupted(Exception):
    """Raised between cells to stop a run after Ctrl-C."""


class _CtrlC:
    """What Ctrl-C does during a run: interrupt the kernel, then stop it (see the module doc)."""

    def __init__(self) -> None:
        self.presses = 0
        self.client = None

    def install(self, client) -> None:
        """Handle SIGINT on the client's event loop (it replaces nbclient's own handler)."""
        self.client = client
        try:
            asyncio.get_running_loop().add_signal_handler(signal.SIGINT, self._on_sigint)
        except (NotImplementedError, RuntimeError):  # Windows, or not the main thread
            pass

    def _on_sigint(self) -> None:
        self.presses += 1
        km = getattr(self.client, "km", None)
        if km is None or not km.has_kernel:
            return  # the kernel is starting: the run stops before its first cell
        if self.presses == 1:
            asyncio.ensure_future(km.interrupt_kernel())
        else:
            asyncio.ensure_future(km.shutdown_kernel(now=True))

    def stop_if_pressed(self) -> None:
        if self.presses:
            raise Interrupted


def _client_class(ctrl_c: _CtrlC):
    """nbclient's client, with :class:`_CtrlC` handling SIGINT from before the kernel starts."""
    from nbclient import NotebookClient

    class Client(NotebookClient):
        async def async_start_new_kernel(self, **kwargs) -> None:
            ctrl_c.install(self)
            await super().async_start_new_kernel(**kwargs)

    return Client


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
    ``env``; its own log lines are kept out of the terminal and added to :attr:`ExecResult.error`
    when it fails. With ``allow_errors`` every cell runs whatever the cells before it did (a
    helper with blanks). After Ctrl-C, :attr:`ExecResult.error` says ``interrupted at cell N``.
    """
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    path, out_dir = Path(path), Path(out_dir)
    nb = read_notebook(path)
    out_dir.mkdir(parents=True, exist_ok=True)
    figures_before = _figure_state(out_dir / "figures")
    current: dict[str, int | None] = {"index": None}
    statuses: dict[int, str] = {}
    ctrl_c = _CtrlC()

    def on_cell_start(cell: NotebookNode, cell_index: int) -> None:
        ctrl_c.stop_if_pressed()
        current["index"] = cell_index

    def on_cell_executed(cell: NotebookNode, cell_index: int, execute_reply: dict) -> None:
        statuses[cell_index] = execute_reply["content"]["status"]
        ctrl_c.stop_if_pressed()

    client = _client_class(ctrl_c)(
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
    interrupted = False
    kernel_env = {**os.environ, **(env or {})}
    started = time.perf_counter()
    # The kernel process's own log lines (ipykernel's "Kernel is running over TCP without
    # encryption", say) are noise to a learner: they go to a file, shown only when the kernel
    # fails. What the cells print and raise reaches the notebook as before.
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as kernel_log:
        try:
            client.execute(stdout=kernel_log, stderr=kernel_log, env=kernel_env)
        except (CellExecutionError, CellTimeoutError, DeadKernelError, Interrupted) as err:
            index = error_cell = current["index"]
            if index is None:
                where = "before the first cell"
            else:
                lines = nb.cells[index].source.strip().split("\n")
                where = f"cell {index + 1} ({lines[0][:60]!r})"
            if ctrl_c.presses:
                interrupted = True
                error = f"interrupted at {where}" if index is not None else f"interrupted {where}"
            elif isinstance(err, CellExecutionError):
                error = f"{where}: {err.ename}: {err.evalue}"
            elif isinstance(err, CellTimeoutError):
                error = f"{where}: timed out after {timeout} s"
            else:
                error = f"{where}: the kernel died ({err}){_log_tail(kernel_log)}"
        except RuntimeError as err:  # e.g. "Kernel died before replying to kernel_info"
            interrupted = bool(ctrl_c.presses)
            if interrupted:
                error = "interrupted before the first cell"
            else:
                error = f"the kernel did not start ({err}){_log_tail(kernel_log)}"
            # nbclient has cleaned up already but leaves its exit hook, which would fail later
            # with a traceback of its own.
            atexit.unregister(client._cleanup_kernel)
    seconds = time.perf_counter() - started
    notebook_path = out_dir / path.name
    notebook_path.write_text(dumps(nb), encoding="utf-8")
    figures_after = _figure_state(out_dir / "figures")
    figures = sorted(p for p, state in figures_after.items() if figures_before.get(p) != state)
    return ExecResult(
        notebook_path, figures, seconds, error, statuses, error_cell, interrupted=interrupted
    )


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
