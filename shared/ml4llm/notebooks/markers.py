"""Blanking one solution cell into its helper version: the ``# SOLUTION`` markers.

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
``!`` shell lines are rejected because every helper cell must parse as Python. (The blank guard
that runs inside a helper's kernel is :mod:`ml4llm.blanks`, a different module.)
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass

from ml4llm.notebooks.errors import MarkerError

STUB_COMMENT = "# TODO: your code"

_LINE_MARKER = re.compile(r"#\s*SOLUTION\s*$")
_BEGIN_MARKER = re.compile(r"#\s*BEGIN SOLUTION\s*$")
_END_MARKER = re.compile(r"#\s*END SOLUTION\s*$")


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
