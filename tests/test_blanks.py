"""The blank guard that ml4llm.setup() installs: a cell that needs a blank says so in one line.

Runs cells in an in-process IPython shell, as a notebook kernel would.
"""

from __future__ import annotations

import warnings

import matplotlib
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from IPython.core.interactiveshell import InteractiveShell  # noqa: E402

LINE = "fill in the blanks above first"


@pytest.fixture
def run(capsys):
    shell = InteractiveShell.instance()
    shell.run_cell("import numpy as np\nimport ml4llm\nfrom ml4llm.checks import common as check")
    shell.run_cell("rng = ml4llm.setup()")
    capsys.readouterr()

    def run_cell(source: str) -> tuple[str, bool]:
        result = shell.run_cell(source, store_history=True)
        return capsys.readouterr().out, result.success

    yield run_cell
    plt.close("all")
    InteractiveShell.clear_instance()


def test_a_statement_that_reads_a_blank_is_skipped_with_one_line(run):
    out, ok = run("x = ...  # TODO: your code\nprint('never', x)\ny = 1")
    assert ok and out == f"{LINE} (`x` is not filled in yet).\n"
    assert run("print(y)") == (f"{LINE} (`y` is not filled in yet).\n", True)  # never computed
    out, ok = run("x = 2\ny = x + 1\nprint(y)")
    assert ok and out == "3\n"


def test_a_statement_that_rebinds_a_blank_reads_it_first(run):
    """``probs = np.asarray(probs)`` (a display cell coercing a learner value) reads ``probs``."""
    run("probs = ...  # TODO: your code\ntotal = 1")
    out, ok = run("probs = np.asarray(probs, dtype=float)\ntotal += probs.sum()\nprint(total)")
    assert ok and out == f"{LINE} (`probs` is not filled in yet).\n"
    run("probs = np.ones(3)\nn = 0")
    out, ok = run(
        "probs = np.asarray(probs, dtype=float)\nn += 1\nfor n in range(n, 3): pass\nprint(n)"
    )
    assert ok and out == "2\n"


def test_a_plot_of_a_blank_shows_no_figure_saves_nothing_and_warns_nothing(
    run, tmp_path, monkeypatch
):
    monkeypatch.setenv("ML4LLM_FIGURES", str(tmp_path))
    run("totals = np.zeros(3)\nfor i in range(3):\n    ...  # TODO: your code")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # log scale of all-zero data would warn
        out, ok = run(
            "import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\nax.plot(totals)\n"
            "ax.set_yscale('log')\nml4llm.savefig(fig, 1, project=1)"
        )
    assert ok and out == f"{LINE} (`totals` is not filled in yet).\n"
    assert plt.get_fignums() == [] and not list(tmp_path.iterdir())


def test_a_stub_function_and_what_a_notebook_function_reads(run):
    run("def score(a):\n    '''doc'''\n    ...  # TODO: your code")
    assert run("print(score(1))")[0] == f"{LINE} (`score` is not filled in yet).\n"
    run("n = ...  # TODO: your code\ndef show():\n    print(n + 1)")
    assert run("show()")[0] == f"{LINE} (`n` is not filled in yet).\n"


def test_check_calls_still_run_and_say_fill_in_the_blank(run):
    out, ok = run(
        "m = ...  # TODO: your code\ncheck.cosine_matrix(np.eye(2), matrix=m)\nprint(m.shape)"
    )
    assert ok and out.splitlines() == [
        "cosine_matrix: fill in the blank first (a value you pass is still `...`).",
        f"{LINE} (`m` is not filled in yet).",
    ]


def test_an_error_from_a_blank_is_one_line_and_other_errors_keep_their_traceback(run):
    run("rows = [...]")  # a container holding a blank: unfinished after the cell
    out, ok = run("print(sum(rows))")
    assert out == f"{LINE} (`rows` is not filled in yet).\n"
    out, ok = run("import math\nmath.sqrt(-1)")
    assert not ok and "Traceback" in out and "ValueError" in out
    out, ok = run("print(undefined_name)")
    assert not ok and "a cell above has not run" in out and "NameError" in out


def test_a_cell_without_blanks_runs_unchanged_and_shows_its_last_value(run):
    out, ok = run("a = [1, 2]\na.append(3)\nlen(a)")
    assert ok and out.strip().endswith("3")
    assert run("...  # TODO: your code")[0] == ""  # a bare stub shows no "Ellipsis"
