"""The learner's tools: ``ml4llm check``, ``ml4llm progress``, ``ml4llm run --set`` and the scorecard.

Everything runs in a fake repository in a temporary folder whose project 1 is a tiny solution with
three self-checks in two parts; the repository's real notebooks are never touched. Each kind of
helper (untouched, filled from the solution, with a planted wrong answer, with a cell that raises)
is executed once, through ``ml4llm check``, and its results are shared by the tests.
"""

from __future__ import annotations

import contextlib
import io
import shutil
from pathlib import Path

import nbformat
import numpy as np
import pytest

from ml4llm import cli, notebooks, scorecard
from ml4llm.checks import common
from ml4llm.notebooks import grade, params
from ml4llm.notebooks.progress import find_helpers
from ml4llm.projects import CHAPTERS, PROJECTS, get_project

REPO = Path(__file__).resolve().parents[1]
PROJECT = get_project(1)

SOLUTION = [
    (
        "code",
        "import numpy as np\n\nimport ml4llm\nfrom ml4llm.checks import common as check\n\n"
        "rng = ml4llm.setup(project=1)",
    ),
    ("markdown", "## Parameters\nHow many rows the toy data has."),
    (
        "code",
        "n_rows = 3  # book: 3, Colab: 3, offline: 3\n"
        "rows = np.arange(1.0, 1.0 + 2 * n_rows).reshape(n_rows, 2)\n"
        "print(rows.shape)",
    ),
    ("markdown", "## Part 1: cosines"),
    (
        "code",
        "unit = rows / np.linalg.norm(rows, axis=1, keepdims=True)  # SOLUTION\n"
        "matrix = unit @ unit.T  # SOLUTION",
    ),
    ("code", "check.cosine_matrix(rows, matrix=matrix)"),
    ("markdown", "## Part 2: the rows reversed, and the first two"),
    (
        "code",
        "reversed_matrix = unit[::-1] @ unit[::-1].T  # SOLUTION\n"
        "first_two = unit[:2] @ unit[:2].T  # SOLUTION",
    ),
    (
        "code",
        'check.cosine_matrix(rows[::-1], matrix=reversed_matrix, label="reversed")\n'
        'check.cosine_matrix(rows[:2], matrix=first_two, label="first two")',
    ),
]
WRONG_MATRIX = "matrix = rows @ rows.T"  # dot products, not cosines
RAISING = "reversed_matrix = unit[::-1] @ unit[::-1].Tx"


def make_solution() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    for kind, source in SOLUTION:
        new = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
        nb.cells.append(new(source))
    return nb


def make_repo(root: Path) -> Path:
    """A copy of the repository layout with the tiny project 1 built (solution and helper)."""
    for folder in CHAPTERS.values():
        (root / folder).mkdir(parents=True)
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    nbformat.write(make_solution(), root / PROJECT.notebook("solution"))
    notebooks.generate(root, [1])
    return root


def cell_index(nb: nbformat.NotebookNode, text: str) -> int:
    return next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and text in c.source)


def filled_helper(root: Path, replace: dict[str, str] | None = None) -> nbformat.NotebookNode:
    """The helper with every cell's code taken from the solution, then ``replace`` applied."""
    helper = notebooks.read_notebook(root / PROJECT.notebook("helper"))
    solution = notebooks.read_notebook(root / PROJECT.notebook("solution"))
    for index, cell in enumerate(solution.cells):
        if cell.cell_type == "code":
            helper.cells[index].source = notebooks.mark_helper_setup(cell.source)
    for old, new in (replace or {}).items():
        for cell in helper.cells:
            cell.source = cell.source.replace(old, new)
    return helper


def run_cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(list(args))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_repo(tmp_path_factory.mktemp("learner") / "repo")


@pytest.fixture(autouse=True)
def in_repo(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)
    monkeypatch.setenv("ML4LLM_PROFILE", "offline")


@pytest.fixture(scope="module")
def checked(repo: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Each kind of helper through `ml4llm check`: exit code, stdout, the executed copy, the
    learner's file and its bytes before the check."""
    folder = tmp_path_factory.mktemp("downloads")
    planted = cell_index(make_solution(), "matrix = unit @ unit.T") + 2  # + header, setup
    variants = {
        "untouched": None,
        "filled": filled_helper(repo),
        "wrong": filled_helper(repo, {"matrix = unit @ unit.T  # SOLUTION": WRONG_MATRIX}),
        "raises": filled_helper(repo, {"reversed_matrix = unit[::-1] @ unit[::-1].T": RAISING}),
    }
    assert WRONG_MATRIX in variants["wrong"].cells[planted].source
    results = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(repo)
        patch.setenv("ML4LLM_PROFILE", "offline")
        for name, nb in variants.items():
            out_dir = folder / f"run-{name}"
            if nb is None:
                path = repo / PROJECT.notebook("helper")
                before = path.read_bytes()
                code, out, _ = run_cli("check", "1", "--out", str(out_dir))
            else:
                path = folder / f"Copy of {Path(PROJECT.notebook('helper')).name}"
                path = path.with_name(path.name.replace("_helper", f"_helper {name}"))
                nbformat.write(nb, path)
                before = path.read_bytes()
                code, out, _ = run_cli("check", "1", str(path), "--out", str(out_dir))
            executed = notebooks.read_notebook(out_dir / path.name)
            results[name] = (code, out, executed, path, before)
    return results


def check_lines_of(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith("cell ")]


def stdout_of(nb: nbformat.NotebookNode, index: int) -> str:
    return "".join(o.get("text", "") for o in nb.cells[index].get("outputs", []))


# --- ml4llm check -------------------------------------------------------------------------------


@pytest.mark.notebook
def test_check_on_an_untouched_helper_says_every_blank_is_open(checked, repo: Path) -> None:
    code, out, executed, path, before = checked["untouched"]
    assert code == 1
    lines = check_lines_of(out)
    assert len(lines) == 3
    assert all("BLANK" in line and "fill in the blank first" in line for line in lines)
    assert [line.split()[3] for line in lines] == [
        "cosine_matrix:",
        "cosine_matrix",
        "cosine_matrix",
    ]
    assert "(reversed)" in lines[1] and "(first two)" in lines[2]
    assert out.splitlines()[-1].startswith("project 1: 0 of 3 checks pass")
    assert "your notebook is not changed" in out
    assert path.read_bytes() == before  # the learner's file is never written
    assert any(c.get("outputs") for c in executed.cells if c.cell_type == "code")


@pytest.mark.notebook
def test_check_on_a_helper_filled_from_the_solution_passes_everything(checked) -> None:
    code, out, executed, path, before = checked["filled"]
    lines = check_lines_of(out)
    assert code == 0, out
    assert len(lines) == 3 and all(" PASS " in line for line in lines), out
    assert out.splitlines()[-1].startswith("project 1: 3 of 3 checks pass")
    assert path.read_bytes() == before  # the downloaded copy given as NOTEBOOK is not written


@pytest.mark.notebook
def test_check_shows_a_planted_wrong_answer_with_its_hint(checked, repo: Path) -> None:
    code, out, executed, _, _ = checked["wrong"]
    assert code == 1
    lines = check_lines_of(out)
    assert [line.split()[2] for line in lines] == ["FAIL", "PASS", "PASS"]
    rows = np.arange(1.0, 7.0).reshape(3, 2)
    with contextlib.redirect_stdout(io.StringIO()) as expected:
        common.cosine_matrix(rows, matrix=rows @ rows.T)
    hint = expected.getvalue().strip()
    assert hint.startswith("FAIL cosine_matrix: ")
    check_cell = cell_index(executed, "check.cosine_matrix(rows, matrix=matrix)") + 1
    assert lines[0] == f"cell {check_cell:<3}  FAIL     {hint[len('FAIL ') :]}"
    assert f"Revisit first: Part 1: cosines: cell {check_cell}, cosine_matrix\n" in out
    assert out.splitlines()[-1].startswith("project 1: 2 of 3 checks pass")


@pytest.mark.notebook
def test_check_names_the_cell_that_raised_for_the_checks_after_it(checked) -> None:
    code, out, executed, _, _ = checked["raises"]
    assert code == 1
    lines = check_lines_of(out)
    raised = cell_index(executed, "reversed_matrix =") + 1
    assert " PASS " in lines[0]
    expected = f"cell {raised} raised AttributeError: 'numpy.ndarray' object has no attribute 'Tx'"
    for line, title in zip(lines[1:], ["cosine_matrix (reversed)", "cosine_matrix (first two)"]):
        assert "NOT RUN" in line and line.endswith(f"{title}: {expected}"), line
    assert f"Revisit first: Part 2: the rows reversed, and the first two: {expected}" in out
    assert out.splitlines()[-1].startswith("project 1: 1 of 3 checks pass")


def test_check_refuses_another_projects_notebook(tmp_path: Path, repo: Path) -> None:
    other = tmp_path / "mine.ipynb"
    nb = notebooks.read_notebook(repo / PROJECT.notebook("helper"))
    nb.metadata["ml4llm"]["project"] = 7
    nbformat.write(nb, other)
    code, _, err = run_cli("check", "1", str(other))
    assert code == 2 and "helper of project 7" in err and "ml4llm check 7" in err
    code, _, err = run_cli("check", "1", str(tmp_path / "missing.ipynb"))
    assert code == 2 and "There is no notebook" in err
    code, _, err = run_cli("check", "2")
    assert code == 2 and "no helper notebook yet" in err


# --- the scorecard cell ---------------------------------------------------------------------------


def test_every_helper_ends_with_the_scorecard_and_solutions_have_none(repo: Path) -> None:
    helper = notebooks.read_notebook(repo / PROJECT.notebook("helper"))
    solution = notebooks.read_notebook(repo / PROJECT.notebook("solution"))
    last = helper.cells[-1]
    assert last.metadata == {"ml4llm": "scorecard"}
    assert "from ml4llm.scorecard import scorecard" in last.source
    expected = {
        "Part 1: cosines": ["cosine_matrix"],
        "Part 2: the rows reversed, and the first two": [
            "cosine_matrix (reversed)",
            "cosine_matrix (first two)",
        ],
    }
    call = last.source[last.source.index("scorecard(") :]
    assert eval(call, {"scorecard": lambda parts: parts}) == expected
    assert all(c.metadata.get("ml4llm") != "scorecard" for c in solution.cells)
    assert notebooks.read_notebook(repo / PROJECT.notebook("helper")).metadata["ml4llm"][
        "checks"
    ] == len(grade.check_sites(helper))


@pytest.mark.notebook
def test_scorecard_after_run_all_on_each_helper(checked) -> None:
    texts = {name: stdout_of(run[2], len(run[2].cells) - 1) for name, run in checked.items()}
    assert texts["untouched"].startswith("Scorecard: 0 of 3 checks pass; 3 wait for a blank.")
    assert (
        "Revisit first: Part 1: cosines: cosine_matrix: fill in the blank first"
        in (texts["untouched"])
    )
    assert texts["filled"].strip() == "Scorecard: all 3 checks pass. Nothing to revisit: well done."
    assert texts["wrong"].startswith("Scorecard: 2 of 3 checks pass; 1 fails.")
    assert (
        "  Part 1: cosines" in texts["wrong"]
        and "0 of 1 pass (fail: cosine_matrix)" in (texts["wrong"])
    )
    assert "Revisit first: Part 1: cosines: FAIL cosine_matrix: " in texts["wrong"]
    assert texts["raises"] == ""  # "Run all" stops at the raising cell: the scorecard did not run
    # No scorecard line can be read as a check line (strict mode and `check` parse those).
    from ml4llm.checks import check_lines

    assert all(check_lines(text) == [] for text in texts.values())


@pytest.fixture
def fresh_records():
    scorecard.reset()
    yield
    scorecard.reset()


def test_checks_record_their_outcome_and_a_rerun_replaces_it(fresh_records) -> None:
    rows = np.arange(1.0, 7.0).reshape(3, 2)
    unit = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    parts = {"Part 1": ["cosine_matrix"], "Part 2": ["cosine_matrix (b)", "cosine_matrix"]}
    with contextlib.redirect_stdout(io.StringIO()):
        for matrix in (rows @ rows.T, unit @ unit.T):  # the same call, run again: replaced
            common.cosine_matrix(rows, matrix=matrix)
        common.cosine_matrix(rows, matrix=..., label="b")
    assert [(r.title, r.status) for r in scorecard.records()] == [
        ("cosine_matrix", "PASS"),
        ("cosine_matrix (b)", "BLANK"),
    ]
    card = scorecard.build(parts)
    assert [e.status for e in card.entries] == ["PASS", "BLANK", "NOT RUN"]
    lines = card.lines()
    assert lines[0] == "Scorecard: 1 of 3 checks pass; 1 waits for a blank, 1 has not run yet."
    assert lines[-1].startswith("Revisit first: Part 2: cosine_matrix (b): fill in the blank first")


def test_scorecard_matches_computed_labels_and_says_what_to_run_next(fresh_records) -> None:
    found = [
        scorecard.Record("gpt2_ids (gpt2)", "PASS", "PASS gpt2_ids (gpt2): ok", 0),
        scorecard.Record("gpt2_ids (bert)", "PASS", "PASS gpt2_ids (bert): ok", 1),
    ]
    card = scorecard.build({"Part 1": ["gpt2_ids", "gpt2_ids"], "Part 2": ["rsa"]}, found)
    assert [e.status for e in card.entries] == ["PASS", "PASS", "NOT RUN"]
    assert card.lines()[-1] == "Next: Part 2: run its cells in order (rsa has not run yet)."
    assert scorecard.build({}, []).lines() == ["Scorecard: this notebook has no self-checks."]


# --- ml4llm progress --------------------------------------------------------------------------------


def progress_rows(out: str) -> dict[str, str]:
    """Project number (or total label) -> its line of the text table."""
    rows = {}
    for line in out.splitlines()[2:]:
        words = line.split()
        if words and words[0].isdigit():
            rows[words[0]] = line
        elif words and words[0] == "chapter":
            rows[" ".join(words[:2]).rstrip(":")] = line
        elif words and words[0] == "course":
            rows["course"] = line
    return rows


def test_progress_of_the_repository_without_running_anything(repo: Path) -> None:
    code, out, _ = run_cli("progress")
    assert code == 0
    rows = progress_rows(out)
    blanks = grade.count_blanks(notebooks.read_notebook(repo / PROJECT.notebook("helper")))
    assert blanks == 4
    assert f"{blanks} of {blanks}" in rows["1"] and "0 of 3" in rows["1"]
    assert "not built yet" in rows["2"] and "not built yet" in rows["50"]
    assert len([k for k in rows if k.isdigit()]) == len(PROJECTS)
    assert f"{blanks} of {blanks}" in rows["chapter 2"] and "0 of 3" in rows["course"]
    assert rows["chapter 3"].split()[-2:] == ["-", "-"]  # nothing built in chapter 3


@pytest.mark.notebook
def test_progress_of_a_folder_of_downloaded_helpers(checked, tmp_path: Path) -> None:
    # The executed copy of the planted-wrong helper, as Colab would save it, and a broken file.
    wrong = checked["wrong"][2]
    nbformat.write(wrong, tmp_path / "Copy of proj01_three_tokenization_schemes_helper.ipynb")
    (tmp_path / "proj02_book_lengths_helper.ipynb").write_text("{not json", encoding="utf-8")
    (tmp_path / "notes.ipynb").write_text("{}", encoding="utf-8")
    assert sorted(find_helpers(tmp_path)) == [1, 2]

    code, out, _ = run_cli("progress", str(tmp_path))
    assert code == 0 and str(tmp_path) in out.splitlines()[0]
    rows = progress_rows(out)
    assert "0 of 4" in rows["1"] and "2 of 3" in rows["1"]  # every blank filled; 2 checks pass
    assert "cannot read proj02_book_lengths_helper.ipynb" in rows["2"]
    assert "not built yet" in rows["3"]
    assert "0 of 4" in rows["course"] and "2 of 3" in rows["course"]

    code, out, _ = run_cli("progress", str(tmp_path), "--markdown")
    table = [line for line in out.splitlines() if line.startswith("|")]
    assert table[0] == "| # | project | blanks left | checks passed | last changed |"
    assert len(table) == 2 + len(PROJECTS) + len(CHAPTERS) + 1
    assert "| **course** | **0 of 4** | **2 of 3** |" in table[-1]
    row1 = next(line for line in table if line.startswith("| 1 |"))
    assert "| 0 of 4 | 2 of 3 |" in row1


def test_progress_counts_blanks_a_learner_filled_without_running(repo: Path, tmp_path) -> None:
    helper = notebooks.read_notebook(repo / PROJECT.notebook("helper"))
    for cell in helper.cells:
        cell.source = cell.source.replace(
            "\nmatrix = ...  # TODO: your code", "\nmatrix = unit @ unit.T"
        )
    cell_with_typo = cell_index(helper, "first_two = ...")
    helper.cells[cell_with_typo].source += "\nfirst_two = (  # half written"
    nbformat.write(helper, tmp_path / PROJECT.notebook("helper").split("/")[1])
    rows = progress_rows(run_cli("progress", str(tmp_path))[1])
    assert "3 of 4" in rows["1"] and "0 of 3" in rows["1"]


# --- ml4llm run --set -------------------------------------------------------------------------------


@pytest.mark.notebook
def test_run_with_set_injects_the_values_after_the_parameters_cell(repo: Path, tmp_path) -> None:
    out_dir = tmp_path / "out"
    code, out, err = run_cli("run", "1", "--set", "n_rows=4", "--out", str(out_dir))
    assert code == 0, err
    assert "Parameters set after the parameters cell: n_rows = 4" in out
    executed = notebooks.read_notebook(out_dir / Path(PROJECT.notebook("solution")).name)
    index = params.find_parameters_cell(executed)
    injected = executed.cells[index + 1]
    assert injected.metadata["tags"] == ["injected-parameters"]
    assert "ml4llm run 1 --set n_rows=4" in injected.source and "n_rows = 4" in injected.source
    assert executed.metadata["ml4llm"]["parameters"] == {"n_rows": 4}
    assert stdout_of(executed, index) == "(3, 2)\n"  # the parameters cell ran as written
    assert stdout_of(executed, index + 1) == "(4, 2)\n"  # then `rows` again, with 4 rows
    check = cell_index(executed, "check.cosine_matrix(rows, matrix=matrix)")
    assert stdout_of(executed, check).startswith("PASS cosine_matrix: 4 x 4")
    source = notebooks.read_notebook(repo / PROJECT.notebook("solution"))
    assert len(source.cells) == len(executed.cells) - 1  # the solution itself is unchanged


def test_run_with_an_unknown_name_lists_the_knobs(repo: Path, tmp_path: Path) -> None:
    code, _, err = run_cli("run", "1", "--set", "n_cols=2", "--out", str(tmp_path / "o"))
    assert code == 2
    assert "has no knob n_cols" in err
    assert "  n_rows = 3\n" in err and "  rows = np.arange(1.0, 1.0 + 2 * n_rows)" in err
    assert not (tmp_path / "o").exists()
    code, _, err = run_cli("run", "1", "--set", "n_rows", "--out", str(tmp_path / "o"))
    assert code == 2 and "NAME=VALUE" in err


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("n_permutations=200", ("n_permutations", 200)),
        ("model_id=EleutherAI/pythia-410m", ("model_id", "EleutherAI/pythia-410m")),
        ("model_id='gpt2'", ("model_id", "gpt2")),
        ("scale=1e-3", ("scale", 0.001)),
        ("flag=False", ("flag", False)),
        ("pair=('future', 'past')", ("pair", ("future", "past"))),
        (" name = None ", ("name", None)),
        ("text=two words", ("text", "two words")),
    ],
)
def test_set_values_are_python_literals_else_strings(text, expected) -> None:
    assert params.parse_assignment(text) == expected


@pytest.mark.parametrize("text", ["n", "=3", "2x=1", "n=", "pair=(1, 2", "words=['a', b]"])
def test_set_values_that_cannot_be_read_are_errors(text) -> None:
    with pytest.raises(params.ParameterError):
        params.parse_assignment(text)


def test_injection_reruns_what_uses_a_value_and_never_overwrites_one() -> None:
    source = (
        'model_id = "gpt2"  # book: gpt2-xl\n'
        "lowest, highest = -2, 2  # book: -1000, 1000\n"
        "values = list(range(lowest, highest + 1))\n"
        "print(len(values), model_id)\n"
        "if model_id == 'gpt2':\n"
        "    model_id = 'SmolLM2'\n"
        "label = model_id.upper()"
    )
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell("## Parameters"), nbformat.v4.new_code_cell(source)]
    )
    assert params.knobs(source) == {
        "model_id": '"gpt2"',
        "lowest": "-2",
        "highest": "2",
        "values": "list(range(lowest, highest + 1))",
        "label": "model_id.upper()",
    }
    injected = params.inject(nb, {"lowest": 0}, "ml4llm run 9 --set lowest=0").cells[2].source
    assert injected.split("\n")[1:] == [
        "lowest = 0",
        "",
        "# The statements of the parameters cell that use them, run again:",
        "values = list(range(lowest, highest + 1))",
        "print(len(values), model_id)",
    ]
    namespace: dict = {}
    exec(source + "\n" + injected, namespace)
    assert namespace["values"] == [0, 1, 2]
    # The `if` would overwrite the model that was set: it does not run again; what uses it does.
    injected = params.inject(nb, {"model_id": "gpt2"}, "cmd").cells[2].source
    assert "if model_id" not in injected and injected.endswith("label = model_id.upper()")
    exec(source + "\n" + injected, namespace)
    assert namespace["model_id"] == "gpt2" and namespace["label"] == "GPT2"


def test_the_parameters_cell_is_found_by_heading_or_book_comments_and_tagged() -> None:
    def nb(*cells):
        return nbformat.v4.new_notebook(
            cells=[
                nbformat.v4.new_code_cell(s) if k == "code" else nbformat.v4.new_markdown_cell(s)
                for k, s in cells
            ]
        )

    by_heading = nb(("code", "import x"), ("markdown", "## Parameters and texts"), ("code", "a=1"))
    assert params.find_parameters_cell(by_heading) == 2
    by_comment = nb(("code", "import x"), ("code", "n = 10  # book: 10, Colab: 10, offline: 3"))
    assert params.find_parameters_cell(by_comment) == 1
    assert params.find_parameters_cell(nb(("markdown", "## Part 1"), ("code", "a = 1"))) is None

    by_heading.cells[0].metadata["tags"] = ["parameters", "keep"]
    params.tag_parameters_cell(by_heading)  # the tag follows the rule, other tags stay
    assert by_heading.cells[0].metadata["tags"] == ["keep"]
    assert by_heading.cells[2].metadata["tags"] == ["parameters"]
    params.tag_parameters_cell(by_heading)
    assert by_heading.cells[2].metadata["tags"] == ["parameters"]
    with pytest.raises(notebooks.NotebookError, match="no parameters cell"):
        params.tag_parameters_cell(nb(("code", "a = 1")))


def test_both_notebooks_tag_the_parameters_cell(repo: Path) -> None:
    for kind in ("solution", "helper"):
        nb = notebooks.read_notebook(repo / PROJECT.notebook(kind))
        tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
        assert tagged == [cell_index(nb, "n_rows = 3")], kind


def test_helpers_check_fails_for_a_solution_without_a_parameters_cell(tmp_path, monkeypatch):
    root = make_repo(tmp_path / "repo")
    solution = root / PROJECT.notebook("solution")
    nb = notebooks.read_notebook(solution)
    index = cell_index(nb, "n_rows = 3")
    nb.cells[index - 1].source = "## Sizes"
    nb.cells[index].source = nb.cells[index].source.replace("  # book: 3, Colab: 3, offline: 3", "")
    solution.write_text(notebooks.dumps(nb), encoding="utf-8")
    monkeypatch.chdir(root)
    code, _, err = run_cli("helpers", "--check")
    assert code == 2
    assert PROJECT.notebook("solution") in err and "no parameters cell" in err
    assert run_cli("helpers")[0] == 2


def test_progress_counts_a_built_project_missing_from_the_folder_as_not_started(tmp_path) -> None:
    rows = progress_rows(run_cli("progress", str(tmp_path))[1])
    assert "4 of 4" in rows["1"] and "0 of 3" in rows["1"] and "not in this folder" in rows["1"]
    assert "4 of 4" in rows["course"] and "0 of 3" in rows["course"]
    assert run_cli("progress", str(tmp_path / "missing"))[0] == 2


@pytest.mark.notebook
def test_check_fails_when_a_cell_raises_after_every_check_passed(repo: Path, tmp_path) -> None:
    nb = filled_helper(repo)
    nb.cells.insert(len(nb.cells) - 1, nbformat.v4.new_code_cell("print(1 / 0)"))
    path = tmp_path / "proj01_helper.ipynb"
    nbformat.write(nb, path)
    code, out, _ = run_cli("check", "1", str(path))
    assert code == 1
    assert len([line for line in check_lines_of(out) if " PASS " in line]) == 3
    raised = len(nb.cells) - 1  # the new cell's number, counted from 1
    assert f"Every check ran, but cell {raised} raised ZeroDivisionError: division by zero" in out
    assert out.splitlines()[-1].startswith("project 1: 3 of 3 checks pass")
