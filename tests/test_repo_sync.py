"""The repository itself: helpers, headers and the README table agree with the solutions."""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat

from ml4llm import notebooks
from ml4llm.cli import sync_readme
from ml4llm.projects import CHAPTERS, PROJECTS

ROOT = Path(__file__).resolve().parents[1]


def test_layout():
    for name in ("README.md", "LICENSE", "requirements.txt", "pyproject.toml", ".ci/run", "course.sh"):
        assert (ROOT / name).is_file(), name
    for folder in CHAPTERS.values():
        assert (ROOT / folder).is_dir(), folder
    assert list((ROOT / ".github" / "workflows").glob("*.yml"))


def test_helpers_and_headers_are_generated_from_the_solutions():
    assert notebooks.check(ROOT) == [], "run: python -m ml4llm helpers"


def test_readme_table_is_in_sync():
    assert sync_readme(ROOT, check=True), "run: python -m ml4llm readme"


def test_every_built_project_has_both_notebooks_and_parsing_helpers():
    built = [p for p in PROJECTS if p.exists(ROOT)]
    assert built, "no project is built"
    for project in built:
        helper = ROOT / project.notebook("helper")
        assert helper.is_file(), f"{helper} is missing: run python -m ml4llm helpers"
        nb = nbformat.read(helper, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                ast.parse(cell.source)
        assert any("..." in c.source for c in nb.cells if c.cell_type == "code"), f"{helper.name} has no blanks"
        assert project.goal and project.offline, f"project {project.number} needs a goal and an offline note"


def test_no_notebook_in_the_repository_is_committed_with_outputs():
    for path in ROOT.glob("ch0*/*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), path.name


def test_offline_models_of_built_projects_are_the_ones_their_solutions_load():
    for project in (p for p in PROJECTS if p.exists(ROOT)):
        source = (ROOT / project.notebook("solution")).read_text(encoding="utf-8")
        assert project.offline_weights  # every entry is a registry id with a valid head
        for model in project.offline_models:
            model_id = model.partition(":")[0]
            assert f'\\"{model_id}\\"' in source, f"project {project.number}: {model_id}"
        if not project.offline_models:
            assert "load_model(" not in source, f"project {project.number} loads a model"
