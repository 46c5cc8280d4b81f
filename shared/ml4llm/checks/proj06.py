"""Self-checks for project 6, "Tokenization and compression in different languages".

``texts`` is the notebook's mapping language code -> text, and ``scripts`` maps each code to the
word its letters' Unicode names start with. The count table has one row per code (same order) and
the columns ``characters``, ``bytes``, ``tokens``, ``tokens per char``, ``bytes per char``,
``bytes per token`` and ``tokens vs English`` (names given in the notebook's hint). Every reference
is computed here from the texts and the tokenizer.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ml4llm.checks import check, require
from ml4llm.tokens import decode_token, visible

# Languages whose script needs more than one UTF-8 byte per letter.
MULTIBYTE = ("ar", "fa", "zh", "ta", "he")
ZWNJ = "\u200c"
REPLACEMENT = "\ufffd"
PERSIAN_ONLY = {"ARABIC LETTER KEHEH", "ARABIC LETTER FARSI YEH"}
ARABIC_ONLY = {"ARABIC LETTER KAF", "ARABIC LETTER YEH"}
# (text, script, allowed) probes with known foreign characters, next to the notebook's own texts.
PROBES = (
    ("abc \u062f\u0641\u062a\u0631", "ARABIC", ""),
    ("Hello, world 42!", "LATIN", ""),
    ("na\u00efve caf\u00e9 \u2013 ok", "LATIN", ""),
    ("\u05e9\u05dc\u05d5\u05dd \U0001f642", "HEBREW", ""),
    ("\u0645\u06cc\u200c\u06a9\u0646\u062f", "ARABIC", ""),
    ("\u0645\u06cc\u200c\u06a9\u0646\u062f", "ARABIC", ZWNJ),
    ("\u03a9mega", "LATIN", ""),
    ("\u9762\u5305\u3002x", "CJK UNIFIED IDEOGRAPH", ""),
)


def _foreign(text: str, script: str, allow: str = "") -> list[str]:
    """Letters and marks of another script, and characters that are neither digits, punctuation
    nor separators (unless allowed)."""
    foreign = []
    for ch in text:
        category = unicodedata.category(ch)
        if category[0] in "LM":
            if not unicodedata.name(ch).startswith(script):
                foreign.append(ch)
        elif category[0] not in "NPZ" and ch not in allow:
            foreign.append(ch)
    return foreign


def _letters(text: str) -> set[str]:
    return {unicodedata.name(ch) for ch in text if unicodedata.category(ch)[0] in "LM"}


def _reference(texts: Mapping[str, str], tokenizer: Any) -> dict[str, dict[str, Any]]:
    out = {}
    for code, text in texts.items():
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        out[code] = {
            "ids": ids,
            "characters": len(text),
            "bytes": len(text.encode("utf-8")),
            "tokens": len(ids),
        }
    return out


@check
def script_check(
    texts: Mapping[str, str],
    scripts: Mapping[str, str],
    foreign_characters: Callable[..., Any],
    foreign_by_code: Mapping[str, Sequence[str]],
    letters_by_code: Mapping[str, set[str]],
) -> str:
    """The foreign-character function (on the texts and on probes with known answers), the
    foreign characters of every text (none) and the names of its letters and marks."""
    probes = [(text, scripts[code], ZWNJ if code == "fa" else "") for code, text in texts.items()]
    for text, script, allow in [*probes, *PROBES]:
        got = foreign_characters(text, script, allow)
        require(
            got is not None,
            "foreign_characters returns None: fill in its body and return the list",
        )
        want = _foreign(text, script, allow)
        require(
            list(got) == want,
            f"foreign_characters({text[:20]!r}..., {script!r}, allow={allow!r}) should give "
            f"{want}, not {list(got)}: letters (L) and marks (M) need a name that starts with the "
            "script; N, P and Z characters and those in `allow` pass; anything else is foreign",
        )
    require(
        list(foreign_by_code) == list(texts) and list(letters_by_code) == list(texts),
        "foreign_by_code and letters_by_code need one entry per language code",
    )
    for code, text in texts.items():
        want = _foreign(text, scripts[code], ZWNJ if code == "fa" else "")
        require(
            list(foreign_by_code[code]) == want,
            f"{code!r}: its foreign characters are {want}; call foreign_characters with the "
            "language's script (and allow the ZWNJ in Persian only)",
        )
        require(
            set(letters_by_code[code]) == _letters(text),
            f"{code!r}: the letter names are off: unicodedata.name of every character whose "
            "category starts with L or M",
        )
    return (
        f"every text uses only its own script ({len(texts)} texts, {len(PROBES)} probes with "
        "known foreign characters)"
    )


@check
def kaf_and_yeh(
    texts: Mapping[str, str], arabic_kaf_yeh: set[str], persian_kaf_yeh: set[str]
) -> str:
    """The kaf and yeh letters of the Arabic and of the Persian text: each uses its own."""
    both = ARABIC_ONLY | PERSIAN_ONLY
    for code, got, own in (
        ("ar", arabic_kaf_yeh, ARABIC_ONLY),
        ("fa", persian_kaf_yeh, PERSIAN_ONLY),
    ):
        want = _letters(texts[code]) & both
        require(
            set(got) == want,
            f"{code!r} uses {sorted(want)}: intersect its letter names with both kaf/yeh sets",
        )
        require(want <= own, f"{code!r} uses a kaf or yeh of the other language: {sorted(want)}")
    return f"Arabic uses {sorted(arabic_kaf_yeh)}, Persian uses {sorted(persian_kaf_yeh)}"


@check
def round_trip(
    texts: Mapping[str, str],
    tokenizer: Any,
    ids: Mapping[str, Sequence[int]],
    decoded: Mapping[str, str],
) -> str:
    """The GPT-2 ids of every text, and decoding them gives every text back exactly."""
    require(len(ids) > 0, "ids is still empty: fill in the loop first")
    require(list(ids) == list(texts), "ids should map every language code to its token ids")
    require(list(decoded) == list(texts), "decoded should map every language code to its text")
    for code, ref in _reference(texts, tokenizer).items():
        require(
            list(map(int, ids[code])) == ref["ids"],
            f"the ids of {code!r} differ from encode(tokenizer, text) (no special tokens)",
        )
        require(
            decoded[code] == texts[code],
            f"decoding the ids of {code!r} does not give the text back: decode the whole id list "
            "at once with clean_up_tokenization_spaces=False",
        )
    return f"all {len(texts)} texts encode and decode back exactly"


@check
def token_pieces(
    texts: Mapping[str, str],
    tokenizer: Any,
    pieces: Mapping[str, Sequence[str]],
    n_replacement: Mapping[str, int],
) -> str:
    """Every token decoded on its own with visible white space, and how many pieces hold U+FFFD."""
    require(len(pieces) > 0, "pieces is still empty: fill in the loop first")
    require(
        list(pieces) == list(texts) and list(n_replacement) == list(texts),
        "pieces and n_replacement need one entry per language code",
    )
    total = 0
    for code, ref in _reference(texts, tokenizer).items():
        want = [visible(decode_token(tokenizer, i)) for i in ref["ids"]]
        require(
            list(pieces[code]) == want,
            f"the pieces of {code!r} are off: decode_token of each id, passed through visible()",
        )
        want_count = sum(REPLACEMENT in piece for piece in want)
        require(
            int(n_replacement[code]) == want_count,
            f"{code!r} has {want_count} pieces with U+FFFD, not {n_replacement[code]}",
        )
        total += want_count
    return f"{total} single-token pieces decode to U+FFFD (parts of multi-byte characters)"


@check
def counts(texts: Mapping[str, str], tokenizer: Any, table: Any) -> str:
    """Characters, UTF-8 bytes and GPT-2 tokens per language, and the four ratios."""
    require(isinstance(table, pd.DataFrame), "build one DataFrame with one row per language")
    require(
        list(table.index) == list(texts),
        "the table should have one row per language, in order, indexed by the codes",
    )
    ref = _reference(texts, tokenizer)
    for column, hint in [
        ("characters", "len(text)"),
        ("bytes", "len(text.encode('utf-8'))"),
        ("tokens", "the number of ids from encode(tokenizer, text)"),
    ]:
        require(column in table.columns, f"the table has no column {column!r}")
        want = [r[column] for r in ref.values()]
        require(
            np.array_equal(np.asarray(table[column]), want),
            f"some {column} counts are off: use {hint}",
        )
    first = next(iter(ref.values()))
    for column, numerator, denominator in [
        ("tokens per char", "tokens", "characters"),
        ("bytes per char", "bytes", "characters"),
        ("bytes per token", "bytes", "tokens"),
    ]:
        require(column in table.columns, f"the table has no column {column!r}")
        want = [r[numerator] / r[denominator] for r in ref.values()]
        require(
            np.allclose(np.asarray(table[column], dtype=float), want),
            f"{column!r} should be {numerator} / {denominator}",
        )
    require("tokens vs English" in table.columns, "the table has no column 'tokens vs English'")
    want = [r["tokens"] / first["tokens"] for r in ref.values()]
    require(
        np.allclose(np.asarray(table["tokens vs English"], dtype=float), want),
        "'tokens vs English' should be each language's tokens / English's tokens",
    )
    if "en" in texts:
        require(
            ref["en"]["bytes"] == ref["en"]["characters"],
            "English is pure ASCII: its bytes should equal its characters",
        )
    multi = [c for c in MULTIBYTE if c in texts]
    for code in multi:
        require(
            ref[code]["bytes"] > ref[code]["characters"],
            f"{code!r} should need more bytes than characters",
        )
    return f"English bytes = characters; bytes > characters for {', '.join(multi)}"


@check
def scatter_data(texts: Mapping[str, str], tokenizer: Any, panels: Sequence[Sequence[Any]]) -> str:
    """The (x, y) data of the three panels: chars vs bytes, chars vs tokens, bytes vs tokens."""
    wanted = [("characters", "bytes"), ("characters", "tokens"), ("bytes", "tokens")]
    ref = _reference(texts, tokenizer)
    require(len(panels) == 3, "give three (x, y) pairs, one per panel")
    for k, (pair, (x_name, y_name)) in enumerate(zip(panels, wanted)):
        require(len(pair) == 2, f"panel {k + 1} should be an (x, y) pair")
        x, y = (np.asarray(v, dtype=float) for v in pair)
        require(
            x.shape == (len(texts),) and np.array_equal(x, [r[x_name] for r in ref.values()]),
            f"panel {k + 1}: x should be the {x_name} of every language",
        )
        require(
            y.shape == (len(texts),) and np.array_equal(y, [r[y_name] for r in ref.values()]),
            f"panel {k + 1}: y should be the {y_name} of every language",
        )
    return "characters vs bytes, characters vs tokens, bytes vs tokens"
