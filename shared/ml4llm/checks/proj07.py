"""Self-checks for project 7, "Translating between tokenizers".

Every reference starts from the package's inputs: the sentence, the phrase, the book texts and the
vocabulary (a tiktoken encoding or BERT's tokenizer). The checks load GPT-2's, cl100k's and BERT's
tokenizers themselves (once per session) and encode every book, so that no count of the learner's
is ever the ground truth. The learner's translators also run on extra texts.
"""

from __future__ import annotations

import contextlib
import functools
import io
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ml4llm.checks import CheckFailed, Expect, check, common, require
from ml4llm.models import load_tokenizer, tiktoken_encoding
from ml4llm.tokens import encode

# Strings that the translators must carry across exactly: ASCII with odd capitals, accents, CJK, emoji.
EXTRA_TEXTS = ("Hello WoRLD, it's 2024!", " café in Zürich", "東京タワー 🎉 ok")
FEWER = "cl100k should need fewer tokens than GPT-2 for every book"
SWAPPED = f"{FEWER}: are the two lists swapped?"
BPT = "'{0} bytes/token' should be each book's bytes / its {0} tokens"
TURNED = "this is tokens / bytes: bytes per token is bytes / tokens"
NO_SPECIALS = "[CLS] and [SEP] are counted: pass add_special_tokens=False"


@functools.cache
def _tokenizer(name: str) -> Any:
    """GPT-2's or BERT's Hugging Face tokenizer, or a tiktoken encoding ("cl100k_base", "tiktoken
    gpt2"), loaded quietly: a check prints its own line only."""
    with contextlib.redirect_stdout(io.StringIO()):
        if name.startswith("tiktoken ") or name == "cl100k_base":
            return tiktoken_encoding(name.removeprefix("tiktoken "))
        return load_tokenizer(name)


def _gpt2_ids(text: str) -> list[int]:
    return encode(_tokenizer("gpt2"), text)


def _gpt4_ids(text: str) -> list[int]:
    return _tokenizer("cl100k_base").encode(text, disallowed_special=())


def _bert_ids(text: str, specials: bool = False) -> list[int]:
    return _tokenizer("bert-base-uncased")(text, add_special_tokens=specials)["input_ids"]


@functools.lru_cache(maxsize=64)
def _counts(text: str) -> dict[str, int]:
    """The book's bytes, characters and token counts (each book is encoded once per session)."""
    return {
        "bytes": len(text.encode("utf-8")),
        "characters": len(text),
        "GPT-2 tokens": len(_gpt2_ids(text)),
        "GPT-4 tokens": len(_gpt4_ids(text)),
        "BERT tokens": len(_bert_ids(text)),
    }


@functools.lru_cache(maxsize=4)
def _tiktoken_lengths(name: str) -> tuple[np.ndarray, list[int], np.ndarray]:
    """Bytes per id (0 for ids that cannot be decoded), the missing ids, and the decoded strings'
    lengths (the wrong measure)."""
    encoding = _tokenizer(name if name == "cl100k_base" else f"tiktoken {name}")
    lengths, chars = np.zeros(encoding.n_vocab, dtype=int), np.zeros(encoding.n_vocab, dtype=int)
    missing = []
    for token_id in range(encoding.n_vocab):
        try:
            raw = encoding.decode_single_token_bytes(token_id)
        except KeyError:
            missing.append(token_id)
            continue
        lengths[token_id], chars[token_id] = len(raw), len(raw.decode("utf-8", errors="replace"))
    return lengths, missing, chars


@functools.cache
def _wordpiece() -> dict[str, np.ndarray]:
    """Per text entry of BERT's vocabulary (no specials, no [unused...]): its UTF-8 bytes with
    '##' removed, with '##' kept, and its characters."""
    tokenizer = _tokenizer("bert-base-uncased")
    specials = set(tokenizer.all_special_tokens)
    tokens = tokenizer.convert_ids_to_tokens(list(range(len(tokenizer))))
    kept = [t for t in tokens if t not in specials and not t.startswith("[unused")]
    return {
        "bytes": np.array([len(t.removeprefix("##").encode("utf-8")) for t in kept]),
        "with ##": np.array([len(t.encode("utf-8")) for t in kept]),
        "characters": np.array([len(t.removeprefix("##")) for t in kept]),
    }


def _decodable_lengths(vocabulary: Any) -> tuple[str, np.ndarray, np.ndarray]:
    """(name, lengths of the decodable entries, all lengths) of a tiktoken encoding or of BERT."""
    if hasattr(vocabulary, "decode_single_token_bytes"):
        lengths = _tiktoken_lengths(vocabulary.name)[0]
        return vocabulary.name, lengths[lengths > 0], lengths
    require(
        type(vocabulary).__name__.startswith("Bert"),
        f"vocabulary: expected a tiktoken encoding or BERT's tokenizer, got "
        f"{common.describe(vocabulary)}",
    )
    lengths = _wordpiece()["bytes"]
    return "BERT WordPiece", lengths, lengths


def _vocabularies() -> dict[str, Any]:
    """Parts 1, 2 and 5: vocabulary sizes, undecodable ids, longest tokens, WordPiece lengths."""
    cl100k, gpt2 = _tokenizer("cl100k_base"), _tokenizer("gpt2")
    cl_lengths, cl_missing, _ = _tiktoken_lengths("cl100k_base")
    gpt2_lengths = _tiktoken_lengths("gpt2")[0]
    wordpiece = _wordpiece()
    longest_id = "this is the id of the longest token: take the maximum of the lengths (.max())"
    return {
        "cl100k_size": Expect(
            cl100k.n_vocab,
            "use cl100k's n_vocab",
            traps=[(cl100k.max_token_value, "max_token_value is the largest id, one less")],
        ),
        "gpt2_size": Expect(len(gpt2), "use len(gpt2_tokenizer)"),
        "n_missing": Expect(len(cl_missing), "count the cl100k ids that cannot be decoded"),
        "cl100k_longest": Expect(
            int(cl_lengths.max()),
            "cl100k's longest token: the maximum of its byte lengths",
            traps=[(int(cl_lengths.argmax()), longest_id)],
        ),
        "gpt2_longest": Expect(
            int(gpt2_lengths.max()),
            "GPT-2's longest token: the maximum of its byte lengths",
            traps=[(int(gpt2_lengths.argmax()), longest_id)],
        ),
        "bert_lengths": Expect(
            wordpiece["bytes"],
            "some lengths are off: remove a leading '##', then count len(token.encode('utf-8'))",
            traps=[
                (
                    lambda v: len(v) == len(_tokenizer("bert-base-uncased")),
                    "leave out the special and [unused...] tokens",
                ),
                (wordpiece["with ##"], "the '##' is counted: remove it before counting"),
                (wordpiece["characters"], "these count characters: count the UTF-8 bytes"),
            ],
        ),
    }


def _vocabulary(vocabulary: Any) -> dict[str, Any]:
    """Part 2: byte lengths and missing ids of an encoding; the normalised length counts."""
    name, decodable, every = _decodable_lengths(vocabulary)
    counts = np.bincount(decodable)
    ref: dict[str, Any] = {
        "normalised": Expect(
            counts / counts.max(),
            "the normalised counts are off: np.bincount(lengths[lengths > 0]) / its max()",
            traps=[
                (counts, "divide the counts by their maximum, so the peak is 1"),
                (np.bincount(every) / np.bincount(every).max(), "bincount the decodable ids only"),
            ],
        ),
        "name": name,
    }
    if not hasattr(vocabulary, "decode_single_token_bytes"):
        return ref
    lengths, missing, chars = _tiktoken_lengths(vocabulary.name)
    return ref | {
        "lengths": Expect(
            lengths,
            "some lengths are off: use len(encoding.decode_single_token_bytes(token_id)), the "
            "token's bytes",
            traps=[(chars, "these are the lengths of decoded strings: count the token's bytes")],
        ),
        "missing": Expect(
            missing,
            f"{len(missing)} ids of {name} raise an error when decoded; record exactly those "
            "(catch KeyError around decode_single_token_bytes)",
        ),
    }


def _sentence(sentence: str) -> dict[str, Any]:
    """Parts 1, 4 and 5: the sentence's ids in the three tokenizers and the translations back."""
    gpt2_ids, gpt4_ids = _gpt2_ids(sentence), _gpt4_ids(sentence)
    bert_ids = _bert_ids(sentence)
    return {
        "tiktoken_gpt2_ids": Expect(
            gpt2_ids,
            "tiktoken_gpt2_ids should be gpt2_encoding.encode(sentence): the same ids as Hugging "
            "Face",
            traps=[(gpt4_ids, "these are cl100k's ids: use tiktoken's gpt2 encoding")],
        ),
        "hf_gpt2_ids": Expect(
            gpt2_ids,
            "hf_gpt2_ids should be the Hugging Face tokenizer's ids of the sentence, without "
            "special tokens",
        ),
        "gpt2_ids": Expect(
            gpt2_ids, "gpt2_ids should be the sentence's GPT-2 ids, without special tokens"
        ),
        "gpt4_ids": Expect(
            gpt4_ids,
            "gpt4_ids should be gpt2_to_gpt4(gpt2_ids): cl100k's ids of the sentence",
            traps=[(gpt2_ids, "these are still GPT-2's ids: translate them with gpt2_to_gpt4")],
        ),
        "gpt2_back": Expect(
            gpt2_ids, "gpt2_back should be gpt4_to_gpt2(gpt4_ids): the same ids as gpt2_ids"
        ),
        "bert_ids": Expect(
            bert_ids,
            "bert_ids should be gpt2_to_bert(gpt2_ids): BERT's ids of the sentence, without "
            "[CLS]/[SEP]",
            traps=[(_bert_ids(sentence, specials=True), NO_SPECIALS)],
        ),
        "gpt2_via_bert": _via_bert(bert_ids),  # or with the clean-up: compared in the check
        # the right translators: decode with one tokenizer, encode with the other
        "gpt2_to_gpt4": lambda ids: _gpt4_ids(_decode_gpt2(ids)),
        "gpt4_to_gpt2": lambda ids: _gpt2_ids(_tokenizer("cl100k_base").decode(ids)),
        "gpt2_to_bert": lambda ids: _bert_ids(_decode_gpt2(ids)),
        "bert_to_gpt2": _via_bert,
    }


def _decode_gpt2(ids: list[int]) -> str:
    return _tokenizer("gpt2").decode(ids, clean_up_tokenization_spaces=False)


def _via_bert(bert_ids: list[int], clean: bool = False) -> list[int]:
    text = _tokenizer("bert-base-uncased").decode(bert_ids, clean_up_tokenization_spaces=clean)
    return _gpt2_ids(text)


def _phrase(phrase: str) -> dict[str, Any]:
    with_special, without = _bert_ids(phrase, specials=True), _bert_ids(phrase)
    return {
        "bert_with_special": Expect(
            with_special,
            "bert_with_special: call the tokenizer with its defaults",
            traps=[(without, "these have no [CLS] and [SEP]: keep the tokenizer's defaults")],
        ),
        "bert_without_special": Expect(
            without,
            "bert_without_special: pass add_special_tokens=False, so [CLS] and [SEP] are not added",
        ),
    }


def _books(book_texts: Mapping[str, str]) -> dict[str, Any]:
    """Parts 3 and 5: the token counts of all books, the two tables and n_fewer."""
    frame = pd.DataFrame([_counts(t) for t in book_texts.values()], index=list(book_texts))
    n, n_bytes = len(book_texts), frame["bytes"].to_numpy()
    gpt2, gpt4, bert = (frame[f"{k} tokens"] for k in ("GPT-2", "GPT-4", "BERT"))
    every = f"every book (all {n} books, each whole text)"
    more_bytes = (lambda v: np.any(v >= n_bytes), "every book should have more bytes than tokens")
    table = frame[["bytes", "GPT-2 tokens", "GPT-4 tokens"]].assign(
        **{"GPT-2 bytes/token": n_bytes / gpt2, "GPT-4 bytes/token": n_bytes / gpt4},
        **{"GPT-4 / GPT-2": gpt4 / gpt2},
    )
    bert_table = frame[["bytes", "GPT-2 tokens", "BERT tokens"]].assign(
        **{"GPT-2 bytes/token": n_bytes / gpt2, "BERT bytes/token": n_bytes / bert}
    )
    fewer = int((bert < gpt2).sum())
    as_chars = (frame["characters"], "these count characters: len(text.encode('utf-8'))")
    columns = {
        "bytes": ("the bytes column is off: len(text.encode('utf-8')) of each book", [as_chars]),
        "GPT-2 tokens": f"the GPT-2 count of {every}: use the count lists",
        "GPT-2 bytes/token": (BPT.format("GPT-2"), [(gpt2 / n_bytes, TURNED)]),
    }
    return {
        "gpt2_book_counts": Expect(
            gpt2,
            f"the GPT-2 count of {every}: encode without special tokens",
            traps=[(gpt4, SWAPPED), more_bytes],
        ),
        "gpt4_book_counts": Expect(
            gpt4,
            f"the cl100k count of {every}: cl100k.encode(text, disallowed_special=())",
            traps=[(gpt2, SWAPPED), more_bytes],
        ),
        "book_table": Expect(
            table,
            columns=columns
            | {
                "GPT-4 tokens": f"the GPT-4 count of {every}: use the Part 3 count lists",
                "GPT-4 bytes/token": (BPT.format("GPT-4"), [(gpt4 / n_bytes, TURNED)]),
                "GPT-4 / GPT-2": (
                    "'GPT-4 / GPT-2' should be GPT-4 tokens / GPT-2 tokens",
                    [
                        (gpt2 / gpt4, "this is GPT-2 / GPT-4: turn it over"),
                        (lambda v: np.any(v >= 1), FEWER),
                    ],
                ),
            },
        ),
        "bert_book_counts": Expect(
            bert,
            f"the BERT count of {every}: encode with add_special_tokens=False",
            traps=[(bert + 2, NO_SPECIALS)],
        ),
        "bert_table": Expect(
            bert_table,
            columns=columns
            | {
                "BERT tokens": f"the BERT count of {every}: use the count lists",
                "BERT bytes/token": (BPT.format("BERT"), [(bert / n_bytes, TURNED)]),
            },
        ),
        "n_fewer": Expect(
            fewer,
            "compare the two count lists book by book and count the True values",
            traps=[(int((bert > gpt2).sum()), "this counts the books where BERT needs more")],
        ),
    }


def _one_of(got: Any, wants: list[list[int]], name: str, hint: str) -> None:
    """Fail with ``hint`` unless ``got`` is one of ``wants`` (compared with the first)."""
    for want in wants[1:]:
        with contextlib.suppress(CheckFailed):
            common.require_values(got, want, name=name, hint=hint)
            return
    common.require_values(got, wants[0], name=name, hint=hint)


def _translates(function: Any, name: str, ids: list[int], wants: list[list[int]], hint: str):
    """Fail unless the learner's ``function(ids)`` gives one of ``wants``."""
    got = common.call(function, list(ids), name=name, returns="the translated ids")
    _one_of(got, wants, f"{name}(...)", hint)


@check(reference=_vocabularies)
def vocab_sizes(*, cl100k_size, gpt2_size) -> str:
    """The number of ids of cl100k (``n_vocab``) and of the GPT-2 tokenizer (``len``)."""
    return f"cl100k {int(cl100k_size):,} ids, GPT-2 {int(gpt2_size):,}"


@check(reference=_sentence)
def same_gpt2_ids(sentence, *, tiktoken_gpt2_ids, hf_gpt2_ids) -> str:
    """tiktoken's gpt2 encoding and the Hugging Face tokenizer give the sentence the same ids."""
    return f"both give the same {len(_gpt2_ids(sentence))} ids"


@check(reference=_vocabulary)
def byte_lengths(vocabulary, *, lengths, missing, ref: dict) -> str:
    """Bytes of every id's token (``decode_single_token_bytes``) and the ids that cannot be decoded."""
    require("lengths" in ref, "byte_lengths: give a tiktoken encoding (cl100k or gpt2_encoding)")
    right = ref["lengths"]
    return (
        f"{ref['name']}: {len(right):,} ids, {len(ref['missing'])} cannot be decoded, longest "
        f"token {right.max()} bytes"
    )


@check(reference=_vocabulary)
def normalised_counts(vocabulary, *, normalised, ref: dict) -> str:
    """``np.bincount`` of the byte lengths of decodable ids, divided by its maximum."""
    return f"{ref['name']}: peak at {int(np.argmax(ref['normalised']))} bytes"


@check(reference=_vocabularies)
def vocab_summary(*, n_missing, cl100k_longest, gpt2_longest) -> str:
    """cl100k's number of undecodable ids, and the longest token in bytes of both vocabularies."""
    return (
        f"cl100k: {int(n_missing)} ids cannot be decoded; longest token {int(cl100k_longest)} "
        f"bytes in cl100k and {int(gpt2_longest)} in GPT-2"
    )


@check(reference=_books)
def book_counts(book_texts, *, gpt2_book_counts, gpt4_book_counts, ref: dict) -> str:
    """Tokens per book under GPT-2 and cl100k, for every book; cl100k needs fewer for each."""
    saving = 1 - ref["gpt4_book_counts"].sum() / ref["gpt2_book_counts"].sum()
    return (
        f"cl100k needs fewer tokens for all {len(book_texts)} books ({saving:.0%} fewer in total)"
    )


@check(reference=_books)
def book_table(book_texts, *, book_table, ref: dict) -> str:
    """Bytes, tokens under both tokenizers, mean bytes per token and the GPT-4 / GPT-2 ratio."""
    gpt2, gpt4 = (ref["book_table"][f"{k} bytes/token"] for k in ("GPT-2", "GPT-4"))
    return (
        f"mean bytes per token: GPT-2 {gpt2.min():.2f}-{gpt2.max():.2f}, GPT-4 "
        f"{gpt4.min():.2f}-{gpt4.max():.2f}"
    )


@check(reference=_sentence)
def round_trip(sentence, *, gpt2_to_gpt4, gpt4_to_gpt2) -> str:
    """Both translators match direct encoding, so GPT-2 -> GPT-4 -> GPT-2 gives the same ids."""
    for text in (sentence, *EXTRA_TEXTS):
        gpt2_ids, gpt4_ids = _gpt2_ids(text), _gpt4_ids(text)
        hint = (
            f"on {text!r} it should give cl100k's ids of that text: decode with GPT-2 "
            "(clean_up_tokenization_spaces=False), then encode with cl100k"
        )
        _translates(gpt2_to_gpt4, "gpt2_to_gpt4", gpt2_ids, [gpt4_ids], hint)
        hint = (
            f"on {text!r} it should give GPT-2's ids of that text: decode with cl100k, then "
            "encode with GPT-2 (no special tokens)"
        )
        _translates(gpt4_to_gpt2, "gpt4_to_gpt2", gpt4_ids, [gpt2_ids], hint)
    return f"GPT-2 -> GPT-4 -> GPT-2 returns the same {len(_gpt2_ids(sentence))} ids"


@check(reference=_sentence)
def demo_ids(sentence, *, gpt2_ids, gpt4_ids, gpt2_back) -> str:
    """The sentence's GPT-2 ids, their GPT-4 translation and the translation back."""
    return f"{len(gpt2_ids)} GPT-2 ids -> {len(gpt4_ids)} GPT-4 ids -> the same GPT-2 ids"


@check(reference=_phrase)
def bert_specials(phrase, *, bert_with_special, bert_without_special) -> str:
    """BERT's ids of the phrase with [CLS]/[SEP] (the default) and without them."""
    bert = _tokenizer("bert-base-uncased")
    return f"the default adds [CLS]={bert.cls_token_id} and [SEP]={bert.sep_token_id}"


@check(reference=_vocabularies)
def bert_byte_lengths(*, bert_lengths, ref: dict) -> str:
    """UTF-8 bytes per WordPiece entry, '##' removed, special and [unused...] tokens left out."""
    right = ref["bert_lengths"]
    return f"{len(right):,} WordPiece entries, longest {right.max()} bytes"


@check(reference=_books)
def bert_book_counts(book_texts, *, bert_book_counts, ref: dict) -> str:
    """BERT tokens per book, without [CLS] and [SEP]."""
    return f"{len(book_texts)} books, {int(ref['bert_book_counts'].sum()):,} BERT tokens in all"


@check(reference=_books)
def bert_table(book_texts, *, bert_table, n_fewer) -> str:
    """Bytes, GPT-2 and BERT tokens and mean bytes per token per book, and how many books BERT
    encodes in fewer tokens than GPT-2."""
    return f"BERT needs fewer tokens than GPT-2 for {int(n_fewer)} of {len(book_texts)} books"


@check(reference=_sentence)
def bert_demo_ids(sentence, *, bert_ids, gpt2_via_bert) -> str:
    """The sentence translated from GPT-2 to BERT ids, and back to GPT-2 ids."""
    right = _bert_ids(sentence)
    wants = [_via_bert(right), _via_bert(right, clean=True)]  # either decoding of BERT's ids
    _one_of(gpt2_via_bert, wants, "gpt2_via_bert", "gpt2_via_bert should be bert_to_gpt2(bert_ids)")
    return f"{len(bert_ids)} BERT ids; back in GPT-2: {len(gpt2_via_bert)} ids"


@check(reference=_sentence)
def bert_round_trip(sentence, *, gpt2_to_bert, bert_to_gpt2) -> str:
    """gpt2_to_bert / bert_to_gpt2 match direct encoding; the round trip loses information."""
    for text in (sentence, *EXTRA_TEXTS[:2]):
        gpt2_ids, bert_ids = _gpt2_ids(text), _bert_ids(text)
        hint = f"on {text!r} it should give BERT's ids of that text, without [CLS]/[SEP]"
        _translates(gpt2_to_bert, "gpt2_to_bert", gpt2_ids, [bert_ids], hint)
        # Either decoding of BERT's ids is accepted: with or without the clean-up of spaces.
        wants = [_via_bert(bert_ids), _via_bert(bert_ids, clean=True)]
        hint = (
            f"on {text!r} it should decode with BERT and encode the text with GPT-2 (no specials)"
        )
        _translates(bert_to_gpt2, "bert_to_gpt2", bert_ids, wants, hint)
    ids = _gpt2_ids(sentence)
    require(
        _via_bert(_bert_ids(sentence)) != ids,
        "the round trip returned the original ids: the sentence should have capitals, accents or "
        "punctuation that BERT loses",
    )
    return f"GPT-2 -> BERT -> GPT-2 changes the sentence: {len(ids)} ids in"
