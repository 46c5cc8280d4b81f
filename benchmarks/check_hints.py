"""Count the self-checks' hints and lines, per project: the numbers of issue 11.

    python benchmarks/check_hints.py            # per-project lines and distinct hints, and totals
    python benchmarks/check_hints.py --list 12  # every hint text of project 12 (or `all`, `common`)

A hint is a text given to ``require(condition, HINT)``, ``CheckFailed(HINT)``,
``Expect(value, HINT)``, any ``hint=HINT`` keyword argument, a ``columns={name: HINT}`` entry, or
the text of a ``(wrong answer, HINT)`` pair in a ``traps=[...]`` list. A
variable is followed to its assignments in the same function, a conditional to both branches.
f-strings keep their placeholders (``{len(words)}``), so hints that differ only in the numbers they
show count once.
"""

from __future__ import annotations

import argparse
import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHECKS = ROOT / "shared" / "ml4llm" / "checks"
TESTS = ROOT / "tests"


def _text(node: ast.AST, names: dict[str, list[ast.AST]]) -> list[str]:
    """The hint texts an expression can evaluate to (empty when it is not a text)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):  # placeholders stay, unless they name a text variable
        texts = [""]
        for part in node.values:
            inner = part.value if isinstance(part, ast.FormattedValue) else None
            known = _text(inner, names) if isinstance(inner, ast.Name) else []
            pieces = known or [ast.unparse(ast.JoinedStr([part]))[2:-1]]
            texts = [t + p for t in texts for p in pieces]
        return texts
    if isinstance(node, ast.IfExp):
        return _text(node.body, names) + _text(node.orelse, names)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return [a + b for a in _text(node.left, names) for b in _text(node.right, names)]
    if isinstance(node, ast.Name):
        return [t for value in names.get(node.id, []) for t in _text(value, {})]
    return []


def _trap_texts(node: ast.AST, names: dict[str, list[ast.AST]]) -> list[str]:
    """Texts of the (wrong answer, hint) pairs of a ``traps=`` list (or a variable holding one)."""
    if isinstance(node, ast.Name):
        return [t for value in names.get(node.id, []) for t in _trap_texts(value, names)]
    if not isinstance(node, (ast.List, ast.Tuple)):
        return []
    texts = []
    for pair in node.elts:
        if isinstance(pair, ast.Name):  # a trap kept in a variable
            pairs = [v for v in names.get(pair.id, []) if isinstance(v, ast.Tuple)]
        else:
            pairs = [pair]
        for one in pairs:
            if isinstance(one, ast.Tuple) and len(one.elts) == 2:
                texts += _text(one.elts[1], names)
    return texts


def hints(path: Path) -> list[str]:
    """The distinct hint texts of one module, in source order."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[str] = []
    scopes = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.Module))]
    constants = {  # module-level texts, e.g. a hint shared by several checks
        t.id: [n.value]
        for n in tree.body
        if isinstance(n, ast.Assign)
        for t in n.targets
        if isinstance(t, ast.Name)
    }
    for scope in scopes:
        names: dict[str, list[ast.AST]] = dict(constants)
        for node in ast.walk(scope):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        names.setdefault(target.id, []).append(node.value)
        for node in ast.walk(scope):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if called == "require" and len(node.args) >= 2:
                found += _text(node.args[1], names)
            if called == "CheckFailed" and node.args:
                found += _text(node.args[0], names)
            if called == "Expect" and len(node.args) >= 2:
                found += _text(node.args[1], names)
            for keyword in node.keywords:
                if keyword.arg == "hint":
                    found += _text(keyword.value, names)
                elif keyword.arg == "traps":
                    found += _trap_texts(keyword.value, names)
                elif keyword.arg == "columns" and isinstance(keyword.value, ast.Dict):
                    for spec in keyword.value.values:  # a hint, or (hint, traps)
                        if isinstance(spec, ast.Tuple) and len(spec.elts) == 2:
                            found += _text(spec.elts[0], names)
                            found += _trap_texts(spec.elts[1], names)
                        else:
                            found += _text(spec, names)
    # a bare placeholder ("{failed}") re-raises another hint: it is no hint of its own
    texts = [t for t in found if not re.fullmatch(r"\{[^}]*\}(: \{[^}]*\})?", t)]
    return list(dict.fromkeys(texts))


def lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines()) if path.exists() else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--list", metavar="N", help="print the hints of project N, 'common' or 'all'"
    )
    args = parser.parse_args()
    modules = sorted(CHECKS.glob("*.py"))
    if args.list:
        for path in modules:
            if args.list == "all" or path.stem in (args.list, f"proj{args.list.zfill(2)}"):
                for text in hints(path):
                    print(f"{path.stem}\t{text}")
        return
    print(f"{'module':10} {'check lines':>11} {'test lines':>10} {'hints':>6}")
    totals = [0, 0, 0]
    for path in modules:
        test = TESTS / (
            "test_checks.py" if path.stem == "__init__" else f"test_checks_{path.stem}.py"
        )
        row = [lines(path), lines(test), len(hints(path))]
        totals = [a + b for a, b in zip(totals, row)]
        print(f"{path.stem:10} {row[0]:11} {row[1]:10} {row[2]:6}")
    extra = sorted(set(TESTS.glob("test_checks*.py")) - {TESTS / "test_checks.py"}) + [
        TESTS / "checkutil.py"
    ]
    shared = [p for p in extra if not re.fullmatch(r"test_checks_proj\d\d\.py", p.name)]
    shared_lines = sum(lines(p) for p in shared)
    print(f"{'other':10} {0:11} {shared_lines:10} {0:6}   ({', '.join(p.name for p in shared)})")
    totals[1] += shared_lines
    print(f"{'total':10} {totals[0]:11} {totals[1]:10} {totals[2]:6}")


if __name__ == "__main__":
    main()
