"""Self-checks for project 6, "Tokenization and compression in different languages".

``texts`` maps a language code to its text and ``scripts`` maps each code to the word its letters'
Unicode names start with. Every reference is computed here from the texts, the scripts and the
tokenizer; the learner's functions are also run on probes whose answers are known.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ml4llm.checks import Expect, check, common, require
from ml4llm.tokens import decode_token, encode, visible

ZWNJ = "\u200c"
REPLACEMENT = "\ufffd"
KAF, YEH, KEHEH, FARSI_YEH = (f"ARABIC LETTER {n}" for n in ("KAF", "YEH", "KEHEH", "FARSI YEH"))
ARABIC_ONLY, PERSIAN_ONLY = {KAF, YEH}, {KEHEH, FARSI_YEH}
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
# Texts with a known mix of kaf and yeh letters: "book" in Arabic and Persian, "one", "in all".
KAF_YEH_PROBES = (
    "\u0643\u062a\u0627\u0628",
    "\u06a9\u062a\u0627\u0628",
    "\u06cc\u06a9",
    "\u0641\u064a \u0643\u0644",
    "\u0633\u0644\u0627\u0645",
)
FOREIGN = (
    "letters (L) and marks (M) need a name that starts with the script; N, P and Z characters and "
    "those in `allow` pass; anything else is foreign"
)
ENCODE = "encode(tokenizer, text)"
VS_ENGLISH = "'tokens vs English' should be each language's tokens / English's tokens"
WHOLE_SET = "this is a whole set, whatever the text holds: keep the letters that occur in the text"


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


def _kaf_yeh(text: str) -> set[str]:
    return _letters(text) & (ARABIC_ONLY | PERSIAN_ONLY)


def _allow(code: str) -> str:
    return ZWNJ if code == "fa" else ""


def _scripts(texts: Mapping[str, str], scripts: Mapping[str, str]) -> dict[str, Any]:
    return {
        "foreign_characters": _foreign,
        "foreign_by_code": {c: _foreign(t, scripts[c], _allow(c)) for c, t in texts.items()},
        "letters_by_code": {c: _letters(t) for c, t in texts.items()},
    }


def _kaf(texts: Mapping[str, str]) -> dict[str, Any]:
    for code, own in (("ar", ARABIC_ONLY), ("fa", PERSIAN_ONLY)):
        used = _kaf_yeh(texts[code])
        require(used <= own, f"{code!r} uses a kaf or yeh of the other language: {sorted(used)}")
    return {"kaf_yeh_letters": _kaf_yeh}


def _tokens(texts: Mapping[str, str], tokenizer: Any) -> dict[str, Any]:
    """Parts 1 and 2: ids, decoded texts, pieces, the count table and the scatter data."""
    ids = {code: encode(tokenizer, text) for code, text in texts.items()}
    plain = {code: [decode_token(tokenizer, i) for i in ids[code]] for code in texts}
    pieces = {code: [visible(p) for p in plain[code]] for code in texts}
    n = {"characters": [len(t) for t in texts.values()], "tokens": [len(i) for i in ids.values()]}
    n["bytes"] = [len(t.encode("utf-8")) for t in texts.values()]
    chars, n_bytes, tokens = (np.array(n[k]) for k in ("characters", "bytes", "tokens"))
    table = pd.DataFrame(
        n
        | {"tokens per char": tokens / chars, "bytes per char": n_bytes / chars}
        | {"bytes per token": n_bytes / tokens, "tokens vs English": tokens / tokens[0]},
        index=list(texts),
    )
    multi = [i for i, b in enumerate(n_bytes) if b > chars[i]]
    english = list(texts).index("en") if "en" in texts else None
    axes = [("characters", "bytes"), ("characters", "tokens"), ("bytes", "tokens")]
    panels = [(n[x], n[y]) for x, y in axes]
    return {
        "ids": Expect(ids, "the ids differ from encode(tokenizer, text) (no special tokens)"),
        "decoded": Expect(
            dict(texts),
            "decoding the ids does not give the text back: decode the whole id list at once "
            "with clean_up_tokenization_spaces=False",
            traps=[
                (
                    {c: "".join(p) for c, p in plain.items()},
                    "pieces decoded one by one turn "
                    "split characters into U+FFFD: decode the whole id list at once",
                )
            ],
        ),
        "pieces": Expect(
            pieces,
            "the pieces are off: decode_token of each id, passed through visible()",
            traps=[(plain, "white space is not visible: pass each piece through visible()")],
        ),
        "n_replacement": Expect(
            {c: sum(REPLACEMENT in p for p in pieces[c]) for c in texts},
            "count the pieces that hold U+FFFD ('\\ufffd' in piece)",
        ),
        "table": Expect(
            table,
            columns={
                "characters": "some characters counts are off: use len(text)",
                "bytes": (
                    "some bytes counts are off: use len(text.encode('utf-8'))",
                    [
                        (chars, "these count characters: use len(text.encode('utf-8'))"),
                        (
                            lambda v: english is not None and v[english] != chars[english],
                            "English is pure ASCII: its bytes should equal its characters",
                        ),
                        (
                            lambda v: np.any(v[multi] <= chars[multi]),
                            "the languages of other scripts should need more bytes than characters",
                        ),
                    ],
                ),
                "tokens": f"some tokens counts are off: use the number of ids from {ENCODE}",
                "tokens per char": "'tokens per char' should be tokens / characters",
                "bytes per char": "'bytes per char' should be bytes / characters",
                "bytes per token": (
                    "'bytes per token' should be bytes / tokens",
                    [
                        (
                            tokens / n_bytes,
                            "this is tokens / bytes: bytes per token is bytes / tokens",
                        )
                    ],
                ),
                "tokens vs English": (
                    VS_ENGLISH,
                    [
                        (
                            tokens[0] / tokens,
                            "this is English's tokens / the language's: turn it over",
                        )
                    ],
                ),
            },
        ),
        "panels": Expect(
            panels,
            "panels should be [(characters, bytes), (characters, tokens), (bytes, tokens)], "
            "each of every language in the order of texts",
            traps=[
                (lambda v: len(v) != 3, "give three (x, y) pairs, one per panel"),
                (lambda v: v.ndim != 3 or v.shape[1] != 2, "each panel should be an (x, y) pair"),
                ([(y, x) for x, y in panels], "x and y are swapped in every panel"),
            ],
        ),
    }


def _call(function: Any, name: str, *args: Any) -> Any:
    result = common.call(function, *args, name=name, returns="a list or set of the characters")
    require(
        isinstance(result, (list, tuple, set, frozenset)),
        f"{name}(...) should return a list or set, got {common.describe(result)}",
    )
    return result


def _per_code(value: Any, name: str, codes: list[str]) -> None:
    got = f"got {common.describe(value)}"
    require(isinstance(value, Mapping), f"{name}: expected a dict language code -> ..., {got}")
    require(list(value) == codes, f"{name} needs one entry per language code, in order: {codes}")
    for code, item in value.items():
        require(
            isinstance(item, (list, tuple, set, frozenset)),
            f"{name}[{code!r}]: expected a list or set, got {common.describe(item)}",
        )


@check(reference=_scripts)
def script_check(
    texts, scripts, *, foreign_characters, foreign_by_code, letters_by_code, ref: dict
) -> str:
    """The foreign-character function (on the texts and on probes with known answers), the
    foreign characters of every text (none) and the names of its letters and marks."""
    probes = [(text, scripts[code], _allow(code)) for code, text in texts.items()]
    for text, script, allow in [*probes, *PROBES]:
        got = _call(foreign_characters, "foreign_characters", text, script, allow)
        want = _foreign(text, script, allow)
        require(
            list(got) == want,
            f"foreign_characters({text[:20]!r}..., {script!r}, allow={allow!r}) should give "
            f"{want}, not {list(got)}: {FOREIGN}",
        )
    for name, value in (("foreign_by_code", foreign_by_code), ("letters_by_code", letters_by_code)):
        _per_code(value, name, list(texts))
    for code in texts:
        want = ref["foreign_by_code"][code]
        require(
            list(foreign_by_code[code]) == want,
            f"{code!r}: its foreign characters are {want}; call foreign_characters with the "
            "language's script (and allow the ZWNJ in Persian only)",
        )
        require(
            set(letters_by_code[code]) == ref["letters_by_code"][code],
            f"{code!r}: the letter names are off: unicodedata.name of every character whose "
            "category starts with L or M",
        )
    return f"every text uses only its own script ({len(texts)} texts, {len(PROBES)} probes)"


@check(reference=_kaf)
def kaf_and_yeh(texts, *, kaf_yeh_letters) -> str:
    """The kaf and yeh letters of a text, on the Arabic and Persian texts and on probes."""
    for text in [texts["ar"], texts["fa"], *KAF_YEH_PROBES]:
        got, want = set(_call(kaf_yeh_letters, "kaf_yeh_letters", text)), _kaf_yeh(text)
        whole = got in (ARABIC_ONLY, PERSIAN_ONLY) and got != want
        require(not whole, f"kaf_yeh_letters({text!r}): {WHOLE_SET}")
        require(
            got == want,
            f"kaf_yeh_letters({text!r}) should give {sorted(want)}, not {sorted(got)}: intersect "
            "the names of its letters with both kaf/yeh sets",
        )
    return f"Arabic uses {sorted(_kaf_yeh(texts['ar']))}, Persian {sorted(_kaf_yeh(texts['fa']))}"


@check(reference=_tokens)
def round_trip(texts, tokenizer, *, ids, decoded) -> str:
    """The GPT-2 ids of every text, and decoding them gives every text back exactly."""
    return f"all {len(texts)} texts encode and decode back exactly"


@check(reference=_tokens)
def token_pieces(texts, tokenizer, *, pieces, n_replacement, ref: dict) -> str:
    """Every token decoded on its own with visible white space, and how many pieces hold U+FFFD."""
    total = sum(ref["n_replacement"].values())
    return f"{total} single-token pieces decode to U+FFFD (parts of multi-byte characters)"


@check(reference=_tokens)
def counts(texts, tokenizer, *, table, ref: dict) -> str:
    """Characters, UTF-8 bytes and GPT-2 tokens per language, and the four ratios."""
    right = ref["table"]
    multi = ", ".join(right.index[right["bytes"] > right["characters"]])
    return f"English bytes = characters; bytes > characters for {multi}"


@check(reference=_tokens)
def scatter_data(texts, tokenizer, *, panels) -> str:
    """The (x, y) data of the three panels: chars vs bytes, chars vs tokens, bytes vs tokens."""
    return "characters vs bytes, characters vs tokens, bytes vs tokens"
