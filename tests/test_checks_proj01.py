"""Project 1's checks pass on the solution's values, fail on wrong ones and spot blanks."""

from __future__ import annotations

import os

os.environ["ML4LLM_PROFILE"] = "offline"
os.environ["HF_HUB_OFFLINE"] = "1"

import pandas as pd
import pytest

from ml4llm.checks import proj01 as check
from ml4llm.models import load_tokenizer
from ml4llm.tokens import visible

SENTENCE = "A quiet mind hears what a busy mind never hears."


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer("gpt2")


def solution_values(tokenizer):
    char_vocab = sorted(set(SENTENCE))
    char_ids = [char_vocab.index(c) for c in SENTENCE]
    words = SENTENCE.split()
    word_vocab = sorted(set(words))
    word_ids = [word_vocab.index(w) for w in words]
    ids = tokenizer(SENTENCE, add_special_tokens=False)["input_ids"]
    pieces = [tokenizer.decode([i], clean_up_tokenization_spaces=False) for i in ids]
    return char_vocab, char_ids, word_vocab, word_ids, ids, pieces


def solution_table(tokenizer, ids, pieces):
    return pd.DataFrame(
        {
            "id": ids,
            "decoded": [visible(p) for p in pieces],
            "vocabulary entry": tokenizer.convert_ids_to_tokens(ids),
        }
    )


def test_checks_pass_on_the_solution(tokenizer, capsys):
    char_vocab, char_ids, word_vocab, word_ids, ids, pieces = solution_values(tokenizer)
    assert check.char_vocab(SENTENCE, char_vocab)
    assert check.char_round_trip(SENTENCE, char_vocab, char_ids, SENTENCE)
    assert check.word_round_trip(SENTENCE, word_vocab, word_ids, SENTENCE)
    assert check.gpt2_round_trip(SENTENCE, tokenizer, ids, pieces)
    totals = [len(SENTENCE), len(SENTENCE.split()), len(ids)]
    uniques = [len(set(SENTENCE)), len(set(SENTENCE.split())), len(set(ids))]
    assert check.scheme_counts(SENTENCE, tokenizer, totals, uniques)
    assert check.gpt2_table(SENTENCE, tokenizer, solution_table(tokenizer, ids, pieces))
    assert capsys.readouterr().out.count("PASS") == 6


def test_checks_fail_with_a_hint_on_wrong_values(tokenizer, capsys):
    char_vocab, char_ids, word_vocab, word_ids, ids, pieces = solution_values(tokenizer)
    assert not check.char_vocab(SENTENCE, list(set(SENTENCE)) + ["A"])
    assert "duplicates" in capsys.readouterr().out
    assert not check.char_vocab(SENTENCE, sorted(set(SENTENCE) - {" "}))
    assert "include spaces" in capsys.readouterr().out
    assert not check.char_round_trip(SENTENCE, char_vocab, char_ids, SENTENCE.lower())
    assert "FAIL char_round_trip" in capsys.readouterr().out
    assert not check.word_round_trip(SENTENCE, word_vocab, word_ids, "".join(SENTENCE.split()))
    assert "join the words" in capsys.readouterr().out
    stripped = [p.strip() for p in pieces]
    assert not check.gpt2_round_trip(SENTENCE, tokenizer, ids, stripped)
    assert "spaces kept" in capsys.readouterr().out
    with_bos = [tokenizer.eos_token_id, *ids]
    assert not check.gpt2_round_trip(SENTENCE, tokenizer, with_bos, pieces)
    assert "add_special_tokens=False" in capsys.readouterr().out
    totals = [len(SENTENCE), len(SENTENCE.split()), len(ids)]
    assert not check.scheme_counts(SENTENCE, tokenizer, totals, totals)
    assert "unique count of characters" in capsys.readouterr().out
    table = solution_table(tokenizer, ids, pieces)
    table["vocabulary entry"] = [visible(p) for p in pieces]
    assert not check.gpt2_table(SENTENCE, tokenizer, table)
    assert "convert_ids_to_tokens" in capsys.readouterr().out
    assert not check.gpt2_table(SENTENCE, tokenizer, table.drop(columns="decoded"))
    assert "column named 'decoded'" in capsys.readouterr().out


def test_checks_ask_for_the_blank_first(tokenizer, capsys):
    assert not check.char_vocab(SENTENCE, ...)
    assert not check.char_round_trip(SENTENCE, sorted(set(SENTENCE)), ..., ...)
    assert not check.word_round_trip(SENTENCE, ..., ..., ...)
    assert not check.gpt2_round_trip(SENTENCE, tokenizer, ..., ...)
    assert not check.scheme_counts(SENTENCE, tokenizer, [48, 10, ...], [19, 9, 9])
    assert not check.gpt2_table(SENTENCE, tokenizer, ...)
    assert capsys.readouterr().out.count("fill in the blank first") == 6
