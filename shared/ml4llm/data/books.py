"""Gutenberg books by id, cached on disk, with the Shakespeare plays as their offline substitute.

Offline (or when Gutenberg cannot be reached under the ``auto`` profile), each book is replaced
by a Shakespeare play from the ``shakespeare`` package, and one printed line says so. That edition
is pure ASCII, so the play that stands in for Grimms' Fairy Tales (The Tempest) ends with the
course's multilingual lines (:func:`ml4llm.data.course_multilingual_text`), announced in a second
line: offline too, one book has more UTF-8 bytes than characters. Every text
is normalised the same way: UTF-8 decode, leading BOM dropped, ``\\r\\n`` -> ``\\n``, and the
Gutenberg header and licence cut at the ``*** START OF`` / ``*** END OF`` markers when present.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass

from tqdm.auto import tqdm

from ml4llm.data._common import fall_back, use_real_source
from ml4llm.data.course import course_multilingual_text
from ml4llm.models import NETWORK_TIMEOUT, cache_dir, package_path

GUTENBERG_URL = "https://www.gutenberg.org/cache/epub/{id}/pg{id}.txt"

# Gutenberg id -> (title, offline Shakespeare file in shksprdata/texts, that play's title).
TEN_BOOKS: dict[int, tuple[str, str, str]] = {
    84: ("Frankenstein", "othello_gut.txt", "Othello"),
    64317: ("The Great Gatsby", "hamlet_gut.txt", "Hamlet"),
    11: (
        "Alice's Adventures in Wonderland",
        "midsummer_nights_dream_gut.txt",
        "A Midsummer Night's Dream",
    ),
    1513: ("Romeo and Juliet", "romeo_and_juliet_gut.txt", "Romeo and Juliet (play)"),
    76: ("Adventures of Huckleberry Finn", "twelfth_night_gut.txt", "Twelfth Night"),
    219: ("Heart of Darkness", "macbeth_gut.txt", "Macbeth"),
    2591: ("Grimms' Fairy Tales", "tempest_gut.txt", "The Tempest"),
    2148: ("The Works of Edgar Allan Poe, vol. 2", "sonnets_gut.txt", "Sonnets"),
    36: ("The War of the Worlds", "julius_caesar_gut.txt", "Julius Caesar"),
    829: ("Gulliver's Travels", "lear_gut.txt", "King Lear"),
}

# The offline book that ends with the course's multilingual lines (Grimms' Fairy Tales -> The Tempest).
MULTILINGUAL_BOOK = 2591


@dataclass(frozen=True)
class Book:
    """One loaded text. ``title`` names what was really loaded (the play, when offline)."""

    gutenberg_id: int
    title: str
    text: str
    source: str  # "gutenberg" or "shakespeare (offline)"


def normalise(raw: bytes | str) -> str:
    """UTF-8 decode, drop a leading BOM, unify line ends and cut the Gutenberg header and licence."""
    text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    start = text.find("*** START OF")
    if start != -1:
        text = text[text.find("\n", start) + 1 :]
    end = text.find("*** END OF")
    if end != -1:
        text = text[:end]
    return text.strip() + "\n"


def offline_book(gutenberg_id: int) -> Book:
    """The Shakespeare text that stands in for a book offline (no printed line)."""
    _, filename, play = TEN_BOOKS[gutenberg_id]
    path = package_path("shksprdata", "texts", filename)
    return Book(gutenberg_id, play, normalise(path.read_bytes()), "shakespeare (offline)")


def _offline_stand_in(gutenberg_id: int) -> Book:
    """The offline book of :func:`load_books`: the play, plus the multilingual lines for one book."""
    book = offline_book(gutenberg_id)
    if gutenberg_id != MULTILINGUAL_BOOK:
        return book
    return Book(
        gutenberg_id, book.title, book.text + "\n" + course_multilingual_text(), book.source
    )


def _download(gutenberg_id: int, timeout: float = NETWORK_TIMEOUT) -> bytes:
    """The raw bytes of a Gutenberg book, from the course cache or downloaded once into it."""
    path = cache_dir() / "gutenberg" / f"pg{gutenberg_id}.txt"
    if path.exists():
        return path.read_bytes()
    url = GUTENBERG_URL.format(id=gutenberg_id)
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (fixed https URL)
        raw = response.read()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(raw)
    return raw


def load_books(ids: list[int] | None = None, profile: str | None = None) -> list[Book]:
    """Load Gutenberg books by id (default: the book's ten), normalised, in the given order.

    ``profile``: ``hub`` downloads and raises when that fails; ``offline`` uses the Shakespeare
    plays; ``auto`` (default) downloads and falls back to the plays, saying so, when it cannot.
    """
    ids = list(TEN_BOOKS) if ids is None else list(ids)
    unknown = [i for i in ids if i not in TEN_BOOKS]
    if unknown:
        raise ValueError(
            f"No offline substitute for Gutenberg ids {unknown}; the course's books are {list(TEN_BOOKS)}."
        )
    books: list[Book] = []
    if use_real_source(profile):
        # The first failure ends the loop: one unreachable Gutenberg costs one timeout, and the
        # progress bar is taken off the screen before the fallback line.
        bar = tqdm(ids, desc="Gutenberg books")
        try:
            for gid in bar:
                books.append(Book(gid, TEN_BOOKS[gid][0], normalise(_download(gid)), "gutenberg"))
        except (urllib.error.URLError, OSError) as err:
            bar.leave = False
            bar.close()
            fall_back("the Gutenberg books", err, profile)
            books = []
    if not books:
        books = [_offline_stand_in(gid) for gid in ids]
        pairs = ", ".join(f"{TEN_BOOKS[b.gutenberg_id][0]} -> {b.title}" for b in books)
        print(
            f"Offline: {len(books)} Shakespeare plays from the shakespeare package stand in for the books ({pairs})."
        )
        if MULTILINGUAL_BOOK in ids:
            print(
                f"Offline: {TEN_BOOKS[MULTILINGUAL_BOOK][2]} ends with the course's multilingual lines "
                "(course_multilingual_text(): accented Latin, Greek, Cyrillic, Arabic, Hindi, Chinese, "
                "Japanese, emoji), so that offline too one book holds non-ASCII characters."
            )
    print("Texts normalised: UTF-8, BOM dropped, \\r\\n -> \\n, Gutenberg header and licence cut.")
    return books


def load_book(gutenberg_id: int, profile: str | None = None) -> Book:
    """One book by Gutenberg id (see :func:`load_books`)."""
    return load_books([gutenberg_id], profile=profile)[0]
