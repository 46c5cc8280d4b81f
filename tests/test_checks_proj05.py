"""Project 5's self-checks pass on the solution's values, fail on wrong ones, and spot blanks."""

import os

os.environ["ML4LLM_PROFILE"] = "offline"
os.environ["HF_HUB_OFFLINE"] = "1"

import math  # noqa: E402
import zlib  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from ml4llm.checks import proj05 as check  # noqa: E402
from ml4llm.models import load_tokenizer  # noqa: E402

# Small stand-ins for books and pages keep the tests fast; the checks do not care about size.
BOOKS = {
    "Fable": "The fox sat under the old oak tree and waited for the rain to stop.\n" * 20,
    "Letter": "Dear friend, the harvest was late this year; the apples were small but sweet.\n"
    * 15,
}
HTML = {
    f"page {k}": f"<html><body><h1>Title {k}</h1>"
    + "<p class='x'>caf\u00e9 &nbsp; text</p>" * (k + 3)
    + "</body></html>"
    for k in range(6)
}


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer("gpt2")


def count(tokenizer, text):
    return len(tokenizer(text, add_special_tokens=False)["input_ids"])


def solution_book_table(tokenizer):
    rows = []
    for title, text in BOOKS.items():
        n_chars, n_words, n_tokens = len(text), len(text.split()), count(tokenizer, text)
        rows.append(
            {
                "document": title,
                "characters": n_chars,
                "words": n_words,
                "tokens": n_tokens,
                "tokens per 100 chars": 100 * n_tokens / n_chars,
                "tokens per 100 words": 100 * n_tokens / n_words,
            }
        )
    return pd.DataFrame(rows).set_index("document")


def solution_html_table(tokenizer):
    rows = []
    for name, text in HTML.items():
        n_chars, n_bytes, n_tokens = len(text), len(text.encode("utf-8")), count(tokenizer, text)
        rows.append(
            {
                "document": name,
                "characters": n_chars,
                "bytes": n_bytes,
                "tokens": n_tokens,
                "tokens per 100 chars": 100 * n_tokens / n_chars,
                "tokens per 100 bytes": 100 * n_tokens / n_bytes,
            }
        )
    return pd.DataFrame(rows).set_index("document")


def solution_part3(tokenizer, level=9):
    """Bytes, tokens per 100 bytes, zlib ratios and id bits of every document, as in Part 3."""
    texts = {**BOOKS, **HTML}
    tokens = np.array([count(tokenizer, t) for t in texts.values()])
    n_bytes = [len(t.encode("utf-8")) for t in texts.values()]
    ratios = [
        len(zlib.compress(t.encode("utf-8"), level)) / len(t.encode("utf-8"))
        for t in texts.values()
    ]
    per_100_bytes = 100 * tokens / np.array(n_bytes)
    bits_per_id = math.log2(len(tokenizer))
    id_bits = tokens * bits_per_id / (8 * np.array(n_bytes))
    return texts, n_bytes, per_100_bytes, ratios, bits_per_id, id_bits


def test_book_table(tokenizer, capsys):
    table = solution_book_table(tokenizer)
    assert check.book_table(BOOKS, table, tokenizer)
    assert "PASS book_table" in capsys.readouterr().out

    wrong = table.copy()
    wrong["tokens"] = wrong["tokens"] + 1  # e.g. special tokens counted
    assert not check.book_table(BOOKS, wrong, tokenizer)
    out = capsys.readouterr().out
    assert "FAIL book_table" in out and "special tokens" in out

    wrong = table.copy()
    wrong["words"] = [len(t.split(" ")) for t in BOOKS.values()]  # split at spaces only
    assert not check.book_table(BOOKS, wrong, tokenizer)
    assert "FAIL book_table" in capsys.readouterr().out

    wrong = table.copy()
    wrong["tokens per 100 words"] = wrong["tokens"] / wrong["words"]  # the factor 100 missing
    assert not check.book_table(BOOKS, wrong, tokenizer)
    assert "FAIL book_table" in capsys.readouterr().out

    assert not check.book_table(BOOKS, table.drop(columns="tokens per 100 chars"), tokenizer)
    assert "no column 'tokens per 100 chars'" in capsys.readouterr().out

    assert not check.book_table(BOOKS, table.reset_index(), tokenizer)  # titles not the index
    assert "indexed by its name" in capsys.readouterr().out

    assert not check.book_table(BOOKS, ..., tokenizer)
    assert "fill in the blank first" in capsys.readouterr().out


def test_html_table(tokenizer, capsys):
    table = solution_html_table(tokenizer)
    assert check.html_table(HTML, table, tokenizer)
    assert "PASS html_table" in capsys.readouterr().out

    wrong = table.copy()
    wrong["bytes"] = wrong["characters"]  # bytes counted as characters (the page has an é)
    assert not check.html_table(HTML, wrong, tokenizer)
    out = capsys.readouterr().out
    assert "FAIL html_table" in out and "encode('utf-8')" in out

    wrong = table.copy()
    wrong["tokens per 100 bytes"] = wrong["tokens per 100 chars"]
    assert not check.html_table(HTML, wrong, tokenizer)
    assert "FAIL html_table" in capsys.readouterr().out

    few = dict(list(HTML.items())[:5])
    assert not check.html_table(few, table.iloc[:5], tokenizer)
    assert "at least 6 HTML documents" in capsys.readouterr().out

    assert not check.html_table(HTML, ..., tokenizer)
    assert "fill in the blank first" in capsys.readouterr().out


def test_zlib_ratios(tokenizer, capsys):
    texts, n_bytes, per_100_bytes, ratios, _, _ = solution_part3(tokenizer)
    assert check.zlib_ratios(texts, tokenizer, n_bytes, per_100_bytes, ratios, level=9)
    assert "PASS zlib_ratios" in capsys.readouterr().out

    upside_down = [1 / r for r in ratios]  # raw / compressed
    assert not check.zlib_ratios(texts, tokenizer, n_bytes, per_100_bytes, upside_down, level=9)
    out = capsys.readouterr().out
    assert "FAIL zlib_ratios" in out and "(0, 1]" in out

    level_1 = solution_part3(tokenizer, level=1)[3]
    assert not check.zlib_ratios(texts, tokenizer, n_bytes, per_100_bytes, level_1, level=9)
    assert "level=9" in capsys.readouterr().out

    chars = [len(t) for t in texts.values()]  # characters taken for bytes
    assert not check.zlib_ratios(texts, tokenizer, chars, per_100_bytes, ratios, level=9)
    out = capsys.readouterr().out
    assert "FAIL zlib_ratios" in out and "books included" in out

    assert not check.zlib_ratios(texts, tokenizer, n_bytes, per_100_bytes / 100, ratios, level=9)
    assert "100 * tokens / bytes" in capsys.readouterr().out

    assert not check.zlib_ratios(texts, tokenizer, [], per_100_bytes, [], level=9)
    assert "still empty" in capsys.readouterr().out

    assert not check.zlib_ratios(texts, tokenizer, n_bytes, ..., ratios, level=9)
    assert "fill in the blank first" in capsys.readouterr().out


def test_id_bits(tokenizer, capsys):
    texts, n_bytes, _, _, bits_per_id, id_bits = solution_part3(tokenizer)
    assert check.id_bits(texts, tokenizer, bits_per_id, id_bits)
    assert "PASS id_bits" in capsys.readouterr().out

    in_bytes = id_bits * 8  # text size left in bytes instead of bits
    assert not check.id_bits(texts, tokenizer, bits_per_id, in_bytes)
    out = capsys.readouterr().out
    assert "FAIL id_bits" in out and "8 * bytes" in out

    assert not check.id_bits(texts, tokenizer, math.log(len(tokenizer)), id_bits)  # natural log
    assert "log2" in capsys.readouterr().out

    assert not check.id_bits(texts, tokenizer, bits_per_id, ...)
    assert "fill in the blank first" in capsys.readouterr().out


def test_group_means(tokenizer, capsys):
    texts, n_bytes, per_100_bytes, ratios, _, id_bits = solution_part3(tokenizer)
    compare = pd.DataFrame(
        {
            "group": ["book"] * len(BOOKS) + ["HTML"] * len(HTML),
            "tokens per 100 bytes": per_100_bytes,
            "id bits / text bits": id_bits,
            "zlib ratio": ratios,
        },
        index=list(texts),
    )
    columns = ["tokens per 100 bytes", "id bits / text bits", "zlib ratio"]
    means = compare.groupby("group")[columns].mean()
    assert check.group_means(BOOKS, HTML, tokenizer, means)
    assert "PASS group_means" in capsys.readouterr().out

    assert not check.group_means(BOOKS, HTML, tokenizer, compare.groupby("group")[columns].median())
    assert "FAIL group_means" in capsys.readouterr().out

    assert not check.group_means(BOOKS, HTML, tokenizer, compare[columns].mean().to_frame().T)
    assert "one row per group" in capsys.readouterr().out

    assert not check.group_means(BOOKS, HTML, tokenizer, means.drop(columns="zlib ratio"))
    assert "zlib ratio" in capsys.readouterr().out

    assert not check.group_means(BOOKS, HTML, tokenizer, ...)
    assert "fill in the blank first" in capsys.readouterr().out
