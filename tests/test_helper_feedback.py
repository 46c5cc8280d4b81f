"""Every helper gives feedback: run untouched, each self-check asks for the blank or says FAIL.

A helper straight from the generator has every blank still ``...``. Executed as it is, each cell
that calls a check must reach the check (no NameError or crash in that cell) and the check must not
pass: it prints "fill in the blank first" or a FAIL hint. A check that passes on an empty helper
would tell a learner nothing; a check cell that crashes would tell them nothing useful either.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from ml4llm.projects import PROJECTS

ROOT = Path(__file__).resolve().parents[1]
BUILT = [p for p in PROJECTS if p.exists(ROOT)]

pytestmark = pytest.mark.notebook


@pytest.mark.parametrize("project", BUILT, ids=lambda p: f"proj{p.number:02d}")
def test_untouched_helper_reaches_every_check_without_passing(project, tmp_path, monkeypatch):
    monkeypatch.setenv("ML4LLM_PROFILE", "offline")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    nb = nbformat.read(ROOT / project.notebook("helper"), as_version=4)
    client = NotebookClient(
        nb,
        timeout=120,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute(env={**os.environ})
    check_cells = [
        (i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code" and "check." in c.source
    ]
    assert check_cells, "the helper calls no check"
    problems = []
    for index, cell in check_cells:
        text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
        errors = [o for o in cell.outputs if o.output_type == "error"]
        where = f"cell {index + 1} ({cell.source.strip().splitlines()[0][:60]})"
        if errors:
            problems.append(f"{where}: {errors[0].ename}: {errors[0].evalue[:120]}")
        elif "PASS" in text:
            problems.append(f"{where}: a check passes on the unfilled helper: {text.strip()[:120]}")
        elif "fill in the blank first" not in text and "FAIL" not in text:
            problems.append(f"{where}: no check line printed")
    assert not problems, "\n".join(problems)
