"""Project 6's self-checks pass on the solution's values, fail on wrong ones, and spot blanks."""

import os

os.environ["ML4LLM_PROFILE"] = "offline"
os.environ["HF_HUB_OFFLINE"] = "1"

import unicodedata  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from ml4llm.checks import proj06 as check  # noqa: E402
from ml4llm.models import load_tokenizer  # noqa: E402
from ml4llm.tokens import decode_token, visible  # noqa: E402

# Short parallel texts: enough scripts to exercise every rule of the checks.
TEXTS = {
    "en": "The bread is warm.",
    "es": "El pan está caliente.",
    "ar": "كل يوم الخبز دافئ.",
    "zh": "面包是温暖的。",
    "he": "הלחם חם.",
    "fa": "نان گرم می‌شود.",
}
SCRIPTS = {
    "en": "LATIN",
    "es": "LATIN",
    "ar": "ARABIC",
    "zh": "CJK UNIFIED IDEOGRAPH",
    "he": "HEBREW",
    "fa": "ARABIC",
}
ZWNJ = "\u200c"


def foreign_characters(text, script, allow=""):
    foreign = []
    for ch in text:
        category = unicodedata.category(ch)
        if category[0] in "LM":
            if not unicodedata.name(ch).startswith(script):
                foreign.append(ch)
        elif category[0] not in "NPZ" and ch not in allow:
            foreign.append(ch)
    return foreign


def letters(text):
    return {unicodedata.name(ch) for ch in text if unicodedata.category(ch)[0] in "LM"}


def solution_scripts():
    foreign = {
        c: foreign_characters(t, SCRIPTS[c], ZWNJ if c == "fa" else "") for c, t in TEXTS.items()
    }
    return foreign, {c: letters(t) for c, t in TEXTS.items()}


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
    n_chars = [len(t) for t in TEXTS.values()]
    n_bytes = [len(t.encode("utf-8")) for t in TEXTS.values()]
    n_tokens = [len(ids[c]) for c in TEXTS]
    return pd.DataFrame(
        {
            "characters": n_chars,
            "bytes": n_bytes,
            "tokens": n_tokens,
            "tokens per char": np.array(n_tokens) / np.array(n_chars),
            "bytes per char": np.array(n_bytes) / np.array(n_chars),
            "bytes per token": np.array(n_bytes) / np.array(n_tokens),
            "tokens vs English": np.array(n_tokens) / n_tokens[0],
        },
        index=list(TEXTS),
    )


def test_script_check(capsys):
    foreign, names = solution_scripts()
    assert check.script_check(TEXTS, SCRIPTS, foreign_characters, foreign, names)
    assert "PASS script_check" in capsys.readouterr().out

    def letters_only(text, script, allow=""):  # forgets the characters outside L, M, N, P, Z
        return [
            ch
            for ch in text
            if unicodedata.category(ch)[0] in "LM" and not unicodedata.name(ch).startswith(script)
        ]

    assert not check.script_check(TEXTS, SCRIPTS, letters_only, foreign, names)
    out = capsys.readouterr().out
    assert "FAIL script_check" in out and "anything else is foreign" in out

    def stub(text, script, allow=""):  # the helper's body: ... returns None
        ...

    assert not check.script_check(TEXTS, SCRIPTS, stub, foreign, names)
    assert "returns None" in capsys.readouterr().out

    no_allow = {c: foreign_characters(t, SCRIPTS[c]) for c, t in TEXTS.items()}  # ZWNJ flagged
    assert not check.script_check(TEXTS, SCRIPTS, foreign_characters, no_allow, names)
    assert "ZWNJ" in capsys.readouterr().out

    only_l = {
        c: {unicodedata.name(ch) for ch in t if unicodedata.category(ch)[0] == "L"}
        for c, t in TEXTS.items()
    }
    if only_l != names:
        assert not check.script_check(TEXTS, SCRIPTS, foreign_characters, foreign, only_l)
        assert "L or M" in capsys.readouterr().out

    assert not check.script_check(
        TEXTS, SCRIPTS, foreign_characters, {c: ... for c in TEXTS}, names
    )
    assert "fill in the blank first" in capsys.readouterr().out


def test_kaf_and_yeh(capsys):
    both = {
        "ARABIC LETTER KEHEH",
        "ARABIC LETTER FARSI YEH",
        "ARABIC LETTER KAF",
        "ARABIC LETTER YEH",
    }
    arabic, persian = letters(TEXTS["ar"]) & both, letters(TEXTS["fa"]) & both
    assert check.kaf_and_yeh(TEXTS, arabic, persian)
    assert "PASS kaf_and_yeh" in capsys.readouterr().out

    assert not check.kaf_and_yeh(TEXTS, persian, arabic)  # swapped
    assert "FAIL kaf_and_yeh" in capsys.readouterr().out

    assert not check.kaf_and_yeh(TEXTS, letters(TEXTS["ar"]), persian)  # no intersection
    assert "intersect" in capsys.readouterr().out

    mixed = dict(TEXTS, fa=TEXTS["fa"].replace("\u06cc", "\u064a"))  # an Arabic yeh in Persian
    mixed_persian = letters(mixed["fa"]) & both
    assert not check.kaf_and_yeh(mixed, arabic, mixed_persian)
    assert "of the other language" in capsys.readouterr().out

    assert not check.kaf_and_yeh(TEXTS, arabic, ...)
    assert "fill in the blank first" in capsys.readouterr().out


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


def test_token_pieces(tokenizer, capsys):
    ids, _ = solution_ids(tokenizer)
    pieces = {c: [visible(decode_token(tokenizer, i)) for i in ids[c]] for c in TEXTS}
    n_replacement = {c: sum("\ufffd" in p for p in pieces[c]) for c in TEXTS}
    assert check.token_pieces(TEXTS, tokenizer, pieces, n_replacement)
    assert "PASS token_pieces" in capsys.readouterr().out

    raw = {c: tokenizer.convert_ids_to_tokens(ids[c]) for c in TEXTS}  # vocabulary entries
    assert not check.token_pieces(TEXTS, tokenizer, raw, n_replacement)
    assert "decode_token" in capsys.readouterr().out

    zeros = {c: 0 for c in TEXTS}
    assert not check.token_pieces(TEXTS, tokenizer, pieces, zeros)
    assert "U+FFFD" in capsys.readouterr().out

    assert not check.token_pieces(TEXTS, tokenizer, {}, {})
    assert "still empty" in capsys.readouterr().out

    assert not check.token_pieces(TEXTS, tokenizer, pieces, {c: ... for c in TEXTS})
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

    wrong = table.copy()
    wrong["tokens vs English"] = wrong["tokens"] / wrong["tokens"].max()
    assert not check.counts(TEXTS, tokenizer, wrong)
    assert "English's tokens" in capsys.readouterr().out

    assert not check.counts(TEXTS, tokenizer, table.drop(columns="bytes per token"))
    assert "no column 'bytes per token'" in capsys.readouterr().out

    assert not check.counts(TEXTS, tokenizer, ...)
    assert "fill in the blank first" in capsys.readouterr().out


def test_scatter_data(tokenizer, capsys):
    table = solution_table(tokenizer)
    n_chars, n_bytes, n_tokens = (list(table[c]) for c in ("characters", "bytes", "tokens"))
    panels = [(n_chars, n_bytes), (n_chars, n_tokens), (n_bytes, n_tokens)]
    assert check.scatter_data(TEXTS, tokenizer, panels)
    assert "PASS scatter_data" in capsys.readouterr().out

    swapped = [panels[0], (n_tokens, n_chars), panels[2]]
    assert not check.scatter_data(TEXTS, tokenizer, swapped)
    out = capsys.readouterr().out
    assert "FAIL scatter_data" in out and "panel 2" in out

    assert not check.scatter_data(TEXTS, tokenizer, [([], [])] * 3)
    assert "panel 1" in capsys.readouterr().out

    assert not check.scatter_data(TEXTS, tokenizer, [panels[0], ..., panels[2]])
    assert "fill in the blank first" in capsys.readouterr().out
