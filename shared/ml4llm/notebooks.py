"""Helper generation, header stamping and headless execution of the course notebooks.

The solution notebook is the single source; the helper notebook is generated from it. Blanks are
marked in the solution's code cells:

``# SOLUTION`` at the end of a line
    The statement on that line (a statement spanning several lines may be marked on any of them) is
    replaced whole. An assignment keeps its targets and its value becomes ``...``
    (``x = ...``, ``a, b = ...``, ``a = b = ...``, ``x: int = ...``); any other statement (a
    call, ``+=``, ``return``, ...) becomes ``...`` at its indentation. A marker on the header of a
    compound statement (``for``, ``if``, ``def``, ``with``, ...) is an error: use a block.

``# BEGIN SOLUTION`` ... ``# END SOLUTION`` on their own lines
    Every statement between the markers becomes one stub at the block's indentation
    (``target = ...`` for assignments, otherwise ``...``); a nested compound statement collapses
    into one stub. Every comment line inside the block stays (comments are the learner's hints);
    those inside a collapsed statement (a loop's body) go above its stub, at the block's
    indentation, so that each hint still precedes the code it describes. The marker lines go.

Each stub ends with ``# TODO: your code``. Cells are parsed with :mod:`ast`; IPython magics and
``!`` shell lines are rejected because every helper cell must parse as Python.

Both notebooks get the standard header (a markdown cell tagged ``{"ml4llm": "header"}``) and the
Colab setup cell (tagged ``{"ml4llm": "setup"}``), lose their outputs and execution counts, and are
written deterministically (cell ids from positions, nbformat 4.5 with ``indent=1``). A helper stores
the sha256 of its cell sources in ``metadata.ml4llm.sha256``; the generator refuses to overwrite a
helper whose sources no longer match that hash (a learner edited it) unless forced, and then saves a
backup first. Error messages number cells from 1, as they appear in the notebook. The helper's
``ml4llm.setup(project=N)`` call gets ``helper=True``, so that its figures are saved apart from the
solution's (``..._helper.png``).
"""

from __future__ import annotations

import ast
import atexit
import copy
import hashlib
import importlib.metadata
import io
import json
import re
import shutil
import tempfile
import time
import tokenize
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO

import nbformat
from nbformat import NotebookNode

from ml4llm.projects import CHAPTER_TITLES, PROJECTS, Project, get_project

STUB_COMMENT = "# TODO: your code"
HEADER_ROLE = "header"
SETUP_ROLE = "setup"
KEPT_CELL_METADATA = ("ml4llm", "tags")
COLAB_BADGE = "https://colab.research.google.com/assets/colab-badge.svg"
KERNEL_NAME = "python3"

_LINE_MARKER = re.compile(r"#\s*SOLUTION\s*$")
_BEGIN_MARKER = re.compile(r"#\s*BEGIN SOLUTION\s*$")
_END_MARKER = re.compile(r"#\s*END SOLUTION\s*$")


class NotebookError(Exception):
    """A problem with a course notebook that the user has to fix; the message says how."""


class MarkerError(NotebookError):
    """A solution marker that cannot be turned into a helper blank, or a cell that is not Python."""


class HelperEditedError(NotebookError):
    """Regenerating would overwrite helper notebooks that a learner has edited."""

    def __init__(self, paths: list[str]) -> None:
        self.paths = paths
        names = "\n".join(f"  {path}" for path in paths)
        super().__init__(
            "Not overwriting these helper notebooks: their cells were edited since they were "
            f"generated (or they were not written by the generator):\n{names}\n"
            "Keep your work, or run `ml4llm helpers --force` to save each one to "
            "<name>.ipynb.bak-<YYYYmmdd-HHMMSS> first and then regenerate it."
        )


# --------------------------------------------------------------------------------------------
# Blanking one cell's source
# --------------------------------------------------------------------------------------------


@dataclass(eq=False)
class _Statement:
    """A statement of a cell with its line extent (1-based, decorators included)."""

    node: ast.stmt
    start: int
    end: int
    depth: int
    parent: _Statement | None

    @property
    def compound(self) -> bool:
        return hasattr(self.node, "body")


def _parse(source: str, where: str) -> ast.Module:
    """Parse a cell, with a clear message for IPython magics and syntax errors."""
    try:
        return ast.parse(source)
    except SyntaxError as err:
        for number, line in enumerate(source.split("\n"), start=1):
            if line.lstrip().startswith(("%", "!")):
                raise MarkerError(
                    f"{where}, line {number}: IPython magics and shell commands "
                    f"({line.strip()!r}) are not allowed, because every helper cell must parse as "
                    "Python. Use plain Python instead (subprocess.run for a command; plots show "
                    "inline without %matplotlib)."
                ) from None
        raise MarkerError(f"{where}, line {err.lineno}: not valid Python: {err.msg}") from None


def _statements(tree: ast.Module) -> list[_Statement]:
    """All statements of a module, nested ones included, in source order."""
    found: list[_Statement] = []

    def visit(node: ast.AST, parent: _Statement | None, depth: int) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.stmt):
                decorators = getattr(child, "decorator_list", [])
                start = min([child.lineno] + [d.lineno for d in decorators])
                end = child.end_lineno or child.lineno
                statement = _Statement(child, start, end, depth, parent)
                found.append(statement)
                visit(child, statement, depth + 1)
            elif isinstance(child, (ast.excepthandler, ast.match_case)):
                visit(child, parent, depth)

    visit(tree, None, 0)
    return found


def _comments(source: str) -> dict[int, tuple[str, bool]]:
    """Line number -> (comment text, True when the comment is alone on its line)."""
    lines = source.split("\n")
    comments: dict[int, tuple[str, bool]] = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            row, col = token.start
            comments[row] = (token.string, lines[row - 1][:col].strip() == "")
    return comments


def _bytes_prefix(line: str, offset: int) -> str:
    """The part of ``line`` before an ast column offset (ast counts UTF-8 bytes)."""
    return line.encode("utf-8")[:offset].decode("utf-8", errors="replace")


def _bytes_suffix(line: str, offset: int) -> str:
    """The part of ``line`` after an ast end column offset."""
    return line.encode("utf-8")[offset:].decode("utf-8", errors="replace")


def _indent_of(statement: _Statement, lines: list[str], where: str) -> str:
    """The statement's indentation; an error unless it has its lines to itself."""
    node = statement.node
    prefix = _bytes_prefix(lines[node.lineno - 1], node.col_offset)
    suffix = _bytes_suffix(lines[statement.end - 1], node.end_col_offset or 0).strip()
    if prefix.strip() or (suffix and not suffix.startswith("#")):
        raise MarkerError(
            f"{where}, line {node.lineno}: a blanked statement shares its line with other code; "
            "put it on its own line(s)."
        )
    return prefix


def _stub(statement: _Statement, source: str, indent: str) -> list[str]:
    """The helper's replacement lines for one statement."""
    node = statement.node

    def text(part: ast.AST) -> str:
        segment = ast.get_source_segment(source, part)
        return segment if segment is not None else ast.unparse(part)

    if isinstance(node, ast.Assign):
        # A tuple target gets one `...` per name (`a, b = ..., ...`), so that the helper still runs
        # and each name reaches the self-check as a blank rather than as an unpacking error.
        last = node.targets[-1]
        if isinstance(last, (ast.Tuple, ast.List)) and not any(
            isinstance(e, ast.Starred) for e in last.elts
        ):
            value = ", ".join(["..."] * len(last.elts))
        else:
            value = "..."
        code = " = ".join(text(target) for target in node.targets) + f" = {value}"
    elif isinstance(node, ast.AnnAssign) and node.value is not None:
        code = f"{text(node.target)}: {text(node.annotation)} = ..."
    else:
        code = "..."
    return f"{indent}{code}  {STUB_COMMENT}".split("\n")


def _descends(statement: _Statement, ancestor: _Statement) -> bool:
    """True when ``statement`` is nested (at any depth) inside ``ancestor``."""
    parent = statement.parent
    while parent is not None:
        if parent is ancestor:
            return True
        parent = parent.parent
    return False


def _find_markers(
    comments: dict[int, tuple[str, bool]], where: str
) -> tuple[list[tuple[int, int]], list[int]]:
    """The BEGIN/END blocks (line pairs) and the ``# SOLUTION`` lines, checked for misuse."""
    blocks: list[tuple[int, int]] = []
    line_marks: list[int] = []
    begin: int | None = None
    for line, (comment, alone) in sorted(comments.items()):
        if _BEGIN_MARKER.search(comment) or _END_MARKER.search(comment):
            is_begin = bool(_BEGIN_MARKER.search(comment))
            name = "BEGIN SOLUTION" if is_begin else "END SOLUTION"
            if not alone:
                raise MarkerError(f"{where}, line {line}: `# {name}` must be on a line of its own.")
            if is_begin and begin is not None:
                raise MarkerError(
                    f"{where}, line {line}: `# BEGIN SOLUTION` inside the block opened on line "
                    f"{begin}; blocks do not nest (close it with `# END SOLUTION` first)."
                )
            if not is_begin and begin is None:
                raise MarkerError(f"{where}, line {line}: `# END SOLUTION` without a `# BEGIN`.")
            if is_begin:
                begin = line
            else:
                assert begin is not None
                blocks.append((begin, line))
                begin = None
        elif _LINE_MARKER.search(comment):
            if alone:
                raise MarkerError(
                    f"{where}, line {line}: `# SOLUTION` must end a line of code; to blank several "
                    "lines use `# BEGIN SOLUTION` ... `# END SOLUTION`."
                )
            line_marks.append(line)
    if begin is not None:
        raise MarkerError(f"{where}, line {begin}: `# BEGIN SOLUTION` is never closed.")
    return blocks, line_marks


def blank_source(source: str, where: str = "cell") -> str:
    """Turn one solution code cell into the helper's version (see the module docstring).

    ``where`` names the cell in error messages. The result always parses as Python.
    """
    text = source.replace("\r\n", "\n")
    tree = _parse(text, where)
    lines = text.split("\n")
    comments = _comments(text)
    blocks, line_marks = _find_markers(comments, where)
    statements = _statements(tree)

    dropped: set[int] = set()
    replaced: dict[int, tuple[int, list[str]]] = {}  # first line -> (last line, new lines)

    for begin, end in blocks:
        dropped.update((begin, end))
        marker_indent = lines[begin - 1][: len(lines[begin - 1]) - len(lines[begin - 1].lstrip())]
        inside = [s for s in statements if begin < s.start and s.end < end]
        top = [s for s in inside if not any(s.parent is other for other in inside)]
        if not top:
            raise MarkerError(
                f"{where}, lines {begin}-{end}: the SOLUTION block holds no statement."
            )
        for s in statements:
            overlaps = s.start < end and s.end > begin
            if not overlaps or s in inside:
                continue
            # Only a compound statement whose body holds the whole block may reach beyond it.
            holds_block = s.compound and s.start < begin and all(_descends(t, s) for t in top)
            if not holds_block:
                raise MarkerError(
                    f"{where}, lines {begin}-{end}: the SOLUTION block cuts the statement on line "
                    f"{s.node.lineno}; a block must hold whole statements."
                )
        for s in top:
            indent = _indent_of(s, lines, where)
            if indent != marker_indent:
                raise MarkerError(
                    f"{where}, line {s.node.lineno}: statements in a SOLUTION block must be "
                    f"indented like its `# BEGIN SOLUTION` line (line {begin})."
                )
            # Comment lines inside a collapsed statement stay as hints at the block's indentation.
            hints = [
                indent + lines[n - 1].strip()
                for n in range(s.start + 1, s.end + 1)
                if n in comments and comments[n][1]
            ]
            replaced[s.start] = (s.end, hints + _stub(s, text, indent))

    for line in line_marks:
        if any(begin < line < end for begin, end in blocks):
            continue  # the block blanks it already
        containing = [s for s in statements if s.start <= line <= s.end]
        if not containing:
            raise MarkerError(f"{where}, line {line}: `# SOLUTION` marks no statement.")
        innermost = max(containing, key=lambda s: s.depth)
        if innermost.compound:
            raise MarkerError(
                f"{where}, line {line}: `# SOLUTION` marks the header of a compound statement "
                f"({type(innermost.node).__name__.lower()}); wrap the whole statement in "
                "`# BEGIN SOLUTION` / `# END SOLUTION` lines instead."
            )
        indent = _indent_of(innermost, lines, where)
        replaced[innermost.start] = (innermost.end, _stub(innermost, text, indent))

    out: list[str] = []
    number = 1
    while number <= len(lines):
        if number in replaced:
            last, new_lines = replaced[number]
            out.extend(new_lines)
            number = last + 1
            continue
        if number not in dropped:
            out.append(lines[number - 1])
        number += 1
    result = "\n".join(out)
    try:
        ast.parse(result)
    except SyntaxError as err:
        raise MarkerError(
            f"{where}: the generated helper cell does not parse (line {err.lineno}: {err.msg}):\n"
            f"{result}"
        ) from None
    return result


# --------------------------------------------------------------------------------------------
# Header, setup cell and normalisation
# --------------------------------------------------------------------------------------------


def repository_url(root: Path | None = None) -> str:
    """The one repository URL of ``[project.urls] Repository``.

    Read from the installed ``ml4llm`` distribution's metadata, else from ``pyproject.toml`` in
    ``root`` (default: the repository that holds this package).
    """
    try:
        for entry in importlib.metadata.metadata("ml4llm").get_all("Project-URL") or []:
            label, _, url = entry.partition(",")
            if label.strip().lower() == "repository" and url.strip():
                return url.strip()
    except importlib.metadata.PackageNotFoundError:
        pass
    pyproject = (root or Path(__file__).resolve().parents[2]) / "pyproject.toml"
    try:
        import tomllib
    except ModuleNotFoundError as err:  # Python 3.10 without the metadata of an installed ml4llm
        raise NotebookError(
            "Cannot find the repository URL: install the package (pip install -e .) or use "
            "Python 3.11+ to read pyproject.toml."
        ) from err
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        return str(data["project"]["urls"]["Repository"])
    except (OSError, KeyError) as err:
        raise NotebookError(
            f"No [project.urls] Repository in {pyproject}: the notebook headers need it."
        ) from err


def github_repo(url: str) -> tuple[str, str]:
    """(owner, name) of a GitHub repository URL."""
    match = re.search(r"github\.com[/:]([^/]+)/([^/#?]+?)(?:\.git)?/?$", url.strip())
    if not match:
        raise NotebookError(f"The repository URL {url!r} is not a GitHub repository URL.")
    return match.group(1), match.group(2)


def colab_url(notebook_path: str, repo_url: str | None = None) -> str:
    """Open-in-Colab address of a notebook given by its path relative to the repository root."""
    owner, name = github_repo(repo_url or repository_url())
    return f"https://colab.research.google.com/github/{owner}/{name}/blob/main/{notebook_path}"


def colab_badge(notebook_path: str, repo_url: str | None = None) -> str:
    """Markdown for the Open-in-Colab badge of a notebook."""
    return f"[![Open In Colab]({COLAB_BADGE})]({colab_url(notebook_path, repo_url)})"


def header_source(project: Project, kind: str, repo_url: str | None = None) -> str:
    """Markdown of the standard first cell of a ``solution`` or ``helper`` notebook."""
    if not project.goal or not project.offline:
        raise NotebookError(
            f"Project {project.number} has no goal or offline text in ml4llm/projects.py; write "
            "them there before generating its notebooks."
        )
    repo_url = repo_url or repository_url()
    path = project.notebook(kind)
    solution_name = Path(project.notebook("solution")).name
    helper_name = Path(project.notebook("helper")).name
    if kind == "helper":
        about = (
            "This is the **helper** notebook: fill in every `...` blank (each is marked "
            f"`{STUB_COMMENT}`) and run the self-check cell after each part. Stuck? The full code "
            f"is in the [solution notebook]({solution_name}) "
            f"([open it in Colab]({colab_url(project.notebook('solution'), repo_url)}))."
        )
    else:
        about = (
            "This is the **solution** notebook: the complete code, to run cell by cell. To write "
            f"the code yourself, open the [helper notebook]({helper_name}) "
            f"([open it in Colab]({colab_url(project.notebook('helper'), repo_url)}))."
        )
    model_label = "Models" if "," in project.models else "Model"
    return "\n".join(
        [
            f"# Project {project.number}: {project.title}",
            "",
            f"Chapter {project.chapter}: {CHAPTER_TITLES[project.chapter]} · {kind} notebook",
            "",
            colab_badge(path, repo_url),
            "",
            about,
            "",
            f"**Goal.** {project.goal}",
            "",
            f"**{model_label}:** {project.models}",
            "",
            f"**Offline:** {project.offline}",
        ]
    )


def setup_source(repo_url: str | None = None) -> str:
    """Python of the standard second cell: install the course package in Colab when missing."""
    repo_url = repo_url or repository_url()
    return "\n".join(
        [
            "# In Google Colab, install the course package ml4llm when it is missing (once per",
            "# session). ml4llm's version ranges accept Colab's preinstalled torch, ipywidgets",
            "# and the rest, so pip keeps them. Locally, set the course up once as README.md",
            "# says (`./course.sh setup`), which also pins torch and installs the files that",
            "# the offline stand-ins need.",
            "import importlib",
            "import importlib.util",
            "import subprocess",
            "import sys",
            "",
            'if "google.colab" in sys.modules and importlib.util.find_spec("ml4llm") is None:',
            "    subprocess.run(",
            f'        [sys.executable, "-m", "pip", "install", "-q", "git+{repo_url}"],',
            "        check=True,",
            "    )",
            "    importlib.invalidate_caches()",
        ]
    )


def _role(cell: NotebookNode) -> str | None:
    role = cell.get("metadata", {}).get("ml4llm")
    return role if isinstance(role, str) else None


def _clean_cell(cell: NotebookNode) -> NotebookNode:
    """A copy of a cell without outputs, execution count or editor metadata."""
    metadata = {k: copy.deepcopy(v) for k, v in cell.get("metadata", {}).items()}
    metadata = {k: v for k, v in metadata.items() if k in KEPT_CELL_METADATA}
    if cell.cell_type == "code":
        return nbformat.v4.new_code_cell(source=cell.source, metadata=metadata)
    if cell.cell_type == "markdown":
        clean = nbformat.v4.new_markdown_cell(source=cell.source, metadata=metadata)
    else:
        clean = nbformat.v4.new_raw_cell(source=cell.source, metadata=metadata)
    if cell.get("attachments"):
        clean.attachments = copy.deepcopy(cell.attachments)
    return clean


def source_hash(nb: NotebookNode) -> str:
    """sha256 of a notebook's cell types and sources (outputs and metadata do not count)."""
    cells = [[cell.cell_type, cell.source] for cell in nb.cells]
    return hashlib.sha256(json.dumps(cells, ensure_ascii=False).encode("utf-8")).hexdigest()


def stamp(
    nb: NotebookNode, project: Project, kind: str, repo_url: str | None = None
) -> NotebookNode:
    """A normalised copy of ``nb`` with the standard header and setup cells of ``kind``.

    Former header/setup cells are replaced, outputs and execution counts cleared, cell ids set
    from positions and notebook metadata reduced to the kernel, the language and ``ml4llm``
    (kind, project and, for a helper, the sha256 of its cell sources).
    """
    if kind not in ("solution", "helper"):
        raise ValueError(f"kind must be 'solution' or 'helper', not {kind!r}")
    repo_url = repo_url or repository_url()
    header = nbformat.v4.new_markdown_cell(
        source=header_source(project, kind, repo_url), metadata={"ml4llm": HEADER_ROLE}
    )
    setup = nbformat.v4.new_code_cell(
        source=setup_source(repo_url), metadata={"ml4llm": SETUP_ROLE}
    )
    body = [_clean_cell(cell) for cell in nb.cells if _role(cell) not in (HEADER_ROLE, SETUP_ROLE)]
    cells = [header, setup, *body]
    for index, cell in enumerate(cells):
        cell.id = f"{cell.cell_type}-{index:03d}"
    stamped = nbformat.v4.new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": KERNEL_NAME},
            "language_info": {"name": "python"},
        },
    )
    ml4llm_meta: dict[str, object] = {"kind": kind, "project": project.number}
    if kind == "helper":
        ml4llm_meta["sha256"] = source_hash(stamped)
    stamped.metadata["ml4llm"] = ml4llm_meta
    return stamped


def mark_helper_setup(source: str) -> str:
    """Add ``helper=True`` to each ``ml4llm.setup(project=...)`` call of a cell.

    ``setup`` then names the helper's figures ``..._helper.png``, so that running a helper never
    overwrites the solution's figures. A call that already passes ``helper`` is left alone.
    """
    tree = ast.parse(source)
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and (
            (isinstance(node.func, ast.Attribute) and node.func.attr == "setup")
            or (isinstance(node.func, ast.Name) and node.func.id == "setup")
        )
        and any(k.arg == "project" for k in node.keywords)
        and not any(k.arg == "helper" for k in node.keywords)
    ]
    lines = source.split("\n")
    # Insert after each call's last argument, from the last call back so that the positions of
    # earlier ones stay valid (ast counts UTF-8 bytes).
    ends = []
    for call in calls:
        last = max([*call.args, *call.keywords], key=lambda n: (n.end_lineno, n.end_col_offset))
        ends.append(((last.end_lineno or last.lineno) - 1, last.end_col_offset or 0))
    for row, offset in sorted(ends, reverse=True):
        head = _bytes_prefix(lines[row], offset)
        lines[row] = head + ", helper=True" + lines[row][len(head) :]
    return "\n".join(lines)


def make_helper(
    solution_nb: NotebookNode, project: Project, repo_url: str | None = None
) -> NotebookNode:
    """The helper notebook generated from a solution notebook: blanks, header and source hash.

    Its ``ml4llm.setup(project=N)`` call gets ``helper=True`` (see :func:`mark_helper_setup`).
    """
    helper = copy.deepcopy(solution_nb)
    for index, cell in enumerate(helper.cells):
        if cell.cell_type == "code" and _role(cell) != SETUP_ROLE:
            cell.source = mark_helper_setup(blank_source(cell.source, where=f"cell {index + 1}"))
    return stamp(helper, project, "helper", repo_url)


def build_pair(
    solution_nb: NotebookNode, project: Project, repo_url: str | None = None
) -> tuple[NotebookNode, NotebookNode]:
    """The stamped solution and its generated helper.

    The helper is blanked from the notebook as given, so that errors number its cells as the
    author sees them.
    """
    solution = stamp(solution_nb, project, "solution", repo_url)
    return solution, make_helper(solution_nb, project, repo_url)


# --------------------------------------------------------------------------------------------
# Reading and writing files
# --------------------------------------------------------------------------------------------


def read_notebook(path: Path) -> NotebookNode:
    """Read a notebook as nbformat 4 (warnings about missing cell ids are silenced)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return nbformat.reads(path.read_text(encoding="utf-8"), as_version=4)


def dumps(nb: NotebookNode) -> str:
    """The notebook's file text: nbformat 4 JSON, ``indent=1``, sorted keys, final newline."""
    text = nbformat.writes(nb, version=4)
    return text if text.endswith("\n") else text + "\n"


def helper_was_edited(path: Path) -> bool:
    """True when the helper at ``path`` has sources that the generator did not write."""
    try:
        nb = read_notebook(path)
    except Exception:  # unreadable: treat it as the learner's, never overwrite it silently
        return True
    meta = nb.metadata.get("ml4llm", {})
    stored = meta.get("sha256") if isinstance(meta, dict) else None
    return stored is None or stored != source_hash(nb)


def find_repo_root(start: Path | None = None) -> Path:
    """The repository root: a folder with ``pyproject.toml`` and ``ch02_tokenization/``.

    Searched from ``start`` (default: the working directory) upwards, then from this package's
    location upwards.
    """
    for base in (start or Path.cwd(), Path(__file__).resolve().parent):
        base = base.resolve()
        for folder in (base, *base.parents):
            if (folder / "pyproject.toml").is_file() and (folder / "ch02_tokenization").is_dir():
                return folder
    raise NotebookError(
        "Cannot find the ml4llm repository: run this inside a clone of the repository "
        "(a folder with pyproject.toml and ch02_tokenization/)."
    )


@dataclass
class _Planned:
    """The files that one project's solution notebook generates."""

    project: Project
    solution_path: Path
    solution_text: str
    helper_path: Path
    helper_text: str


def _select(projects: Iterable[int] | None) -> list[Project]:
    return list(PROJECTS) if projects is None else [get_project(n) for n in projects]


def _plan(root: Path, projects: Iterable[int] | None) -> Iterator[_Planned]:
    """Regenerate in memory every selected project that has a solution notebook."""
    repo_url = repository_url(root)
    for project in _select(projects):
        solution_path = root / project.notebook("solution")
        if not solution_path.is_file():
            continue
        try:
            solution, helper = build_pair(read_notebook(solution_path), project, repo_url)
        except NotebookError as err:
            error_type = MarkerError if isinstance(err, MarkerError) else NotebookError
            raise error_type(f"{project.notebook('solution')}: {err}") from None
        yield _Planned(
            project,
            solution_path,
            dumps(solution),
            root / project.notebook("helper"),
            dumps(helper),
        )


def _differs(path: Path, text: str) -> bool:
    return not path.is_file() or path.read_bytes() != text.encode("utf-8")


def _backup(path: Path) -> Path:
    """Copy a learner's file to ``<name>.bak-<YYYYmmdd-HHMMSS>`` (never over an older backup)."""
    stamp_text = datetime.now().strftime("%Y%m%d-%H%M%S")
    backup = path.with_name(f"{path.name}.bak-{stamp_text}")
    counter = 1
    while backup.exists():
        backup = path.with_name(f"{path.name}.bak-{stamp_text}-{counter}")
        counter += 1
    shutil.copy2(path, backup)
    return backup


def generate(root: Path, projects: Iterable[int] | None = None, force: bool = False) -> list[Path]:
    """Stamp the solutions and (re)write the helpers; return the files whose bytes changed.

    Projects without a solution notebook are skipped. Nothing is written when a helper on disk
    was edited by a learner (:class:`HelperEditedError`), unless ``force``: then each edited
    helper is first copied to ``<name>.ipynb.bak-<YYYYmmdd-HHMMSS>`` and the copy's path printed.
    """
    root = Path(root)
    planned = list(_plan(root, projects))
    edited = [
        item.helper_path
        for item in planned
        if item.helper_path.is_file()
        and _differs(item.helper_path, item.helper_text)
        and helper_was_edited(item.helper_path)
    ]
    if edited and not force:
        raise HelperEditedError([path.relative_to(root).as_posix() for path in edited])
    written: list[Path] = []
    for item in planned:
        for path, text in (
            (item.solution_path, item.solution_text),
            (item.helper_path, item.helper_text),
        ):
            if not _differs(path, text):
                continue
            if path in edited:
                print(f"Saved the edited {path.relative_to(root).as_posix()} to {_backup(path)}")
            path.write_bytes(text.encode("utf-8"))
            written.append(path)
    return written


def check(root: Path, projects: Iterable[int] | None = None) -> list[str]:
    """Paths (relative to ``root``) of solutions and helpers that differ from a regeneration.

    Writes nothing.
    """
    root = Path(root)
    stale: list[str] = []
    for item in _plan(root, projects):
        for path, text in (
            (item.solution_path, item.solution_text),
            (item.helper_path, item.helper_text),
        ):
            if _differs(path, text):
                stale.append(path.relative_to(root).as_posix())
    return stale


# --------------------------------------------------------------------------------------------
# Headless execution
# --------------------------------------------------------------------------------------------


@dataclass
class ExecResult:
    """What :func:`execute` did: the executed notebook, new figures, wall time, first error.

    ``statuses`` maps each executed cell's index to the kernel's reply ("ok" or "error").
    """

    notebook: Path
    figures: list[Path] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None
    statuses: dict[int, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None


def _figure_state(folder: Path) -> dict[Path, tuple[int, int]]:
    if not folder.is_dir():
        return {}
    return {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in folder.rglob("*") if p.is_file()}


def execute(
    path: Path, out_dir: Path, timeout: float | None = 600, allow_errors: bool = False
) -> ExecResult:
    """Run a notebook headless with the working directory ``out_dir``; never touch the source.

    The executed copy is written to ``out_dir/<same name>`` even when a cell fails; figures the
    notebook saves land in ``out_dir/figures/``. ``timeout`` is per cell, in seconds. The kernel
    (``python3``) inherits this process's environment (e.g. ``ML4LLM_PROFILE``); its own log
    lines are kept out of the terminal and added to :attr:`ExecResult.error` when it fails. With
    ``allow_errors`` every cell runs whatever the cells before it did (a helper with blanks).
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    path, out_dir = Path(path), Path(out_dir)
    nb = read_notebook(path)
    out_dir.mkdir(parents=True, exist_ok=True)
    figures_before = _figure_state(out_dir / "figures")
    current = {"index": 0}
    statuses: dict[int, str] = {}

    def on_cell_start(cell: NotebookNode, cell_index: int) -> None:
        current["index"] = cell_index

    def on_cell_executed(cell: NotebookNode, cell_index: int, execute_reply: dict) -> None:
        statuses[cell_index] = execute_reply["content"]["status"]

    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=KERNEL_NAME,
        resources={"metadata": {"path": str(out_dir.resolve())}},
        on_cell_start=on_cell_start,
        on_cell_executed=on_cell_executed,
        allow_errors=allow_errors,
    )
    error: str | None = None
    started = time.perf_counter()
    # The kernel process's own log lines (ipykernel's "Kernel is running over TCP without
    # encryption", say) are noise to a learner: they go to a file, shown only when the kernel
    # fails. What the cells print and raise reaches the notebook as before.
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as kernel_log:
        try:
            client.execute(stdout=kernel_log, stderr=kernel_log)
        except (CellExecutionError, CellTimeoutError, DeadKernelError) as err:
            index = current["index"]
            lines = nb.cells[index].source.strip().split("\n")
            where = f"cell {index + 1} ({lines[0][:60]!r})"
            if isinstance(err, CellExecutionError):
                error = f"{where}: {err.ename}: {err.evalue}"
            elif isinstance(err, CellTimeoutError):
                error = f"{where}: timed out after {timeout} s"
            else:
                error = f"{where}: the kernel died ({err}){_log_tail(kernel_log)}"
        except RuntimeError as err:  # e.g. "Kernel died before replying to kernel_info"
            error = f"the kernel did not start ({err}){_log_tail(kernel_log)}"
            # nbclient has cleaned up already but leaves its exit hook, which would fail later
            # with a traceback of its own.
            atexit.unregister(client._cleanup_kernel)
    seconds = time.perf_counter() - started
    notebook_path = out_dir / path.name
    notebook_path.write_text(dumps(nb), encoding="utf-8")
    figures_after = _figure_state(out_dir / "figures")
    figures = sorted(p for p, state in figures_after.items() if figures_before.get(p) != state)
    return ExecResult(notebook_path, figures, seconds, error, statuses)


# Kernel log lines that say nothing about why a kernel failed (they would mislead a learner).
_KERNEL_NOISE = ("Kernel is running over TCP without encryption",)


def _log_tail(log: IO[str], lines: int = 20) -> str:
    """The last lines of the kernel's log, indented, for an error message ('' when empty)."""
    log.flush()
    log.seek(0)
    kept = [
        line.rstrip()
        for line in log.read().splitlines()
        if line.strip() and not any(noise in line for noise in _KERNEL_NOISE)
    ]
    tail = kept[-lines:]
    if not tail:
        return ""
    return "\nThe kernel's last messages:\n" + "\n".join(f"  {line}" for line in tail)


def _code_lines(source: str) -> list[str]:
    """The lines of a cell that hold code (not blank, not only a comment)."""
    return [
        line for line in source.splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]


def blank_share(solution: NotebookNode) -> float:
    """The fraction of the solution's code lines that the helper blanks (stamped cells excluded).

    A blanked statement of several lines counts all of them, replaced by one stub line.
    """
    total = removed = 0
    for cell in solution.cells:
        if cell.cell_type != "code" or _role(cell) is not None:
            continue
        sol_lines = _code_lines(cell.source)
        helper_lines = _code_lines(blank_source(cell.source))
        kept = [line for line in helper_lines if STUB_COMMENT not in line]
        total += len(sol_lines)
        removed += len(sol_lines) - len(kept)
    return removed / total if total else 0.0


# --------------------------------------------------------------------------------------------
# What the tests require of executed notebooks
# --------------------------------------------------------------------------------------------


def _stdout(cell: NotebookNode) -> str:
    return "".join(
        o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream"
    )


def _where(cell: NotebookNode, index: int) -> str:
    first = cell.source.strip().split("\n")[0][:60]
    return f"cell {index + 1} ({first!r})"


def strict_problems(nb: NotebookNode, error: str | None = None) -> list[str]:
    """Why an executed solution fails the tests (empty when it passes): strict mode.

    ``error`` is :class:`ExecResult`'s first error. Every self-check line must be PASS: a FAIL or
    "fill in the blank first" line fails, and so does the same PASS line twice (a check that runs
    more than once must name what each call checked, e.g. with ``label=``) and the blank guard's
    "fill in the blanks above first" line. Each problem names the cell and quotes the line.
    """
    from ml4llm.blanks import LINE
    from ml4llm.checks import check_lines

    problems = [error] if error else []
    seen: dict[str, int] = {}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        text = _stdout(cell)
        for status, _title, line in check_lines(text):
            if status != "PASS":
                problems.append(f"{_where(cell, index)}: {line}")
            elif line in seen:
                problems.append(
                    f"{_where(cell, index)}: {line!r} repeats the line of cell {seen[line]}: "
                    "give each call a label= that names what it checks"
                )
            else:
                seen[line] = index + 1
        if LINE in text:
            problems.append(f"{_where(cell, index)}: the solution still has a blank ({LINE!r})")
    return problems


def helper_problems(nb: NotebookNode, statuses: dict[int, str]) -> list[str]:
    """Why an untouched helper, executed with errors allowed, fails the tests (empty: it passes).

    ``statuses`` maps cell indices to the kernel's reply status. Every cell that calls a check
    must run and print "fill in the blank first" or a FAIL hint, never PASS. No cell may end in an
    error, show a traceback or print a warning: a cell that needs a blank says so in one line
    (``ml4llm.blanks``) and shows no figure.
    """
    from ml4llm.blanks import LINE
    from ml4llm.checks import check_lines

    problems: list[str] = []
    calls_check = re.compile(r"\bcheck\.\w+\(")
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        where = _where(cell, index)
        text = _stdout(cell)
        errors = [o for o in cell.outputs if o.get("output_type") == "error"]
        stderr = "".join(
            o.get("text", "")
            for o in cell.outputs
            if o.get("output_type") == "stream" and o.get("name") == "stderr"
        )
        if errors:
            problems.append(f"{where}: {errors[0].ename}: {errors[0].evalue[:120]}")
        elif statuses.get(index) == "error":
            problems.append(f"{where}: the cell ends in an error: {text.strip()[-120:]}")
        if "Warning" in stderr:
            problems.append(f"{where}: prints a warning: {stderr.strip()[:160]}")
        if LINE in text and any(
            o.get("output_type") == "display_data" and any(k.startswith("image/") for k in o.data)
            for o in cell.outputs
        ):
            problems.append(f"{where}: shows a figure although its data is still blank")
        if calls_check.search(cell.source):
            lines = check_lines(text)
            if any(status == "PASS" for status, _, _ in lines):
                problems.append(f"{where}: a check passes on the unfilled helper: {text[:120]}")
            elif not lines:
                problems.append(f"{where}: no check line printed")
    return problems
