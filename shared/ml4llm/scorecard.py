"""The scorecard a helper ends with: what its self-checks said in this session, part by part.

Every self-check (:mod:`ml4llm.checks`) records its outcome here as it prints its line, in the
kernel that runs the notebook (so in Colab, in Jupyter and headless alike; a restarted kernel
starts a new record). A check is keyed by its title and the source line that called it: running a
cell again replaces what its checks said before.

The generator ends every helper with a cell that calls :func:`scorecard` with the notebook's checks
by part, in notebook order (``{"Part 1: characters": ["char_vocab", ...], ...}``). It prints how
many passed, failed, wait for a blank and have not run yet, one line per part, and the first part
to revisit with the line its first open check printed.
"""

from __future__ import annotations

import itertools
import linecache
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

PASS, FAIL, BLANK, NOT_RUN = "PASS", "FAIL", "BLANK", "NOT RUN"


@dataclass
class Record:
    """The latest outcome of one check call."""

    title: str
    status: str  # PASS, FAIL or BLANK
    message: str
    first: int  # when this call first ran (orders the records as the notebook runs them)


_records: dict[tuple[str, str], Record] = {}
_order = itertools.count()


def _call_site() -> str:
    """The source line (or file:line) of the first caller outside the ml4llm package."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").startswith("ml4llm"):
        frame = frame.f_back
    if frame is None:
        return ""
    line = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
    return line or f"{frame.f_code.co_filename}:{frame.f_lineno}"


def record(status: str, title: str, message: str) -> None:
    """Note what a check said (its printed line); the same call run again replaces it."""
    key = (title, _call_site())
    previous = _records.get(key)
    first = previous.first if previous else next(_order)
    _records[key] = Record(title, status, message, first)


def records() -> list[Record]:
    """What the checks said in this kernel, in the order they first ran."""
    return sorted(_records.values(), key=lambda r: r.first)


def reset() -> None:
    """Forget every recorded outcome (a fresh kernel starts so)."""
    _records.clear()


@dataclass
class Entry:
    """One expected check of the notebook and what it said."""

    part: str
    title: str
    status: str
    message: str = ""


@dataclass
class Scorecard:
    """The checks of one notebook with their outcomes; shows nothing as a cell's last value."""

    entries: list[Entry] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(e.status == status for e in self.entries)

    @property
    def revisit(self) -> Entry | None:
        """The first check, in notebook order, that did not pass."""
        return next((e for e in self.entries if e.status != PASS), None)

    def lines(self) -> list[str]:
        total, passed = len(self.entries), self.count(PASS)
        if not total:
            return ["Scorecard: this notebook has no self-checks."]
        if passed == total:
            return [f"Scorecard: all {total} checks pass. Nothing to revisit: well done."]
        fail, blank, not_run = self.count(FAIL), self.count(BLANK), self.count(NOT_RUN)
        others = [
            (fail, "fails" if fail == 1 else "fail"),
            (blank, "waits for a blank" if blank == 1 else "wait for a blank"),
            (not_run, "has not run yet" if not_run == 1 else "have not run yet"),
        ]
        detail = ", ".join(f"{n} {words}" for n, words in others if n)
        lines = [f"Scorecard: {passed} of {total} checks pass; {detail}."]
        parts: dict[str, list[Entry]] = {}
        for entry in self.entries:
            parts.setdefault(entry.part, []).append(entry)
        width = min(44, max(len(part) for part in parts))
        for part, entries in parts.items():
            ok = sum(e.status == PASS for e in entries)
            groups = [
                (label, [e.title for e in entries if e.status == status])
                for status, label in ((FAIL, "fail"), (BLANK, "blank"), (NOT_RUN, "not run"))
            ]
            open_ = [f"{label}: {', '.join(titles)}" for label, titles in groups if titles]
            shown = part if len(part) <= width else part[: width - 3] + "..."
            status = f"{ok} of {len(entries)} pass" + (f" ({'; '.join(open_)})" if open_ else "")
            lines.append(f"  {shown:<{width}}  {status}")
        first = self.revisit
        assert first is not None
        part = first.part or "the start of the notebook"
        if first.status == NOT_RUN:
            lines.append(f"Next: {part}: run its cells in order ({first.title} has not run yet).")
        else:
            lines.append(f"Revisit first: {part}: {first.message}")
        return lines

    def _ipython_display_(self) -> None:
        """The scorecard is printed already; a notebook shows nothing more."""


def build(parts: Mapping[str, Sequence[str]], found: Sequence[Record] | None = None) -> Scorecard:
    """Match the expected checks (titles by part, in notebook order) with what the checks said.

    A check called with a label that the notebook computes is expected under its bare name: it
    matches a record of that name when no record carries the exact title.
    """
    pool = list(records() if found is None else found)
    card = Scorecard()
    for part, titles in parts.items():
        for title in titles:
            match = next((r for r in pool if r.title == title), None)
            if match is None:
                match = next((r for r in pool if r.title.split(" (")[0] == title), None)
            if match is None:
                card.entries.append(Entry(part, title, NOT_RUN))
            else:
                pool.remove(match)
                card.entries.append(Entry(part, title, match.status, match.message))
    return card


def scorecard(parts: Mapping[str, Sequence[str]]) -> Scorecard:
    """Print the scorecard of this notebook's checks (``parts``: check titles by part)."""
    card = build(parts)
    print("\n".join(card.lines()))
    return card
