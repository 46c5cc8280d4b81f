"""Self-checks of project 4: each passes on the solution's values, fails with a hint on a wrong
value and asks for the blank on ``...``. Also confirms the book's numbers on the exact offline copy
of GPT-2's vocabulary."""

import os

os.environ["ML4LLM_PROFILE"] = "offline"
os.environ["HF_HUB_OFFLINE"] = "1"

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from checkutil import expect

from ml4llm.checks import proj04 as check  # noqa: E402
from ml4llm.models import load_tokenizer  # noqa: E402
from ml4llm.tokens import decode_token, decode_vocab  # noqa: E402


@pytest.fixture(scope="module")
def solution():
    tokenizer = load_tokenizer("gpt2")
    texts = decode_vocab(tokenizer)
    chars = np.array([len(t) for t in texts])
    n_bytes = np.array([len(t.encode("utf-8")) for t in texts])
    return tokenizer, texts, chars, n_bytes


DEMO = {"ASCII letter": "a", "accented Latin letter": "é", "emoji": "🙂"}


def test_demo_lengths(solution, capsys):
    tokenizer = solution[0]
    texts = list(DEMO.values())
    n_chars = [len(t) for t in texts]
    n_bytes = [len(t.encode("utf-8")) for t in texts]
    ids = [tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts]
    expect(check.demo_lengths(DEMO, tokenizer, n_chars, n_bytes, ids), capsys, "pass")
    expect(check.demo_lengths(DEMO, tokenizer, n_chars, n_chars, ids), capsys, "fail")
    utf16 = [len(t.encode("utf-16-le")) for t in texts]
    expect(check.demo_lengths(DEMO, tokenizer, n_chars, utf16, ids), capsys, "fail")
    with_bos = [[tokenizer.bos_token_id, *i] for i in ids]
    expect(check.demo_lengths(DEMO, tokenizer, n_chars, n_bytes, with_bos), capsys, "fail")
    expect(check.demo_lengths(DEMO, tokenizer, n_chars[:2], n_bytes, ids), capsys, "fail")
    expect(check.demo_lengths(DEMO, tokenizer, ..., n_bytes, ids), capsys, "blank")


def test_demo_bytes(solution, capsys):
    tokenizer = solution[0]
    texts = list(DEMO.values())
    hexes = [t.encode("utf-8").hex(" ") for t in texts]
    ids = [tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts]
    pieces = [[decode_token(tokenizer, i) for i in row] for row in ids]
    out = expect(check.demo_bytes(DEMO, tokenizer, hexes, pieces), capsys, "pass")
    assert "U+FFFD" in out
    expect(
        check.demo_bytes(DEMO, tokenizer, [t.encode("utf-8").hex() for t in texts], pieces),
        capsys,
        "fail",
    )
    whole = [[tokenizer.decode(row)] for row in ids]  # decoded all at once, not one by one
    expect(check.demo_bytes(DEMO, tokenizer, hexes, whole), capsys, "fail")
    expect(check.demo_bytes(DEMO, tokenizer, hexes[:2], pieces), capsys, "fail")
    expect(check.demo_bytes(DEMO, tokenizer, hexes, ...), capsys, "blank")


def test_lengths(solution, capsys):
    tokenizer, texts, chars, n_bytes = solution
    expect(check.lengths(tokenizer, chars, n_bytes), capsys, "pass")
    expect(check.lengths(tokenizer, n_bytes, chars), capsys, "fail")  # swapped
    off_by_one = n_bytes.copy()
    off_by_one[1000] += 1
    expect(check.lengths(tokenizer, chars, off_by_one), capsys, "fail")
    expect(check.lengths(tokenizer, chars[:-1], n_bytes[:-1]), capsys, "fail")
    zeros = np.zeros_like(chars)  # an untouched array: the loop was not filled in
    expect(check.lengths(tokenizer, zeros, zeros), capsys, "fail")
    expect(check.lengths(tokenizer, ..., n_bytes), capsys, "blank")


def test_count_matrix(solution, capsys):
    tokenizer, _, chars, n_bytes = solution
    counts = np.zeros((chars.max() + 1, n_bytes.max() + 1), dtype=int)
    np.add.at(counts, (chars, n_bytes), 1)
    expect(check.count_matrix(tokenizer, counts), capsys, "pass")
    once = np.zeros_like(counts)
    once[chars, n_bytes] += 1  # the fancy-index pitfall: repeated pairs count once
    expect(check.count_matrix(tokenizer, once), capsys, "fail")
    expect(check.count_matrix(tokenizer, counts.T), capsys, "fail")
    expect(check.count_matrix(tokenizer, ...), capsys, "blank")


def test_nonzero_cells(solution, capsys):
    tokenizer, _, chars, n_bytes = solution
    counts = np.zeros((chars.max() + 1, n_bytes.max() + 1), dtype=int)
    np.add.at(counts, (chars, n_bytes), 1)
    rows, cols = np.nonzero(counts)
    values = counts[rows, cols]
    expect(check.nonzero_cells(tokenizer, rows, cols, values), capsys, "pass")
    expect(check.nonzero_cells(tokenizer, cols, rows, values), capsys, "fail")  # swapped axes
    expect(check.nonzero_cells(tokenizer, rows, cols, np.ones_like(values)), capsys, "fail")
    all_rows, all_cols = np.indices(counts.shape).reshape(2, -1)  # zero cells included
    expect(check.nonzero_cells(tokenizer, all_rows, all_cols, counts.ravel()), capsys, "fail")
    expect(check.nonzero_cells(tokenizer, rows, cols, values[:-1]), capsys, "fail")
    expect(check.nonzero_cells(tokenizer, rows, ..., values), capsys, "blank")


def test_mismatches(solution, capsys):
    tokenizer, texts, chars, n_bytes = solution
    ids = np.flatnonzero(chars != n_bytes)
    n_repl = sum("\ufffd" in texts[i] for i in ids)
    out = expect(check.mismatches(tokenizer, ids, n_repl), capsys, "pass")
    # The book's numbers hold on the exact copy of GPT-2's vocabulary.
    assert "873 mismatching tokens, 352 of them contain U+FFFD" in out
    expect(check.mismatches(tokenizer, ids, len(ids)), capsys, "fail")
    expect(check.mismatches(tokenizer, ids[1:], n_repl), capsys, "fail")
    expect(check.mismatches(tokenizer, np.flatnonzero(chars == n_bytes), n_repl), capsys, "fail")
    sample = np.sort(np.random.default_rng(0).choice(ids, size=30, replace=False))
    expect(check.mismatches(tokenizer, ids, n_repl, sample), capsys, "pass")
    expect(check.mismatches(tokenizer, ids, n_repl, np.arange(30)), capsys, "fail")
    expect(check.mismatches(tokenizer, ids, n_repl, np.repeat(ids[:15], 2)), capsys, "fail")
    expect(check.mismatches(tokenizer, ids, ...), capsys, "blank")
    expect(check.mismatches(tokenizer, ids, n_repl, ...), capsys, "blank")


def blocks_of(n):
    return pd.cut(np.arange(n), bins=np.linspace(0, n, 11).astype(int), right=False)


def test_length_trends(solution, capsys):
    tokenizer, _, chars, n_bytes = solution
    mean_chars = pd.Series(chars).rolling(1000, center=True).mean()
    mean_bytes = pd.Series(n_bytes).rolling(1000, center=True).mean()
    table = pd.DataFrame({"characters": chars, "bytes": n_bytes})
    block_means = table.groupby(blocks_of(len(chars)), observed=True).mean()
    out = expect(
        check.length_trends(tokenizer, 1000, mean_chars, mean_bytes, block_means), capsys, "pass"
    )
    assert "first block" in out
    trailing = pd.Series(chars).rolling(1000).mean()  # not centred
    expect(check.length_trends(tokenizer, 1000, trailing, mean_bytes, block_means), capsys, "fail")
    expect(
        check.length_trends(tokenizer, 1000, mean_bytes, mean_chars, block_means), capsys, "fail"
    )
    five = table.groupby(pd.cut(np.arange(len(chars)), 5), observed=True).mean()
    expect(check.length_trends(tokenizer, 1000, mean_chars, mean_bytes, five), capsys, "fail")
    sums = table.groupby(blocks_of(len(chars)), observed=True).sum()
    expect(check.length_trends(tokenizer, 1000, mean_chars, mean_bytes, sums), capsys, "fail")
    expect(check.length_trends(tokenizer, 1000, mean_chars, mean_bytes, ...), capsys, "blank")


def test_mismatch_split(solution, capsys):
    tokenizer, _, chars, n_bytes = solution
    mismatch = (chars != n_bytes).astype(int)
    per_block = pd.Series(mismatch).groupby(blocks_of(len(chars)), observed=True).sum()
    single, merged = mismatch[:256].sum(), mismatch[256:].sum()
    out = expect(check.mismatch_split(tokenizer, single, merged, per_block), capsys, "pass")
    assert "128 single bytes" in out  # the bytes 0x80..0xFF on the exact vocabulary
    expect(check.mismatch_split(tokenizer, merged, single, per_block), capsys, "fail")
    expect(check.mismatch_split(tokenizer, mismatch[:255].sum(), merged, per_block), capsys, "fail")
    expect(check.mismatch_split(tokenizer, single, merged, per_block.cumsum()), capsys, "fail")
    expect(check.mismatch_split(tokenizer, single, ..., per_block), capsys, "blank")


def test_mismatch_indicator(solution, capsys):
    tokenizer, _, chars, n_bytes = solution
    indicator = (chars != n_bytes).astype(int)
    offsets = np.random.default_rng(0).uniform(-0.15, 0.15, size=len(indicator))
    expect(
        check.mismatch_indicator(tokenizer, indicator, indicator + offsets, 0.15), capsys, "pass"
    )
    flipped = 1 - indicator  # 1 where the lengths agree
    expect(check.mismatch_indicator(tokenizer, flipped, flipped + offsets, 0.15), capsys, "fail")
    expect(
        check.mismatch_indicator(tokenizer, indicator, indicator + 3 * offsets, 0.15),
        capsys,
        "fail",
    )
    expect(check.mismatch_indicator(tokenizer, indicator, indicator, 0.15), capsys, "fail")
    expect(check.mismatch_indicator(tokenizer, indicator, ..., 0.15), capsys, "blank")


def test_distributions(solution, capsys):
    tokenizer, _, chars, n_bytes = solution
    byte_values, byte_counts = np.unique(n_bytes, return_counts=True)
    char_values, char_counts = np.unique(chars, return_counts=True)
    n = len(tokenizer)
    byte_pct, char_pct = 100 * byte_counts / n, 100 * char_counts / n
    args = (byte_values, byte_counts, byte_pct, char_values, char_counts, char_pct)
    expect(check.distributions(tokenizer, *args), capsys, "pass")
    fractions = (
        byte_values,
        byte_counts,
        byte_counts / n,
        char_values,
        char_counts,
        char_counts / n,
    )
    expect(check.distributions(tokenizer, *fractions), capsys, "fail")
    swapped = (char_values, char_counts, char_pct, byte_values, byte_counts, byte_pct)
    expect(check.distributions(tokenizer, *swapped), capsys, "fail")
    no_counts = (byte_values, byte_values, byte_pct, char_values, char_counts, char_pct)
    expect(check.distributions(tokenizer, *no_counts), capsys, "fail")
    blank = (byte_values, byte_counts, ..., char_values, char_counts, char_pct)
    expect(check.distributions(tokenizer, *blank), capsys, "blank")


def test_distribution_table(solution, capsys):
    tokenizer, _, chars, n_bytes = solution
    n = len(tokenizer)
    byte_values, byte_counts = np.unique(n_bytes, return_counts=True)
    char_values, char_counts = np.unique(chars, return_counts=True)
    unfilled = pd.DataFrame(
        {
            "bytes": pd.Series(100 * byte_counts / n, index=byte_values),
            "characters": pd.Series(100 * char_counts / n, index=char_values),
        }
    )
    table = unfilled.fillna(0)
    expect(check.distribution_table(tokenizer, table), capsys, "pass")
    expect(check.distribution_table(tokenizer, unfilled), capsys, "fail")  # NaN left in
    expect(
        check.distribution_table(
            tokenizer, table.rename(columns={"bytes": "characters", "characters": "bytes"})
        ),
        capsys,
        "fail",
    )
    positional = pd.DataFrame({"bytes": 100 * byte_counts / n})  # indexed 0.. not by length
    positional["characters"] = 0.0
    expect(check.distribution_table(tokenizer, positional), capsys, "fail")
    expect(check.distribution_table(tokenizer, table.drop(columns="bytes")), capsys, "fail")
    expect(check.distribution_table(tokenizer, ...), capsys, "blank")


def test_longest_token(solution, capsys):
    tokenizer, _, chars, n_bytes = solution
    out = expect(check.longest_token(tokenizer, np.argmax(n_bytes)), capsys, "pass")
    assert "128 bytes" in out  # the book's number, on the exact vocabulary
    expect(check.longest_token(tokenizer, np.argmax(chars)), capsys, "fail")
    expect(check.longest_token(tokenizer, 10**6), capsys, "fail")
    expect(check.longest_token(tokenizer, ...), capsys, "blank")


def test_true_bytes(solution, capsys):
    tokenizer, texts, _, n_bytes = solution
    entries = tokenizer.convert_ids_to_tokens(list(range(len(tokenizer))))
    true = np.array([len(e) for e in entries])
    has_repl = np.array(["\ufffd" in t for t in texts])
    differs = true != n_bytes
    examples = np.sort(np.random.default_rng(0).choice(np.flatnonzero(differs), 8, replace=False))
    args = (true, has_repl, differs, true.max(), examples)
    out = expect(check.true_bytes(tokenizer, *args), capsys, "pass")
    assert "all with U+FFFD: True" in out and "longest 128 true bytes" in out
    in_chars = np.array([len(t) for t in texts])  # decoded characters, not the entries
    expect(check.true_bytes(tokenizer, in_chars, has_repl, differs, 128, examples), capsys, "fail")
    expect(check.true_bytes(tokenizer, true, ~has_repl, differs, 128, examples), capsys, "fail")
    expect(check.true_bytes(tokenizer, true, has_repl, has_repl, 128, examples), capsys, "fail")
    expect(check.true_bytes(tokenizer, true, has_repl, differs, 127, examples), capsys, "fail")
    expect(check.true_bytes(tokenizer, true, has_repl, differs, 128, np.arange(8)), capsys, "fail")
    expect(check.true_bytes(tokenizer, true, has_repl, differs, 128, ...), capsys, "blank")
