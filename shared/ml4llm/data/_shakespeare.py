"""Offline substitutes cut from the ten Shakespeare texts (the plays that stand in for the books).

Every function here is deterministic: the texts come from the ``shakespeare`` package, in the
order of :data:`ml4llm.data.books.TEN_BOOKS`, and nothing is drawn at random.
"""

from __future__ import annotations

import re
from functools import cache

from ml4llm.data.books import TEN_BOOKS, offline_book

# A speaker's heading in the Gutenberg plays: "IAGO.", "Hor.", "First Clown.", "SIR TOBY.", or
# without the full stop, in capitals: "THESEUS", "FIRST FAIRY".
_SPEAKER = re.compile(r"^(?:[A-Z][A-Za-z']*(?: [A-Za-z']+){0,2}\.|[A-Z']+(?: [A-Z']+){0,2})$")
_HEADING = re.compile(r"^(ACT|Act|SCENE|Scene)\b")
_FIRST_ACT = re.compile(r"^(ACT|Act) (I|1)\b", re.MULTILINE)
_STAGE = re.compile(r"\[[^\]]*\]")


@cache
def text(gutenberg_id: int) -> str:
    """The normalised Shakespeare text that stands in for one of the ten books."""
    return offline_book(gutenberg_id).text


def play_ids() -> list[int]:
    """The nine plays among the ten texts, in the books' order (the sonnets have no speeches)."""
    return [gid for gid, (_, filename, _) in TEN_BOOKS.items() if filename != "sonnets_gut.txt"]


def paragraphs(body: str) -> list[str]:
    """The blank-line separated blocks of a text, stripped, empty ones dropped."""
    return [block.strip() for block in re.split(r"\n[ \t]*\n", body) if block.strip()]


@cache
def speeches(gutenberg_id: int) -> tuple[tuple[str, ...], ...]:
    """Every speech of a play, as its verse or prose lines (stage directions removed).

    A speech is a blank-line separated block, after the first act's heading, that opens with a
    speaker's heading; the lines after the heading are its text.
    """
    body = text(gutenberg_id)
    start = _FIRST_ACT.search(body)
    found = []
    for block in paragraphs(body[start.start() if start else 0 :]):
        head, *lines = block.split("\n")
        if not _SPEAKER.match(head.strip()) or _HEADING.match(head):
            continue
        kept = tuple(
            line
            for line in (_STAGE.sub("", raw).strip() for raw in lines)
            if line and "[" not in line
        )
        if kept:
            found.append(kept)
    return tuple(found)


def speech_texts(min_words: int, max_words: int, n: int) -> list[str]:
    """The first ``n`` speeches of ``min_words``-``max_words`` words, lines joined with spaces."""
    chosen: list[str] = []
    for gid in play_ids():
        for lines in speeches(gid):
            joined = " ".join(lines)
            if min_words <= len(joined.split()) <= max_words:
                chosen.append(joined)
                if len(chosen) == n:
                    return chosen
    raise ValueError(f"The plays hold fewer than {n} speeches of {min_words}-{max_words} words.")


def speech_lines(min_words: int, n: int, skip_plays: int = 0) -> tuple[list[str], int]:
    """The first ``n`` speech lines of at least ``min_words`` words that open with a capital.

    Lines are taken play by play, starting after ``skip_plays`` plays; also returns how many
    plays were opened, so that a second call can start in a different play.
    """
    chosen: list[str] = []
    plays = play_ids()
    for used, gid in enumerate(plays[skip_plays:], start=skip_plays + 1):
        for lines in speeches(gid):
            for line in lines:
                if len(line.split()) >= min_words and line[0].isupper():
                    chosen.append(line)
                    if len(chosen) == n:
                        return chosen, used
    raise ValueError(f"The plays hold fewer than {n} speech lines of {min_words}+ words.")


@cache
def passages(words_per_passage: int = 400) -> tuple[str, ...]:
    """All ten texts cut into passages of about ``words_per_passage`` words, at blank lines."""
    found: list[str] = []
    for gid in TEN_BOOKS:
        current: list[str] = []
        count = 0
        for block in paragraphs(text(gid)):
            current.append(block)
            count += len(block.split())
            if count >= words_per_passage:
                found.append("\n\n".join(current))
                current, count = [], 0
        if current:
            found.append("\n\n".join(current))
    return tuple(found)


def rows(body: str) -> list[str]:
    """A text as wikitext-style rows: one row per paragraph ending in ``\\n``, ``""`` between."""
    out: list[str] = []
    for block in paragraphs(body):
        if out:
            out.append("")
        out.append(block + "\n")
    return out
