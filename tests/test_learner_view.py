"""What a learner sees: inline figures, helper figure names, and a quiet ``ml4llm run``.

The notebooks here are small ones written by the tests and executed in a real kernel; the
repository's notebooks are checked by tests/test_repo_sync.py and tests/test_jupyterlab.py.
"""

from __future__ import annotations

import base64
import struct
import sys
from pathlib import Path

import nbformat
import pytest

from ml4llm import notebooks, plotting
from ml4llm.notebooks import mark_helper_setup
from ml4llm.projects import PROJECTS, get_project

ROOT = Path(__file__).resolve().parents[1]

PLOT_CELL = (
    "import matplotlib.pyplot as plt\n"
    "fig, ax = plt.subplots(figsize=(13, 4))\n"
    "ax.plot([1, 2, 3])  # SOLUTION\n"
    "ml4llm.savefig(fig, 2)\n"
    "plt.show()"
)


def _solution(*sources: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    return nb


def _png_size(data: bytes) -> tuple[int, int]:
    """(width, height) in pixels from a PNG's header."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


# --- the helper's setup call and figure names ----------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("rng = ml4llm.setup(project=12)", "rng = ml4llm.setup(project=12, helper=True)"),
        (
            "rng = ml4llm.setup(\n    project=12,\n    seed=3,\n)",
            "rng = ml4llm.setup(\n    project=12,\n    seed=3, helper=True,\n)",
        ),
        (
            "name = 'é'; rng = setup(project=1)  # é",
            "name = 'é'; rng = setup(project=1, helper=True)  # é",
        ),
        (
            "rng = ml4llm.setup(project=1, helper=True)",
            "rng = ml4llm.setup(project=1, helper=True)",
        ),
        ("plt.setup()\nsetup(seed=1)", "plt.setup()\nsetup(seed=1)"),  # no project: not ours
    ],
)
def test_mark_helper_setup(source: str, expected: str) -> None:
    assert mark_helper_setup(source) == expected


def test_only_the_helper_says_it_is_a_helper() -> None:
    setup = "import ml4llm\n\nrng = ml4llm.setup(project=12)"
    solution, helper = notebooks.build_pair(_solution(setup, PLOT_CELL), get_project(12))
    assert solution.cells[2].source == setup
    assert helper.cells[2].source == "import ml4llm\n\nrng = ml4llm.setup(project=12, helper=True)"


def test_every_helper_in_the_repository_names_its_figures_apart() -> None:
    for project in PROJECTS:
        if not project.exists(ROOT):
            continue
        helper = nbformat.read(ROOT / project.notebook("helper"), as_version=4)
        calls = [c.source for c in helper.cells if f"setup(project={project.number}" in c.source]
        assert calls and all("helper=True" in c for c in calls), project.notebook("helper")


def test_figure_names_of_solution_and_helper(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("ML4LLM_FIGURES", str(tmp_path))
    plotting.setup(project=2)
    assert plotting.figure_name(2) == "ch02_proj02_part2.png"
    plotting.setup(project=2, helper=True)
    assert plotting.figure_name(2) == "ch02_proj02_part2_helper.png"
    assert plotting.figure_name("3a", project=12) == "ch03_proj12_part3a_helper.png"
    assert plotting.figure_name(2, helper=False) == "ch02_proj02_part2.png"
    plotting.setup(project=2)  # the next notebook in this process is a solution again
    assert plotting.figure_name(2) == "ch02_proj02_part2.png"


def test_setup_cell_points_to_the_readme_set_up() -> None:
    source = notebooks.setup_source("https://github.com/o/r")
    assert "README.md" in source and "./course.sh setup" in source
    assert "pip install -e ." not in source  # leaves out the offline assets and the torch pin
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "./course.sh setup" in readme


# --- executed in a kernel: inline PNG at 2x, helper figures apart, nothing on the terminal -------


@pytest.mark.notebook
def test_helper_and_solution_figures_never_collide(tmp_path, capfd) -> None:
    setup = "import ml4llm\n\nrng = ml4llm.setup(project=12)"
    solution, helper = notebooks.build_pair(_solution(setup, PLOT_CELL), get_project(12))
    run = tmp_path / "run"
    saved = {}
    for kind, nb in (("solution", solution), ("helper", helper)):
        path = tmp_path / f"{kind}.ipynb"
        path.write_text(notebooks.dumps(nb), encoding="utf-8")
        result = notebooks.execute(path, run, timeout=60)
        assert result.ok, result.error
        saved[kind] = [p.name for p in result.figures]
        if kind == "solution":
            solution_png = (run / "figures" / "ch03_proj12_part2.png").read_bytes()
            executed = nbformat.read(result.notebook, as_version=4)
            images = [
                o for c in executed.cells[1:] for o in c.outputs if o.output_type == "display_data"
            ]
            # One figure, inline as a PNG at twice its size: it shrinks to fit and stays sharp.
            assert len(images) == 1 and "image/svg+xml" not in images[0].data
            width, _ = _png_size(base64.b64decode(images[0].data["image/png"]))
            shown = images[0].metadata["image/png"]["width"]
            assert shown > 1000  # 13 inches: wider than JupyterLab's output area
            assert width in (2 * shown, 2 * shown + 1)
    # The helper's figure (its plot still a blank) went to its own file, not over the solution's.
    assert saved == {
        "solution": ["ch03_proj12_part2.png"],
        "helper": ["ch03_proj12_part2_helper.png"],
    }
    assert (run / "figures" / "ch03_proj12_part2.png").read_bytes() == solution_png
    captured = capfd.readouterr()
    assert captured.out == "" and captured.err == "", "the kernel printed to the terminal"


@pytest.mark.notebook
def test_a_kernel_that_cannot_start_says_why(tmp_path, monkeypatch) -> None:
    # A broken environment: `python -m ipykernel_launcher` finds this module first and fails.
    fake = tmp_path / "broken"
    fake.mkdir()
    (fake / "ipykernel_launcher.py").write_text(
        "import sys\nsys.stderr.write('ImportError: the kernel cannot import zmq\\n')\nsys.exit(1)\n"
    )
    monkeypatch.setenv("PYTHONPATH", f"{fake}:{':'.join(sys.path)}")
    path = tmp_path / "nb.ipynb"
    nbformat.write(_solution("print('never')"), path)
    result = notebooks.execute(path, tmp_path / "run", timeout=60)
    assert not result.ok
    assert "the kernel did not start" in result.error
    assert "ImportError: the kernel cannot import zmq" in result.error


@pytest.mark.notebook
def test_a_dying_kernel_is_reported_without_kernel_noise(tmp_path) -> None:
    path = tmp_path / "nb.ipynb"
    nbformat.write(_solution("print('first')", "import os\nos._exit(3)"), path)
    result = notebooks.execute(path, tmp_path / "run", timeout=60)
    assert not result.ok
    assert result.error.startswith("cell 2 ('import os'): the kernel died")
    assert "without encryption" not in result.error
