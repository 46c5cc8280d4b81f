"""Self-checks for project 7, "Translating between tokenizers".

Reference values are computed here from the tokenizer objects the notebook passes in (tiktoken
encodings and Hugging Face tokenizers); nothing is typed in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ml4llm.checks import check, require

# Strings that the translators must carry across exactly: ASCII with odd capitals, accents, CJK, emoji.
EXTRA_TEXTS = ("Hello WoRLD, it's 2024!", " café in Zürich", "東京タワー 🎉 ok")


def reference_byte_lengths(encoding: Any) -> tuple[np.ndarray, list[int]]:
    """Bytes per id from ``decode_single_token_bytes`` (0 for ids that cannot be decoded)."""
    lengths = np.zeros(encoding.n_vocab, dtype=int)
    missing = []
    for token_id in range(encoding.n_vocab):
        try:
            lengths[token_id] = len(encoding.decode_single_token_bytes(token_id))
        except KeyError:
            missing.append(token_id)
    return lengths, missing


def reference_wordpiece_lengths(tokenizer: Any) -> np.ndarray:
    """UTF-8 bytes of every WordPiece entry in id order, '##' removed, specials and [unused] left out."""
    specials = set(tokenizer.all_special_tokens)
    lengths = []
    for token in tokenizer.convert_ids_to_tokens(list(range(len(tokenizer)))):
        if token in specials or token.startswith("[unused"):
            continue
        lengths.append(len(token.removeprefix("##").encode("utf-8")))
    return np.array(lengths)


def _ints(values: Any) -> list[int]:
    return [int(v) for v in values]


@check
def vocab_sizes(cl100k: Any, gpt2_tokenizer: Any, cl100k_size: int, gpt2_size: int) -> str:
    """The number of ids of cl100k (``n_vocab``) and of the GPT-2 tokenizer (``len``)."""
    require(
        int(cl100k_size) == cl100k.n_vocab,
        f"cl100k has {cl100k.n_vocab:,} ids, not {int(cl100k_size):,}: use its n_vocab "
        "(max_token_value is the largest id, one less)",
    )
    require(
        int(gpt2_size) == len(gpt2_tokenizer),
        f"the GPT-2 tokenizer has {len(gpt2_tokenizer):,} ids, not {int(gpt2_size):,}: use "
        "len(gpt2_tokenizer)",
    )
    return f"cl100k {cl100k.n_vocab:,} ids, GPT-2 {len(gpt2_tokenizer):,}"


@check
def same_gpt2_ids(
    sentence: str, gpt2_tokenizer: Any, tiktoken_ids: Sequence[int], hf_ids: Sequence[int]
) -> str:
    """tiktoken's gpt2 encoding and the Hugging Face tokenizer give the sentence the same ids."""
    want = gpt2_tokenizer(sentence, add_special_tokens=False)["input_ids"]
    require(
        _ints(hf_ids) == want,
        "hf_ids should be the Hugging Face tokenizer's ids of the sentence, without special tokens",
    )
    require(
        _ints(tiktoken_ids) == want,
        "tiktoken_ids should be gpt2_encoding.encode(sentence): the same ids as Hugging Face",
    )
    return f"both give the same {len(want)} ids"


@check
def byte_lengths(encoding: Any, lengths: Any, missing: Sequence[int]) -> str:
    """Bytes of every id's token (``decode_single_token_bytes``) and the ids that cannot be decoded."""
    want_lengths, want_missing = reference_byte_lengths(encoding)
    lengths = np.asarray(lengths)
    require(
        lengths.shape == (encoding.n_vocab,),
        f"one length per id: expected {encoding.n_vocab:,} entries (encoding.n_vocab), got {lengths.shape}",
    )
    require(
        lengths.any() or len(missing) > 0,
        "the lengths are still all zeros and no id is missing: fill in the loop first",
    )
    require(
        sorted(_ints(missing)) == want_missing,
        f"{len(want_missing)} ids of {encoding.name} raise an error when decoded; record exactly those "
        "(catch KeyError around decode_single_token_bytes)",
    )
    decodable = np.ones(encoding.n_vocab, dtype=bool)
    decodable[want_missing] = False
    require(
        np.array_equal(lengths[decodable], want_lengths[decodable]),
        "some lengths are off: use len(encoding.decode_single_token_bytes(token_id)), the token's "
        "bytes, not the length of a decoded string",
    )
    return (
        f"{encoding.name}: {encoding.n_vocab:,} ids, {len(want_missing)} cannot be decoded, "
        f"longest token {want_lengths.max()} bytes"
    )


@check
def normalised_counts(lengths: Any, normalised: Any) -> str:
    """``np.bincount`` of the byte lengths of decodable ids, divided by its maximum."""
    lengths = np.asarray(lengths)
    counts = np.bincount(lengths[lengths > 0])
    want = counts / counts.max()
    normalised = np.asarray(normalised, dtype=float)
    require(
        normalised.shape == want.shape,
        f"expected {want.shape[0]} entries (lengths 0 to {want.shape[0] - 1}); got "
        f"{normalised.shape}: bincount the lengths of decodable ids only",
    )
    require(normalised.max() == 1.0, "divide the counts by their maximum, so the peak is 1")
    require(
        np.allclose(normalised, want),
        "the normalised counts are off: np.bincount(lengths[lengths > 0]) / its max()",
    )
    return f"peak at {int(np.argmax(want))} bytes"


@check
def vocab_summary(
    cl100k: Any, gpt2_encoding: Any, n_missing: int, cl100k_longest: int, gpt2_longest: int
) -> str:
    """cl100k's number of undecodable ids, and the longest token in bytes of both vocabularies."""
    cl_lengths, cl_missing = reference_byte_lengths(cl100k)
    gpt2_lengths, _ = reference_byte_lengths(gpt2_encoding)
    require(
        int(n_missing) == len(cl_missing),
        f"count the cl100k ids that cannot be decoded: {len(cl_missing)} of {cl100k.n_vocab:,}",
    )
    require(
        int(cl100k_longest) == int(cl_lengths.max()),
        "cl100k's longest token: the maximum of its byte lengths",
    )
    require(
        int(gpt2_longest) == int(gpt2_lengths.max()),
        "GPT-2's longest token: the maximum of its byte lengths",
    )
    return (
        f"cl100k: {cl100k.n_vocab:,} ids, {len(cl_missing)} cannot be decoded; longest token "
        f"{cl_lengths.max()} bytes in cl100k and {gpt2_lengths.max()} in GPT-2"
    )


def _shortest(book_texts: Mapping[str, str]) -> tuple[int, str]:
    texts = list(book_texts.values())
    k = int(np.argmin([len(t) for t in texts]))
    return k, texts[k]


@check
def book_counts(
    book_texts: Mapping[str, str],
    gpt2_tokenizer: Any,
    cl100k: Any,
    gpt2_counts: Sequence[int],
    gpt4_counts: Sequence[int],
) -> str:
    """Tokens per book under GPT-2 and cl100k; cl100k needs fewer for every book."""
    n = len(book_texts)
    require(
        len(gpt2_counts) > 0 or len(gpt4_counts) > 0,
        "the count lists are still empty: fill in the loop first",
    )
    require(len(gpt2_counts) == n and len(gpt4_counts) == n, f"one count per book ({n})")
    # Re-encoding every book would double the cost: check the shortest one exactly.
    k, text = _shortest(book_texts)
    want_gpt2 = len(gpt2_tokenizer(text, add_special_tokens=False)["input_ids"])
    want_gpt4 = len(cl100k.encode(text, disallowed_special=()))
    require(
        int(gpt2_counts[k]) == want_gpt2,
        f"GPT-2 count of book {k} should be {want_gpt2}: encode without special tokens",
    )
    require(
        int(gpt4_counts[k]) == want_gpt4,
        f"cl100k count of book {k} should be {want_gpt4}: cl100k.encode(text, disallowed_special=())",
    )
    nbytes = [len(t.encode("utf-8")) for t in book_texts.values()]
    require(
        all(0 < int(g) < b for g, b in zip(gpt2_counts, nbytes))
        and all(0 < int(g) < b for g, b in zip(gpt4_counts, nbytes)),
        "every book should have more bytes than tokens",
    )
    require(
        all(int(a) < int(b) for a, b in zip(gpt4_counts, gpt2_counts)),
        "cl100k should need fewer tokens than GPT-2 for every book: are the two lists swapped?",
    )
    saving = 1 - sum(map(int, gpt4_counts)) / sum(map(int, gpt2_counts))
    return f"cl100k needs fewer tokens for all {n} books ({saving:.0%} fewer in total)"


def _table_columns(
    table: Any, book_texts: Mapping[str, str], columns: Sequence[str], what: str
) -> dict[str, np.ndarray]:
    require(isinstance(table, pd.DataFrame), f"build one DataFrame: {what}")
    for column in columns:
        require(column in table.columns, f"the table needs a column named {column!r}")
    require(
        list(table.index) == list(book_texts),
        f"one row per book in order, indexed by the titles (expected {len(book_texts)} rows)",
    )
    return {column: np.asarray(table[column], dtype=float) for column in columns}


def _check_bytes_per_token(
    values: dict[str, np.ndarray], book_texts: Mapping[str, str], names: Sequence[str]
) -> None:
    want_bytes = np.array([len(t.encode("utf-8")) for t in book_texts.values()])
    require(
        np.array_equal(values["bytes"], want_bytes),
        "the bytes column is off: len(text.encode('utf-8')) of each book",
    )
    for name in names:
        require(
            np.allclose(values[f"{name} bytes/token"], want_bytes / values[f"{name} tokens"]),
            f"'{name} bytes/token' should be each book's bytes / its {name} tokens",
        )


@check
def book_table(book_texts: Mapping[str, str], gpt2_tokenizer: Any, cl100k: Any, table: Any) -> str:
    """Bytes, tokens under both tokenizers, mean bytes per token and the GPT-4 / GPT-2 ratio."""
    columns = [
        "bytes",
        "GPT-2 tokens",
        "GPT-4 tokens",
        "GPT-2 bytes/token",
        "GPT-4 bytes/token",
        "GPT-4 / GPT-2",
    ]
    values = _table_columns(table, book_texts, columns, "one row per book")
    # Re-encoding every book would double the cost: check the token counts of the shortest one.
    k, text = _shortest(book_texts)
    want_gpt2 = len(gpt2_tokenizer(text, add_special_tokens=False)["input_ids"])
    want_gpt4 = len(cl100k.encode(text, disallowed_special=()))
    require(
        values["GPT-2 tokens"][k] == want_gpt2 and values["GPT-4 tokens"][k] == want_gpt4,
        f"book {k} has {want_gpt2} GPT-2 and {want_gpt4} GPT-4 tokens: use the Part 3 count lists",
    )
    _check_bytes_per_token(values, book_texts, ["GPT-2", "GPT-4"])
    require(
        np.allclose(values["GPT-4 / GPT-2"], values["GPT-4 tokens"] / values["GPT-2 tokens"]),
        "'GPT-4 / GPT-2' should be GPT-4 tokens / GPT-2 tokens",
    )
    require(
        np.all(values["GPT-4 / GPT-2"] < 1),
        "cl100k should need fewer tokens than GPT-2 for every book",
    )
    gpt2_bpt, gpt4_bpt = values["GPT-2 bytes/token"], values["GPT-4 bytes/token"]
    return (
        f"mean bytes per token: GPT-2 {gpt2_bpt.min():.2f}-{gpt2_bpt.max():.2f}, GPT-4 "
        f"{gpt4_bpt.min():.2f}-{gpt4_bpt.max():.2f}"
    )


def _call(func: Callable[[list[int]], Any], ids: list[int], name: str) -> list[int]:
    out = func(list(ids))
    require(out is not None, f"{name} returns None: fill in its body and return the new ids")
    return _ints(out)


@check
def round_trip(
    sentence: str,
    gpt2_tokenizer: Any,
    cl100k: Any,
    gpt2_to_gpt4: Callable[[list[int]], Any],
    gpt4_to_gpt2: Callable[[list[int]], Any],
) -> str:
    """Both translators match direct encoding, and GPT-2 -> GPT-4 -> GPT-2 gives the same ids."""
    for text in (sentence, *EXTRA_TEXTS):
        gpt2_ids = gpt2_tokenizer(text, add_special_tokens=False)["input_ids"]
        gpt4_ids = cl100k.encode(text, disallowed_special=())
        require(
            _call(gpt2_to_gpt4, gpt2_ids, "gpt2_to_gpt4") == gpt4_ids,
            f"gpt2_to_gpt4 on {text!r} should give cl100k's ids of that text: decode with GPT-2 "
            "(clean_up_tokenization_spaces=False), then encode with cl100k",
        )
        require(
            _call(gpt4_to_gpt2, gpt4_ids, "gpt4_to_gpt2") == gpt2_ids,
            f"gpt4_to_gpt2 on {text!r} should give GPT-2's ids of that text: decode with cl100k, "
            "then encode with GPT-2 (no special tokens)",
        )
    ids = gpt2_tokenizer(sentence, add_special_tokens=False)["input_ids"]
    back = _call(gpt4_to_gpt2, _call(gpt2_to_gpt4, ids, "gpt2_to_gpt4"), "gpt4_to_gpt2")
    require(back == ids, "GPT-2 -> GPT-4 -> GPT-2 should return the identical id list")
    return f"GPT-2 -> GPT-4 -> GPT-2 returns the same {len(ids)} ids"


@check
def demo_ids(
    sentence: str,
    gpt2_tokenizer: Any,
    cl100k: Any,
    gpt2_ids: Sequence[int],
    gpt4_ids: Sequence[int],
    gpt2_back: Sequence[int],
) -> str:
    """The sentence's GPT-2 ids, their GPT-4 translation and the translation back."""
    want_gpt2 = gpt2_tokenizer(sentence, add_special_tokens=False)["input_ids"]
    want_gpt4 = cl100k.encode(sentence, disallowed_special=())
    require(
        _ints(gpt2_ids) == want_gpt2,
        "gpt2_ids should be the sentence's GPT-2 ids, without special tokens",
    )
    require(
        gpt4_ids is not None and _ints(gpt4_ids) == want_gpt4,
        "gpt4_ids should be gpt2_to_gpt4(gpt2_ids): cl100k's ids of the sentence",
    )
    require(
        gpt2_back is not None and _ints(gpt2_back) == want_gpt2,
        "gpt2_back should be gpt4_to_gpt2(gpt4_ids): the same ids as gpt2_ids",
    )
    return f"{len(want_gpt2)} GPT-2 ids -> {len(want_gpt4)} GPT-4 ids -> the same GPT-2 ids"


@check
def bert_specials(
    phrase: str, bert_tokenizer: Any, with_special: Sequence[int], without_special: Sequence[int]
) -> str:
    """BERT's ids of the phrase with [CLS]/[SEP] (the default) and without them."""
    want_with = bert_tokenizer(phrase)["input_ids"]
    want_without = bert_tokenizer(phrase, add_special_tokens=False)["input_ids"]
    require(_ints(with_special) == want_with, "with_special: call the tokenizer with its defaults")
    require(
        _ints(without_special) == want_without,
        "without_special: pass add_special_tokens=False, so [CLS] and [SEP] are not added",
    )
    return f"the default adds [CLS]={bert_tokenizer.cls_token_id} and [SEP]={bert_tokenizer.sep_token_id}"


@check
def bert_byte_lengths(bert_tokenizer: Any, lengths: Any) -> str:
    """UTF-8 bytes per WordPiece entry, '##' removed, special and [unused...] tokens left out."""
    want = reference_wordpiece_lengths(bert_tokenizer)
    lengths = np.asarray(lengths)
    require(len(lengths) > 0, "the list of lengths is still empty: fill in the loop first")
    require(
        len(lengths) == len(want),
        f"expected {len(want):,} lengths (all {len(bert_tokenizer):,} entries minus the special "
        f"and [unused...] tokens), got {len(lengths):,}",
    )
    require(
        np.array_equal(lengths, want),
        "some lengths are off: remove a leading '##', then count len(token.encode('utf-8'))",
    )
    return f"{len(want):,} WordPiece entries, longest {want.max()} bytes"


@check
def bert_book_counts(
    book_texts: Mapping[str, str], bert_tokenizer: Any, bert_counts: Sequence[int]
) -> str:
    """BERT tokens per book, without [CLS] and [SEP]."""
    n = len(book_texts)
    require(len(bert_counts) > 0, "the count list is still empty: fill in the loop first")
    require(len(bert_counts) == n, f"one count per book ({n})")
    k, text = _shortest(book_texts)
    want = len(bert_tokenizer(text, add_special_tokens=False)["input_ids"])
    require(
        int(bert_counts[k]) == want,
        f"BERT count of book {k} should be {want}: encode with add_special_tokens=False",
    )
    return f"{n} books, {sum(map(int, bert_counts)):,} BERT tokens in all"


@check
def bert_table(
    book_texts: Mapping[str, str],
    gpt2_tokenizer: Any,
    bert_tokenizer: Any,
    table: Any,
    n_fewer: int,
) -> str:
    """Bytes, GPT-2 and BERT tokens and mean bytes per token per book, and how many books BERT
    encodes in fewer tokens than GPT-2."""
    columns = ["bytes", "GPT-2 tokens", "BERT tokens", "GPT-2 bytes/token", "BERT bytes/token"]
    values = _table_columns(table, book_texts, columns, "one row per book")
    k, text = _shortest(book_texts)
    want_gpt2 = len(gpt2_tokenizer(text, add_special_tokens=False)["input_ids"])
    want_bert = len(bert_tokenizer(text, add_special_tokens=False)["input_ids"])
    require(
        values["GPT-2 tokens"][k] == want_gpt2 and values["BERT tokens"][k] == want_bert,
        f"book {k} has {want_gpt2} GPT-2 and {want_bert} BERT tokens: use the count lists",
    )
    _check_bytes_per_token(values, book_texts, ["GPT-2", "BERT"])
    want_fewer = int((values["BERT tokens"] < values["GPT-2 tokens"]).sum())
    require(
        int(n_fewer) == want_fewer,
        f"BERT needs fewer tokens than GPT-2 for {want_fewer} books, not {int(n_fewer)}: compare "
        "the two count lists book by book and count the True values",
    )
    return f"BERT needs fewer tokens than GPT-2 for {want_fewer} of {len(book_texts)} books"


@check
def bert_demo_ids(
    sentence: str,
    gpt2_tokenizer: Any,
    bert_tokenizer: Any,
    bert_ids: Sequence[int],
    gpt2_via_bert: Sequence[int],
) -> str:
    """The sentence translated from GPT-2 to BERT ids, and back to GPT-2 ids."""
    want_bert = bert_tokenizer(sentence, add_special_tokens=False)["input_ids"]
    require(
        bert_ids is not None and _ints(bert_ids) == want_bert,
        "bert_ids should be gpt2_to_bert(gpt2_ids): BERT's ids of the sentence, without "
        "[CLS]/[SEP]",
    )
    allowed = [
        gpt2_tokenizer(
            bert_tokenizer.decode(want_bert, clean_up_tokenization_spaces=clean),
            add_special_tokens=False,
        )["input_ids"]
        for clean in (False, True)
    ]
    require(
        gpt2_via_bert is not None and _ints(gpt2_via_bert) in allowed,
        "gpt2_via_bert should be bert_to_gpt2(bert_ids)",
    )
    return f"{len(want_bert)} BERT ids; back in GPT-2: {len(gpt2_via_bert)} ids"


@check
def bert_round_trip(
    sentence: str,
    gpt2_tokenizer: Any,
    bert_tokenizer: Any,
    gpt2_to_bert: Callable[[list[int]], Any],
    bert_to_gpt2: Callable[[list[int]], Any],
) -> str:
    """gpt2_to_bert / bert_to_gpt2 match direct encoding; the round trip loses information."""
    for text in (sentence, *EXTRA_TEXTS[:2]):
        gpt2_ids = gpt2_tokenizer(text, add_special_tokens=False)["input_ids"]
        bert_ids = bert_tokenizer(text, add_special_tokens=False)["input_ids"]
        require(
            _call(gpt2_to_bert, gpt2_ids, "gpt2_to_bert") == bert_ids,
            f"gpt2_to_bert on {text!r} should give BERT's ids of that text, without [CLS]/[SEP]",
        )
        # Either decoding of BERT's ids is accepted: with or without the clean-up of spaces.
        allowed = [
            gpt2_tokenizer(
                bert_tokenizer.decode(bert_ids, clean_up_tokenization_spaces=clean),
                add_special_tokens=False,
            )["input_ids"]
            for clean in (False, True)
        ]
        require(
            _call(bert_to_gpt2, bert_ids, "bert_to_gpt2") in allowed,
            f"bert_to_gpt2 on {text!r} should decode with BERT and encode the text with GPT-2 "
            "(no special tokens)",
        )
    ids = gpt2_tokenizer(sentence, add_special_tokens=False)["input_ids"]
    back = _call(bert_to_gpt2, _call(gpt2_to_bert, ids, "gpt2_to_bert"), "bert_to_gpt2")
    require(
        back != ids,
        "the round trip returned the original ids: the sentence should have capitals, accents or "
        "punctuation that BERT loses",
    )
    return f"GPT-2 -> BERT -> GPT-2 changes the sentence: {len(ids)} ids in, {len(back)} out"
