"""Project 1's checks: each wrong answer gets its hint (the solution notebook is the pass test)."""

from __future__ import annotations

import functools
from pathlib import Path

import checkutil

from ml4llm.checks import proj01 as check
from ml4llm.models import load_tokenizer
from ml4llm.notebooks import read_notebook
from ml4llm.projects import get_project
from ml4llm.tokens import visible

ROOT = Path(__file__).resolve().parents[1]
SENTENCE = "A quiet mind hears what a busy mind never hears."


@functools.cache
def inputs() -> dict[str, tuple]:
    tokenizer = load_tokenizer("gpt2")
    return {
        "char_vocab": (SENTENCE,),
        "char_round_trip": (SENTENCE,),
        "word_round_trip": (SENTENCE,),
        "gpt2_round_trip": (SENTENCE, tokenizer),
        "scheme_counts": (SENTENCE, tokenizer),
        "gpt2_table": (SENTENCE, tokenizer),
    }


WRONG = {  # check -> [(learner value, wrong answer from the right values r, hint substring)]
    "char_vocab": [
        ("char_vocab", lambda r: [*r["char_vocab"], "A"], "duplicates"),
        ("char_vocab", lambda r: r["char_vocab"][::-1], "not sorted"),
        ("char_vocab", lambda r: r["char_vocab"][1:], "include spaces"),
        ("char_vocab", lambda r: ["ab", *r["char_vocab"][2:]], "one character"),
    ],
    "char_round_trip": [
        # the finding of issue 11: a wrong vocabulary with indices into it used to pass
        ("char_vocab", lambda r: r["char_vocab"][::-1], "char_vocab: the vocabulary is not sorted"),
        ("char_ids", lambda r: [SENTENCE.index(c) for c in SENTENCE], "positions"),
        ("char_ids", lambda r: [i + 1 for i in r["char_ids"]], "do not point"),
        ("char_decoded", lambda r: SENTENCE.lower(), "join the characters"),
    ],
    "word_round_trip": [
        ("word_vocab", lambda r: r["word_vocab"][::-1], "sorted(set(sentence.split"),
        ("word_ids", lambda r: r["word_ids"][::-1], "do not point at their word"),
        ("word_decoded", lambda r: "".join(SENTENCE.split()), "join the words"),
    ],
    "gpt2_round_trip": [
        ("gpt2_ids", lambda r: [50256, *r["gpt2_ids"]], "add_special_tokens=False"),
        ("gpt2_pieces", lambda r: [p.strip() for p in r["gpt2_pieces"]], "spaces kept"),
        ("gpt2_pieces", lambda r: ["".join(r["gpt2_pieces"])], "one piece per id"),
    ],
    "scheme_counts": [
        ("totals", lambda r: r["uniques"], "token counts of [characters"),
        ("uniques", lambda r: r["totals"], "count each distinct token once"),
    ],
    "gpt2_table": [
        ("gpt2_table", lambda r: r["gpt2_table"].drop(columns="decoded"), "'decoded'"),
        ("gpt2_table", lambda r: r["gpt2_table"].iloc[::-1], "'id'"),
        ("gpt2_table", lambda r: r["gpt2_table"].assign(decoded=r["gpt2_pieces"]), "plain spaces"),
        (
            "gpt2_table",
            lambda r: r["gpt2_table"].assign(
                **{"vocabulary entry": [visible(p) for p in r["gpt2_pieces"]]}
            ),
            "convert_ids_to_tokens",
        ),
    ],
}

test_wrong_answers = checkutil.wrong_answers(check, inputs, WRONG)


def test_part_3_introduces_encode_and_decode_token_before_its_blank():
    nb = read_notebook(ROOT / get_project(1).notebook("helper"))
    cells = [c.source for c in nb.cells]
    blank = next(i for i, c in enumerate(cells) if c.startswith("gpt2_ids = ..."))
    before = "\n".join(cells[:blank])
    assert "encode(tokenizer, text)" in before and "decode_token(tokenizer, i)" in before
