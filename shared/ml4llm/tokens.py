"""Tokenizer helpers that every chapter uses: encoding one text, decoding single ids, word ids."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase


def encode(tokenizer: PreTrainedTokenizerBase, text: str) -> list[int]:
    """The ids of one text, without special tokens.

    Only a string is accepted: a list means a batch in transformers 5 and something else in 4.
    """
    if not isinstance(text, str):
        raise TypeError(
            f"encode takes one string, not {type(text).__name__}: encode texts one at a time."
        )
    # verbose=False: a whole book is longer than the model's context, which is fine when no model
    # runs; models check their input length themselves (ml4llm.models.check_length).
    return tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"]


def decode_token(tokenizer: PreTrainedTokenizerBase, token_id: int) -> str:
    """The text of one token id, exactly: no clean-up of spaces around punctuation."""
    return tokenizer.decode([int(token_id)], clean_up_tokenization_spaces=False)


def decode_vocab(tokenizer: PreTrainedTokenizerBase) -> list[str]:
    """The decoded text of every id ``0 .. len(tokenizer) - 1``, in one pass.

    Partial UTF-8 byte sequences decode to U+FFFD ("\ufffd"), as with any single-id decode.
    """
    return [decode_token(tokenizer, i) for i in range(len(tokenizer))]


def visible(text: str) -> str:
    """Make white space visible: space -> '␣', newline -> '⏎', tab -> '⇥'."""
    return text.replace(" ", "␣").replace("\n", "⏎").replace("\t", "⇥")


def is_byte_level(tokenizer: PreTrainedTokenizerBase) -> bool:
    """True for byte-level BPE (GPT-2, GPT-Neo, RoBERTa), False for WordPiece (BERT)."""
    return "Ġ" in "".join(
        tokenizer.convert_ids_to_tokens(tokenizer(" a b", add_special_tokens=False)["input_ids"])
    )


def single_token_id(tokenizer: PreTrainedTokenizerBase, word: str) -> int:
    """The one token id of ``word``: with a leading space for byte-level BPE, bare for WordPiece.

    Raises ValueError when the word is not exactly one known token, so that no analysis silently
    uses the first piece of a longer word.
    """
    if not isinstance(word, str) or not word.strip():
        raise ValueError(f"Expected one word as a string, got {word!r}.")
    text = " " + word.strip() if is_byte_level(tokenizer) else word.strip()
    ids = encode(tokenizer, text)
    unk = tokenizer.unk_token_id
    if len(ids) != 1 or (unk is not None and ids[0] == unk and word.strip() != tokenizer.unk_token):
        pieces = tokenizer.convert_ids_to_tokens(ids)
        raise ValueError(
            f"{word!r} is not a single token for this tokenizer ({text!r} -> {pieces}): choose another word."
        )
    return ids[0]
