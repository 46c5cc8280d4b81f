"""Self-checks for project 1, "Three tokenization schemes"."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ml4llm.checks import Expect, check
from ml4llm.tokens import decode_token, encode, visible

SCHEMES = "[characters, words, GPT-2 tokens]"


def _reference(sentence: str, tokenizer: Any = None) -> dict[str, Any]:
    """The right value of every learner variable, from the sentence and GPT-2's tokenizer."""
    chars, words = sorted(set(sentence)), sorted(set(sentence.split()))
    vocab_traps = [
        (lambda v: any(len(c) != 1 for c in v), "every vocabulary entry should be one character"),
        (lambda v: len(set(v)) < len(v), "the vocabulary has duplicates: build it from a set"),
        (lambda v: sorted(v) == chars, "the vocabulary is not sorted: use sorted(...)"),
        (lambda v: set(v) < set(chars), "characters are missing: include spaces and punctuation"),
    ]
    positions = [sentence.index(c) for c in sentence]
    ref = {
        "char_vocab": Expect(
            chars, "char_vocab should be sorted(set(sentence))", traps=vocab_traps
        ),
        "char_ids": Expect(
            [chars.index(c) for c in sentence],
            "some indices do not point at their character in the sorted vocabulary",
            traps=[
                (positions, "these are positions in the sentence: look each one up in char_vocab")
            ],
        ),
        "char_decoded": Expect(
            sentence, "decoding does not give the sentence back: join the characters with ''"
        ),
        "word_vocab": Expect(words, "the word vocabulary should be sorted(set(sentence.split()))"),
        "word_ids": Expect(
            [words.index(w) for w in sentence.split()],
            "some indices do not point at their word in the vocabulary",
        ),
        "word_decoded": Expect(
            sentence, "decoding does not give the sentence back: join the words with ' '"
        ),
    }
    if tokenizer is None:
        return ref
    ids = encode(tokenizer, sentence)
    pieces = [decode_token(tokenizer, i) for i in ids]
    table = pd.DataFrame(
        {
            "id": ids,
            "decoded": [visible(p) for p in pieces],
            "vocabulary entry": tokenizer.convert_ids_to_tokens(ids),
        }
    )
    totals = [len(sentence), len(sentence.split()), len(ids)]
    plain = [(pieces, "plain spaces: make them visible with visible(...)")]
    return ref | {
        "gpt2_ids": Expect(
            ids, "the ids differ from tokenizer(sentence, add_special_tokens=False)"
        ),
        "gpt2_pieces": Expect(
            pieces,
            "joining the decoded pieces does not give the sentence: decode one id at a time "
            "(decode_token), spaces kept",
            traps=[(lambda v: len(v) != len(ids), "decode each id on its own: one piece per id")],
        ),
        "totals": Expect(totals, f"the token counts of {SCHEMES}"),
        "uniques": Expect(
            [len(chars), len(words), len(set(ids))],
            f"the distinct tokens of {SCHEMES}, each len(set(...))",
            traps=[(totals, "uniques equals totals: count each distinct token once (a set)")],
        ),
        "gpt2_table": Expect(
            table,
            columns={
                "id": "the 'id' column should hold the sentence's ids in order",
                "decoded": ("decode each id alone, then make spaces visible", plain),
                "vocabulary entry": "use tokenizer.convert_ids_to_tokens (a leading space shows as "
                "Ġ)",
            },
        ),
    }


@check(reference=_reference)
def char_vocab(sentence, *, char_vocab) -> str:
    """The character vocabulary: sorted, no duplicates, one entry per distinct character."""
    return f"{len(char_vocab)} distinct characters, sorted"


@check(reference=_reference)
def char_round_trip(sentence, *, char_vocab, char_ids, char_decoded) -> str:
    """The indices into the sorted vocabulary, and the sentence decoded back from them."""
    return f"{len(sentence)} characters encoded and decoded back"


@check(reference=_reference)
def word_round_trip(sentence, *, word_vocab, word_ids, word_decoded) -> str:
    """The word scheme: sorted unique whitespace-split words, indices, and the decoded sentence."""
    return f"{len(word_ids)} words, {len(word_vocab)} distinct"


@check(reference=_reference)
def gpt2_round_trip(sentence, tokenizer, *, gpt2_ids, gpt2_pieces) -> str:
    """GPT-2 ids of the sentence (no special tokens) and their decoded pieces join back to it."""
    return f"{len(gpt2_ids)} GPT-2 tokens join back to the sentence exactly"


@check(reference=_reference)
def scheme_counts(sentence, tokenizer, *, totals, uniques, ref: dict) -> str:
    """Totals and uniques for [characters, words, GPT-2 tokens]."""
    return f"totals {ref['totals']}, uniques {ref['uniques']}"


@check(reference=_reference)
def gpt2_table(sentence, tokenizer, *, gpt2_table) -> str:
    """One row per GPT-2 token: id, decoded text with visible spaces, raw vocabulary entry."""
    return f"{len(gpt2_table)} rows; the raw entries show leading spaces as Ġ"
