"""Self-checks of project 2: each passes on the solution's values, fails with a hint on a wrong
value and asks for the blank on ``...``."""

import os

os.environ["ML4LLM_PROFILE"] = "offline"
os.environ["HF_HUB_OFFLINE"] = "1"

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from checkutil import expect
from scipy import stats  # noqa: E402

from ml4llm.checks import proj02 as check  # noqa: E402
from ml4llm.data import TEN_BOOKS, load_books  # noqa: E402
from ml4llm.models import load_tokenizer  # noqa: E402
from ml4llm.tokens import visible  # noqa: E402

N_BOOKS = 3  # a few books keep the tests fast; the checks work for any number


@pytest.fixture(scope="module")
def data():
    tokenizer = load_tokenizer("gpt2")
    texts = [book.text for book in load_books(list(TEN_BOOKS)[:N_BOOKS])]
    ids = [tokenizer(t, add_special_tokens=False, verbose=False)["input_ids"] for t in texts]
    totals = np.array(
        [[len(t) for t in texts], [len(t.split()) for t in texts], [len(i) for i in ids]]
    )
    uniques = np.array(
        [
            [len(set(t)) for t in texts],
            [len(set(t.split())) for t in texts],
            [len(set(i)) for i in ids],
        ]
    )
    return tokenizer, texts, ids, totals, uniques


def test_token_ids(data, capsys):
    tokenizer, texts, ids, _, _ = data
    expect(check.token_ids(texts, tokenizer, ids), capsys, "pass")
    with_bos = [[tokenizer.bos_token_id, *i] for i in ids]
    expect(check.token_ids(texts, tokenizer, with_bos), capsys, "fail")
    expect(check.token_ids(texts, tokenizer, ids[:-1]), capsys, "fail")
    expect(check.token_ids(texts, tokenizer, [i[:-1] for i in ids]), capsys, "fail")
    expect(check.token_ids(texts, tokenizer, ...), capsys, "blank")


def test_book_table(data, capsys):
    tokenizer, texts, _, totals, _ = data
    n_chars, n_words, n_tokens = (list(row) for row in totals)
    expect(check.book_table(texts, tokenizer, n_chars, n_words, n_tokens), capsys, "pass")
    space_split = [len(t.split(" ")) for t in texts]  # splits on spaces only, not newlines
    expect(check.book_table(texts, tokenizer, n_chars, space_split, n_tokens), capsys, "fail")
    in_bytes = [len(t.encode("utf-8")) + 1 for t in texts]
    expect(check.book_table(texts, tokenizer, in_bytes, n_words, n_tokens), capsys, "fail")
    expect(check.book_table(texts, tokenizer, n_chars, n_words, n_tokens[:-1]), capsys, "fail")
    expect(check.book_table(texts, tokenizer, n_chars, ..., n_tokens), capsys, "blank")


def test_ratios(data, capsys):
    tokenizer, texts, _, totals, _ = data
    chars_per_token = totals[0] / totals[2]
    tokens_per_word = totals[2] / totals[1]
    expect(check.ratios(texts, tokenizer, chars_per_token, tokens_per_word), capsys, "pass")
    expect(check.ratios(texts, tokenizer, 1 / chars_per_token, tokens_per_word), capsys, "fail")
    expect(check.ratios(texts, tokenizer, chars_per_token, totals[1] / totals[2]), capsys, "fail")
    expect(check.ratios(texts, tokenizer, np.array([]), np.array([])), capsys, "fail")
    expect(check.ratios(texts, tokenizer, chars_per_token[:-1], tokens_per_word), capsys, "fail")
    expect(check.ratios(texts, tokenizer, ..., tokens_per_word), capsys, "blank")


def test_round_trip(data, capsys):
    tokenizer, texts, ids, _, _ = data
    decoded = [tokenizer.decode(i, clean_up_tokenization_spaces=False) for i in ids]
    same = [d == t for d, t in zip(decoded, texts)]
    expect(check.round_trip(texts, decoded, same), capsys, "pass")
    damaged = [d.replace(" ,", ",") + "x" for d in decoded]
    expect(check.round_trip(texts, damaged, same), capsys, "fail")
    expect(check.round_trip(texts, decoded, [False] * len(texts)), capsys, "fail")
    expect(check.round_trip(texts, decoded, same[:-1]), capsys, "fail")
    expect(check.round_trip(texts, [...] * len(texts), same), capsys, "blank")
    expect(check.round_trip(texts, decoded, ...), capsys, "blank")


def test_counts(data, capsys):
    tokenizer, texts, _, totals, uniques = data
    expect(check.counts(texts, tokenizer, totals, uniques), capsys, "pass")
    expect(check.counts(texts, tokenizer, uniques, totals), capsys, "fail")  # swapped
    wrong = uniques.copy()
    wrong[1] = [len(set(t.lower().split())) for t in texts]  # lowercased words
    expect(check.counts(texts, tokenizer, totals, wrong), capsys, "fail")
    expect(check.counts(texts, tokenizer, totals[:2], uniques[:2]), capsys, "fail")
    zeros = np.zeros_like(totals)  # an untouched array: the loop was not filled in
    expect(check.counts(texts, tokenizer, zeros, zeros), capsys, "fail")
    expect(check.counts(texts, tokenizer, totals, ...), capsys, "blank")


def test_correlations(data, capsys):
    tokenizer, texts, _, totals, uniques = data
    r_values = [stats.pearsonr(totals[k], uniques[k])[0] for k in range(3)]
    expect(check.correlations(texts, tokenizer, r_values), capsys, "pass")
    spearman = [stats.spearmanr(totals[k], uniques[k])[0] for k in range(3)]
    if not np.allclose(spearman, r_values):
        expect(check.correlations(texts, tokenizer, spearman), capsys, "fail")
    expect(check.correlations(texts, tokenizer, r_values[::-1]), capsys, "fail")
    expect(check.correlations(texts, tokenizer, r_values[:2]), capsys, "fail")
    expect(check.correlations(texts, tokenizer, np.zeros(3)), capsys, "fail")
    expect(check.correlations(texts, tokenizer, [r_values[0], ..., r_values[2]]), capsys, "blank")


def test_unit_means(data, capsys):
    tokenizer, texts, _, totals, uniques = data
    mean_totals = totals.mean(axis=1)
    mean_uniques = uniques.mean(axis=1)
    share = mean_uniques / mean_totals
    expect(check.unit_means(texts, tokenizer, mean_totals, mean_uniques, share), capsys, "pass")
    by_book = totals.mean(axis=0)  # averaged over the units instead of the books
    expect(check.unit_means(texts, tokenizer, by_book, mean_uniques, share), capsys, "fail")
    expect(check.unit_means(texts, tokenizer, mean_uniques, mean_totals, share), capsys, "fail")
    mean_of_shares = (uniques / totals).mean(axis=1)  # a different quantity
    expect(
        check.unit_means(texts, tokenizer, mean_totals, mean_uniques, mean_of_shares),
        capsys,
        "fail",
    )
    expect(check.unit_means(texts, tokenizer, mean_totals, ..., share), capsys, "blank")


def listing_of(chars):
    return [f"[{c}]" if ord(c) > 127 else visible(c) for c in chars]


def test_most_unique_chars(data, capsys):
    _, texts, _, _, uniques = data
    best = int(np.argmax(uniques[0]))
    chars = sorted(set(texts[best]))
    non_ascii = [c for c in chars if ord(c) > 127]
    listing = listing_of(chars)
    expect(check.most_unique_chars(texts, best, chars, non_ascii, listing), capsys, "pass")
    worst = int(np.argmin(uniques[0]))
    worst_chars = sorted(set(texts[worst]))
    expect(
        check.most_unique_chars(texts, worst, worst_chars, [], listing_of(worst_chars)),
        capsys,
        "fail",
    )
    expect(check.most_unique_chars(texts, best, chars[::-1], non_ascii, listing), capsys, "fail")
    expect(check.most_unique_chars(texts, best, chars, chars, listing), capsys, "fail")
    expect(check.most_unique_chars(texts, best, chars, non_ascii, []), capsys, "fail")
    expect(check.most_unique_chars(texts, best, chars, non_ascii, chars), capsys, "fail")
    # a non-ASCII character is bracketed, whatever the books hold
    assert listing_of(["a", " ", "é"]) == ["a", "␣", "[é]"]
    expect(check.most_unique_chars(texts, ..., chars, non_ascii, listing), capsys, "blank")
