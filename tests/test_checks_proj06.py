"""Project 6's checks: each wrong answer gets its hint (the solution notebook is the pass test)."""

from __future__ import annotations

import functools
import unicodedata

import checkutil

from ml4llm.checks import proj06 as check
from ml4llm.models import load_tokenizer
from ml4llm.tokens import decode_token

# Short parallel texts: enough scripts to exercise every rule of the checks.
TEXTS = {
    "en": "The bread is warm.",
    "es": "El pan está caliente.",
    "ar": "كل يوم الخبز دافئ.",
    "zh": "面包是温暖的。",
    "he": "הלחם חם.",
    "fa": "یک نان گرم می‌شود.",
}
SCRIPTS = {"en": "LATIN", "es": "LATIN", "ar": "ARABIC", "zh": "CJK UNIFIED IDEOGRAPH"}
SCRIPTS |= {"he": "HEBREW", "fa": "ARABIC"}


@functools.cache
def inputs() -> dict[str, tuple]:
    tokens = (TEXTS, load_tokenizer("gpt2"))
    return {
        "script_check": (TEXTS, SCRIPTS),
        "kaf_and_yeh": (TEXTS,),
        **dict.fromkeys(["round_trip", "token_pieces", "counts", "scatter_data"], tokens),
    }


def names_of(category: str):  # a letter test that takes the wrong category
    return lambda text, script, allow="": [
        ch
        for ch in text
        if unicodedata.category(ch)[0] == category and not unicodedata.name(ch).startswith(script)
    ]


def no_allow(text, script, allow=""):
    return check._foreign(text, script)


def column(name: str, change):
    return lambda r: r["table"].assign(**{name: change(r["table"])})


def each(key: str, change):
    return lambda r: {code: change(value) for code, value in r[key].items()}


def plain_pieces(r: dict) -> dict[str, list[str]]:  # each id decoded alone, spaces as they are
    tokenizer = inputs()["round_trip"][1]
    return {code: [decode_token(tokenizer, i) for i in ids] for code, ids in r["ids"].items()}


WRONG = {  # check -> [(learner value, wrong answer from the right values r, hint substring)]
    "script_check": [
        ("foreign_characters", lambda r: names_of("L"), "anything else is foreign"),
        ("foreign_characters", lambda r: lambda *args: None, "returned None"),
        ("foreign_characters", lambda r: lambda *args: "x", "should return a list or set"),
        ("foreign_by_code", lambda r: {**r["foreign_by_code"], "fa": ["\u200c"]}, "allow the ZWNJ in Persian only"),
        ("foreign_by_code", lambda r: dict(list(r["foreign_by_code"].items())[1:]), "one entry per language code"),
        ("foreign_by_code", lambda r: {c: None for c in TEXTS}, "expected a list or set, got None"),
        ("letters_by_code", lambda r: {c: set(TEXTS[c]) for c in TEXTS}, "L or M"),
        ("letters_by_code", lambda r: list(r["letters_by_code"].values()), "expected a dict language code"),
    ],
    "kaf_and_yeh": [
        # issue 11: the whole sets passed, as the two texts use exactly their own letters
        ("kaf_yeh_letters", lambda r: lambda text: check.ARABIC_ONLY, "this is a whole set"),
        ("kaf_yeh_letters", lambda r: lambda text: check.PERSIAN_ONLY, "this is a whole set"),
        ("kaf_yeh_letters", lambda r: lambda text: check._letters(text) & check.ARABIC_ONLY, "intersect the names"),
    ],
    "round_trip": [
        ("ids", each("ids", lambda ids: [*ids, 50256]), "no special tokens"),
        ("decoded", each("decoded", lambda text: text[:-1]), "decode the whole id list at once with clean_up"),
        ("decoded", lambda r: {c: "".join(p) for c, p in plain_pieces(r).items()}, "turn split characters into U+FFFD"),
    ],
    "token_pieces": [
        ("pieces", lambda r: plain_pieces(r), "white space is not visible"),
        ("pieces", each("pieces", lambda p: p[::-1]), "decode_token of each id"),
        ("n_replacement", each("n_replacement", lambda n: n + 1), "count the pieces that hold U+FFFD"),
    ],
    "counts": [
        # bytes counted as characters: English and the other scripts tell them apart
        ("table", column("bytes", lambda t: t["characters"]), "these count characters"),
        ("table", column("bytes", lambda t: t["bytes"] + 1), "English is pure ASCII"),
        ("table", column("bytes", lambda t: t["bytes"].where(t.index.isin(["en", "es"]), t["characters"])), "more bytes than characters"),
        ("table", column("bytes", lambda t: t["bytes"].where(t.index != "es", 99)), "encode('utf-8')"),
        ("table", column("characters", lambda t: t["characters"] + 1), "len(text)"),
        ("table", column("tokens", lambda t: t["tokens"] + 1), "the number of ids"),
        ("table", column("tokens per char", lambda t: t["characters"] / t["tokens"]), "tokens / characters"),
        ("table", column("bytes per char", lambda t: t["characters"] / t["bytes"]), "bytes / characters"),
        ("table", column("bytes per token", lambda t: t["tokens"] / t["bytes"]), "this is tokens / bytes"),
        ("table", column("bytes per token", lambda t: t["bytes per token"] + 1), "should be bytes / tokens"),
        ("table", column("tokens vs English", lambda t: t["tokens"].iloc[0] / t["tokens"]), "turn it over"),
        ("table", column("tokens vs English", lambda t: t["tokens"] / 10), "English's tokens"),
        ("table", lambda r: r["table"].drop(columns="bytes per token"), "'bytes per token' missing"),
        ("table", lambda r: r["table"].reset_index(drop=True), "the index should be ['en'"),
    ],
    "scatter_data": [
        ("panels", lambda r: r["panels"][:2], "three (x, y) pairs"),
        ("panels", lambda r: [(x,) for x, y in r["panels"]], "an (x, y) pair"),
        ("panels", lambda r: [(y, x) for x, y in r["panels"]], "swapped"),
        ("panels", lambda r: r["panels"][::-1], "(characters, bytes), (characters, tokens)"),
    ],
}  # fmt: skip

test_wrong_answers = checkutil.wrong_answers(check, inputs, WRONG)


def test_texts_that_mix_arabic_and_persian_letters_are_named(capsys):
    mixed = {**TEXTS, "ar": TEXTS["ar"] + " \u06a9"}  # a Persian keheh in the Arabic text
    result = check.kaf_and_yeh(mixed, kaf_yeh_letters=check._kaf_yeh)
    assert not result and "'ar' uses a kaf or yeh of the other language" in result.message
