"""Data sets from the Hugging Face Hub (through ``datasets``), each with its offline substitute.

Only ids backed by data files (Parquet or JSON) are used: ``datasets`` >= 4 runs no loading
scripts (should one of them still ship a script, the Hub's Parquet export is read instead).
Downloaded splits are cached by ``datasets`` (``~/.cache/huggingface/datasets``) and show its
progress bars; the two streamed corpora (Wikipedia, C4) stop as soon as the caller has what it
asked for, show a progress bar of their own, and are cached in the course cache
(``<cache>/datasets``). Downloads use the Hub client's bounded waits
(:func:`ml4llm.models.bound_hub_client`: 5 s per metadata request, 10 s per download request,
one retry); under ``auto`` nothing is tried unless the Hub answered a real HTTPS request.

Every function returns the same schema in both profiles; the offline substitutes are those of
the curriculum, each announced in one printed line (see the README's data section).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from tqdm.auto import tqdm

from ml4llm.data import _shakespeare, course
from ml4llm.data._common import cached_json, real_or_offline
from ml4llm.data.books import TEN_BOOKS

if TYPE_CHECKING:
    import pandas as pd

# (hub id, config) of every Hub data set the course reads.
WIKITEXT = ("Salesforce/wikitext", "wikitext-2-raw-v1")  # the Parquet home of "wikitext"
HELLASWAG = ("Rowan/hellaswag", None)
SST2 = ("nyu-mll/glue", "sst2")
ROTTEN_TOMATOES = ("cornell-movie-review-data/rotten_tomatoes", None)
WIKIPEDIA = ("wikimedia/wikipedia", "20231101.en")
C4 = ("allenai/c4", "en")

HELLASWAG_FIELDS = ("activity_label", "ctx_a", "ctx_b", "ctx", "endings", "label")
SST2_SPLIT = "train[:5%]"

PARQUET_EXPORT = "refs/convert/parquet"  # the Hub's own Parquet copy of every public data set

_CAN = re.compile(r" can\b")
_CANT = re.compile(r" can't\b")


def _load(hub: tuple[str, str | None], split: str, streaming: bool = False) -> Any:
    """``datasets.load_dataset`` for one (id, config) pair: the course's only call into the Hub.

    ``datasets`` >= 4 refuses data sets that still ship a loading script; for those, the Hub's
    Parquet export of the same data (revision ``refs/convert/parquet``) is read instead.
    """
    import datasets

    dataset_id, config = hub
    try:
        return datasets.load_dataset(dataset_id, config, split=split, streaming=streaming)
    except RuntimeError as err:
        if "scripts are no longer supported" not in str(err):
            raise
    print(
        f"{dataset_id} has a loading script: reading the Hub's Parquet export ({PARQUET_EXPORT})."
    )
    return datasets.load_dataset(
        dataset_id, config, split=split, streaming=streaming, revision=PARQUET_EXPORT
    )


def _name(hub: tuple[str, str | None], split: str) -> str:
    dataset_id, config = hub
    return f"{dataset_id} ({config}, {split})" if config else f"{dataset_id} ({split})"


def _slice(split: str, n: int | None) -> str:
    return split if n is None else f"{split}[:{n}]"


def _check_n(n: int | None, name: str = "n") -> None:
    if n is not None and (not isinstance(n, int) or n < 1):
        raise ValueError(f"{name} must be a positive whole number or None, not {n!r}.")


# --------------------------------------------------------------------------- wikitext-2


def wikitext_lines(
    split: str = "test", n: int | None = None, profile: str | None = None
) -> list[str]:
    """The rows of wikitext-2 (``wikitext-2-raw-v1``), the first ``n`` or all.

    A row is a string as wikitext stores it: a paragraph or heading ending in ``"\\n"``, or
    ``""`` between paragraphs. Join them (``"\\n".join(rows)``) to get one text.

    Offline: ``test`` -> the paragraphs of CPython's documentation text (``pydoc_data.topics``,
    shipped with every Python); ``train`` -> the paragraphs of the ten Shakespeare texts.
    """
    if split not in ("train", "test"):
        raise ValueError(
            f"split must be 'train' or 'test' (the splits the course uses), not {split!r}."
        )
    _check_n(n)

    def fetch() -> list[str]:
        return list(_load(WIKITEXT, _slice(split, n))["text"])

    def offline() -> tuple[list[str], str]:
        if split == "test":
            from pydoc_data.topics import topics

            rows = _shakespeare.rows("\n\n".join(topics.values()))
            what = "CPython's documentation text (pydoc_data.topics)"
        else:
            rows = _shakespeare.rows("\n\n".join(_shakespeare.text(g) for g in TEN_BOOKS))
            what = "the ten Shakespeare texts joined"
        rows = rows[:n]
        return rows, f"{what}, {len(rows):,} rows"

    return real_or_offline(_name(WIKITEXT, split), fetch, offline, profile)


# --------------------------------------------------------------------------- HellaSwag


def _hellaswag_item(row: dict[str, Any]) -> dict[str, Any]:
    item = {field: row[field] for field in HELLASWAG_FIELDS}
    item["endings"] = list(item["endings"])
    item["label"] = str(item["label"])
    return item


def hellaswag(n: int | None = None, profile: str | None = None) -> list[dict[str, Any]]:
    """The first ``n`` (or all) HellaSwag validation items (``Rowan/hellaswag``).

    Each item is a dict with ``activity_label``, ``ctx_a``, ``ctx_b``, ``ctx`` (= ``ctx_a`` + " "
    + ``ctx_b``), ``endings`` (4 strings, no leading space) and ``label`` (the index of the right
    ending, a *string* as in HellaSwag: cast it with ``int``).

    Offline: the course's 200 four-choice items in the same schema (one plausible ending, three
    grammatical but implausible ones taken from other activities).
    """
    _check_n(n)

    def fetch() -> list[dict[str, Any]]:
        return [_hellaswag_item(row) for row in _load(HELLASWAG, _slice("validation", n))]

    def offline() -> tuple[list[dict[str, Any]], str]:
        items = course.hellaswag_items()[:n]
        return items, f"{len(items)} four-choice items written by the course (same fields)"

    return real_or_offline(_name(HELLASWAG, "validation"), fetch, offline, profile)


def hellaswag_contexts(
    train_rows: range = range(0, 500),
    test_rows: range = range(1000, 1500),
    profile: str | None = None,
) -> tuple[list[str], list[str]]:
    """The ``ctx_a`` field of HellaSwag validation rows: (training texts, test texts).

    Some texts may be shorter than the tokens a notebook needs: skip those after tokenizing.
    Offline: Shakespeare speech lines of at least 6 words (so at least 6 tokens), as many as the
    rows asked for; the training lines and the test lines come from different plays.
    """
    for name, rows in (("train_rows", train_rows), ("test_rows", test_rows)):
        if not isinstance(rows, range) or len(rows) == 0 or rows.start < 0:
            raise ValueError(f"{name} must be a non-empty range of row numbers, not {rows!r}.")

    def fetch() -> tuple[list[str], list[str]]:
        dataset = _load(HELLASWAG, "validation")
        return (
            list(dataset.select(train_rows)["ctx_a"]),
            list(dataset.select(test_rows)["ctx_a"]),
        )

    def offline() -> tuple[tuple[list[str], list[str]], str]:
        train, used = _shakespeare.speech_lines(6, len(train_rows))
        test, _ = _shakespeare.speech_lines(6, len(test_rows), skip_plays=used)
        return (train, test), (
            f"{len(train)} + {len(test)} Shakespeare speech lines of 6+ words "
            "(training and test lines from different plays)"
        )

    return real_or_offline(_name(HELLASWAG, "validation") + " ctx_a", fetch, offline, profile)


# --------------------------------------------------------------------------- sentiment


def sst2_sentences(n: int | None = None, profile: str | None = None) -> pd.DataFrame:
    """GLUE SST-2 sentences (``nyu-mll/glue``, ``sst2``, ``train[:5%]``, 3,367 rows), the first ``n``.

    A DataFrame with ``sentence`` (str) and ``label`` (int: 1 positive, 0 negative).
    Offline: the course's labelled sentences (480, balanced, one in five negated).
    """
    import pandas as pd

    _check_n(n)

    def fetch() -> pd.DataFrame:
        dataset = _load(SST2, SST2_SPLIT)
        frame = pd.DataFrame(
            {"sentence": list(dataset["sentence"]), "label": list(dataset["label"])}
        )
        return frame.iloc[:n].astype({"label": int})

    def offline() -> tuple[pd.DataFrame, str]:
        frame = course.sentiment_sentences().iloc[:n][["sentence", "label"]]
        return frame, f"{len(frame)} labelled sentences written by the course"

    return real_or_offline(_name(SST2, SST2_SPLIT), fetch, offline, profile)


def rotten_tomatoes_texts(n: int = 64, profile: str | None = None) -> list[str]:
    """The first ``n`` reviews of rotten_tomatoes ``test`` (``cornell-movie-review-data/rotten_tomatoes``).

    Offline: the first ``n`` Shakespeare speeches of 5-60 words, in the plays' order.
    """
    _check_n(n)

    def fetch() -> list[str]:
        return list(_load(ROTTEN_TOMATOES, _slice("test", n))["text"])

    def offline() -> tuple[list[str], str]:
        texts = _shakespeare.speech_texts(5, 60, n)
        return texts, f"{len(texts)} Shakespeare speeches of 5-60 words"

    return real_or_offline(_name(ROTTEN_TOMATOES, "test"), fetch, offline, profile)


# --------------------------------------------------------------------------- streamed corpora


def _take_words(texts: Iterable[str], min_words: int, desc: str | None) -> list[str]:
    """Texts from ``texts`` in order until they hold at least ``min_words`` words in all.

    ``desc`` labels the progress bar; ``None`` shows none (for the fast offline lists).
    """
    taken: list[str] = []
    words = 0
    with tqdm(total=min_words, desc=desc, unit=" words", disable=desc is None) as bar:
        for text in texts:
            taken.append(text)
            count = min(len(text.split()), min_words - words)
            words += count
            bar.update(count)
            if words >= min_words:
                break
    return taken


def wikipedia_articles(min_words: int = 1_000_000, profile: str | None = None) -> list[str]:
    """English Wikipedia articles (``wikimedia/wikipedia``, ``20231101.en``), streamed.

    Returns the article texts, in the dump's order, up to the first one that brings the total to
    ``min_words`` whitespace-separated words. Every word is at least one token for the course's
    tokenizers, so the texts hold at least ``min_words`` tokens. The stream stops there (a
    ``train[:1%]`` slice would first download the whole dump, over 10 GB); the texts are cached.

    Offline: the ten Shakespeare texts cut into passages of about 400 words, up to ``min_words``
    (224,184 words in all).
    """
    _check_n(min_words, "min_words")

    def stream() -> list[str]:
        rows = _load(WIKIPEDIA, "train", streaming=True)
        return _take_words((row["text"] for row in rows), min_words, "Wikipedia (streamed)")

    def fetch() -> list[str]:
        return cached_json(f"wikipedia-20231101.en-{min_words}-words", stream, "Wikipedia articles")

    def offline() -> tuple[list[str], str]:
        texts = _take_words(_shakespeare.passages(), min_words, None)
        words = sum(len(t.split()) for t in texts)
        return texts, f"{len(texts)} passages of the ten Shakespeare texts ({words:,} words)"

    return real_or_offline(_name(WIKIPEDIA, "train, streamed"), fetch, offline, profile)


def _cant_count(text: str) -> int:
    """How many " can't" (straight apostrophe) in ``text`` have at least 10 words before them."""
    return sum(1 for m in _CANT.finditer(text) if len(text[: m.start()].split()) >= 10)


def _take_cant(texts: Iterable[str], n_cant: int, desc: str | None) -> list[str]:
    """The texts holding " can", in order, until ``n_cant`` usable " can't" have been seen.

    ``desc`` labels the progress bar; ``None`` shows none (for the fast offline lists).
    """
    taken: list[str] = []
    found = 0
    with tqdm(total=n_cant, desc=desc, unit=" can't", disable=desc is None) as bar:
        for text in texts:
            if not _CAN.search(text):
                continue
            taken.append(text)
            count = min(_cant_count(text), n_cant - found)
            found += count
            bar.update(count)
            if found >= n_cant:
                break
    return taken


def _c4_paragraphs(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    for row in rows:
        yield from (line for line in row["text"].split("\n") if line.strip())


def c4_contexts(n_cant: int = 500, profile: str | None = None) -> list[str]:
    """Paragraphs of C4 (``allenai/c4``, ``en``, ``train``, streamed) that contain the word " can".

    The stream stops once the paragraphs hold ``n_cant`` occurrences of " can't" (straight
    apostrophe) with at least 10 words, hence at least 10 tokens, before them; the far more
    frequent " can" samples come along. "can’t" with the curly apostrophe stays in the texts but
    is not counted. The paragraphs are cached.

    Offline: the course's contexts, one sentence each, whose left context makes "can" or "can't"
    the clear choice (320 of each, alternating), taken by the same rule.
    """
    _check_n(n_cant, "n_cant")

    def stream() -> list[str]:
        rows = _load(C4, "train", streaming=True)
        return _take_cant(_c4_paragraphs(rows), n_cant, "C4 (streamed)")

    def fetch() -> list[str]:
        return cached_json(f"c4-en-{n_cant}-cant", stream, "C4 contexts")

    def offline() -> tuple[list[str], str]:
        texts = _take_cant(course.can_cant_contexts(), n_cant, None)
        found = sum(_cant_count(t) for t in texts)
        return texts, f"{len(texts)} can/can't contexts written by the course ({found} can't)"

    return real_or_offline(_name(C4, "train, streamed"), fetch, offline, profile)
