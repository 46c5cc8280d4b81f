"""Project 5's checks: each wrong answer gets its hint (the solution notebook is the pass test)."""

from __future__ import annotations

import functools

import checkutil
import numpy as np
import pandas as pd

from ml4llm.checks import proj05 as check

# Three short stand-ins for the books keep the tests fast (three, so that a median is no mean).
BOOKS = {
    "Fable": "The fox sat under the old oak tree\nand waited for the rain to stop.\n" * 20,
    "Letter": "Dear friend, the harvest was late this year;\tthe apples were small.\n" * 15,
    "Song": "Sing, O sing of the river and the reeds,\nof the heron and the mill.\n" * 12,
}
HTML = (BOOKS, ("matplotlib", "torch"), ("json", "random"))  # 4 + 2 + 2 course + 1 pandas pages
PER_CHARS, PER_WORDS, PER_BYTES = check.PER_CHARS, check.PER_WORDS, check.PER_BYTES


@functools.cache
def inputs() -> dict[str, tuple]:
    return {
        "book_table": (BOOKS,),
        **dict.fromkeys(["html_files", "html_table", "id_bits"], HTML),
        **dict.fromkeys(["zlib_ratios", "group_means"], (*HTML, 9)),
    }


def column(table: str, name: str, change):
    return lambda r: r[table].assign(**{name: change(r[table])})


def renamed(r: dict, rename) -> dict:
    return {rename(name): text for name, text in r["html_texts"].items()}


def changed(r: dict, name: str, text: str) -> dict:
    return {**r["html_texts"], name: text}


def lengths(texts: dict) -> list[int]:
    return [len(text) for text in texts.values()]


def grouped(r: dict):
    """The Part 3 ratios of every document, grouped into books and HTML."""
    ratios = [r["all_per_100_bytes"], r["id_bits_ratio"], r["zlib_ratios"]]
    frame = pd.DataFrame(dict(zip(check.RATIOS, ratios)))
    return frame.groupby(["book"] * len(BOOKS) + ["HTML"] * len(r["html_texts"]))


FILE = "matplotlib/all_figures.html"
FLOAT_COUNTS = column("book_table", "tokens", lambda t: t["tokens"] * 1.0)
WRONG = {  # check -> [(learner value, wrong answer from the right values r, hint substring)]
    "book_table": [
        ("book_table", column("book_table", "characters", lambda t: t["characters"] + 1), "len(text) per book"),
        ("book_table", column("book_table", "words", lambda t: [len(x.split(" ")) for x in BOOKS.values()]), "single spaces only"),
        ("book_table", column("book_table", "words", lambda t: t["words"] - 1), "split at any white space"),
        ("book_table", column("book_table", "tokens", lambda t: t["tokens"] + 1), "without special tokens"),
        ("book_table", column("book_table", "tokens", lambda t: t["characters"]), "fewer tokens than characters"),
        ("book_table", column("book_table", "tokens", lambda t: t["words"]), "more tokens than words"),
        ("book_table", column("book_table", PER_CHARS, lambda t: t[PER_CHARS] / 100), "factor 100 is missing"),
        ("book_table", column("book_table", PER_CHARS, lambda t: 1e4 / t[PER_CHARS]), "lie in (0, 100]"),
        ("book_table", column("book_table", PER_CHARS, lambda t: t[PER_CHARS] * 1.01), "100 * tokens / characters for every book"),
        ("book_table", column("book_table", PER_WORDS, lambda t: 1e4 / t[PER_WORDS]), "(tokens per 100 words > 100)"),
        ("book_table", column("book_table", PER_WORDS, lambda t: t[PER_WORDS] * 1.01), "100 * tokens / words for every book"),
        ("book_table", lambda r: r["book_table"].reset_index(), "the index should be ['Fable'"),
        ("book_table", lambda r: r["book_table"].drop(columns=PER_CHARS), "'tokens per 100 chars' missing"),
    ],
    "html_files": [
        # issue 11: the rglob blank went unchecked; glob("*.html") finds none of the files
        ("html_texts", lambda r: {n: t for n, t in r["html_texts"].items() if "/" not in n or n.startswith("course/")}, "rglob('*.html') searches subfolders"),
        ("html_texts", lambda r: dict(reversed(r["html_texts"].items())), "out of order"),
        ("html_texts", lambda r: renamed(r, lambda n: n.replace("matplotlib/", "")), "name each package file"),
        ("html_texts", lambda r: changed(r, FILE, r["html_texts"][FILE].upper()), "read each file as UTF-8"),
        ("html_texts", lambda r: changed(r, check.PANDAS_PAGE, FLOAT_COUNTS(r).to_html()), "book_table.to_html()"),
        ("html_texts", lambda r: list(r["html_texts"].values()), "expected a dict name -> HTML"),
    ],
    "html_table": [
        # issue 11: offline every page was ASCII, so bytes counted as characters passed
        ("html_table", column("html_table", "bytes", lambda t: t["characters"]), "2 to 4 bytes"),
        ("html_table", column("html_table", "bytes", lambda t: t["bytes"] + 1), "len(text.encode('utf-8')) per document"),
        ("html_table", column("html_table", "characters", lambda t: t["characters"] + 1), "len(text) per document"),
        ("html_table", column("html_table", "tokens", lambda t: t["tokens"] + 1), "per document, without special"),
        ("html_table", column("html_table", PER_BYTES, lambda t: t[PER_CHARS]), "these divide by the characters"),
        ("html_table", column("html_table", PER_BYTES, lambda t: t[PER_CHARS] * 1.1), "can never exceed"),
        ("html_table", column("html_table", PER_BYTES, lambda t: 1e4 / t[PER_BYTES]), "per 100 bytes value should lie"),
        ("html_table", column("html_table", PER_CHARS, lambda t: t[PER_CHARS] / 100), "100 * tokens / characters"),
        ("html_table", column("html_table", PER_BYTES, lambda t: t[PER_BYTES] * 0.99), "100 * tokens / bytes for every document"),
    ],
    "zlib_ratios": [
        ("all_bytes", lambda r: lengths({**BOOKS, **r["html_texts"]}), "these count characters"),
        ("all_bytes", lambda r: r["all_bytes"] + 1, "books included"),
        ("all_per_100_bytes", lambda r: r["all_per_100_bytes"] / 100, "factor 100 is missing"),
        ("all_per_100_bytes", lambda r: 1e4 / r["all_per_100_bytes"], "lie in (0, 100]"),
        ("all_per_100_bytes", lambda r: r["all_per_100_bytes"] * r["all_bytes"] / lengths({**BOOKS, **r["html_texts"]}), "these divide by the characters"),
        ("all_per_100_bytes", lambda r: r["all_per_100_bytes"] * r["all_bytes"] / lengths({**BOOKS, **r["html_texts"]}) * 1.1, "can never exceed"),
        ("all_per_100_bytes", lambda r: r["all_per_100_bytes"] * 0.99, "tokens per 100 bytes is off"),
        ("zlib_ratios", lambda r: 1 / r["zlib_ratios"], "(0, 1]"),
        ("zlib_ratios", lambda r: [check._measures(t, 1)["zlib ratio"] for t in {**BOOKS, **r["html_texts"]}.values()], "level 1"),
        ("zlib_ratios", lambda r: r["zlib_ratios"] * 1.01, "level=9"),
    ],
    "id_bits": [
        ("bits_per_id", lambda r: np.log(2**r["bits_per_id"]), "natural log"),
        ("bits_per_id", lambda r: r["bits_per_id"] + 1, "log2(len(tokenizer))"),
        ("id_bits_ratio", lambda r: r["id_bits_ratio"] * 8, "one byte takes 8 bits"),
    ],
    "group_means": [
        ("group_means", lambda r: grouped(r).median(), "these are medians"),
        ("group_means", lambda r: r["group_means"] + 0.01, "group by 'group', then .mean()"),
        ("group_means", lambda r: r["group_means"].iloc[::-1], "the index should be ['HTML'"),
        ("group_means", lambda r: r["group_means"].to_dict(), "expected a pandas DataFrame"),
    ],
}  # fmt: skip

test_wrong_answers = checkutil.wrong_answers(check, inputs, WRONG)


def test_too_few_or_missing_html_sources_are_named(capsys):
    result = check.html_table(BOOKS, ("torch",), ("json",), html_table=None)
    assert not result and "at least 9 HTML documents are needed, found 5" in result.message
    result = check.html_files(BOOKS, ("no_such_package_xyz",), (), html_texts={})
    assert "html_packages / pydoc_modules: html_documents: the package" in result.message


def test_the_course_pages_make_bytes_and_characters_differ():
    pages = checkutil.right_values(check.html_table, HTML)["html_table"]
    wider = pages.index[pages["bytes"] > pages["characters"]]
    assert list(wider) == ["course/travel_notes.html", "course/greetings.html"]
