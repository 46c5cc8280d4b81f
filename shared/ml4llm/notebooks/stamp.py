"""The generated parts of both notebooks: header, Colab setup cell, normalisation, the helper.

Both notebooks get the standard header (a markdown cell tagged ``{"ml4llm": "header"}``) and the
Colab setup cell (tagged ``{"ml4llm": "setup"}``), and lose their outputs and execution counts;
cell ids come from positions. A helper stores the sha256 of its cell sources in
``metadata.ml4llm.sha256`` (:mod:`ml4llm.notebooks.sync` uses it to protect a learner's edits).
The helper's cells are blanked by :mod:`ml4llm.notebooks.markers`, and its
``ml4llm.setup(project=N)`` call gets ``helper=True``, so that its figures are saved apart from the
solution's (``..._helper.png``).
"""

from __future__ import annotations

import ast
import copy
import hashlib
import importlib.metadata
import json
import re
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from ml4llm.notebooks import grade, params
from ml4llm.notebooks.errors import NotebookError
from ml4llm.notebooks.markers import STUB_COMMENT, _bytes_prefix, blank_source
from ml4llm.projects import CHAPTER_TITLES, Project

HEADER_ROLE = "header"
SETUP_ROLE = "setup"
SCORECARD_ROLE = "scorecard"
KEPT_CELL_METADATA = ("ml4llm", "tags")
COLAB_BADGE = "https://colab.research.google.com/assets/colab-badge.svg"
KERNEL_NAME = "python3"


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
    pyproject = (root or Path(__file__).resolve().parents[3]) / "pyproject.toml"
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
    (kind, project and, for a helper, the sha256 of its cell sources and its numbers of blanks
    and checks). The parameters cell is tagged ``parameters`` (:mod:`ml4llm.notebooks.params`).
    A helper ends with the scorecard cell (:func:`scorecard_source`), a solution has none.
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
    stamped_roles = (HEADER_ROLE, SETUP_ROLE, SCORECARD_ROLE)
    body = [_clean_cell(cell) for cell in nb.cells if _role(cell) not in stamped_roles]
    cells = [header, setup, *body]
    if kind == "helper":
        cells.append(
            nbformat.v4.new_code_cell(
                source=scorecard_source(nbformat.v4.new_notebook(cells=cells)),
                metadata={"ml4llm": SCORECARD_ROLE},
            )
        )
    for index, cell in enumerate(cells):
        cell.id = f"{cell.cell_type}-{index:03d}"
    stamped = nbformat.v4.new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": KERNEL_NAME},
            "language_info": {"name": "python"},
        },
    )
    params.tag_parameters_cell(stamped, required=False)
    ml4llm_meta: dict[str, object] = {"kind": kind, "project": project.number}
    if kind == "helper":
        ml4llm_meta["sha256"] = source_hash(stamped)
        ml4llm_meta["blanks"] = grade.count_blanks(stamped)
        ml4llm_meta["checks"] = len(grade.check_sites(stamped))
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


def _literal(text: str) -> str:
    """A Python string literal of ``text`` as ruff formats it (double quotes)."""
    return json.dumps(text, ensure_ascii=False)


def scorecard_source(nb: NotebookNode) -> str:
    """Python of the cell a helper ends with: its checks by part, passed to the scorecard.

    :func:`ml4llm.scorecard.scorecard` prints, in the learner's kernel, what those checks said in
    this session and the first part to revisit. The code is laid out as ``ruff format`` would.
    """
    parts: dict[str, list[str]] = {}
    key = last = ""
    for site in grade.check_sites(nb):
        part = site.part or "Before the first part"
        if part != last:  # a new part; the same heading again later gets a key of its own
            key, last, number = part, part, 2
            while key in parts:
                key, number = f"{part} ({number})", number + 1
        parts.setdefault(key, []).append(site.title)
    lines = [
        "# Your scorecard: what the self-checks of this notebook said in this session, part by",
        '# part, and the first part to revisit. Run it whenever you like; "Run all" ends here.',
        "from ml4llm.scorecard import scorecard",
        "",
    ]
    if not parts:
        return "\n".join([*lines, "scorecard({})"])
    lines += ["scorecard(", "    {"]
    for part, titles in parts.items():
        items = [_literal(title) for title in titles]
        one_line = f"        {_literal(part)}: [{', '.join(items)}],"
        if len(one_line) <= 100:
            lines.append(one_line)
        else:
            lines.append(f"        {_literal(part)}: [")
            lines += [f"            {item}," for item in items]
            lines.append("        ],")
    lines += ["    }", ")"]
    return "\n".join(lines)


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
