"""Self-checks for project 1, "Three tokenization schemes"."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ml4llm.checks import check, require
from ml4llm.tokens import visible


@check
def char_vocab(sentence: str, vocab: Sequence[str]) -> str:
    """The character vocabulary: sorted, no duplicates, one entry per distinct character."""
    vocab = list(vocab)
    require(
        all(isinstance(c, str) and len(c) == 1 for c in vocab),
        "every vocabulary entry should be one character",
    )
    require(len(vocab) == len(set(vocab)), "the vocabulary has duplicates: build it from a set")
    require(vocab == sorted(vocab), "the vocabulary is not sorted: use sorted(...)")
    require(
        len(vocab) == len(set(sentence)),
        f"expected {len(set(sentence))} distinct characters, got {len(vocab)}: include spaces and punctuation",
    )
    return f"{len(vocab)} distinct characters, sorted"


@check
def char_round_trip(sentence: str, vocab: Sequence[str], ids: Sequence[int], decoded: str) -> str:
    """Encoding the sentence as indices into ``vocab`` and decoding them gives the sentence back."""
    require(
        len(ids) == len(sentence),
        f"one index per character: expected {len(sentence)}, got {len(ids)}",
    )
    expected = [sorted(set(sentence)).index(c) for c in sentence]
    require(
        list(map(int, ids)) == expected,
        "some indices do not point at their character in the sorted vocabulary",
    )
    require(
        decoded == sentence, "decoding does not give the sentence back: join the characters with ''"
    )
    return f"{len(ids)} characters encoded and decoded back"


@check
def word_round_trip(sentence: str, vocab: Sequence[str], ids: Sequence[int], decoded: str) -> str:
    """The word scheme: sorted unique whitespace-split words, indices, and the decoded sentence."""
    words = sentence.split()
    require(
        list(vocab) == sorted(set(words)),
        "the word vocabulary should be sorted(set(sentence.split()))",
    )
    require(len(ids) == len(words), f"one index per word: expected {len(words)}, got {len(ids)}")
    require(
        [list(vocab)[i] for i in ids] == words,
        "some indices do not point at their word in the vocabulary",
    )
    require(
        decoded == sentence, "decoding does not give the sentence back: join the words with ' '"
    )
    return f"{len(words)} words, {len(vocab)} distinct"


@check
def gpt2_round_trip(
    sentence: str, tokenizer: Any, ids: Sequence[int], pieces: Sequence[str]
) -> str:
    """GPT-2 ids of the sentence (no special tokens) and their decoded pieces join back to it."""
    expected = tokenizer(sentence, add_special_tokens=False)["input_ids"]
    require(
        list(map(int, ids)) == expected,
        "the ids differ from tokenizer(sentence, add_special_tokens=False)",
    )
    require(len(pieces) == len(ids), "decode each id on its own: one piece per id")
    require(
        "".join(pieces) == sentence,
        "joining the decoded pieces does not give the sentence: decode one id at a time, spaces kept",
    )
    return f"{len(ids)} GPT-2 tokens join back to the sentence exactly"


@check
def scheme_counts(
    sentence: str, tokenizer: Any, totals: Sequence[int], uniques: Sequence[int]
) -> str:
    """Totals and uniques for [characters, words, GPT-2 tokens]."""
    ids = tokenizer(sentence, add_special_tokens=False)["input_ids"]
    words = sentence.split()
    want_totals = [len(sentence), len(words), len(ids)]
    want_uniques = [len(set(sentence)), len(set(words)), len(set(ids))]
    require(
        len(totals) == 3 and len(uniques) == 3,
        "give three numbers each: characters, words, GPT-2 tokens",
    )
    for k, name in enumerate(["characters", "words", "GPT-2 tokens"]):
        require(int(totals[k]) == want_totals[k], f"the total of {name} is off (entry {k})")
        require(
            int(uniques[k]) == want_uniques[k], f"the unique count of {name} is off (entry {k})"
        )
    return f"totals {want_totals}, uniques {want_uniques}"


@check
def gpt2_table(sentence: str, tokenizer: Any, table: Any) -> str:
    """One row per GPT-2 token: id, decoded text with visible spaces, raw vocabulary entry."""
    ids = tokenizer(sentence, add_special_tokens=False)["input_ids"]
    for column in ("id", "decoded", "vocabulary entry"):
        require(column in table.columns, f"the table needs a column named {column!r}")
    require(
        len(table) == len(ids), f"one row per token: expected {len(ids)} rows, got {len(table)}"
    )
    require(
        [int(i) for i in table["id"]] == ids,
        "the 'id' column should hold the sentence's ids in order",
    )
    decoded = [visible(tokenizer.decode([i], clean_up_tokenization_spaces=False)) for i in ids]
    require(
        list(table["decoded"]) == decoded,
        "'decoded': decode each id alone, then make spaces visible",
    )
    require(
        list(table["vocabulary entry"]) == tokenizer.convert_ids_to_tokens(ids),
        "'vocabulary entry': use tokenizer.convert_ids_to_tokens (a leading space shows as Ġ)",
    )
    return f"{len(ids)} rows; the raw entries show leading spaces as Ġ"
