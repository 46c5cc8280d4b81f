"""Project 5's self-checks pass on the solution's values, fail on wrong ones, and spot blanks."""

import os

os.environ["ML4LLM_PROFILE"] = "offline"
os.environ["HF_HUB_OFFLINE"] = "1"

import math  # noqa: E402
import zlib  # noqa: E402

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


def solution_compare(tokenizer, level=9):
    rows = []
    for name, text in {**BOOKS, **HTML}.items():
        raw = text.encode("utf-8")
        n_tokens = count(tokenizer, text)
        rows.append(
            {
                "document": name,
                "characters": len(text),
                "bytes": len(raw),
                "tokens": n_tokens,
                "tokens per 100 chars": 100 * n_tokens / len(text),
                "tokens per 100 bytes": 100 * n_tokens / len(raw),
                "zlib ratio": len(zlib.compress(raw, level)) / len(raw),
            }
        )
    return pd.DataFrame(rows).set_index("document")


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

    few = dict(list(HTML.items())[:5])
    assert not check.html_table(few, table.iloc[:5], tokenizer)
    assert "at least 6 HTML documents" in capsys.readouterr().out

    assert not check.html_table(HTML, ..., tokenizer)
    assert "fill in the blank first" in capsys.readouterr().out


def test_zlib_ratios(tokenizer, capsys):
    texts = {**BOOKS, **HTML}
    table = solution_compare(tokenizer)
    assert check.zlib_ratios(texts, table, level=9)
    assert "PASS zlib_ratios" in capsys.readouterr().out

    wrong = table.copy()
    wrong["zlib ratio"] = 1 / wrong["zlib ratio"]  # raw / compressed, upside down
    assert not check.zlib_ratios(texts, wrong, level=9)
    out = capsys.readouterr().out
    assert "FAIL zlib_ratios" in out and "(0, 1]" in out

    assert not check.zlib_ratios(texts, solution_compare(tokenizer, level=1), level=9)
    assert "level=9" in capsys.readouterr().out

    wrong = table.copy()
    wrong["tokens per 100 bytes"] = wrong["tokens per 100 chars"] * 1.5
    assert not check.zlib_ratios(texts, wrong, level=9)
    assert "FAIL zlib_ratios" in capsys.readouterr().out

    assert not check.zlib_ratios(texts, ..., level=9)
    assert "fill in the blank first" in capsys.readouterr().out


def test_id_bits(tokenizer, capsys):
    table = solution_compare(tokenizer)
    bits_per_id = math.log2(len(tokenizer))
    table["id bits / text bits"] = table["tokens"] * bits_per_id / (8 * table["bytes"])
    assert check.id_bits(table, tokenizer)
    assert "PASS id_bits" in capsys.readouterr().out

    wrong = table.copy()
    # text size left in bytes instead of bits
    wrong["id bits / text bits"] = table["tokens"] * bits_per_id / table["bytes"]
    assert not check.id_bits(wrong, tokenizer)
    out = capsys.readouterr().out
    assert "FAIL id_bits" in out and "8 * bytes" in out

    assert not check.id_bits(..., tokenizer)
    assert "fill in the blank first" in capsys.readouterr().out


def test_zlib_ratios_bytes(tokenizer, capsys):
    texts = {**BOOKS, **HTML}
    wrong = solution_compare(tokenizer)
    wrong["bytes"] = wrong["characters"]  # characters taken for bytes
    wrong["tokens per 100 bytes"] = 100 * wrong["tokens"] / wrong["bytes"]
    assert not check.zlib_ratios(texts, wrong, level=9)
    out = capsys.readouterr().out
    assert "FAIL zlib_ratios" in out and "books included" in out
