"""Self-checks of project 3: each passes on the solution's values, fails with a hint on a wrong
value and asks for the blank on ``...``."""

import os

os.environ["ML4LLM_PROFILE"] = "offline"
os.environ["HF_HUB_OFFLINE"] = "1"

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from checkutil import expect

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


def test_paragraph_tokens(tokenizer, capsys):
    ids = encode(tokenizer, PARAGRAPH)
    decoded = tokenizer.decode(ids, clean_up_tokenization_spaces=False)
    expect(check.paragraph_tokens(PARAGRAPH, tokenizer, ids, decoded), capsys, "pass")
    with_eos = [*ids, tokenizer.eos_token_id]
    expect(check.paragraph_tokens(PARAGRAPH, tokenizer, with_eos, decoded), capsys, "fail")
    expect(check.paragraph_tokens(PARAGRAPH, tokenizer, ids, decoded.strip(".")), capsys, "fail")
    expect(check.paragraph_tokens(PARAGRAPH, tokenizer, ids, ...), capsys, "blank")


def paragraph_table(tokenizer):
    pieces = [decode_token(tokenizer, i) for i in encode(tokenizer, PARAGRAPH)]
    return pd.DataFrame({"token": pieces, "length": [len(p) for p in pieces]})


def test_paragraph_counts(tokenizer, capsys):
    table = paragraph_table(tokenizer)
    counts = table["length"].value_counts()
    shares = table["length"].value_counts(normalize=True).sort_index()
    expect(
        check.paragraph_counts(PARAGRAPH, tokenizer, counts.sort_index(), shares), capsys, "pass"
    )
    expect(check.paragraph_counts(PARAGRAPH, tokenizer, counts, shares), capsys, "fail")  # unsorted
    stripped = pd.Series(
        [len(decode_token(tokenizer, i).strip()) for i in encode(tokenizer, PARAGRAPH)]
    )
    wrong = stripped.value_counts().sort_index()  # leading spaces left out
    expect(check.paragraph_counts(PARAGRAPH, tokenizer, wrong, shares), capsys, "fail")
    expect(
        check.paragraph_counts(PARAGRAPH, tokenizer, counts.iloc[1:].sort_index(), shares),
        capsys,
        "fail",
    )
    sorted_counts = counts.sort_index()
    expect(
        check.paragraph_counts(PARAGRAPH, tokenizer, sorted_counts, sorted_counts), capsys, "fail"
    )  # counts instead of shares
    unsorted_shares = table["length"].value_counts(normalize=True)
    expect(
        check.paragraph_counts(PARAGRAPH, tokenizer, sorted_counts, unsorted_shares),
        capsys,
        "fail",
    )
    expect(check.paragraph_counts(PARAGRAPH, tokenizer, ..., shares), capsys, "blank")
    expect(check.paragraph_counts(PARAGRAPH, tokenizer, sorted_counts, ...), capsys, "blank")


def test_longest_token(tokenizer, capsys):
    table = paragraph_table(tokenizer)
    longest = table.loc[table["length"].idxmax()]
    expect(check.longest_token(PARAGRAPH, tokenizer, longest), capsys, "pass")
    shortest = table.loc[table["length"].idxmin()]
    expect(check.longest_token(PARAGRAPH, tokenizer, shortest), capsys, "fail")
    expect(check.longest_token(PARAGRAPH, tokenizer, table["length"].max()), capsys, "fail")
    expect(check.longest_token(PARAGRAPH, tokenizer, ...), capsys, "blank")


def test_length_table(tokenizer, length_table, capsys):
    vocab = decode_vocab(tokenizer)
    expect(check.length_table(tokenizer, vocab, length_table), capsys, "pass")
    in_bytes = np.array([len(t.encode("utf-8")) for t in vocab])
    expect(check.length_table(tokenizer, vocab, in_bytes), capsys, "fail")
    expect(check.length_table(tokenizer, vocab, length_table[:-1]), capsys, "fail")
    expect(check.length_table(tokenizer, vocab[:-1], length_table), capsys, "fail")
    cleaned = [tokenizer.decode([i]).strip() for i in range(len(tokenizer))]
    expect(check.length_table(tokenizer, cleaned, length_table), capsys, "fail")
    expect(check.length_table(tokenizer, ..., length_table), capsys, "blank")
    expect(check.length_table(tokenizer, vocab, ...), capsys, "blank")


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


def partial_marks(tokenizer):
    return np.array(["\ufffd" in text for text in decode_vocab(tokenizer)])


def test_partial_tokens(tokenizer, texts, capsys):
    is_partial = partial_marks(tokenizer)
    n_ids = is_partial.sum()
    book_ids = np.concatenate([np.array(encode(tokenizer, text)) for text in texts])
    n_tokens = is_partial[book_ids].sum()
    expect(check.partial_tokens(texts, tokenizer, n_ids, book_ids, n_tokens), capsys, "pass")
    expect(check.partial_tokens(texts, tokenizer, n_ids + 1, book_ids, n_tokens), capsys, "fail")
    expect(check.partial_tokens(texts, tokenizer, n_ids, book_ids[::-1], n_tokens), capsys, "fail")
    empty = np.array([], dtype=int)  # the loop over the books was not filled in
    expect(check.partial_tokens(texts, tokenizer, n_ids, empty, 0), capsys, "fail")
    wrong = is_partial[np.unique(book_ids)].sum() + 1  # distinct ids, not tokens
    expect(check.partial_tokens(texts, tokenizer, n_ids, book_ids, wrong), capsys, "fail")
    expect(check.partial_tokens(texts, tokenizer, n_ids, ..., n_tokens), capsys, "blank")


def solution_summary(tokenizer, length_table, texts):
    all_ids = [np.array(encode(tokenizer, text)) for text in texts]
    proportions = {
        b: pd.Series(length_table[ids]).value_counts(normalize=True)
        for b, ids in enumerate(all_ids)
    }
    distribution = pd.DataFrame(proportions).sort_index().fillna(0)
    is_partial = partial_marks(tokenizer)
    return pd.DataFrame(
        {
            "tokens": [len(ids) for ids in all_ids],
            "mean length": distribution.mul(distribution.index, axis=0).sum(),
            "most common length": distribution.idxmax(),
            "share of length 1": distribution.loc[1],
            "U+FFFD tokens": [is_partial[ids].sum() for ids in all_ids],
        }
    )


def test_book_summary(tokenizer, length_table, texts, capsys):
    summary = solution_summary(tokenizer, length_table, texts)
    expect(check.book_summary(texts, tokenizer, summary), capsys, "pass")
    wrong = summary.copy()
    wrong["mean length"] = wrong["most common length"]
    expect(check.book_summary(texts, tokenizer, wrong), capsys, "fail")
    expect(check.book_summary(texts, tokenizer, summary.iloc[::-1]), capsys, "fail")
    expect(check.book_summary(texts, tokenizer, summary.drop(columns="tokens")), capsys, "fail")
    expect(check.book_summary(texts, tokenizer, summary.iloc[:1]), capsys, "fail")
    expect(check.book_summary(texts, tokenizer, ...), capsys, "blank")


def test_one_char_tokens(tokenizer, length_table, texts, capsys):
    vocab = decode_vocab(tokenizer)
    ids = np.concatenate([np.array(encode(tokenizer, text)) for text in texts])
    one_char = ids[length_table[ids] == 1]
    share = len(one_char) / len(ids)
    tokens = pd.Series([vocab[i] for i in one_char])
    top = tokens.value_counts(normalize=True).head(12)
    expect(check.one_char_tokens(texts, tokenizer, share, top), capsys, "pass")
    expect(
        check.one_char_tokens(texts, tokenizer, share, tokens.value_counts().head(12)),
        capsys,
        "fail",
    )
    all_tokens = pd.Series([vocab[i] for i in ids]).value_counts(normalize=True).head(12)
    expect(check.one_char_tokens(texts, tokenizer, share, all_tokens), capsys, "fail")
    expect(check.one_char_tokens(texts, tokenizer, len(one_char), top), capsys, "fail")
    expect(check.one_char_tokens(texts, tokenizer, share, ...), capsys, "blank")
    expect(check.one_char_tokens(texts, tokenizer, ..., top), capsys, "blank")
