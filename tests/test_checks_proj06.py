"""Project 6's self-checks pass on the solution's values, fail on wrong ones, and spot blanks."""

import os

os.environ["ML4LLM_PROFILE"] = "offline"
os.environ["HF_HUB_OFFLINE"] = "1"

import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from ml4llm.checks import proj06 as check  # noqa: E402
from ml4llm.models import load_tokenizer  # noqa: E402

# Short parallel texts: enough scripts to exercise every rule of the checks.
TEXTS = {
    "en": "The bread is warm.",
    "es": "El pan está caliente.",
    "ar": "الخبز دافئ.",
    "zh": "面包是温暖的。",
    "he": "הלחם חם.",
}


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer("gpt2")


def solution_ids(tokenizer):
    ids, decoded = {}, {}
    for code, text in TEXTS.items():
        ids[code] = tokenizer(text, add_special_tokens=False)["input_ids"]
        decoded[code] = tokenizer.decode(ids[code], clean_up_tokenization_spaces=False)
    return ids, decoded


def solution_table(tokenizer):
    ids, _ = solution_ids(tokenizer)
    table = pd.DataFrame(
        {
            "characters": [len(t) for t in TEXTS.values()],
            "bytes": [len(t.encode("utf-8")) for t in TEXTS.values()],
            "tokens": [len(ids[c]) for c in TEXTS],
        },
        index=list(TEXTS),
    )
    table["tokens per char"] = table["tokens"] / table["characters"]
    table["bytes per char"] = table["bytes"] / table["characters"]
    return table


def test_round_trip(tokenizer, capsys):
    ids, decoded = solution_ids(tokenizer)
    assert check.round_trip(TEXTS, tokenizer, ids, decoded)
    assert "PASS round_trip" in capsys.readouterr().out

    # decoding token by token and joining: the partial UTF-8 pieces become U+FFFD
    joined = {
        c: "".join(tokenizer.decode([i], clean_up_tokenization_spaces=False) for i in ids[c])
        for c in TEXTS
    }
    assert not check.round_trip(TEXTS, tokenizer, ids, joined)
    out = capsys.readouterr().out
    assert "FAIL round_trip" in out and "decode the whole id list" in out

    with_bos = {c: [tokenizer.eos_token_id, *ids[c]] for c in TEXTS}
    assert not check.round_trip(TEXTS, tokenizer, with_bos, decoded)
    assert "no special tokens" in capsys.readouterr().out

    assert not check.round_trip(TEXTS, tokenizer, {c: ... for c in TEXTS}, decoded)
    assert "fill in the blank first" in capsys.readouterr().out


def test_counts(tokenizer, capsys):
    table = solution_table(tokenizer)
    assert check.counts(TEXTS, tokenizer, table)
    assert "PASS counts" in capsys.readouterr().out

    wrong = table.copy()
    wrong["bytes"] = wrong["characters"]  # characters counted instead of bytes
    assert not check.counts(TEXTS, tokenizer, wrong)
    out = capsys.readouterr().out
    assert "FAIL counts" in out and "encode('utf-8')" in out

    wrong = table.copy()
    wrong["tokens"] = [len(t.split()) for t in TEXTS.values()]  # words, not tokens
    assert not check.counts(TEXTS, tokenizer, wrong)
    assert "FAIL counts" in capsys.readouterr().out

    wrong = table.copy()
    wrong["bytes per char"] = wrong["characters"] / wrong["bytes"]  # upside down
    assert not check.counts(TEXTS, tokenizer, wrong)
    assert "'bytes per char' should be bytes / characters" in capsys.readouterr().out

    assert not check.counts(TEXTS, tokenizer, ...)
    assert "fill in the blank first" in capsys.readouterr().out


def test_scatter_data(tokenizer, capsys):
    table = solution_table(tokenizer)
    panels = [
        (table["characters"], table["bytes"]),
        (table["characters"], table["tokens"]),
        (table["bytes"], table["tokens"]),
    ]
    assert check.scatter_data(table, panels)
    assert "PASS scatter_data" in capsys.readouterr().out

    swapped = [panels[0], (table["tokens"], table["characters"]), panels[2]]
    assert not check.scatter_data(table, swapped)
    out = capsys.readouterr().out
    assert "FAIL scatter_data" in out and "panel 2" in out

    assert not check.scatter_data(table, [panels[0], ..., panels[2]])
    assert "fill in the blank first" in capsys.readouterr().out
