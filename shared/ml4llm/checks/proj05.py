"""Self-checks for project 5, "Is tokenization compression?".

Every reference starts from the package's inputs: the book texts, the packages and pydoc modules
that :func:`ml4llm.data.html_documents` turns into HTML (with the course's non-ASCII pages), the
zlib level and GPT-2's tokenizer, loaded here. The last HTML document, the Part 1 table written by
pandas, is built from the books. Each text is encoded and compressed once for all checks.
"""

from __future__ import annotations

import contextlib
import functools
import io
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ml4llm.checks import CheckFailed, Expect, check, common, require
from ml4llm.data import html_documents
from ml4llm.models import load_tokenizer
from ml4llm.tokens import encode

PER_CHARS, PER_WORDS, PER_BYTES = (f"tokens per 100 {w}" for w in ("chars", "words", "bytes"))
RATIOS = [PER_BYTES, "id bits / text bits", "zlib ratio"]
PANDAS_PAGE = "pandas table (Part 1)"
MIN_HTML_DOCUMENTS = 9
BYTES = "len(text.encode('utf-8')) for every document"
AT_MOST = (
    "tokens per 100 bytes can never exceed tokens per 100 characters (a character is >= 1 byte)"
)
MORE_THAN_WORDS = "every book should have more tokens than words"
WORDS = "len(text.split()) per book (split at any white space)"
MULTI_BYTE = "the course pages hold characters of 2 to 4 bytes, len(text.encode('utf-8'))"
ZLIB_RANGE = "every zlib ratio should lie in (0, 1]: compressed bytes / raw bytes"
MEAN = "the plain mean of the documents' values in the group: group by 'group', then .mean()"
GLOB = "no .html file of the packages: rglob('*.html') searches subfolders too (glob does not)"
ORDER = "the documents are out of order: sort the paths (sorted(folder.rglob(...))), files first"


@functools.cache
def _tokenizer() -> Any:
    with contextlib.redirect_stdout(io.StringIO()):  # a check prints its own line only
        return load_tokenizer("gpt2")


@functools.lru_cache(maxsize=64)
def _measures(text: str, level: int) -> dict[str, float]:
    """Every measure of one document."""
    raw, tokenizer = text.encode("utf-8"), _tokenizer()
    n_tokens, n_words = len(encode(tokenizer, text)), len(text.split())
    return {
        "characters": len(text),
        "words": n_words,
        "bytes": len(raw),
        "tokens": n_tokens,
        PER_CHARS: 100 * n_tokens / len(text),
        PER_WORDS: 100 * n_tokens / max(n_words, 1),
        PER_BYTES: 100 * n_tokens / len(raw),
        "id bits / text bits": n_tokens * np.log2(len(tokenizer)) / (8 * len(raw)),
        "zlib ratio": len(zlib.compress(raw, level)) / len(raw),
    }


def _table(texts: Mapping[str, str], columns: Sequence[str], level: int = 9) -> pd.DataFrame:
    """One row per document, indexed by its name (index name "document"), in the given order."""
    rows = [_measures(text, level) for text in texts.values()]
    index = pd.Index(list(texts), name="document")
    return pd.DataFrame({c: [row[c] for row in rows] for c in columns}, index=index)


@functools.lru_cache(maxsize=8)
def _html(packages: tuple[str, ...], modules: tuple[str, ...]) -> dict[str, str]:
    try:
        return html_documents(packages, modules)
    except ImportError as err:  # ModuleNotFoundError included
        raise CheckFailed(f"html_packages / pydoc_modules: {err}") from None


def _ratio(table: pd.DataFrame, column: str, what: str, unit: str, *traps: Any) -> tuple:
    """(hint, traps) of a ratio column: 100 * tokens / ``what``, the factor 100 left out."""
    missing = (table[column] / 100, f"the factor 100 is missing: 100 * tokens / {what}")
    return f"100 * tokens / {what} for every {unit}", [missing, *traps]


def _in_range(column: str) -> common.Trap:
    """Tokens per 100 characters or bytes: at most one token per character, so in (0, 100]."""
    return (lambda v: np.any((v <= 0) | (v > 100)), f"every {column} value should lie in (0, 100]")


def _per_byte(table: pd.DataFrame) -> list[common.Trap]:
    """Tokens per 100 bytes: in (0, 100], and never above tokens per 100 characters."""
    per_chars = table[PER_CHARS].to_numpy()
    return [
        (per_chars, f"these divide by the characters: {MULTI_BYTE}"),
        _in_range(PER_BYTES),
        (lambda v: np.any(v > per_chars + 1e-9), AT_MOST),
    ]


def _part1(books: pd.DataFrame, book_texts: Mapping[str, str]) -> Expect:
    chars, words = books["characters"].to_numpy(), books["words"].to_numpy()
    split = [len(text.split(" ")) for text in book_texts.values()]
    few = (lambda v: np.any(v <= 100), f"{MORE_THAN_WORDS} (tokens per 100 words > 100)")
    return Expect(
        books,
        columns={
            "characters": "len(text) per book",
            "words": (
                WORDS,
                [(split, "text.split(' ') splits at single spaces only: text.split()")],
            ),
            "tokens": (
                "len(encode(tokenizer, text)) per book, without special tokens",
                [
                    (
                        lambda v: np.any(v >= chars),
                        "every book should have fewer tokens than characters",
                    ),
                    (lambda v: np.any(v <= words), MORE_THAN_WORDS),
                ],
            ),
            PER_CHARS: _ratio(books, PER_CHARS, "characters", "book", _in_range(PER_CHARS)),
            PER_WORDS: _ratio(books, PER_WORDS, "words", "book", few),
        },
    )


def _part2(pages: pd.DataFrame) -> Expect:
    as_chars = (pages["characters"], f"these count characters: {MULTI_BYTE}")
    return Expect(
        pages,
        columns={
            "characters": "len(text) per document",
            "bytes": ("len(text.encode('utf-8')) per document", [as_chars]),
            "tokens": "len(encode(tokenizer, text)) per document, without special tokens",
            PER_CHARS: _ratio(pages, PER_CHARS, "characters", "document", _in_range(PER_CHARS)),
            PER_BYTES: _ratio(pages, PER_BYTES, "bytes", "document", *_per_byte(pages)),
        },
    )


def _part3(texts: Mapping[str, str], n_books: int, level: int) -> dict[str, Expect]:
    every = _table(texts, [*RATIOS, PER_CHARS, "bytes", "characters"], level)
    per_bytes, traps = _ratio(every, PER_BYTES, "bytes", "document", *_per_byte(every))
    level_1 = [_measures(text, 1)["zlib ratio"] for text in texts.values()]
    zlib_how = f"len(zlib.compress(raw, level={level})) / len(raw), with raw = text.encode('utf-8')"
    out_of_range = (lambda v: np.any((v <= 0) | (v > 1)), ZLIB_RANGE)
    vocabulary = len(_tokenizer())
    groups = every[RATIOS].groupby(["book"] * n_books + ["HTML"] * (len(texts) - n_books))
    return {
        "all_bytes": Expect(
            every["bytes"],
            f"some byte counts are off: {BYTES}, books included",
            traps=[(every["characters"], f"these count characters: {BYTES}")],
        ),
        "all_per_100_bytes": Expect(
            every[PER_BYTES], f"{PER_BYTES} is off: {per_bytes}", traps=traps
        ),
        "zlib_ratios": Expect(
            every["zlib ratio"],
            f"some zlib ratios are off: {zlib_how}",
            traps=[
                out_of_range,
                (level_1, "these are zlib's level 1 ratios: use level=zlib_level"),
            ],
        ),
        "bits_per_id": Expect(
            float(np.log2(vocabulary)),
            "one id takes log2(len(tokenizer)) bits",
            traps=[(np.log(vocabulary), "this is the natural log: use math.log2")],
        ),
        "id_bits_ratio": Expect(
            every["id bits / text bits"],
            "one byte takes 8 bits: divide tokens * bits_per_id by 8 * bytes for every document",
        ),
        "group_means": Expect(
            groups.mean(),
            columns={
                c: (MEAN, [(groups.median()[c], "these are medians: use .mean()")]) for c in RATIOS
            },
        ),
    }


def _reference(
    book_texts: Mapping[str, str],
    html_packages: Sequence[str] | None = None,
    pydoc_modules: Sequence[str] | None = None,
    zlib_level: int = 9,
) -> dict[str, Any]:
    """The right value of every learner variable, from the books, packages, modules and level."""
    books = _table(book_texts, ["characters", "words", "tokens", PER_CHARS, PER_WORDS])
    ref: dict[str, Any] = {"book_table": _part1(books, book_texts)}
    if html_packages is None or pydoc_modules is None:
        return ref
    html = dict(_html(tuple(html_packages), tuple(pydoc_modules)))
    html[PANDAS_PAGE] = books.to_html()
    require(
        len(html) >= MIN_HTML_DOCUMENTS,
        f"at least {MIN_HTML_DOCUMENTS} HTML documents are needed, found {len(html)}: keep "
        "html_packages and pydoc_modules as the parameters cell gives them",
    )
    pages = _table(html, ["characters", "bytes", "tokens", PER_CHARS, PER_BYTES])
    part3 = _part3({**book_texts, **html}, len(book_texts), zlib_level)
    return ref | {"html_texts": html, "html_table": _part2(pages)} | part3


@check(reference=_reference)
def book_table(book_texts, *, book_table, ref: dict) -> str:
    """Characters, words, tokens and the two ratios for every book."""
    words, chars = ref["book_table"][PER_WORDS], ref["book_table"][PER_CHARS]
    return (
        f"{len(book_texts)} books: {words.min():.0f}-{words.max():.0f} tokens per 100 words, "
        f"{chars.min():.1f}-{chars.max():.1f} per 100 characters"
    )


@check(reference=_reference)
def html_files(book_texts, html_packages, pydoc_modules, *, html_texts, ref: dict) -> str:
    """The packages' .html files (found with rglob, sorted), then the other pages, in order."""
    want: dict[str, str] = ref["html_texts"]
    got = f"got {common.describe(html_texts)}"
    require(isinstance(html_texts, Mapping), f"html_texts: expected a dict name -> HTML, {got}")
    names = list(want)
    files = [n for n in names if n.split("/")[0] in html_packages]
    common.require_values(
        list(html_texts),
        names,
        name="list(html_texts)",
        hint="name each package file 'package/file.html' (path.name); keep the other names",
        traps=[
            (lambda v: files and not set(files) & set(v.tolist()), GLOB),
            (lambda v: sorted(v.tolist()) == sorted(names), ORDER),
        ],
    )
    for name in names:
        hint = "read each file as UTF-8 text: path.read_text(encoding='utf-8')"
        if name == PANDAS_PAGE:
            hint = "book_table.to_html() of the Part 1 table (its counts as whole numbers)"
        common.require_values(html_texts[name], want[name], name=f"html_texts[{name!r}]", hint=hint)
    return f"{len(files)} package files, then {len(names) - len(files)} other pages, in order"


@check(reference=_reference)
def html_table(book_texts, html_packages, pydoc_modules, *, html_table, ref: dict) -> str:
    """Characters, UTF-8 bytes, tokens and the two ratios for every HTML document."""
    pages = ref["html_table"]
    wider = int((pages["bytes"] > pages["characters"]).sum())
    return (
        f"{len(pages)} HTML documents, {int(pages['tokens'].sum()):,} tokens in all, "
        f"{wider} of them with more bytes than characters"
    )


@check(reference=_reference)
def zlib_ratios(
    book_texts,
    html_packages,
    pydoc_modules,
    zlib_level,
    *,
    all_bytes,
    all_per_100_bytes,
    zlib_ratios,
    ref: dict,
) -> str:
    """UTF-8 bytes, tokens per 100 bytes and the zlib ratio (compressed / raw bytes) per document."""
    ratios = ref["zlib_ratios"]
    return f"{len(ratios)} documents, zlib ratios {ratios.min():.2f}-{ratios.max():.2f}"


@check(reference=_reference)
def id_bits(book_texts, html_packages, pydoc_modules, *, bits_per_id, id_bits_ratio, ref) -> str:
    """Bits per id (log2 of the vocabulary size); per document tokens x bits per id / 8 x bytes."""
    bits, ratio = ref["bits_per_id"], ref["id_bits_ratio"]
    return f"one id = {bits:.2f} bits; id / text bits {ratio.min():.2f}-{ratio.max():.2f}"


@check(reference=_reference)
def group_means(book_texts, html_packages, pydoc_modules, zlib_level, *, group_means, ref) -> str:
    """The mean of every Part 3 ratio over the books and over the HTML documents."""
    means = ref["group_means"][PER_BYTES]
    return f"tokens per 100 bytes: books {means['book']:.1f}, HTML {means['HTML']:.1f}"
