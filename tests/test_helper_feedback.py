"""Every helper gives feedback: run untouched, each self-check asks for the blank or says FAIL.

A helper straight from the generator has every blank still ``...``. Executed as it is (errors
allowed, as "Run all" would go on), each cell that calls a check must reach the check and the
check must not pass: it prints "fill in the blank first" or a FAIL hint. A check that passes on
an empty helper would tell a learner nothing. Every other cell must end without an error,
traceback or warning: a cell that needs a blank prints one line ("fill in the blanks above
first", from ``ml4llm.blanks``) and shows no figure. The rule is
:func:`ml4llm.notebooks.helper_problems`, the opposite of the solutions' strict mode.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ml4llm.notebooks import execute, helper_problems, read_notebook
from ml4llm.projects import PROJECTS

ROOT = Path(__file__).resolve().parents[1]
BUILT = [p for p in PROJECTS if p.exists(ROOT)]

pytestmark = pytest.mark.notebook


@pytest.mark.parametrize("project", BUILT, ids=lambda p: f"proj{p.number:02d}")
def test_untouched_helper_gives_feedback_in_every_cell(project, tmp_path, monkeypatch):
    monkeypatch.setenv("ML4LLM_PROFILE", "offline")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    result = execute(ROOT / project.notebook("helper"), tmp_path, timeout=120, allow_errors=True)
    nb = read_notebook(result.notebook)
    assert any("check." in c.source for c in nb.cells if c.cell_type == "code"), "no check"
    problems = helper_problems(nb, result.statuses)
    assert not problems, "\n".join(problems)
