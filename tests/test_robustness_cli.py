"""Promises of the command line under bad input and interruptions (issue 12, items 1 and 5).

Nothing a learner wrote is lost:
- ``run`` keeps a record of the notebooks it wrote and overwrites only those, unchanged;
- it refuses a notebook that changed since it wrote it, or that it never wrote, in one line
  that says how to force, and ``--force`` backs it up to a name Jupyter opens (``.ipynb``);
- it refuses an output folder that holds the course's sources, that is a file, or that is not
  writable, before anything runs; ``check --out`` keeps the same rules;
- ``helpers`` backs up every helper that holds the learner's edits or outputs, and checks that
  it can write before it writes anything.

Every failure is one ``error:`` line that says what to do, exit status 1 (2 for usage; 1 after
Ctrl-C too); Ctrl-C during ``run`` says at which cell and keeps the partly executed copy.

Each test works in a fake repository in a temporary folder (the working directory). Tests run
as root here, and root ignores ``chmod``: the read-only cases then deny writing through
``os.access``, which the tools consult before they write; as another user they use ``chmod``.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from ml4llm import cli, notebooks
from ml4llm.notebooks import outfolder
from ml4llm.projects import CHAPTERS, get_project

REPO = Path(__file__).resolve().parents[1]
PROJECT = get_project(1)
SOLUTION_NAME = Path(PROJECT.notebook("solution")).name
BACKUP_NAME = re.compile(r"(?P<stem>.+)\.backup-\d{8}-\d{6}(-\d+)?\.ipynb")


def fake_solution(*sources: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell("## Part 1"))
    nb.cells.extend(nbformat.v4.new_code_cell(source) for source in sources)
    return nb


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The repository layout with a two-cell project 1, as the working directory."""
    root = tmp_path / "repo"
    for folder in CHAPTERS.values():
        (root / folder).mkdir(parents=True)
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    solution = fake_solution(
        "n = 6  # book: 6, Colab: 6, offline: 6", "x = n * 7  # SOLUTION\nprint(x)"
    )
    nbformat.write(solution, root / PROJECT.notebook("solution"))
    monkeypatch.chdir(root)
    monkeypatch.setenv("ML4LLM_PROFILE", "offline")
    return root


def run_cli(*args: str, capsys: pytest.CaptureFixture) -> tuple[int, str, str]:
    """Exit status, stdout and stderr of ``ml4llm ARGS`` (argparse's exits included)."""
    try:
        code = cli.main(list(args))
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else 1
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_error_line(err: str, *fragments: str) -> None:
    """``err`` is exactly one ``error: ...`` line holding every fragment."""
    assert err.startswith("error: ") and err.count("\n") == 1, err
    for fragment in fragments:
        assert fragment in err, (fragment, err)


@pytest.fixture
def deny_writing(monkeypatch: pytest.MonkeyPatch):
    """A function that makes a folder read-only: ``chmod`` where it counts, else ``os.access``."""
    chmodded: list[Path] = []

    def deny(folder: Path) -> None:
        if os.geteuid() != 0:
            folder.chmod(0o555)
            chmodded.append(folder)
            return
        real_access = os.access
        denied = folder.resolve()

        def access(path, mode, *args, **kwargs) -> bool:
            target = Path(path).resolve()
            if mode & os.W_OK and (target == denied or denied in target.parents):
                return False
            return real_access(path, mode, *args, **kwargs)

        monkeypatch.setattr(os, "access", access)

    yield deny
    for folder in chmodded:
        folder.chmod(0o755)


def forbid_execution(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if a notebook is executed from now on: the refusals come first."""

    def execute(*args, **kwargs):
        raise AssertionError("a notebook was executed although the command had to refuse first")

    monkeypatch.setattr(notebooks, "execute", execute)


@pytest.fixture
def no_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    forbid_execution(monkeypatch)


def executed_copy(repo: Path, out_dir: Path, capsys: pytest.CaptureFixture) -> Path:
    """Run project 1 into ``out_dir`` and return its executed copy."""
    code, _, err = run_cli("run", "1", "--out", str(out_dir), "--timeout", "60", capsys=capsys)
    assert code == 0, err
    return out_dir / SOLUTION_NAME


# --- item 1: run never overwrites a file it did not write -------------------------------------


@pytest.mark.notebook
def test_run_records_what_it_wrote_and_reruns_over_its_own_copy(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out_dir = tmp_path / "out"
    copy = executed_copy(repo, out_dir, capsys)
    record = (out_dir / outfolder.RECORD_NAME).read_text(encoding="utf-8")
    assert SOLUTION_NAME in record
    assert hashlib.sha256(copy.read_bytes()).hexdigest() in record
    executed_copy(repo, out_dir, capsys)  # its own, unchanged copy: no question, no backup
    assert not list(out_dir.glob("*.backup-*"))


@pytest.mark.notebook
def test_run_refuses_a_notebook_changed_since_it_wrote_it(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    out_dir = tmp_path / "out"
    copy = executed_copy(repo, out_dir, capsys)
    nb = notebooks.read_notebook(copy)
    nb.cells[-1].source += "\n# my notes on this run"
    nbformat.write(nb, copy)
    edited = copy.read_bytes()
    forbid_execution(monkeypatch)
    code, out, err = run_cli("run", "1", "--out", str(out_dir), capsys=capsys)
    assert code == 1
    assert_one_error_line(err, str(copy), "--force", ".backup-<YYYYmmdd-HHMMSS>.ipynb")
    assert copy.read_bytes() == edited


def test_run_refuses_a_notebook_it_did_not_write(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture, no_kernel: None
) -> None:
    out_dir = tmp_path / "mine"
    out_dir.mkdir()
    mine = out_dir / SOLUTION_NAME
    mine.write_text("my own notebook, not written by ml4llm", encoding="utf-8")
    code, _, err = run_cli("run", "1", "--out", str(out_dir), capsys=capsys)
    assert code == 1
    assert_one_error_line(err, "Not overwriting", str(mine), "--force")
    assert mine.read_text(encoding="utf-8") == "my own notebook, not written by ml4llm"


@pytest.mark.notebook
def test_run_force_backs_up_to_a_name_jupyter_opens(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out_dir = tmp_path / "mine"
    out_dir.mkdir()
    mine = out_dir / SOLUTION_NAME
    nbformat.write(fake_solution("print('my own work')"), mine)
    learner_bytes = mine.read_bytes()
    code, out, err = run_cli("run", "1", "--out", str(out_dir), "--force", capsys=capsys)
    assert code == 0, err
    (backup,) = out_dir.glob("*.backup-*")
    match = BACKUP_NAME.fullmatch(backup.name)
    assert match and match["stem"] == mine.stem  # <stem>.backup-<time>.ipynb
    assert backup.read_bytes() == learner_bytes
    assert notebooks.read_notebook(backup).cells[1].source == "print('my own work')"
    assert str(backup) in out
    assert "my own work" not in mine.read_text(encoding="utf-8")  # the run's copy now


@pytest.mark.parametrize("out", ["ch02_tokenization", ".", "shared/ml4llm", "{root}"])
def test_run_refuses_a_folder_of_course_sources(
    repo: Path, capsys: pytest.CaptureFixture, no_kernel: None, out: str
) -> None:
    source = repo / PROJECT.notebook("solution")
    before = source.read_bytes()
    out = out.format(root=repo)
    code, _, err = run_cli("run", "1", "--out", out, "--force", capsys=capsys)
    assert code == 2
    assert_one_error_line(err, f"--out {out} holds the course's sources", "runs/")
    assert source.read_bytes() == before
    assert not (repo / "shared").exists()  # not even created


def test_run_refuses_an_output_folder_that_is_a_file(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture, no_kernel: None
) -> None:
    a_file = tmp_path / "notes.txt"
    a_file.write_text("notes", encoding="utf-8")
    code, _, err = run_cli("run", "1", "--out", str(a_file), capsys=capsys)
    assert code == 2
    assert_one_error_line(err, f"--out {a_file} is a file, not a folder", "give a folder")
    code, _, err = run_cli("run", "1", "--out", str(a_file / "sub"), capsys=capsys)
    assert code == 2
    assert_one_error_line(err, f"lies under the file {a_file}", "give a folder")
    assert a_file.read_text(encoding="utf-8") == "notes"


def test_run_checks_that_the_folder_is_writable_before_it_runs(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture, deny_writing, no_kernel: None
) -> None:
    read_only = tmp_path / "read-only"
    read_only.mkdir()
    deny_writing(read_only)
    code, _, err = run_cli("run", "1", "--out", str(read_only), capsys=capsys)
    assert code == 2
    assert_one_error_line(err, f"--out {read_only} is not writable", "choose a folder")
    code, _, err = run_cli("run", "1", "--out", str(read_only / "new" / "run"), capsys=capsys)
    assert code == 2
    assert_one_error_line(err, f"is not writable (it would be created in {read_only})")
    assert list(read_only.iterdir()) == []


def test_check_out_never_overwrites_the_learners_helper(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture, no_kernel: None
) -> None:
    assert run_cli("helpers", capsys=capsys)[0] == 0
    downloads = tmp_path / "Downloads"
    downloads.mkdir()
    helper = downloads / Path(PROJECT.notebook("helper")).name
    shutil.copy(repo / PROJECT.notebook("helper"), helper)
    before = helper.read_bytes()
    code, _, err = run_cli("check", "1", str(helper), "--out", str(downloads), capsys=capsys)
    assert code == 1
    assert_one_error_line(err, f"Not overwriting {helper}", "--force")
    assert helper.read_bytes() == before


def _run_the_helper_in_place(helper: Path) -> bytes:
    """What Jupyter saves after a learner ran the untouched helper: outputs, counts."""
    nb = notebooks.read_notebook(helper)
    for number, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            cell.execution_count = number
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="ran\n")]
    nbformat.write(nb, helper)
    return helper.read_bytes()


def _change_the_solution(repo: Path) -> None:
    solution = repo / PROJECT.notebook("solution")
    nb = notebooks.read_notebook(solution)
    nb.cells.append(nbformat.v4.new_markdown_cell("## Part 2"))
    solution.write_text(notebooks.dumps(nb), encoding="utf-8")


def test_helpers_backs_up_a_helper_the_learner_ran(
    repo: Path, capsys: pytest.CaptureFixture
) -> None:
    assert run_cli("helpers", capsys=capsys)[0] == 0
    helper = repo / PROJECT.notebook("helper")
    ran = _run_the_helper_in_place(helper)
    _change_the_solution(repo)
    code, out, err = run_cli("helpers", capsys=capsys)
    assert code == 0, err
    (backup,) = helper.parent.glob("*.backup-*")
    assert BACKUP_NAME.fullmatch(backup.name)["stem"] == helper.stem
    assert backup.read_bytes() == ran
    assert str(backup) in out
    assert '"ran\\n"' not in helper.read_text(encoding="utf-8")


def test_helpers_makes_no_backup_of_an_untouched_helper(
    repo: Path, capsys: pytest.CaptureFixture
) -> None:
    assert run_cli("helpers", capsys=capsys)[0] == 0
    _change_the_solution(repo)
    code, out, _ = run_cli("helpers", capsys=capsys)
    assert code == 0 and "Saved" not in out
    assert not list((repo / PROJECT.folder).glob("*.backup-*"))


def test_a_backup_is_not_taken_for_the_learners_helper(
    repo: Path, capsys: pytest.CaptureFixture
) -> None:
    from ml4llm.notebooks import progress

    assert run_cli("helpers", capsys=capsys)[0] == 0
    helper = repo / PROJECT.notebook("helper")
    _run_the_helper_in_place(helper)
    _change_the_solution(repo)
    assert run_cli("helpers", capsys=capsys)[0] == 0
    (backup,) = helper.parent.glob("*.backup-*")
    os.utime(backup, (time.time() + 60, time.time() + 60))  # even when it is the newest file
    assert progress.find_helpers(repo)[1] == helper


@pytest.mark.parametrize("force", [False, True])
def test_helpers_on_a_read_only_folder_writes_nothing(
    repo: Path, capsys: pytest.CaptureFixture, deny_writing, force: bool
) -> None:
    assert run_cli("helpers", capsys=capsys)[0] == 0
    helper = repo / PROJECT.notebook("helper")
    ran = _run_the_helper_in_place(helper)
    _change_the_solution(repo)
    solution_before = (repo / PROJECT.notebook("solution")).read_bytes()
    folder = repo / PROJECT.folder
    deny_writing(folder)
    code, _, err = run_cli("helpers", *(["--force"] if force else []), capsys=capsys)
    assert code == 1
    assert_one_error_line(err, f"{folder} is read-only", "chmod u+w", "nothing was written")
    assert helper.read_bytes() == ran
    assert (repo / PROJECT.notebook("solution")).read_bytes() == solution_before
    assert not list(folder.glob("*.backup-*"))


# --- item 5: every failure is one line --------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ((), "the following arguments are required: COMMAND (see `ml4llm --help`)"),
        (("frobnicate",), "invalid choice: 'frobnicate'"),
        (("run", "abc"), "argument N: invalid int value: 'abc' (see `ml4llm run --help`)"),
        (("run", "99"), "There is no project 99: the book's projects are numbered 1 to 50"),
        (("run", "1", "--timeout"), "expected one argument"),
        (("run", "1", "--timeout", "-5"), "'-5' is not a number of seconds: give one above 0"),
        (("run", "1", "--set", "n"), "write NAME=VALUE"),
        (("helpers", "--project", "0"), "There is no project 0"),
        (("check", "1", "missing.ipynb"), "There is no notebook missing.ipynb"),
        (("progress", "no-such-folder"), "There is no folder no-such-folder"),
    ],
)
def test_a_usage_error_is_one_line_with_exit_status_2(
    repo: Path, capsys: pytest.CaptureFixture, no_kernel: None, args: tuple, fragment: str
) -> None:
    code, _, err = run_cli(*args, capsys=capsys)
    assert code == 2
    assert_one_error_line(err, fragment)


def test_an_unreadable_notebook_is_one_line(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    source = repo / PROJECT.notebook("solution")
    source.write_text('{"cells": [', encoding="utf-8")  # cut off, as after a failed copy
    code, _, err = run_cli("run", "1", "--out", str(tmp_path / "out"), capsys=capsys)
    assert code == 2
    assert_one_error_line(err, f"{source} is not a notebook that can be read")
    code, _, err = run_cli("helpers", capsys=capsys)
    assert code == 2
    assert_one_error_line(err, "is not a notebook that can be read")


def test_ctrl_c_outside_a_run_is_one_line(
    repo: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(notebooks, "generate", interrupted)
    code, _, err = run_cli("helpers", capsys=capsys)
    assert code == 1
    assert_one_error_line(err, "interrupted (Ctrl-C)", "run it again")


def test_ctrl_c_while_the_command_line_is_imported_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    from ml4llm.__main__ import entry

    class SlowImport:
        def find_spec(self, name, path=None, target=None):
            if name == "ml4llm.cli":
                raise KeyboardInterrupt
            return None

    monkeypatch.delitem(sys.modules, "ml4llm.cli")
    monkeypatch.setattr(sys, "meta_path", [SlowImport(), *sys.meta_path])
    assert entry() == 1
    assert_one_error_line(
        capsys.readouterr().err, "interrupted (Ctrl-C) before the command started"
    )


def test_an_os_error_is_one_line(
    repo: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device", str(repo / "x.ipynb"))

    monkeypatch.setattr(notebooks, "generate", disk_full)
    code, _, err = run_cli("helpers", capsys=capsys)
    assert code == 1
    assert_one_error_line(err, "No space left on device", str(repo / "x.ipynb"))


@pytest.mark.notebook
def test_ctrl_c_during_run_says_where_and_keeps_the_partly_executed_copy(
    repo: Path, tmp_path: Path
) -> None:
    source = repo / PROJECT.notebook("solution")
    nbformat.write(
        fake_solution(
            "n = 6  # book: 6, Colab: 6, offline: 6",
            "print('before the slow cell')",
            "import pathlib, time\npathlib.Path('started').write_text('yes')\ntime.sleep(600)",
            "print('never')",
        ),
        source,
    )
    out_dir = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "shared"), *sys.path])}
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "ml4llm", "run", "1", "--out", str(out_dir)],
        cwd=repo,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        while not (out_dir / "started").exists():
            assert process.poll() is None, process.communicate()
            assert time.monotonic() - started < 300, "the slow cell never started"
            time.sleep(0.2)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)  # it stops well before the cell's 600 s
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 1, (out, err)
    copy = out_dir / SOLUTION_NAME
    assert_one_error_line(err, "interrupted at cell 4 ('import pathlib, time')", str(copy))
    executed = notebooks.read_notebook(copy)
    assert executed.cells[2].outputs[0]["text"] == "before the slow cell\n"
    assert executed.cells[3].outputs[-1]["ename"] == "KeyboardInterrupt"
    assert executed.cells[4].get("outputs") == []  # the cell after it never ran
    assert outfolder.prepare(out_dir, SOLUTION_NAME) is None  # its own copy: a rerun may go on
