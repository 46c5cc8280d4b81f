"""A helper the check tests share: assert what one check call printed and returned."""

from __future__ import annotations


def expect(result, capsys, outcome: str) -> str:
    """``outcome`` is "pass", "fail" (a FAIL line with a hint) or "blank"; returns the output."""
    out = capsys.readouterr().out
    if outcome == "pass":
        assert result and out.startswith("PASS"), out
    elif outcome == "fail":
        assert not result and out.startswith("FAIL") and ": " in out, out
    else:
        assert not result and "fill in the blank first" in out, out
    return out
