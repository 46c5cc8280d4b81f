"""Self-checks for project 6, "Tokenization and compression in different languages".

``texts`` is the notebook's mapping language code -> text. The count table has one row per code
(same order) and the columns ``characters``, ``bytes``, ``tokens``, ``tokens per char`` and
``bytes per char`` (names set by the notebook).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ml4llm.checks import check, require

# Languages whose script needs more than one UTF-8 byte per letter.
MULTIBYTE = ("ar", "fa", "zh", "ta", "he")


def _reference(texts: Mapping[str, str], tokenizer: Any) -> dict[str, dict[str, Any]]:
    out = {}
    for code, text in texts.items():
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        out[code] = {"ids": ids, "characters": len(text), "bytes": len(text.encode("utf-8"))}
    return out


@check
def round_trip(
    texts: Mapping[str, str],
    tokenizer: Any,
    ids: Mapping[str, Sequence[int]],
    decoded: Mapping[str, str],
) -> str:
    """The GPT-2 ids of every text, and decoding them gives every text back exactly."""
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
def counts(texts: Mapping[str, str], tokenizer: Any, table: Any) -> str:
    """Characters, UTF-8 bytes and GPT-2 tokens per language, and tokens and bytes per character."""
    require(
        list(table.index) == list(texts), "the table should have one row per language, in order"
    )
    ref = _reference(texts, tokenizer)
    for column, hint in [
        ("characters", "len(text)"),
        ("bytes", "len(text.encode('utf-8'))"),
        ("tokens", "the number of ids from encode(tokenizer, text)"),
    ]:
        require(column in table.columns, f"the table has no column {column!r}")
        want = [len(r["ids"]) if column == "tokens" else r[column] for r in ref.values()]
        require(
            np.array_equal(np.asarray(table[column]), want),
            f"some {column} counts are off: use {hint}",
        )
    for column, numerator in [("tokens per char", "tokens"), ("bytes per char", "bytes")]:
        require(column in table.columns, f"the table has no column {column!r}")
        require(
            np.allclose(
                np.asarray(table[column], dtype=float), table[numerator] / table["characters"]
            ),
            f"{column!r} should be {numerator} / characters",
        )
    if "en" in texts:
        require(
            int(table.loc["en", "bytes"]) == int(table.loc["en", "characters"]),
            "English is pure ASCII: its bytes should equal its characters",
        )
    for code in MULTIBYTE:
        if code in texts:
            require(
                int(table.loc[code, "bytes"]) > int(table.loc[code, "characters"]),
                f"{code!r} should need more bytes than characters",
            )
    multi = [c for c in MULTIBYTE if c in texts]
    return f"English bytes = characters; bytes > characters for {', '.join(multi)}"


@check
def scatter_data(table: Any, panels: Sequence[Sequence[Any]]) -> str:
    """The (x, y) data of the three panels: chars vs bytes, chars vs tokens, bytes vs tokens."""
    wanted = [("characters", "bytes"), ("characters", "tokens"), ("bytes", "tokens")]
    require(len(panels) == 3, "give three (x, y) pairs, one per panel")
    for k, (pair, (x_name, y_name)) in enumerate(zip(panels, wanted)):
        require(len(pair) == 2, f"panel {k + 1} should be an (x, y) pair")
        x, y = (np.asarray(v, dtype=float) for v in pair)
        require(
            np.array_equal(x, np.asarray(table[x_name], dtype=float)),
            f"panel {k + 1}: x should be the {x_name} column",
        )
        require(
            np.array_equal(y, np.asarray(table[y_name], dtype=float)),
            f"panel {k + 1}: y should be the {y_name} column",
        )
    return "characters vs bytes, characters vs tokens, bytes vs tokens"
