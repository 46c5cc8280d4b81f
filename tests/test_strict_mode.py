"""Strict mode: a solution fails on every check line that is not PASS; an untouched helper is held
to the opposite rule. Both run a tiny notebook through the machinery the suite uses for the real
ones (``ml4llm.notebooks.execute`` with ``strict_problems`` / ``helper_problems``)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from ml4llm.notebooks import execute, helper_problems, make_helper, read_notebook, strict_problems
from ml4llm.projects import get_project

pytestmark = pytest.mark.notebook

SETUP = (
    "import numpy as np\n\nimport ml4llm\nfrom ml4llm.checks import common as check\n\n"
    "rng = ml4llm.setup()\nrows = np.array([[3.0, 4.0], [1.0, 0.0], [0.0, 2.0]])"
)
SOLUTION = [
    SETUP,
    "unit = rows / np.linalg.norm(rows, axis=1, keepdims=True)  # SOLUTION\n"
    "matrix = unit @ unit.T  # SOLUTION",
    "check.cosine_matrix(rows, matrix=matrix)",
    "print(matrix.round(2))",
]


def notebook(folder: Path, cells: list[str], name: str = "tiny_solution") -> Path:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    path = folder / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def solved(tmp_path_factory):
    """The tiny solution, executed once."""
    folder = tmp_path_factory.mktemp("solved")
    return execute(notebook(folder, SOLUTION), folder / "out", allow_errors=True)


def test_the_solution_passes_strict_mode_and_fails_the_helper_rule(solved):
    executed = read_notebook(solved.notebook)
    assert strict_problems(executed, solved.error) == []
    problems = helper_problems(executed, solved.statuses)
    assert len(problems) == 1 and "a check passes on the unfilled helper" in problems[0]


def test_every_kind_of_line_that_is_not_pass_fails_the_solution(tmp_path):
    cells = [
        *SOLUTION,
        "check.cosine_matrix(rows, matrix=matrix[:, ::-1])",  # a planted wrong value
        "check.cosine_matrix(rows, matrix=...)",
        "check.cosine_matrix(rows, matrix=matrix)",  # the line of cell 3 again
        "check.cosine_matrix(rows, matrix=matrix, label='a')\n"
        "check.cosine_matrix(rows[::-1], matrix=matrix[::-1, ::-1], label='b')",
        "late = ...\nprint(late)",
        "matrix = rows @ rows.T[:1]",  # an error: the run stops here
    ]
    result = execute(notebook(tmp_path, cells), tmp_path / "out")
    problems = strict_problems(read_notebook(result.notebook), result.error)
    assert len(problems) == 5, problems
    error, planted, blank, repeated, guard = problems
    assert error.startswith("cell 10 (") and "ValueError" in error
    assert planted.startswith("cell 5 ('check.cosine_matrix(rows, matrix=matrix[:, ::-1])'): ")
    assert "FAIL cosine_matrix: matrix: not symmetric" in planted
    assert blank.startswith("cell 6") and "fill in the blank first" in blank
    assert repeated.startswith("cell 7") and "repeats the line of cell 3" in repeated
    assert "label=" in repeated
    assert guard.startswith("cell 9") and "fill in the blanks above first" in guard


def test_the_untouched_helper_of_the_same_solution_gives_feedback(tmp_path):
    solution = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in SOLUTION])
    helper = make_helper(solution, get_project(1), repo_url="https://github.com/o/r")
    path = tmp_path / "tiny_helper.ipynb"
    nbformat.write(helper, path)
    result = execute(path, tmp_path / "out", allow_errors=True)
    executed = read_notebook(result.notebook)
    assert helper_problems(executed, result.statuses) == []
    text = "".join(o.get("text", "") for c in executed.cells[-3:] for o in c.get("outputs", []))
    assert "cosine_matrix: fill in the blank first" in text
    assert "fill in the blanks above first (`matrix` is not filled in yet)" in text
    assert "Scorecard: 0 of 1 checks pass; 1 waits for a blank." in text  # the helper's last cell
