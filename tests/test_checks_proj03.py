"""Self-checks of project 3: each passes on the solution's values, fails with a hint on a wrong
value and asks for the blank on ``...``."""

import os

os.environ["ML4LLM_PROFILE"] = "offline"
os.environ["HF_HUB_OFFLINE"] = "1"

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from ml4llm.checks import proj03 as check  # noqa: E402
from ml4llm.data import TEN_BOOKS, load_books  # noqa: E402
from ml4llm.models import load_tokenizer  # noqa: E402
from ml4llm.tokens import decode_token, decode_vocab, encode  # noqa: E402

PARAGRAPH = "Le Sacre du printemps opened at the Théâtre des Champs-Élysées on 29 May 1913."


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer("gpt2")


@pytest.fixture(scope="module")
def length_table(tokenizer):
    return np.array([len(text) for text in decode_vocab(tokenizer)])


@pytest.fixture(scope="module")
def texts():
    return [book.text for book in load_books(list(TEN_BOOKS)[:2])]


def expect(result, capsys, outcome):
    out = capsys.readouterr().out
    if outcome == "pass":
        assert result and out.startswith("PASS"), out
    elif outcome == "fail":
        assert not result and out.startswith("FAIL") and ": " in out, out
    else:
        assert not result and "fill in the blank first" in out, out


def test_paragraph_tokens(tokenizer, capsys):
    ids = encode(tokenizer, PARAGRAPH)
    decoded = tokenizer.decode(ids, clean_up_tokenization_spaces=False)
    expect(check.paragraph_tokens(PARAGRAPH, tokenizer, ids, decoded), capsys, "pass")
    with_eos = [*ids, tokenizer.eos_token_id]
    expect(check.paragraph_tokens(PARAGRAPH, tokenizer, with_eos, decoded), capsys, "fail")
    expect(check.paragraph_tokens(PARAGRAPH, tokenizer, ids, decoded.strip(".")), capsys, "fail")
    expect(check.paragraph_tokens(PARAGRAPH, tokenizer, ids, ...), capsys, "blank")


def test_paragraph_counts(tokenizer, capsys):
    lengths = [len(decode_token(tokenizer, i)) for i in encode(tokenizer, PARAGRAPH)]
    table = pd.DataFrame({"length": lengths})
    counts = table["length"].value_counts()
    expect(check.paragraph_counts(PARAGRAPH, tokenizer, counts.sort_index()), capsys, "pass")
    expect(check.paragraph_counts(PARAGRAPH, tokenizer, counts), capsys, "fail")  # not sorted
    stripped = pd.Series(
        [len(decode_token(tokenizer, i).strip()) for i in encode(tokenizer, PARAGRAPH)]
    )
    wrong = stripped.value_counts().sort_index()  # leading spaces left out
    expect(check.paragraph_counts(PARAGRAPH, tokenizer, wrong), capsys, "fail")
    expect(
        check.paragraph_counts(PARAGRAPH, tokenizer, counts.iloc[1:].sort_index()), capsys, "fail"
    )
    expect(check.paragraph_counts(PARAGRAPH, tokenizer, ...), capsys, "blank")


def test_length_table(tokenizer, length_table, capsys):
    expect(check.length_table(tokenizer, length_table), capsys, "pass")
    in_bytes = np.array([len(t.encode("utf-8")) for t in decode_vocab(tokenizer)])
    expect(check.length_table(tokenizer, in_bytes), capsys, "fail")
    expect(check.length_table(tokenizer, length_table[:-1]), capsys, "fail")
    expect(check.length_table(tokenizer, ...), capsys, "blank")


def test_book_proportions(tokenizer, length_table, texts, capsys):
    proportions = {}
    raw = {}
    for b, text in enumerate(texts):
        lengths = pd.Series(length_table[np.array(encode(tokenizer, text))])
        proportions[b] = lengths.value_counts(normalize=True)
        raw[b] = lengths.value_counts()
    table = pd.DataFrame(proportions).sort_index().fillna(0)
    expect(check.book_proportions(texts, tokenizer, table), capsys, "pass")
    expect(
        check.book_proportions(texts, tokenizer, pd.DataFrame(raw).sort_index().fillna(0)),
        capsys,
        "fail",
    )
    expect(check.book_proportions(texts, tokenizer, table.iloc[:, ::-1]), capsys, "fail")
    expect(
        check.book_proportions(texts, tokenizer, table.sort_index(ascending=False)), capsys, "fail"
    )
    expect(check.book_proportions(texts, tokenizer, table.iloc[:, :1]), capsys, "fail")
    expect(check.book_proportions(texts, tokenizer, ...), capsys, "blank")


def test_one_char_tokens(tokenizer, length_table, texts, capsys):
    vocab = decode_vocab(tokenizer)
    ids = np.concatenate([np.array(encode(tokenizer, text)) for text in texts])
    one_char = ids[length_table[ids] == 1]
    tokens = pd.Series([vocab[i] for i in one_char])
    top = tokens.value_counts(normalize=True).head(12)
    expect(check.one_char_tokens(texts, tokenizer, top), capsys, "pass")
    expect(check.one_char_tokens(texts, tokenizer, tokens.value_counts().head(12)), capsys, "fail")
    all_tokens = pd.Series([vocab[i] for i in ids]).value_counts(normalize=True).head(12)
    expect(check.one_char_tokens(texts, tokenizer, all_tokens), capsys, "fail")
    expect(check.one_char_tokens(texts, tokenizer, ...), capsys, "blank")
