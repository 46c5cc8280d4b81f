"""Repository-wide pytest set-up: offline profile, strict solution notebooks, notebook timings.

Every ``*_solution.ipynb`` under the test paths is one test: it is executed once, offline, in a
kernel of its own (working directory: a temporary folder, so figures never land in the
repository), and fails on an error or on any self-check line that is not PASS
(:func:`ml4llm.notebooks.strict_problems`: the solution is its checks' pass test). Each run is
independent, so the tests can be spread over processes (e.g. ``pytest -n 4`` with pytest-xdist).
Helper notebooks have blanks by design: ``tests/test_helper_feedback.py`` runs them under the
opposite rule.
"""

from __future__ import annotations

import os
import tempfile
from collections import defaultdict
from pathlib import Path

import pytest

# Everything in the test suite runs on the offline stand-ins, also inside notebook kernels,
# which inherit this environment.
os.environ.setdefault("ML4LLM_PROFILE", "offline")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TQDM_MININTERVAL", "5")

collect_ignore_glob = ["*_helper.ipynb", "runs/*", ".venv*/*"]

# Each notebook should take at most 30 s offline; the suite fails past twice that, so that a
# slow machine does not make CI flaky while a real regression still shows.
NOTEBOOK_LIMIT_S = float(os.environ.get("ML4LLM_NOTEBOOK_LIMIT_S", "60"))
CELL_TIMEOUT_S = 120
_notebook_seconds: dict[str, float] = defaultdict(float)


class StrictFailure(Exception):
    """A solution notebook that raised, or printed a check line that is not PASS."""


class SolutionNotebook(pytest.File):
    def collect(self):
        yield SolutionRun.from_parent(self, name="strict")


class SolutionRun(pytest.Item):
    """Execute one solution notebook and apply strict mode to its outputs."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.add_marker(pytest.mark.notebook)

    def runtest(self) -> None:
        from ml4llm.notebooks import execute, read_notebook, strict_problems

        with tempfile.TemporaryDirectory(prefix="ml4llm-solution-") as folder:
            result = execute(self.path, Path(folder), timeout=CELL_TIMEOUT_S)
            problems = strict_problems(read_notebook(result.notebook), result.error)
        _notebook_seconds[self.path.name] = result.seconds
        if problems:
            raise StrictFailure("\n".join(problems))

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, StrictFailure):
            return f"{self.path.relative_to(self.config.rootpath)}:\n{excinfo.value}"
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self):
        return self.path, None, f"{self.path.name} (strict)"


def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    if file_path.name.endswith("_solution.ipynb"):
        return SolutionNotebook.from_parent(parent, path=file_path)
    return None


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--slow",
        action="store_true",
        help="also run the tests marked slow (the Colab-style install, which downloads from PyPI)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--slow"):
        return
    skip = pytest.mark.skip(reason="slow: run with `pytest --slow` (./course.sh test and CI do)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # noqa: ARG001
    if not _notebook_seconds:
        return
    terminalreporter.section("notebook wall times (kernel start included)")
    for name, seconds in sorted(_notebook_seconds.items()):
        flag = "  OVER LIMIT" if seconds > NOTEBOOK_LIMIT_S else ""
        terminalreporter.write_line(f"{seconds:6.1f} s  {name}{flag}")


def pytest_sessionfinish(session, exitstatus):  # noqa: ARG001
    slow = {n: s for n, s in _notebook_seconds.items() if s > NOTEBOOK_LIMIT_S}
    if slow and session.exitstatus == 0:
        session.exitstatus = 1
        print(f"\nNotebooks over the {NOTEBOOK_LIMIT_S:.0f} s limit: {slow}")
