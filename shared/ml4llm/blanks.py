"""Helper notebooks with blanks: a cell that needs a value still `...` says so in one line.

:func:`ml4llm.setup` calls :func:`install` inside IPython. From then on:

1. Before each top-level statement of a cell runs, a guard looks at the names it reads. When one
   of them is still a blank (the value ``...``, a function whose body still holds a ``...`` stub,
   or a value a blank left unfinished), the statement and the rest of the cell are skipped, open
   figures are closed, and one line says which names to fill in. No traceback, no warnings from
   empty data, no empty figure, no file saved; the cell ends without error, so "Run all" goes on.
   Cells that call a self-check (``check.name(...)``) are not guarded: the check itself says
   "fill in the blank first".
2. A value is unfinished when a skipped statement would have assigned it, or when a cell that ran
   a bare ``...`` stub (a blanked loop) left it empty or all zero (``rows = []`` before the stub).
3. An error raised anyway that comes from a blank (an ``ellipsis`` in the message, a blank name
   in the cell) prints the same line instead of a traceback; any other error shows as usual.

Solutions have no blanks, so there every guard lets its statement run unchanged.
"""

from __future__ import annotations

import ast
import dis
import inspect
import sys
import textwrap
import types
from dataclasses import dataclass, field
from typing import Any

import numpy as np

GUARD_NAME = "_ml4llm_blank_guard"
LINE = "fill in the blanks above first"
_MISSING = object()


@dataclass
class _Cell:
    """What the guard knows about the cell that runs now."""

    reads: frozenset[str] = frozenset()
    assigned: tuple[str, ...] = ()
    runs_stub: bool = False
    stopped: bool = False
    current: tuple[str, ...] | None = None  # the reads of the statement running now


@dataclass
class BlankGuard:
    """The state of one IPython shell: unfinished names and the running cell."""

    shell: Any
    unfinished: set[str] = field(default_factory=set)
    cell: _Cell = field(default_factory=_Cell)
    _stub_cache: dict[Any, bool] = field(default_factory=dict)
    _globals_cache: dict[Any, frozenset[str]] = field(default_factory=dict)

    # --- what counts as a blank ----------------------------------------------------------------

    def is_blank(self, name: str) -> bool:
        if name in self.unfinished:
            return True
        value = self.shell.user_ns.get(name, _MISSING)
        return value is Ellipsis or self._is_blank_function(value)

    def _is_blank_function(self, value: Any) -> bool:
        """A function defined in the notebook whose source still holds a `...` stub."""
        if not _is_notebook_function(value):
            return False
        code = value.__code__
        if code not in self._stub_cache:
            try:
                tree = ast.parse(textwrap.dedent(inspect.getsource(value)))
            except (OSError, TypeError, SyntaxError):
                self._stub_cache[code] = False
            else:
                self._stub_cache[code] = any(_is_stub(node) for node in ast.walk(tree))
        return self._stub_cache[code]

    def blanks_in(self, reads: Any) -> list[str]:
        """The blank names among ``reads`` and among the globals that notebook functions read."""
        blank = [name for name in reads if self.is_blank(name)]
        for name in reads:
            value = self.shell.user_ns.get(name, _MISSING)
            if _is_notebook_function(value) and name not in blank:
                code = value.__code__
                if code not in self._globals_cache:
                    self._globals_cache[code] = _global_reads(code)
                blank += [g for g in self._globals_cache[code] if self.is_blank(g)]
        return blank

    def message(self, names: list[str]) -> str:
        shown = ", ".join(f"`{n}`" for n in sorted(set(names))[:4])
        verb = "is" if len(set(names)) == 1 else "are"
        return f"{LINE} ({shown} {verb} not filled in yet)."

    # --- the guard the transformed cells call --------------------------------------------------

    def __call__(
        self,
        reads: tuple[str, ...],
        binds: tuple[str, ...] = (),
        mutates: tuple[str, ...] = (),
        definition: bool = False,
    ) -> bool:
        """True when the statement may run.

        It may not when a name it reads is blank: then it is skipped, and so is the rest of the
        cell, except definitions and imports (``definition``) that read no blank. A skipped
        statement's names become ``...`` (their value would come from a blank); a value it would
        have changed in place (``rows[i] = ...``) becomes unfinished.
        """
        blank = [] if self.cell.stopped and not definition else self.blanks_in(reads)
        if self.cell.stopped and not definition or blank:
            if not self.cell.stopped:
                self.cell.stopped = True
                print(self.message(blank))
                _close_figures()
            for name in binds:
                self.shell.user_ns[name] = Ellipsis
                self.unfinished.discard(name)
            self.unfinished.update(mutates)
            return False
        self.unfinished.difference_update(binds)
        self.cell.current = reads
        return True

    # --- IPython hooks -------------------------------------------------------------------------

    def transform(self, module: ast.Module) -> ast.Module:
        """Guard the top-level statements of a cell.

        Stubs (``x = ...``, ``...``) and statements that call a self-check run unguarded: a check
        given a blank says "fill in the blank first" itself.
        """
        self.shell.user_ns[GUARD_NAME] = self
        reads, binds, mutates = _names(module.body)
        self.cell = _Cell(
            reads=frozenset(reads),
            assigned=tuple(sorted(binds | mutates)),
            runs_stub=any(_is_bare_stub(n) for n in _walk_outside_functions(module.body)),
        )
        body: list[ast.stmt] = []
        for position, statement in enumerate(module.body):
            statement_reads, statement_binds, statement_mutates = _names([statement])
            if (
                _is_stub(statement)
                or (isinstance(statement, ast.ImportFrom) and statement.module == "__future__")
                or any(_is_check_module(self.shell.user_ns.get(n)) for n in statement_reads)
            ):
                body.append(statement)
                continue
            definition = isinstance(
                statement,
                (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom),
            )
            test = ast.Call(
                func=ast.Name(id=GUARD_NAME, ctx=ast.Load()),
                args=[
                    ast.Tuple([ast.Constant(n) for n in sorted(names)], ast.Load())
                    for names in (statement_reads, statement_binds, statement_mutates)
                ]
                + [ast.Constant(definition)],
                keywords=[],
            )
            last = position == len(module.body) - 1
            if last and isinstance(statement, ast.Expr):  # IPython shows a cell's last value
                guarded: ast.stmt = ast.Expr(ast.IfExp(test, statement.value, ast.Constant(None)))
            else:
                guarded = ast.If(test=test, body=[statement], orelse=[])
            body.append(ast.fix_missing_locations(ast.copy_location(guarded, statement)))
        if body and _is_bare_stub(body[-1]):
            body.append(ast.copy_location(ast.Pass(), body[-1]))  # shows no "Ellipsis"
        module.body = body
        return module

    def after_cell(self, result: Any = None) -> None:
        """Mark what the cell left unfinished: the values it assigned that hold a `...`, and,
        when it ran a bare `...` stub (a blanked loop), those it left empty or all zero."""
        from ml4llm.checks import has_blank

        for name in self.cell.assigned:
            value = self.shell.user_ns.get(name, _MISSING)
            if value is _MISSING or value is Ellipsis:
                continue
            if (self.cell.runs_stub and _is_placeholder(value)) or has_blank(value):
                self.unfinished.add(name)

    def handle_error(
        self, shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: Any = None
    ) -> None:
        """IPython's handler for errors: one line for an error that comes from a blank."""
        current = self.cell.current
        blank = self.blanks_in(self.cell.reads if current is None else current)
        if isinstance(value, NameError) and getattr(value, "name", None) in self.unfinished:
            blank.append(value.name)
        if blank or "ellipsis" in str(value).lower():
            print(self.message(blank) if blank else f"{LINE} (a value is still `...`).")
            _close_figures()
            return None
        if isinstance(value, NameError):
            print(
                f"{value}: a cell above has not run, or stopped with an error before creating it. "
                "Run the cells above in order and fix the first error."
            )
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
        return None


def install(shell: Any) -> BlankGuard:
    """Install the guard, its transformer and its error handler in ``shell`` (once)."""
    for transformer in shell.ast_transformers:
        if isinstance(transformer, _Transformer):
            return transformer.guard
    guard = BlankGuard(shell)
    shell.user_ns[GUARD_NAME] = guard
    shell.ast_transformers.append(_Transformer(guard))
    shell.events.register("post_run_cell", guard.after_cell)
    shell.set_custom_exc((Exception,), guard.handle_error)
    return guard


class _Transformer(ast.NodeTransformer):
    def __init__(self, guard: BlankGuard) -> None:
        self.guard = guard

    def visit_Module(self, node: ast.Module) -> ast.Module:
        try:
            return self.guard.transform(node)
        except Exception:  # never stop a cell because the guard could not read it
            return node


# --- reading a cell's names --------------------------------------------------------------------

_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def _names(statements: list[ast.stmt]) -> tuple[set[str], set[str], set[str]]:
    """The names statements read when they run, bind, and change in place (``x[i] = ...``).

    Function bodies do not run when defined (their decorators and defaults do); a name is read
    when it is loaded before the statements bind it, in the order Python evaluates them (so
    ``x = f(x)`` and ``x += 1`` read ``x``, while ``x = 1; print(x)`` does not); comprehension
    variables count as neither. The base of an item or attribute assignment is read and changed,
    not bound.
    """
    loads: set[str] = set()
    binds: set[str] = set()
    mutates: set[str] = set()

    def visit(node: ast.AST, local: frozenset[str]) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            binds.add(node.name)
        if isinstance(node, _FUNCTIONS):
            outer = [*node.args.defaults, *(d for d in node.args.kw_defaults if d is not None)]
            outer += getattr(node, "decorator_list", [])
            for child in outer:
                visit(child, local)
            return
        if isinstance(node, _COMPREHENSIONS):
            names = {
                n.id for g in node.generators for n in ast.walk(g.target) if isinstance(n, ast.Name)
            }
            for child in ast.iter_child_nodes(node):
                visit(child, local | names)
            return
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.For, ast.AsyncFor)):
            # the value (or the iterable) runs before the targets are bound
            first = node.iter if isinstance(node, (ast.For, ast.AsyncFor)) else node.value
            if isinstance(node, ast.AugAssign):
                visit(
                    ast.Name(node.target.id, ast.Load())
                    if isinstance(node.target, ast.Name)
                    else node.target,
                    local,
                )
            if first is not None:
                visit(first, local)
            for child in ast.iter_child_nodes(node):
                if child is not first:
                    visit(child, local)
            return
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                binds.add((alias.asname or alias.name).split(".")[0])
        if isinstance(node, ast.Name) and node.id not in local:
            if not isinstance(node.ctx, ast.Load):
                binds.add(node.id)
            elif node.id not in binds:
                loads.add(node.id)
        if isinstance(node, (ast.Subscript, ast.Attribute)) and isinstance(node.ctx, ast.Store):
            base = node.value
            while isinstance(base, (ast.Subscript, ast.Attribute)):
                base = base.value
            if isinstance(base, ast.Name) and base.id not in local:
                mutates.add(base.id)
        for child in ast.iter_child_nodes(node):
            visit(child, local)

    for statement in statements:
        visit(statement, frozenset())
    return loads, binds, mutates - binds


def _walk_outside_functions(statements: list[ast.stmt]) -> list[ast.AST]:
    found: list[ast.AST] = []
    todo: list[ast.AST] = list(statements)
    while todo:
        node = todo.pop()
        found.append(node)
        if not isinstance(node, (*_FUNCTIONS, ast.ClassDef)):
            todo.extend(ast.iter_child_nodes(node))
    return found


def _is_ellipsis(node: ast.AST | None) -> bool:
    if isinstance(node, ast.Tuple):
        return bool(node.elts) and all(_is_ellipsis(e) for e in node.elts)
    return isinstance(node, ast.Constant) and node.value is Ellipsis


def _is_bare_stub(node: ast.AST) -> bool:
    return isinstance(node, ast.Expr) and _is_ellipsis(node.value)


def _is_stub(node: ast.AST) -> bool:
    """A stub the helper generator writes: ``...`` or ``name = ...``."""
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        return _is_ellipsis(node.value)
    return _is_bare_stub(node)


def _is_notebook_function(value: Any) -> bool:
    return isinstance(value, types.FunctionType) and value.__module__ == "__main__"


def _global_reads(code: types.CodeType) -> frozenset[str]:
    """The global names a function's code (nested code included) loads."""
    names = {i.argval for i in dis.get_instructions(code) if i.opname == "LOAD_GLOBAL"}
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _global_reads(const)
    return frozenset(names)


def _is_check_module(value: Any) -> bool:
    return isinstance(value, types.ModuleType) and value.__name__.startswith("ml4llm.checks")


def _is_placeholder(value: Any) -> bool:
    """An empty container or an all-zero array: what a blanked loop leaves behind."""
    try:
        if hasattr(value, "columns") and hasattr(value, "empty"):  # a DataFrame
            return bool(value.empty)
        if hasattr(value, "numel"):  # a torch tensor
            return value.numel() == 0 or not bool(value.any())
        if isinstance(value, np.ndarray):
            return value.size == 0 or (value.dtype.kind in "biuf" and not value.any())
    except Exception:
        return False
    if isinstance(value, (list, tuple, dict, set)):
        return len(value) == 0
    return False


def _close_figures() -> None:
    """Close the figures this cell opened, so that no empty figure is shown."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close("all")
