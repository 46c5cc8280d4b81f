"""Helper generation from solution notebooks: markers, headers, determinism and edit protection.

Every test works on small fake solution notebooks in a temporary copy of the repository layout;
the repository's real notebooks are never read or written.
"""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import re
import shutil
import subprocess
import sys
import types
from pathlib import Path

import nbformat
import pytest

from ml4llm import notebooks
from ml4llm.notebooks import HelperEditedError, MarkerError, blank_source
from ml4llm.projects import CHAPTERS, get_project

REPO = Path(__file__).resolve().parents[1]
TODO = notebooks.STUB_COMMENT


def fake_solution(*cells: tuple[str, str]) -> nbformat.NotebookNode:
    """A notebook from (cell_type, source) pairs, as an author might save it (with outputs)."""
    nb = nbformat.v4.new_notebook()
    for cell_type, source in cells:
        if cell_type == "code":
            cell = nbformat.v4.new_code_cell(source, execution_count=3)
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="old output\n")]
            cell.metadata["scrolled"] = True
        else:
            cell = nbformat.v4.new_markdown_cell(source)
        nb.cells.append(cell)
    nb.metadata["colab"] = {"provenance": []}
    return nb


SOLUTION_CELLS = (
    ("code", "import math\n\nimport ml4llm\n\nrng = ml4llm.setup(project=1)"),
    ("markdown", "## Part 1: squares"),
    ("code", "values = [1, 2, 3]\nsquares = [v * v for v in values]  # SOLUTION\nprint(squares)"),
    (
        "code",
        "def norm(xs):\n"
        "    # BEGIN SOLUTION\n"
        "    # add up the squares first\n"
        "    total = sum(x * x for x in xs)\n"
        "    return math.sqrt(total)\n"
        "    # END SOLUTION\n"
        "\n"
        "\n"
        "print(norm(values))",
    ),
    ("markdown", "## Parameters"),
    ("code", "n_values = 3  # book: 3, Colab: 3, offline: 3"),
)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty copy of the repository layout (pyproject and chapter folders), as the cwd."""
    root = tmp_path / "repo"
    for folder in CHAPTERS.values():
        (root / folder).mkdir(parents=True)
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    monkeypatch.chdir(root)
    return root


def write_solution(root: Path, number: int, nb: nbformat.NotebookNode) -> Path:
    path = root / get_project(number).notebook("solution")
    nbformat.write(nb, path)
    return path


def expected_repo() -> tuple[str, str]:
    """(owner, name) from pyproject's one Repository URL, read independently of the package."""
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    url = re.search(r'^Repository\s*=\s*"([^"]+)"', text, re.MULTILINE).group(1)
    owner, name = re.match(r"https://github\.com/([^/]+)/([^/]+?)(?:\.git)?/?$", url).groups()
    return owner, name


# --- marker transformations -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("solution", "helper"),
    [
        ("x = compute(3)  # SOLUTION", f"x = ...  {TODO}"),
        ("a, b = divmod(7, 2)  # SOLUTION", f"a, b = ..., ...  {TODO}"),
        ("first, *rest = [1, 2, 3]  # SOLUTION", f"first, *rest = ...  {TODO}"),
        ("a = b = 0  # SOLUTION", f"a = b = ...  {TODO}"),
        ("n: int = len(s)  # SOLUTION", f"n: int = ...  {TODO}"),
        ("counts[key] = 1  # SOLUTION", f"counts[key] = ...  {TODO}"),
        ("total += 1  # SOLUTION", f"...  {TODO}"),
        ("print(total)  # SOLUTION", f"...  {TODO}"),
        ("x = f(1)  # the answer # SOLUTION", f"x = ...  {TODO}"),
    ],
)
def test_line_marker_forms(solution: str, helper: str) -> None:
    assert blank_source(f"s = 'ab'\n{solution}\nprint(s)") == f"s = 'ab'\n{helper}\nprint(s)"


def test_line_marker_keeps_indentation_and_handles_return() -> None:
    source = "def f(x):\n    y = x + 1  # SOLUTION\n    return y * 2  # SOLUTION\n"
    assert blank_source(source) == f"def f(x):\n    y = ...  {TODO}\n    ...  {TODO}\n"


@pytest.mark.parametrize("marked_line", [1, 2, 3])
def test_multiline_statement_is_replaced_whole_from_any_line(marked_line: int) -> None:
    lines = ["table = build(", "    rows=3,", "    cols=4)", "print(table)"]
    lines[marked_line - 1] += "  # SOLUTION"
    assert blank_source("\n".join(lines)) == f"table = ...  {TODO}\nprint(table)"


def test_block_stubs_statements_keeps_comments_and_drops_markers() -> None:
    source = (
        "def norm(xs):\n"
        "    # BEGIN SOLUTION\n"
        "    # add up the squares first\n"
        "    total = 0\n"
        "    for x in xs:\n"
        "        # square each element\n"
        "        total += x * x\n"
        "\n"
        "    # then the root\n"
        "    return total**0.5\n"
        "    # END SOLUTION\n"
        "\n"
        "print(norm([3, 4]))\n"
    )
    assert blank_source(source) == (
        "def norm(xs):\n"
        "    # add up the squares first\n"
        f"    total = ...  {TODO}\n"
        "    # square each element\n"
        f"    ...  {TODO}\n"
        "\n"
        "    # then the root\n"
        f"    ...  {TODO}\n"
        "\n"
        "print(norm([3, 4]))\n"
    )


def test_hints_inside_a_blanked_loop_stay_above_its_stub() -> None:
    source = (
        "# BEGIN SOLUTION\n"
        "# one value per shuffle\n"
        "null = []\n"
        "for k in range(3):\n"
        "    # a fresh order each time\n"
        "    order = rng.permutation(5)\n"
        "    # rows and columns together\n"
        "    null.append(order)\n"
        "# END SOLUTION\n"
        "print(null)"
    )
    assert blank_source(source) == (
        "# one value per shuffle\n"
        f"null = ...  {TODO}\n"
        "# a fresh order each time\n"
        "# rows and columns together\n"
        f"...  {TODO}\n"
        "print(null)"
    )


def test_block_at_top_level_with_multiline_and_decorated_statements() -> None:
    source = (
        "# BEGIN SOLUTION\n"
        "weights = [\n"
        "    0.5,\n"
        "    0.5,\n"
        "]\n"
        "@staticmethod\n"
        "def helper():\n"
        "    return 1\n"
        "# END SOLUTION\n"
        "print(weights)"
    )
    assert blank_source(source) == f"weights = ...  {TODO}\n...  {TODO}\nprint(weights)"


def test_line_marker_inside_block_is_harmless() -> None:
    source = (
        "# BEGIN SOLUTION\n"
        "x = 1  # SOLUTION\n"
        "for i in range(2):  # SOLUTION\n"
        "    x += i\n"
        "# END SOLUTION"
    )
    assert blank_source(source) == f"x = ...  {TODO}\n...  {TODO}"


def test_unmarked_source_is_unchanged() -> None:
    source = "import math\n\n# a comment\nprint(math.pi)  # not a SOLUTION marker here\n"
    assert blank_source(source) == source


def test_marker_inside_a_string_is_not_a_marker() -> None:
    source = 's = """\nx = 1  # SOLUTION\n"""\nprint(s)'
    assert blank_source(source) == source


@pytest.mark.parametrize(
    "source",
    [
        "for i in range(3):  # SOLUTION\n    print(i)",
        "if True:  # SOLUTION\n    x = 1",
        "def f():  # SOLUTION\n    return 1",
        "with open('f') as fh:  # SOLUTION\n    fh.read()",
        "if True:\n    x = 1\nelse:  # SOLUTION\n    x = 2",
    ],
)
def test_line_marker_on_compound_header_asks_for_a_block(source: str) -> None:
    with pytest.raises(MarkerError, match="BEGIN SOLUTION"):
        blank_source(source, where="cell 4")


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("%matplotlib inline\nx = 1  # SOLUTION", "magics"),
        ("!pip install numpy\nx = 1", "magics"),
        ("x = (1  # SOLUTION", "not valid Python"),
        ("# BEGIN SOLUTION\nx = 1", "never closed"),
        ("x = 1\n# END SOLUTION", "without a `# BEGIN"),
        ("# BEGIN SOLUTION\n# BEGIN SOLUTION\nx = 1\n# END SOLUTION", "do not nest"),
        ("# BEGIN SOLUTION\n# only a comment\n# END SOLUTION", "holds no statement"),
        ("x = 1  # BEGIN SOLUTION\ny = 2\n# END SOLUTION", "own"),
        ("# SOLUTION\nx = 1", "must end a line of code"),
        ("a = 1; b = 2  # SOLUTION", "own line"),
        ("x = [\n    # BEGIN SOLUTION\n    1,\n]\ny = 2\n# END SOLUTION", "cuts the statement"),
        ("for i in range(2):\n    # BEGIN SOLUTION\n    x = i\ny = 2\n# END SOLUTION", "cuts"),
        ("# BEGIN SOLUTION\nfor i in range(2):\n    x = i\n    # END SOLUTION\n    y = 1", "cuts"),
    ],
)
def test_marker_errors_are_clear(source: str, message: str) -> None:
    with pytest.raises(MarkerError, match=re.escape(message)) as info:
        blank_source(source, where="cell 7")
    assert "cell 7" in str(info.value)


def test_make_helper_names_the_failing_cell() -> None:
    nb = fake_solution(
        ("markdown", "# intro"), ("code", "x = 1"), ("code", "while x:  # SOLUTION\n    x -= 1")
    )
    with pytest.raises(MarkerError, match="cell 3"):
        notebooks.make_helper(nb, get_project(1))


def test_every_generated_helper_cell_parses() -> None:
    solution, helper = notebooks.build_pair(fake_solution(*SOLUTION_CELLS), get_project(1))
    code = [cell.source for cell in helper.cells if cell.cell_type == "code"]
    assert len(code) == 6  # setup cell + the four code cells + the scorecard cell
    for source in code:
        ast.parse(source)
    assert "SOLUTION" not in "".join(code)
    assert f"squares = ...  {TODO}" in helper.cells[4].source
    assert "# add up the squares first" in helper.cells[5].source
    assert "math.sqrt" not in helper.cells[5].source
    # The solution keeps its code (and markers); only the header and setup cells are new.
    assert "math.sqrt(total)" in solution.cells[5].source


# --- header, setup cell and normalisation --------------------------------------------------------


def test_header_has_colab_url_from_pyproject_goal_and_models() -> None:
    owner, name = expected_repo()
    project = get_project(1)
    solution, helper = notebooks.build_pair(fake_solution(*SOLUTION_CELLS), project)
    for nb, kind in ((solution, "solution"), (helper, "helper")):
        header = nb.cells[0]
        assert header.cell_type == "markdown"
        assert header.metadata == {"ml4llm": "header"}
        url = f"https://colab.research.google.com/github/{owner}/{name}/blob/main/{project.notebook(kind)}"
        assert f"({url})" in header.source
        assert header.source.startswith(f"# Project 1: {project.title}\n")
        assert "Chapter 2: Tokenization" in header.source
        assert project.goal in header.source
        assert project.models in header.source
        assert project.offline in header.source
        assert f"{kind} notebook" in header.source
    helper_header = helper.cells[0].source
    assert "`...`" in helper_header and "self-check" in helper_header
    assert f"]({Path(project.notebook('solution')).name})" in helper_header


def test_setup_cell_installs_from_the_repository_only_in_colab() -> None:
    owner, name = expected_repo()
    solution, helper = notebooks.build_pair(fake_solution(*SOLUTION_CELLS), get_project(1))
    for nb in (solution, helper):
        setup = nb.cells[1]
        assert setup.cell_type == "code" and setup.metadata == {"ml4llm": "setup"}
        ast.parse(setup.source)
        assert '"google.colab" in sys.modules' in setup.source
        assert f'"git+https://github.com/{owner}/{name}"' in setup.source
        assert "check=True" in setup.source and "torch" in setup.source
        assert "!pip" not in setup.source


def test_setup_cell_installs_only_in_colab(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []
    monkeypatch.setattr(subprocess, "run", lambda args, **kwargs: calls.append(args))
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)  # ml4llm "missing"
    source = notebooks.setup_source("https://github.com/o/r")
    exec(compile(source, "setup", "exec"), {})
    assert calls == []  # not in Colab: nothing is installed

    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    exec(compile(source, "setup", "exec"), {})
    assert calls == [[sys.executable, "-m", "pip", "install", "-q", "git+https://github.com/o/r"]]


def test_repository_url_falls_back_to_pyproject(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str) -> None:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "metadata", missing)
    owner, name = expected_repo()
    assert notebooks.github_repo(notebooks.repository_url(REPO)) == (owner, name)


def test_stamp_replaces_header_clears_outputs_and_is_stable() -> None:
    project = get_project(1)
    once = notebooks.stamp(fake_solution(*SOLUTION_CELLS), project, "solution")
    twice = notebooks.stamp(once, project, "solution")
    assert notebooks.dumps(once) == notebooks.dumps(twice)
    roles = [cell.metadata.get("ml4llm") for cell in twice.cells]
    assert roles.count("header") == 1 and roles.count("setup") == 1
    for index, cell in enumerate(twice.cells):
        assert cell.id == f"{cell.cell_type}-{index:03d}"
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
            assert "scrolled" not in cell.metadata
    assert set(twice.metadata) == {"kernelspec", "language_info", "ml4llm"}
    assert twice.metadata["kernelspec"]["name"] == "python3"
    text = notebooks.dumps(twice)
    assert text.endswith("}\n") and '\n "cells": [\n' in text
    assert nbformat.reads(text, as_version=4).nbformat_minor == 5


# --- generate, idempotence, check ---------------------------------------------------------------


def test_generate_writes_both_notebooks_then_nothing(repo: Path) -> None:
    solution_path = write_solution(repo, 1, fake_solution(*SOLUTION_CELLS))
    helper_path = repo / get_project(1).notebook("helper")
    written = notebooks.generate(repo)
    assert written == [solution_path, helper_path]
    first = {path: path.read_bytes() for path in written}
    assert b"old output" not in first[solution_path]
    assert b'execution_count": 3' not in first[solution_path]
    assert notebooks.generate(repo) == []
    assert {path: path.read_bytes() for path in written} == first
    helper = notebooks.read_notebook(helper_path)
    assert helper.metadata["ml4llm"]["sha256"] == notebooks.source_hash(helper)
    for cell in helper.cells:
        if cell.cell_type == "code":
            ast.parse(cell.source)


def test_generate_skips_projects_without_solution(repo: Path) -> None:
    assert notebooks.generate(repo) == []
    assert notebooks.generate(repo, projects=[2, 3]) == []
    assert notebooks.check(repo) == []
    assert not any(repo.rglob("*.ipynb"))


def test_generate_only_selected_projects(repo: Path) -> None:
    write_solution(repo, 1, fake_solution(*SOLUTION_CELLS))
    write_solution(repo, 8, fake_solution(*SOLUTION_CELLS))
    written = notebooks.generate(repo, projects=[8])
    assert [path.name for path in written] == [
        Path(get_project(8).notebook("solution")).name,
        Path(get_project(8).notebook("helper")).name,
    ]


def test_generate_reports_marker_errors_with_file_and_cell(repo: Path) -> None:
    write_solution(
        repo, 1, fake_solution(("code", "x = 1"), ("code", "if x:  # SOLUTION\n    x = 2"))
    )
    with pytest.raises(
        MarkerError, match=r"proj01_three_tokenization_schemes_solution\.ipynb: cell 2"
    ):
        notebooks.generate(repo)


def test_check_passes_when_fresh_and_fails_after_a_solution_edit(repo: Path) -> None:
    solution_path = write_solution(repo, 1, fake_solution(*SOLUTION_CELLS))
    helper_rel = get_project(1).notebook("helper")
    solution_rel = get_project(1).notebook("solution")
    assert notebooks.check(repo) == [solution_rel, helper_rel]  # never stamped yet
    notebooks.generate(repo)
    assert notebooks.check(repo) == []

    nb = notebooks.read_notebook(solution_path)
    nb.cells[4].source = nb.cells[4].source.replace("[1, 2, 3]", "[1, 2, 3, 4]")
    solution_path.write_text(notebooks.dumps(nb), encoding="utf-8")
    before = {p: p.read_bytes() for p in repo.rglob("*.ipynb")}
    assert notebooks.check(repo) == [helper_rel]
    assert {p: p.read_bytes() for p in repo.rglob("*.ipynb")} == before  # check writes nothing


def test_check_flags_outputs_left_in_a_solution(repo: Path) -> None:
    solution_path = write_solution(repo, 1, fake_solution(*SOLUTION_CELLS))
    notebooks.generate(repo)
    nb = notebooks.read_notebook(solution_path)
    nb.cells[2].outputs = [nbformat.v4.new_output("stream", name="stdout", text="hi\n")]
    solution_path.write_text(notebooks.dumps(nb), encoding="utf-8")
    assert notebooks.check(repo) == [get_project(1).notebook("solution")]


# --- edit protection -----------------------------------------------------------------------------


def generated_pair(repo: Path) -> tuple[Path, Path]:
    solution_path = write_solution(repo, 1, fake_solution(*SOLUTION_CELLS))
    notebooks.generate(repo)
    return solution_path, repo / get_project(1).notebook("helper")


def change_solution(solution_path: Path) -> None:
    """An author's change that requires regenerating the helper."""
    nb = notebooks.read_notebook(solution_path)
    nb.cells.append(nbformat.v4.new_markdown_cell("## Part 2"))
    solution_path.write_text(notebooks.dumps(nb), encoding="utf-8")


def test_edited_helper_is_not_overwritten(repo: Path) -> None:
    solution_path, helper_path = generated_pair(repo)
    helper = notebooks.read_notebook(helper_path)
    helper.cells[4].source = "squares = [v * v for v in values]  # my answer"
    nbformat.write(helper, helper_path)
    learner_bytes = helper_path.read_bytes()
    change_solution(solution_path)
    solution_before = solution_path.read_bytes()

    with pytest.raises(HelperEditedError) as info:
        notebooks.generate(repo)
    message = str(info.value)
    assert get_project(1).notebook("helper") in message
    assert "ml4llm helpers --force" in message
    assert helper_path.read_bytes() == learner_bytes
    assert solution_path.read_bytes() == solution_before  # nothing written at all
    assert not list(helper_path.parent.glob("*.backup-*"))


def test_force_backs_up_the_learner_file_first(repo: Path, capsys: pytest.CaptureFixture) -> None:
    solution_path, helper_path = generated_pair(repo)
    helper = notebooks.read_notebook(helper_path)
    helper.cells[4].source = "squares = [v * v for v in values]  # my answer"
    nbformat.write(helper, helper_path)
    learner_bytes = helper_path.read_bytes()
    change_solution(solution_path)

    written = notebooks.generate(repo, force=True)
    assert helper_path in written
    backups = list(helper_path.parent.glob(helper_path.stem + ".backup-*"))
    assert len(backups) == 1
    assert re.fullmatch(r".*_helper\.backup-\d{8}-\d{6}\.ipynb", backups[0].name)
    assert backups[0].read_bytes() == learner_bytes
    assert "# my answer" in backups[0].read_text(encoding="utf-8")
    assert str(backups[0]) in capsys.readouterr().out
    assert "# my answer" not in helper_path.read_text(encoding="utf-8")
    assert notebooks.check(repo) == []


def test_helper_without_generator_metadata_counts_as_edited(repo: Path) -> None:
    solution_path, helper_path = generated_pair(repo)
    helper = notebooks.read_notebook(helper_path)
    del helper.metadata["ml4llm"]
    nbformat.write(helper, helper_path)
    with pytest.raises(HelperEditedError):
        notebooks.generate(repo)


def test_executed_but_unedited_helper_is_backed_up_and_regenerated(repo: Path) -> None:
    solution_path, helper_path = generated_pair(repo)
    helper = notebooks.read_notebook(helper_path)
    for number, cell in enumerate(helper.cells):
        if cell.cell_type == "code":
            cell.execution_count = number
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="ran\n")]
    helper.metadata["widgets"] = {"state": {}}
    nbformat.write(helper, helper_path)
    assert not notebooks.helper_was_edited(helper_path)
    change_solution(solution_path)

    executed_bytes = helper_path.read_bytes()
    assert helper_path in notebooks.generate(repo)  # no --force needed: no cell was edited
    (backup,) = helper_path.parent.glob(helper_path.stem + ".backup-*.ipynb")
    assert backup.read_bytes() == executed_bytes  # the outputs of the learner's run are kept
    assert '"ran\\n"' not in helper_path.read_text(encoding="utf-8")


# --- repository root ----------------------------------------------------------------------------


def test_find_repo_root_from_a_subfolder(repo: Path) -> None:
    assert notebooks.find_repo_root(repo / "ch03_embeddings") == repo


def test_find_repo_root_outside_a_clone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "site" / "ml4llm" / "notebooks" / "sync.py"
    monkeypatch.setattr(notebooks.sync, "__file__", str(fake))
    with pytest.raises(notebooks.NotebookError, match="inside a clone of the repository"):
        notebooks.find_repo_root(tmp_path)


def test_blank_share_counts_the_blanked_code_lines():
    solution = nbformat.v4.new_notebook()
    solution.cells = [
        nbformat.v4.new_markdown_cell("text"),
        nbformat.v4.new_code_cell(
            "import math\n# a comment\nx = 2\ny = math.sqrt(x)  # SOLUTION\n"
            "# BEGIN SOLUTION\nfor i in range(3):\n    x += i\n# END SOLUTION\nprint(x)"
        ),
    ]
    # code lines: import, x = 2, y = ..., for, x += i, print -> 6; blanked: y, for, x += i -> 3
    assert notebooks.blank_share(solution) == pytest.approx(3 / 6)
