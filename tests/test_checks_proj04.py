"""Self-checks of project 4: each passes on the solution's values, fails with a hint on a wrong
value and asks for the blank on ``...``. Also confirms the book's numbers on the exact offline copy
of GPT-2's vocabulary."""

import os

os.environ["ML4LLM_PROFILE"] = "offline"
os.environ["HF_HUB_OFFLINE"] = "1"

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from ml4llm.checks import proj04 as check  # noqa: E402
from ml4llm.models import load_tokenizer  # noqa: E402
from ml4llm.tokens import decode_vocab  # noqa: E402


@pytest.fixture(scope="module")
def solution():
    tokenizer = load_tokenizer("gpt2")
    texts = decode_vocab(tokenizer)
    chars = np.array([len(t) for t in texts])
    n_bytes = np.array([len(t.encode("utf-8")) for t in texts])
    return tokenizer, texts, chars, n_bytes


def expect(result, capsys, outcome):
    out = capsys.readouterr().out
    if outcome == "pass":
        assert result and out.startswith("PASS"), out
    elif outcome == "fail":
        assert not result and out.startswith("FAIL") and ": " in out, out
    else:
        assert not result and "fill in the blank first" in out, out
    return out


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
    by_bytes = np.unique(n_bytes, return_counts=True)
    by_chars = np.unique(chars, return_counts=True)
    n = len(tokenizer)
    byte_pct, char_pct = 100 * by_bytes[1] / n, 100 * by_chars[1] / n
    expect(check.distributions(tokenizer, by_bytes, byte_pct, by_chars, char_pct), capsys, "pass")
    fractions = (by_bytes[1] / n, by_chars[1] / n)
    expect(
        check.distributions(tokenizer, by_bytes, fractions[0], by_chars, fractions[1]),
        capsys,
        "fail",
    )
    expect(check.distributions(tokenizer, by_chars, char_pct, by_bytes, byte_pct), capsys, "fail")
    values_only = np.unique(n_bytes)  # return_counts forgotten
    expect(
        check.distributions(tokenizer, values_only, byte_pct, by_chars, char_pct), capsys, "fail"
    )
    expect(check.distributions(tokenizer, by_bytes, ..., by_chars, char_pct), capsys, "blank")


def test_longest_token(solution, capsys):
    tokenizer, _, chars, n_bytes = solution
    out = expect(check.longest_token(tokenizer, np.argmax(n_bytes)), capsys, "pass")
    assert "128 bytes" in out  # the book's number, on the exact vocabulary
    expect(check.longest_token(tokenizer, np.argmax(chars)), capsys, "fail")
    expect(check.longest_token(tokenizer, 10**6), capsys, "fail")
    expect(check.longest_token(tokenizer, ...), capsys, "blank")
