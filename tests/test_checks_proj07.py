"""Project 7's checks: each wrong answer gets its hint (the solution notebook is the pass test)."""

from __future__ import annotations

import functools

import checkutil
import numpy as np

from ml4llm.checks import proj07 as check

SENTENCE = "Our NEW café plays JaZz on SuNdays, and it's LOUD."
PHRASE = "tokens become ids"
# Three short "books" of different lengths (the old checks verified only the shortest one).
BOOKS = {
    "first": "It was a bright cold day in April, and the clocks were striking.\n" * 30,
    "second": "    Call me Ishmael.   Some years ago, never mind how long precisely.\n" * 20,
    "third": "Le café était fermé; nous avons marché jusqu'à la gare.\n" * 12,
    "fourth": "The photosynthesis of chlorophyll in mitochondria was measured.\n" * 8,
}
SHORTEST = min(len(t) for t in BOOKS.values())


@functools.cache
def inputs() -> dict[str, tuple]:
    return {
        **dict.fromkeys(["vocab_sizes", "vocab_summary", "bert_byte_lengths"], ()),
        **dict.fromkeys(["same_gpt2_ids", "round_trip", "demo_ids"], (SENTENCE,)),
        **dict.fromkeys(["bert_demo_ids", "bert_round_trip"], (SENTENCE,)),
        **dict.fromkeys(["byte_lengths", "normalised_counts"], (check._tokenizer("cl100k_base"),)),
        "bert_specials": (PHRASE,),
        **dict.fromkeys(["book_counts", "book_table", "bert_book_counts", "bert_table"], (BOOKS,)),
    }


def truncated(count) -> list[int]:  # counted on the first SHORTEST characters of every book
    return [count(text[:SHORTEST]) for text in BOOKS.values()]


def column(table: str, name: str, change):
    return lambda r: r[table].assign(**{name: change(r[table])})


def one_changed(values):
    values = np.array(values, copy=True)
    values[100] += 1
    return values


def bert_with_specials(ids):  # gpt2_to_bert that keeps [CLS] and [SEP]
    return check._bert_ids(check._tokenizer("gpt2").decode(ids), specials=True)


def cl100k_lengths(position: int):
    return lambda r: check._tiktoken_lengths("cl100k_base")[position]


def every_length(r):
    counts = np.bincount(check._tiktoken_lengths("cl100k_base")[0])
    return counts / counts.max()


EOS = 50256
WRONG = {  # check -> [(learner value, wrong answer from the right values r, hint substring)]
    "vocab_sizes": [
        ("cl100k_size", lambda r: check._tokenizer("cl100k_base").max_token_value, "one less"),
        ("cl100k_size", lambda r: r["cl100k_size"] + 5, "n_vocab"),
        ("gpt2_size", lambda r: r["gpt2_size"] + 1, "len(gpt2_tokenizer)"),
    ],
    "same_gpt2_ids": [
        ("tiktoken_gpt2_ids", lambda r: check._gpt4_ids(SENTENCE), "these are cl100k's ids"),
        ("tiktoken_gpt2_ids", lambda r: r["tiktoken_gpt2_ids"][::-1], "gpt2_encoding.encode"),
        ("hf_gpt2_ids", lambda r: [*r["hf_gpt2_ids"], EOS], "without special tokens"),
    ],
    "byte_lengths": [
        ("lengths", cl100k_lengths(2), "lengths of decoded strings"),
        ("lengths", lambda r: one_changed(r["lengths"]), "the token's bytes"),
        ("missing", lambda r: r["missing"][:-1], "raise an error when decoded"),
    ],
    "normalised_counts": [
        ("normalised", lambda r: np.bincount(cl100k_lengths(0)(r)[cl100k_lengths(0)(r) > 0]), "divide the counts by their maximum"),
        ("normalised", every_length, "decodable ids only"),
        ("normalised", lambda r: r["normalised"][::-1], "np.bincount(lengths[lengths > 0])"),
    ],
    "vocab_summary": [
        ("n_missing", lambda r: r["n_missing"] + 1, "count the cl100k ids"),
        ("cl100k_longest", lambda r: int(check._tiktoken_lengths("cl100k_base")[0].argmax()), "the id of the longest token"),
        ("gpt2_longest", lambda r: r["gpt2_longest"] - 1, "GPT-2's longest token"),
    ],
    "book_counts": [
        # issue 11: counts of text[:n] passed when only the shortest book was checked
        ("gpt4_book_counts", lambda r: truncated(lambda t: len(check._gpt4_ids(t))), "all 4 books"),
        ("gpt4_book_counts", lambda r: r["gpt2_book_counts"], "are the two lists swapped?"),
        ("gpt2_book_counts", lambda r: [len(t.encode()) for t in BOOKS.values()], "more bytes than tokens"),
        ("gpt2_book_counts", lambda r: r["gpt2_book_counts"] + 1, "encode without special tokens"),
    ],
    "book_table": [
        ("book_table", column("book_table", "bytes", lambda t: [len(x) for x in BOOKS.values()]), "these count characters"),
        ("book_table", column("book_table", "bytes", lambda t: t["bytes"] + 1), "the bytes column is off"),
        ("book_table", column("book_table", "GPT-2 tokens", lambda t: t["GPT-2 tokens"] + 1), "the GPT-2 count of every book"),
        ("book_table", column("book_table", "GPT-4 tokens", lambda t: truncated(lambda x: len(check._gpt4_ids(x)))), "all 4 books"),
        ("book_table", column("book_table", "GPT-2 bytes/token", lambda t: 1 / t["GPT-2 bytes/token"]), "this is tokens / bytes"),
        ("book_table", column("book_table", "GPT-4 bytes/token", lambda t: t["GPT-4 bytes/token"] + 1), "'GPT-4 bytes/token' should be"),
        ("book_table", column("book_table", "GPT-4 / GPT-2", lambda t: 1 / t["GPT-4 / GPT-2"]), "turn it over"),
        ("book_table", column("book_table", "GPT-4 / GPT-2", lambda t: t["GPT-4 / GPT-2"] + 1), "should need fewer tokens"),
        ("book_table", lambda r: r["book_table"].drop(columns="GPT-4 / GPT-2"), "'GPT-4 / GPT-2' missing"),
        ("book_table", lambda r: r["book_table"].reset_index(drop=True), "the index should be ['first'"),
    ],
    "round_trip": [
        ("gpt2_to_gpt4", lambda r: lambda ids: ids, "decode with GPT-2"),
        ("gpt4_to_gpt2", lambda r: lambda ids: ids, "decode with cl100k"),
        ("gpt4_to_gpt2", lambda r: lambda ids: None, "returned None"),
    ],
    "demo_ids": [
        ("gpt4_ids", lambda r: r["gpt2_ids"], "still GPT-2's ids"),
        ("gpt2_ids", lambda r: [*r["gpt2_ids"], EOS], "without special tokens"),
        ("gpt2_back", lambda r: r["gpt2_back"][::-1], "gpt4_to_gpt2(gpt4_ids)"),
    ],
    "bert_specials": [
        ("bert_with_special", lambda r: r["bert_without_special"], "these have no [CLS] and [SEP]"),
        ("bert_with_special", lambda r: r["bert_with_special"][::-1], "with its defaults"),
        ("bert_without_special", lambda r: r["bert_with_special"], "add_special_tokens=False"),
    ],
    "bert_byte_lengths": [
        ("bert_lengths", lambda r: check._wordpiece()["with ##"], "'##' is counted"),
        ("bert_lengths", lambda r: check._wordpiece()["characters"], "count the UTF-8 bytes"),
        ("bert_lengths", lambda r: np.ones(len(check._tokenizer("bert-base-uncased"))), "leave out the special"),
        ("bert_lengths", lambda r: one_changed(r["bert_lengths"]), "remove a leading '##'"),
    ],
    "bert_book_counts": [
        ("bert_book_counts", lambda r: r["bert_book_counts"] + 2, "[CLS] and [SEP] are counted"),
        ("bert_book_counts", lambda r: truncated(lambda t: len(check._bert_ids(t))), "all 4 books"),
    ],
    "bert_table": [
        ("bert_table", column("bert_table", "BERT tokens", lambda t: t["BERT tokens"] + 1), "the BERT count of every book"),
        ("bert_table", column("bert_table", "BERT bytes/token", lambda t: 1 / t["BERT bytes/token"]), "this is tokens / bytes"),
        # issue 11: n_fewer was compared with the learner's own columns
        ("n_fewer", lambda r: len(BOOKS) - r["n_fewer"], "where BERT needs more"),
        ("n_fewer", lambda r: r["n_fewer"] + 5, "count the True values"),
    ],
    "bert_demo_ids": [
        ("bert_ids", lambda r: check._bert_ids(SENTENCE, specials=True), "[CLS] and [SEP] are counted"),
        ("bert_ids", lambda r: r["bert_ids"][::-1], "gpt2_to_bert(gpt2_ids)"),
        ("gpt2_via_bert", lambda r: r["gpt2_ids"], "bert_to_gpt2(bert_ids)"),
    ],
    "bert_round_trip": [
        ("gpt2_to_bert", lambda r: bert_with_specials, "without [CLS]/[SEP]"),
        ("bert_to_gpt2", lambda r: lambda ids: ids, "decode with BERT"),
    ],
}  # fmt: skip

test_wrong_answers = checkutil.wrong_answers(check, inputs, WRONG)


def test_gpt2_and_bert_vocabularies_and_a_lossless_sentence(capsys):
    for vocabulary, name in [(check._tokenizer("tiktoken gpt2"), "gpt2"),
                             (check._tokenizer("bert-base-uncased"), "BERT WordPiece")]:  # fmt: skip
        right = check._vocabulary(vocabulary)["normalised"].value
        result = check.normalised_counts(vocabulary, normalised=right)
        assert result and result.message.startswith(f"PASS normalised_counts: {name}: peak")
    result = check.byte_lengths(check._tokenizer("bert-base-uncased"), lengths=[1], missing=[])
    assert not result and "give a tiktoken encoding" in result.message
    plain = "tokens become ids"  # nothing for BERT to lose
    refs = check._sentence(plain)
    result = check.bert_round_trip(plain, gpt2_to_bert=refs["gpt2_to_bert"], bert_to_gpt2=refs["bert_to_gpt2"])  # fmt: skip
    assert not result and "the round trip returned the original ids" in result.message
