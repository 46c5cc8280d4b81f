"""Repository-wide pytest set-up: offline profile, solution notebooks only, notebook timings.

Solution notebooks are collected by nbval (``--nbval-lax``: every cell must run without error;
outputs are not compared). Helper notebooks have blanks by design and are not executed.
"""

from __future__ import annotations

import os
import time
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
_notebook_seconds: dict[str, float] = defaultdict(float)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item):
    start = time.perf_counter()
    yield
    path = Path(str(item.fspath))
    if path.suffix == ".ipynb":
        _notebook_seconds[path.name] += time.perf_counter() - start


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
    terminalreporter.section("notebook wall times (cells only, kernel start excluded)")
    for name, seconds in sorted(_notebook_seconds.items()):
        flag = "  OVER LIMIT" if seconds > NOTEBOOK_LIMIT_S else ""
        terminalreporter.write_line(f"{seconds:6.1f} s  {name}{flag}")


def pytest_sessionfinish(session, exitstatus):  # noqa: ARG001
    slow = {n: s for n, s in _notebook_seconds.items() if s > NOTEBOOK_LIMIT_S}
    if slow and session.exitstatus == 0:
        session.exitstatus = 1
        print(f"\nNotebooks over the {NOTEBOOK_LIMIT_S:.0f} s limit: {slow}")
