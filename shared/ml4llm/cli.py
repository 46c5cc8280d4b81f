"""The ``ml4llm`` command line: list the projects, run a solution headless, generate helpers.

Usage::

    ml4llm list                             the 50 projects, which notebooks exist and whether
                                            they run on trained weights offline
    ml4llm run N [--out DIR] [--timeout S] [--profile P] [--set NAME=VALUE ...]
                                            execute project N's solution headless (default
                                            output folder: runs/projNN_<slug>/), optionally with
                                            other values in its parameters cell
    ml4llm check N [NOTEBOOK] [--profile P] run a helper (default: project N's in the repository)
                                            on a scratch copy; one line per self-check
    ml4llm progress [FOLDER] [--markdown]   blanks left and checks passed in every helper, read
                                            from the saved notebooks without running them
    ml4llm helpers [--check] [--force] [--project N ...]
                                            regenerate helpers and headers (or check them)
    ml4llm readme [--check]                 regenerate the projects and model tables of README.md

``python -m ml4llm ...`` does the same. Every failure is one ``error: ...`` line on stderr that says
what to do. Exit status: 0 on success; 1 when a check finds stale files, a notebook fails
(``check``: unless every self-check passes), or a file cannot be written or would be overwritten
although a learner changed it; 2 on a usage error (unknown project, not inside the repository, an
unknown ``--set`` name, an output folder that is a file, not writable or holds the course's
sources, ...); 1 also after Ctrl-C, which stops a run at the current cell and keeps the
partly executed copy.

``run`` and ``check --out`` never overwrite a notebook they did not write: the output folder keeps
a record of what they wrote (:mod:`ml4llm.notebooks.outfolder`); ``--force`` backs such a
notebook up to ``<name>.backup-<YYYYmmdd-HHMMSS>.ipynb`` first. ``helpers`` backs up every helper
that holds a learner's edits or outputs before it rewrites it.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import sys
import tempfile
import typing
from collections.abc import Sequence
from pathlib import Path

from ml4llm import notebooks
from ml4llm.notebooks import NotebookError, grade, outfolder, params
from ml4llm.notebooks import progress as course_progress
from ml4llm.notebooks.errors import RefusedError
from ml4llm.projects import PROJECTS, Project, get_project

INTERRUPTED = 1  # the exit status after Ctrl-C: a failure like any other (and ml4llm.__main__)
README_START = "<!-- projects:start -->"
README_END = "<!-- projects:end -->"
MODELS_START = "<!-- models:start -->"
MODELS_END = "<!-- models:end -->"


class UsageError(Exception):
    """A problem the user fixes by changing the command or its arguments."""


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error as one ``error:`` line that points to ``--help``."""

    def error(self, message: str) -> typing.NoReturn:
        self.exit(2, f"error: {message} (see `{self.prog} --help`)\n")


# --------------------------------------------------------------------------------------------
# README table
# --------------------------------------------------------------------------------------------


def _cell(text: str) -> str:
    """Text safe inside a markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def _notebook_links(project: Project, root: Path, repo_url: str) -> str:
    if not project.exists(root):
        return "not yet built"
    links = []
    for kind in ("solution", "helper"):
        path = project.notebook(kind)
        if (root / path).is_file():
            links.append(f"[{kind}]({path}) {notebooks.colab_badge(path, repo_url)}")
    return "<br>".join(links)


def projects_table(root: Path) -> str:
    """The README's table of all projects (markdown, no surrounding blank lines)."""
    repo_url = notebooks.repository_url(root)
    lines = [
        "| # | Project | Chapter folder | Method | Notebooks |",
        "|---:|---|---|---|---|",
    ]
    for project in PROJECTS:
        lines.append(
            f"| {project.number} | {_cell(project.title)} | `{project.folder}` "
            f"| {_cell(project.method)} | {_notebook_links(project, root, repo_url)} |"
        )
    return "\n".join(lines)


def models_table() -> str:
    """The README's table of the registry: each model's class, heads and what loads offline."""
    from ml4llm import models

    lines = ["| Model | Class | Heads | Offline |", "|---|---|---|---|"]
    for model_id, spec in models.REGISTRY.items():
        cls = models._HUB_CLASSES[(spec.family, spec.default_head)]
        sources = {head: models.offline_source(model_id, head) for head in spec.heads}
        if len(set(sources.values())) == 1:
            offline = sources[spec.default_head]
        else:
            offline = "; ".join(f"{head}: {source}" for head, source in sources.items())
        lines.append(f"| `{model_id}` | {cls} | {', '.join(spec.heads)} | {_cell(offline)} |")
    return "\n".join(lines)


def _replace_between(lines: list[str], start_mark: str, end_mark: str, table: str) -> list[str]:
    starts = [i for i, line in enumerate(lines) if line.strip() == start_mark]
    ends = [i for i, line in enumerate(lines) if line.strip() == end_mark]
    if len(starts) != 1 or len(ends) != 1 or starts[0] > ends[0]:
        raise UsageError(
            f"README.md needs exactly one line `{start_mark}` followed later by one line "
            f"`{end_mark}`: a generated table is written between them."
        )
    start, end = starts[0], ends[0]
    return [*lines[: start + 1], "", table, "", *lines[end:]]


def sync_readme(root: Path, check: bool = False) -> bool:
    """Bring README.md's generated tables up to date; True when they already were.

    The projects table goes between the ``projects`` marker lines, and the model table between
    the ``models`` marker lines where the README has them. With ``check`` nothing is written.
    """
    readme = root / "README.md"
    if not readme.is_file():
        raise UsageError(f"There is no README.md in {root}.")
    text = readme.read_text(encoding="utf-8")
    lines = text.split("\n")
    new_lines = _replace_between(lines, README_START, README_END, projects_table(root))
    if any(line.strip() == MODELS_START for line in new_lines):
        new_lines = _replace_between(new_lines, MODELS_START, MODELS_END, models_table())
    new_text = "\n".join(new_lines)
    if new_text == text:
        return True
    if not check:
        readme.write_text(new_text, encoding="utf-8")
    return False


# --------------------------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------------------------


def _project(number: int) -> Project:
    try:
        return get_project(number)
    except ValueError as err:
        raise UsageError(str(err)) from None


def cmd_list(args: argparse.Namespace) -> int:
    """Print every project with its folder, whether its notebooks exist and its offline weights.

    The offline column: ``trained`` (every model it loads offline is trained: SmolLM2, the MiniLM
    BERT encoders), ``random`` (seeded stand-ins only), ``partly`` (both), ``tokenizer`` (no
    model), ``-`` (not built yet).
    """
    root = notebooks.find_repo_root()
    print(f"{'#':>2}  {'chapter folder':<19} {'solution':<9} {'helper':<7} {'offline':<10} title")
    for project in PROJECTS:
        built = (root / project.notebook("solution")).is_file()
        solution = "yes" if built else "-"
        helper = "yes" if (root / project.notebook("helper")).is_file() else "-"
        offline = project.offline_weights if built else "-"
        print(
            f"{project.number:>2}  {project.folder:<19} {solution:<9} {helper:<7} {offline:<10} "
            f"{project.title}"
        )
    return 0


def _kernel_env(args: argparse.Namespace) -> dict[str, str]:
    """The environment a notebook's kernel gets on top of this one: ``--profile``."""
    return {"ML4LLM_PROFILE": args.profile} if args.profile else {}


def cmd_run(args: argparse.Namespace) -> int:
    """Execute one project's solution notebook headless into an output folder.

    With ``--set NAME=VALUE`` the values are injected after the solution's parameters cell
    (:mod:`ml4llm.notebooks.params`); the executed copy records them.
    """
    root = notebooks.find_repo_root()
    project = _project(args.project)
    source = root / project.notebook("solution")
    if not source.is_file():
        raise UsageError(
            f"Project {project.number} ({project.title}) is not built yet: there is no "
            f"{project.notebook('solution')}."
        )
    out_dir = Path(args.out) if args.out else root / "runs" / project.stem
    values = dict(params.parse_assignment(text) for text in args.set or [])
    injected = None
    if values:
        command = f"ml4llm run {project.number} --set {shlex.join(args.set)}"
        injected = params.inject(notebooks.read_notebook(source), values, command)
    _claim(out_dir, source.name, args)
    with tempfile.TemporaryDirectory(prefix="ml4llm-run-") as scratch:
        to_run = source
        if injected is not None:  # run a scratch copy with the values: the run writes its own
            to_run = Path(scratch) / source.name
            to_run.write_text(notebooks.dumps(injected), encoding="utf-8")
            shown = ", ".join(f"{name} = {value!r}" for name, value in values.items())
            print(f"Parameters set after the parameters cell: {shown}")
        print(f"Running {project.notebook('solution')} in {out_dir} ...", flush=True)
        result = notebooks.execute(to_run, out_dir, timeout=args.timeout, env=_kernel_env(args))
    outfolder.record(result.notebook)
    if result.interrupted:
        print(
            f"error: {result.error}; the partly executed copy is {result.notebook}",
            file=sys.stderr,
        )
        return INTERRUPTED
    print(f"Executed notebook: {result.notebook}")
    if result.figures:
        print("Figures written:")
        for figure in result.figures:
            print(f"  {figure}")
    else:
        print("Figures written: none")
    print(f"Wall time: {result.seconds:.1f} s")
    if result.error:
        print(f"error: {result.error}", file=sys.stderr)
        return 1
    return 0


def _claim(out_dir: Path, name: str, args: argparse.Namespace) -> None:
    """Check the output folder and claim ``name`` in it before anything runs (``--force``)."""
    option = "--out" if args.out else "the output folder"
    backup = outfolder.prepare(out_dir, name, force=args.force, option=option)
    if backup is not None:
        print(f"Saved your {out_dir / name} to {backup} before overwriting it (--force)")


def _helper_to_check(args: argparse.Namespace, project: Project) -> Path:
    """The notebook ``ml4llm check`` runs: the one given, or project N's helper in the repo."""
    if args.notebook:
        path = Path(args.notebook)
        if not path.is_file():
            raise UsageError(f"There is no notebook {path}.")
        try:
            meta = notebooks.read_notebook(path).metadata.get("ml4llm", {})
        except Exception as err:
            raise UsageError(f"{path} is not a notebook that can be read ({err}).") from None
        number = meta.get("project") if isinstance(meta, dict) else None
        if isinstance(number, int) and number != project.number:
            raise UsageError(
                f"{path} is the helper of project {number}, not of project {project.number}: "
                f"run `ml4llm check {number} {shlex.quote(str(path))}`."
            )
        return path
    root = notebooks.find_repo_root()
    path = root / project.notebook("helper")
    if not path.is_file():
        raise UsageError(
            f"Project {project.number} ({project.title}) has no helper notebook yet: there is "
            f"no {project.notebook('helper')}."
        )
    return path


def cmd_check(args: argparse.Namespace) -> int:
    """Run a learner's helper on a scratch copy and print one line per self-check."""
    project = _project(args.project)
    path = _helper_to_check(args, project)
    print(f"Checking {path} (a scratch copy runs; your notebook is not changed) ...", flush=True)
    with tempfile.TemporaryDirectory(prefix="ml4llm-check-") as folder:
        scratch = Path(folder) / "scratch" / path.name
        scratch.parent.mkdir()
        shutil.copyfile(path, scratch)
        out_dir = Path(args.out) if args.out else Path(folder) / "run"
        if args.out:
            _claim(out_dir, path.name, args)
        result = notebooks.execute(
            scratch, out_dir, timeout=args.timeout, allow_errors=False, env=_kernel_env(args)
        )
        if args.out:
            outfolder.record(result.notebook)
        if result.interrupted:
            kept = f"; the partly executed copy is {result.notebook}" if args.out else ""
            print(f"error: {result.error}{kept}", file=sys.stderr)
            return INTERRUPTED
        executed = notebooks.read_notebook(result.notebook)
    graded = grade.grade(executed, result.statuses, result.error, result.error_cell)
    for line in grade.report_lines(graded):
        print(line)
    passed, counted = grade.count(graded)
    skipped = len(graded) - counted
    if result.error and result.error_cell is None:
        print(f"error: {result.error}", file=sys.stderr)
    first = grade.first_to_revisit(graded)
    if first is not None and first.status == grade.NOT_RUN and result.error_cell is not None:
        part = grade.part_names(executed)[result.error_cell] or "the start"
        print(f"Revisit first: {part}: {first.text}")
    elif first is not None:
        print(f"Revisit first: {first.part or 'the start'}: cell {first.cell + 1}, {first.title}")
    elif result.error_cell is not None:  # every check passed, then a later cell raised
        print(f"Every check ran, but {grade.raised(executed, result.error_cell, result.error)}")
    summary = f"project {project.number}: {passed} of {counted} checks pass"
    if skipped:
        summary += f" ({skipped} skipped: they need trained weights)"
    print(f"{summary} ({result.seconds:.0f} s)")
    return 0 if counted and passed == counted and not result.error else 1


def cmd_progress(args: argparse.Namespace) -> int:
    """Print the learner's progress in every project, read from the saved helpers."""
    folder = Path(args.folder) if args.folder else None
    if folder is not None and not folder.is_dir():
        raise UsageError(f"There is no folder {folder}.")
    try:
        root: Path | None = notebooks.find_repo_root()
    except NotebookError:
        if folder is None:
            raise
        root = None
    where = folder if folder is not None else root
    print(f"Progress of the helpers in {where} (read from the saved notebooks; nothing runs):")
    if args.markdown:
        print()
    print(course_progress.render(course_progress.progress(folder, root), markdown=args.markdown))
    return 0


def cmd_helpers(args: argparse.Namespace) -> int:
    """Generate (or check) the helper notebooks and the headers of both notebooks."""
    root = notebooks.find_repo_root()
    selected = args.project or None
    for number in selected or []:
        project = _project(number)
        if not project.exists(root):
            print(f"Skipping project {number}: there is no {project.notebook('solution')} yet.")
    if args.stats:
        print("project  blanked share of code lines")
        for project in PROJECTS:
            if project.exists(root) and (selected is None or project.number in selected):
                solution = notebooks.read_notebook(root / project.notebook("solution"))
                print(f"{project.number:>7}  {notebooks.blank_share(solution):6.0%}")
        return 0
    if args.check:
        stale = notebooks.check(root, selected)
        if stale:
            print("These notebooks differ from what the generator writes:")
            for path in stale:
                print(f"  {path}")
            print("Run `ml4llm helpers` to regenerate them.")
            return 1
        print("Helpers and notebook headers are in sync.")
        return 0
    written = notebooks.generate(root, selected, force=args.force)
    for path in written:
        print(f"Wrote {path.relative_to(root).as_posix()}")
    if not written:
        print("Helpers and notebook headers are already up to date.")
    return 0


def cmd_readme(args: argparse.Namespace) -> int:
    """Regenerate (or check) the generated tables in README.md (projects, models)."""
    root = notebooks.find_repo_root()
    up_to_date = sync_readme(root, check=args.check)
    if up_to_date:
        print("README.md's generated tables are up to date.")
        return 0
    if args.check:
        print("README.md's generated tables are stale: run `ml4llm readme` to regenerate them.")
        return 1
    print("Updated the generated tables in README.md.")
    return 0


def _add_profile(parser: argparse.ArgumentParser) -> None:
    from ml4llm.models import PROFILES

    parser.add_argument(
        "--profile",
        choices=PROFILES,
        help="models for the notebook's kernel: hub, offline or auto (default: ML4LLM_PROFILE, "
        "else auto)",
    )


def _seconds(text: str) -> float:
    """A ``--timeout`` value: seconds, 0 for no limit (argparse turns the error into one line)."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:  # also NaN
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of seconds: give one above 0, e.g. 600 (0: no limit)"
        )
    return seconds


def _add_force(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--force",
        action="store_true",
        help="overwrite a notebook in the output folder that ml4llm did not write (or that "
        "changed since), after backing it up to <name>.backup-<YYYYmmdd-HHMMSS>.ipynb",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``ml4llm`` command."""
    parser = _Parser(
        prog="ml4llm", description="Course tools for '50 ML projects to understand LLMs'."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    listing = commands.add_parser("list", help="list the projects and their notebooks")
    listing.set_defaults(func=cmd_list)

    run = commands.add_parser("run", help="execute a project's solution notebook headless")
    run.add_argument("project", type=int, metavar="N", help="project number (1 to 50)")
    run.add_argument("--out", metavar="DIR", help="output folder (default: runs/projNN_<slug>/)")
    _add_force(run)
    run.add_argument(
        "--timeout",
        type=_seconds,
        default=600,
        metavar="S",
        help="seconds per cell (default 600; 0: no limit)",
    )
    _add_profile(run)
    run.add_argument(
        "--set",
        nargs="+",
        action="extend",
        metavar="NAME=VALUE",
        help="run with another value of a knob of the parameters cell, e.g. "
        "--set n_permutations=200 model_id=EleutherAI/pythia-410m (a Python literal, else a string)",
    )
    run.set_defaults(func=cmd_run)

    check = commands.add_parser(
        "check", help="run a helper on a scratch copy and print what each self-check says"
    )
    check.add_argument("project", type=int, metavar="N", help="project number (1 to 50)")
    check.add_argument(
        "notebook",
        nargs="?",
        metavar="NOTEBOOK",
        help="the helper to check, e.g. a copy downloaded from Colab (default: the repository's)",
    )
    check.add_argument(
        "--timeout",
        type=_seconds,
        default=600,
        metavar="S",
        help="seconds per cell (default 600; 0: no limit)",
    )
    check.add_argument("--out", metavar="DIR", help="keep the executed scratch copy in DIR")
    _add_force(check)
    _add_profile(check)
    check.set_defaults(func=cmd_check)

    progress = commands.add_parser(
        "progress", help="blanks left and checks passed in every helper, without running them"
    )
    progress.add_argument(
        "folder",
        nargs="?",
        metavar="FOLDER",
        help="a folder of helper notebooks, e.g. downloaded from Colab (default: the repository)",
    )
    progress.add_argument("--markdown", action="store_true", help="print a Markdown table")
    progress.set_defaults(func=cmd_progress)

    helpers = commands.add_parser("helpers", help="generate helper notebooks and headers")
    helpers.add_argument("--check", action="store_true", help="compare only; exit 1 on drift")
    helpers.add_argument(
        "--stats", action="store_true", help="print the share of code lines each helper blanks"
    )
    helpers.add_argument(
        "--force", action="store_true", help="overwrite edited helpers after backing them up"
    )
    helpers.add_argument(
        "--project",
        type=int,
        nargs="+",
        action="extend",
        metavar="N",
        help="only these projects (default: all); --project 2 3 or --project 2 --project 3",
    )
    helpers.set_defaults(func=cmd_helpers)

    readme = commands.add_parser(
        "readme", help="regenerate the projects and model tables in README.md"
    )
    readme.add_argument("--check", action="store_true", help="compare only; exit 1 when stale")
    readme.set_defaults(func=cmd_readme)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (see the module docstring)."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except RefusedError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except (UsageError, NotebookError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # outside a run's cells, which handle Ctrl-C themselves
        print(
            "error: interrupted (Ctrl-C) before the command finished: run it again to complete it",
            file=sys.stderr,
        )
        return INTERRUPTED
    except BrokenPipeError:  # e.g. `ml4llm list | head`: the reader stopped, not an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except OSError as err:  # a file the command needed: unreadable, unwritable, disk full
        where = f" ({err.filename})" if err.filename else ""
        print(
            f"error: {err.strerror or err}{where}: check that the path exists and that you may "
            "read and write it, then run the command again",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
