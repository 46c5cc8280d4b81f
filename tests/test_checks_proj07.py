"""Project 7's self-checks pass on the solution's values, fail on wrong ones, and spot blanks."""

import os

os.environ["ML4LLM_PROFILE"] = "offline"
os.environ["HF_HUB_OFFLINE"] = "1"

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from ml4llm.checks import proj07 as check  # noqa: E402
from ml4llm.models import load_tokenizer, tiktoken_encoding  # noqa: E402

SENTENCE = "Our NEW café plays JaZz on SuNdays, and it's LOUD."
PHRASE = "tokens become ids"
# Small "books": the checks re-encode only the shortest one.
BOOKS = {
    "first": "It was a bright cold day in April, and the clocks were striking.\n" * 30,
    "second": "    Call me Ishmael.   Some years ago, never mind how long precisely.\n" * 20,
}


@pytest.fixture(scope="module")
def gpt2_tokenizer():
    return load_tokenizer("gpt2")


@pytest.fixture(scope="module")
def bert_tokenizer():
    return load_tokenizer("bert-base-uncased")


@pytest.fixture(scope="module")
def cl100k():
    return tiktoken_encoding("cl100k_base")


@pytest.fixture(scope="module")
def gpt2_encoding():
    return tiktoken_encoding("gpt2")


def test_vocab_sizes(cl100k, gpt2_tokenizer, capsys):
    assert check.vocab_sizes(cl100k, gpt2_tokenizer, cl100k.n_vocab, len(gpt2_tokenizer))
    out = capsys.readouterr().out
    assert "PASS vocab_sizes" in out and "100,277" in out and "50,257" in out

    assert not check.vocab_sizes(cl100k, gpt2_tokenizer, cl100k.max_token_value, 50257)
    assert "n_vocab" in capsys.readouterr().out

    assert not check.vocab_sizes(cl100k, gpt2_tokenizer, cl100k.n_vocab, 50256)
    assert "len(gpt2_tokenizer)" in capsys.readouterr().out

    assert not check.vocab_sizes(cl100k, gpt2_tokenizer, ..., 50257)
    assert "fill in the blank first" in capsys.readouterr().out


def test_same_gpt2_ids(gpt2_tokenizer, gpt2_encoding, cl100k, capsys):
    hf = gpt2_tokenizer(SENTENCE, add_special_tokens=False)["input_ids"]
    tiktoken_ids = gpt2_encoding.encode(SENTENCE)
    assert check.same_gpt2_ids(SENTENCE, gpt2_tokenizer, tiktoken_ids, hf)
    assert "PASS same_gpt2_ids" in capsys.readouterr().out

    assert not check.same_gpt2_ids(SENTENCE, gpt2_tokenizer, cl100k.encode(SENTENCE), hf)
    assert "gpt2_encoding.encode" in capsys.readouterr().out

    assert not check.same_gpt2_ids(SENTENCE, gpt2_tokenizer, tiktoken_ids, [50256, *hf])
    assert "without special tokens" in capsys.readouterr().out

    assert not check.same_gpt2_ids(SENTENCE, gpt2_tokenizer, ..., hf)
    assert "fill in the blank first" in capsys.readouterr().out


def test_byte_lengths(cl100k, capsys):
    lengths, missing = check.reference_byte_lengths(cl100k)
    assert check.byte_lengths(cl100k, lengths, missing)
    out = capsys.readouterr().out
    assert "PASS byte_lengths" in out and "16 cannot be decoded" in out and "128 bytes" in out

    assert not check.byte_lengths(cl100k, lengths, missing[:-1])
    assert "KeyError" in capsys.readouterr().out

    # lengths of decoded strings instead of bytes: partial UTF-8 tokens become U+FFFD (3 bytes)
    wrong = lengths.copy()
    for token_id in range(cl100k.n_vocab):
        if token_id not in missing:
            wrong[token_id] = len(
                cl100k.decode_single_token_bytes(token_id).decode("utf-8", errors="replace")
            )
    assert not check.byte_lengths(cl100k, wrong, missing)
    out = capsys.readouterr().out
    assert "FAIL byte_lengths" in out and "not the length of a decoded string" in out

    assert not check.byte_lengths(cl100k, lengths[:-1], missing)
    assert "one length per id" in capsys.readouterr().out

    assert not check.byte_lengths(cl100k, np.zeros_like(lengths), [])  # the loop not filled in
    assert "fill in the loop first" in capsys.readouterr().out

    assert not check.byte_lengths(cl100k, ..., missing)
    assert "fill in the blank first" in capsys.readouterr().out


def test_normalised_counts(gpt2_encoding, capsys):
    lengths, _ = check.reference_byte_lengths(gpt2_encoding)
    counts = np.bincount(lengths[lengths > 0])
    assert check.normalised_counts(lengths, counts / counts.max())
    assert "PASS normalised_counts" in capsys.readouterr().out

    assert not check.normalised_counts(lengths, counts / counts.sum())  # sum, not max
    assert "maximum" in capsys.readouterr().out

    shifted = np.bincount(lengths[lengths > 0] - 1)
    assert not check.normalised_counts(lengths, shifted / shifted.max())
    assert "FAIL normalised_counts" in capsys.readouterr().out

    assert not check.normalised_counts(lengths, ...)
    assert "fill in the blank first" in capsys.readouterr().out


def test_vocab_summary(cl100k, gpt2_encoding, capsys):
    cl_lengths, cl_missing = check.reference_byte_lengths(cl100k)
    gpt2_lengths, _ = check.reference_byte_lengths(gpt2_encoding)
    args = (len(cl_missing), cl_lengths.max(), gpt2_lengths.max())
    assert check.vocab_summary(cl100k, gpt2_encoding, *args)
    out = capsys.readouterr().out
    assert "PASS vocab_summary" in out and "16 cannot be decoded" in out

    # the five special tokens counted as missing too
    assert not check.vocab_summary(cl100k, gpt2_encoding, len(cl_missing) + 5, *args[1:])
    assert "FAIL vocab_summary" in capsys.readouterr().out

    # the id of the longest token instead of its length
    assert not check.vocab_summary(
        cl100k, gpt2_encoding, args[0], int(np.argmax(cl_lengths)), args[2]
    )
    assert "cl100k's longest token" in capsys.readouterr().out

    assert not check.vocab_summary(cl100k, gpt2_encoding, ..., *args[1:])
    assert "fill in the blank first" in capsys.readouterr().out


def counts_of(texts, encode):
    return [len(encode(t)) for t in texts.values()]


def test_book_counts(gpt2_tokenizer, cl100k, capsys):
    gpt2_counts = counts_of(
        BOOKS, lambda t: gpt2_tokenizer(t, add_special_tokens=False)["input_ids"]
    )
    gpt4_counts = counts_of(BOOKS, lambda t: cl100k.encode(t, disallowed_special=()))
    assert check.book_counts(BOOKS, gpt2_tokenizer, cl100k, gpt2_counts, gpt4_counts)
    assert "PASS book_counts" in capsys.readouterr().out

    assert not check.book_counts(BOOKS, gpt2_tokenizer, cl100k, gpt4_counts, gpt2_counts)
    assert "FAIL book_counts" in capsys.readouterr().out

    with_special = counts_of(BOOKS, lambda t: gpt2_tokenizer(t)["input_ids"] + [50256])
    assert not check.book_counts(BOOKS, gpt2_tokenizer, cl100k, with_special, gpt4_counts)
    assert "special tokens" in capsys.readouterr().out

    assert not check.book_counts(BOOKS, gpt2_tokenizer, cl100k, [], [])
    assert "fill in the loop first" in capsys.readouterr().out

    assert not check.book_counts(BOOKS, gpt2_tokenizer, cl100k, gpt2_counts, [...] * 2)
    assert "fill in the blank first" in capsys.readouterr().out


def solution_book_table(gpt2_tokenizer, cl100k):
    gpt2 = counts_of(BOOKS, lambda t: gpt2_tokenizer(t, add_special_tokens=False)["input_ids"])
    gpt4 = counts_of(BOOKS, lambda t: cl100k.encode(t, disallowed_special=()))
    n_bytes = [len(t.encode("utf-8")) for t in BOOKS.values()]
    return pd.DataFrame(
        {
            "bytes": n_bytes,
            "GPT-2 tokens": gpt2,
            "GPT-4 tokens": gpt4,
            "GPT-2 bytes/token": np.array(n_bytes) / np.array(gpt2),
            "GPT-4 bytes/token": np.array(n_bytes) / np.array(gpt4),
            "GPT-4 / GPT-2": np.array(gpt4) / np.array(gpt2),
        },
        index=list(BOOKS),
    )


def test_book_table(gpt2_tokenizer, cl100k, capsys):
    table = solution_book_table(gpt2_tokenizer, cl100k)
    assert check.book_table(BOOKS, gpt2_tokenizer, cl100k, table)
    assert "PASS book_table" in capsys.readouterr().out

    wrong = table.copy()
    wrong["GPT-2 bytes/token"] = wrong["GPT-2 tokens"] / wrong["bytes"]  # upside down
    assert not check.book_table(BOOKS, gpt2_tokenizer, cl100k, wrong)
    assert "'GPT-2 bytes/token'" in capsys.readouterr().out

    wrong = table.copy()
    wrong["bytes"] = [len(t) for t in BOOKS.values()] + np.array([0, 1])  # not the UTF-8 bytes
    assert not check.book_table(BOOKS, gpt2_tokenizer, cl100k, wrong)
    assert "bytes column" in capsys.readouterr().out

    wrong = table.copy()
    wrong["GPT-4 / GPT-2"] = 1 / wrong["GPT-4 / GPT-2"]
    assert not check.book_table(BOOKS, gpt2_tokenizer, cl100k, wrong)
    assert "'GPT-4 / GPT-2'" in capsys.readouterr().out

    assert not check.book_table(BOOKS, gpt2_tokenizer, cl100k, table.reset_index(drop=True))
    assert "indexed by the titles" in capsys.readouterr().out

    assert not check.book_table(BOOKS, gpt2_tokenizer, cl100k, table.drop(columns="GPT-4 / GPT-2"))
    assert "column named" in capsys.readouterr().out

    assert not check.book_table(BOOKS, gpt2_tokenizer, cl100k, ...)
    assert "fill in the blank first" in capsys.readouterr().out


def test_round_trip(gpt2_tokenizer, cl100k, capsys):
    def gpt2_to_gpt4(ids):
        return cl100k.encode(gpt2_tokenizer.decode(ids, clean_up_tokenization_spaces=False))

    def gpt4_to_gpt2(ids):
        return gpt2_tokenizer(cl100k.decode(ids), add_special_tokens=False)["input_ids"]

    assert check.round_trip(SENTENCE, gpt2_tokenizer, cl100k, gpt2_to_gpt4, gpt4_to_gpt2)
    assert "PASS round_trip" in capsys.readouterr().out

    def piecewise(ids):  # decoding one id at a time breaks characters split across tokens
        text = "".join(gpt2_tokenizer.decode([i]) for i in ids)
        return cl100k.encode(text)

    assert not check.round_trip(SENTENCE, gpt2_tokenizer, cl100k, piecewise, gpt4_to_gpt2)
    assert "FAIL round_trip" in capsys.readouterr().out

    def blank(ids): ...

    assert not check.round_trip(SENTENCE, gpt2_tokenizer, cl100k, gpt2_to_gpt4, blank)
    assert "returns None" in capsys.readouterr().out


def test_demo_ids(gpt2_tokenizer, cl100k, capsys):
    gpt2_ids = gpt2_tokenizer(SENTENCE, add_special_tokens=False)["input_ids"]
    gpt4_ids = cl100k.encode(SENTENCE)
    assert check.demo_ids(SENTENCE, gpt2_tokenizer, cl100k, gpt2_ids, gpt4_ids, gpt2_ids)
    assert "PASS demo_ids" in capsys.readouterr().out

    assert not check.demo_ids(SENTENCE, gpt2_tokenizer, cl100k, gpt2_ids, gpt2_ids, gpt2_ids)
    assert "gpt4_ids" in capsys.readouterr().out

    assert not check.demo_ids(SENTENCE, gpt2_tokenizer, cl100k, gpt2_ids, gpt4_ids, None)
    assert "gpt2_back" in capsys.readouterr().out

    assert not check.demo_ids(SENTENCE, gpt2_tokenizer, cl100k, ..., gpt4_ids, gpt2_ids)
    assert "fill in the blank first" in capsys.readouterr().out


def test_bert_specials(bert_tokenizer, capsys):
    with_special = bert_tokenizer(PHRASE)["input_ids"]
    without = bert_tokenizer(PHRASE, add_special_tokens=False)["input_ids"]
    assert check.bert_specials(PHRASE, bert_tokenizer, with_special, without)
    assert "PASS bert_specials" in capsys.readouterr().out

    assert not check.bert_specials(PHRASE, bert_tokenizer, with_special, with_special)
    assert "add_special_tokens=False" in capsys.readouterr().out

    assert not check.bert_specials(PHRASE, bert_tokenizer, with_special, ...)
    assert "fill in the blank first" in capsys.readouterr().out


def test_bert_byte_lengths(bert_tokenizer, capsys):
    lengths = check.reference_wordpiece_lengths(bert_tokenizer)
    assert check.bert_byte_lengths(bert_tokenizer, lengths)
    assert "PASS bert_byte_lengths" in capsys.readouterr().out

    specials = set(bert_tokenizer.all_special_tokens)
    tokens = bert_tokenizer.convert_ids_to_tokens(list(range(len(bert_tokenizer))))
    with_hashes = [  # '##' counted as text
        len(t.encode("utf-8")) for t in tokens if t not in specials and not t.startswith("[unused")
    ]
    assert not check.bert_byte_lengths(bert_tokenizer, with_hashes)
    assert "'##'" in capsys.readouterr().out

    everything = [len(t.removeprefix("##").encode("utf-8")) for t in tokens]  # nothing left out
    assert not check.bert_byte_lengths(bert_tokenizer, everything)
    assert "[unused...]" in capsys.readouterr().out

    assert not check.bert_byte_lengths(bert_tokenizer, np.array([]))
    assert "fill in the loop first" in capsys.readouterr().out

    assert not check.bert_byte_lengths(bert_tokenizer, ...)
    assert "fill in the blank first" in capsys.readouterr().out


def test_bert_book_counts(bert_tokenizer, capsys):
    counts = counts_of(BOOKS, lambda t: bert_tokenizer(t, add_special_tokens=False)["input_ids"])
    assert check.bert_book_counts(BOOKS, bert_tokenizer, counts)
    assert "PASS bert_book_counts" in capsys.readouterr().out

    with_special = [c + 2 for c in counts]  # [CLS] and [SEP] counted
    assert not check.bert_book_counts(BOOKS, bert_tokenizer, with_special)
    assert "add_special_tokens=False" in capsys.readouterr().out

    assert not check.bert_book_counts(BOOKS, bert_tokenizer, [])
    assert "fill in the loop first" in capsys.readouterr().out

    assert not check.bert_book_counts(BOOKS, bert_tokenizer, ...)
    assert "fill in the blank first" in capsys.readouterr().out


def test_bert_table(gpt2_tokenizer, bert_tokenizer, capsys):
    gpt2 = counts_of(BOOKS, lambda t: gpt2_tokenizer(t, add_special_tokens=False)["input_ids"])
    bert = counts_of(BOOKS, lambda t: bert_tokenizer(t, add_special_tokens=False)["input_ids"])
    n_bytes = [len(t.encode("utf-8")) for t in BOOKS.values()]
    table = pd.DataFrame(
        {
            "bytes": n_bytes,
            "GPT-2 tokens": gpt2,
            "BERT tokens": bert,
            "GPT-2 bytes/token": np.array(n_bytes) / np.array(gpt2),
            "BERT bytes/token": np.array(n_bytes) / np.array(bert),
        },
        index=list(BOOKS),
    )
    n_fewer = int((np.array(bert) < np.array(gpt2)).sum())
    assert check.bert_table(BOOKS, gpt2_tokenizer, bert_tokenizer, table, n_fewer)
    assert "PASS bert_table" in capsys.readouterr().out

    fewer_or_equal = int((np.array(bert) <= np.array(gpt2)).sum()) + 1
    assert not check.bert_table(BOOKS, gpt2_tokenizer, bert_tokenizer, table, fewer_or_equal)
    assert "count the True values" in capsys.readouterr().out

    wrong = table.copy()
    wrong["BERT tokens"] = wrong["BERT tokens"] + 2  # [CLS] and [SEP] counted
    assert not check.bert_table(BOOKS, gpt2_tokenizer, bert_tokenizer, wrong, n_fewer)
    assert "BERT tokens" in capsys.readouterr().out

    wrong = table.copy()
    wrong["BERT bytes/token"] = wrong["GPT-2 bytes/token"]
    assert not check.bert_table(BOOKS, gpt2_tokenizer, bert_tokenizer, wrong, n_fewer)
    assert "'BERT bytes/token'" in capsys.readouterr().out

    assert not check.bert_table(BOOKS, gpt2_tokenizer, bert_tokenizer, table, ...)
    assert "fill in the blank first" in capsys.readouterr().out


def test_bert_demo_ids(gpt2_tokenizer, bert_tokenizer, capsys):
    bert_ids = bert_tokenizer(SENTENCE, add_special_tokens=False)["input_ids"]
    text = bert_tokenizer.decode(bert_ids, clean_up_tokenization_spaces=False)
    back = gpt2_tokenizer(text, add_special_tokens=False)["input_ids"]
    assert check.bert_demo_ids(SENTENCE, gpt2_tokenizer, bert_tokenizer, bert_ids, back)
    assert "PASS bert_demo_ids" in capsys.readouterr().out

    with_special = bert_tokenizer(SENTENCE)["input_ids"]
    assert not check.bert_demo_ids(SENTENCE, gpt2_tokenizer, bert_tokenizer, with_special, back)
    assert "[CLS]/[SEP]" in capsys.readouterr().out

    original = gpt2_tokenizer(SENTENCE, add_special_tokens=False)["input_ids"]
    assert not check.bert_demo_ids(SENTENCE, gpt2_tokenizer, bert_tokenizer, bert_ids, original)
    assert "bert_to_gpt2" in capsys.readouterr().out

    assert not check.bert_demo_ids(SENTENCE, gpt2_tokenizer, bert_tokenizer, bert_ids, ...)
    assert "fill in the blank first" in capsys.readouterr().out


def test_bert_round_trip(gpt2_tokenizer, bert_tokenizer, capsys):
    def gpt2_to_bert(ids):
        text = gpt2_tokenizer.decode(ids, clean_up_tokenization_spaces=False)
        return bert_tokenizer(text, add_special_tokens=False)["input_ids"]

    def bert_to_gpt2(ids):
        text = bert_tokenizer.decode(ids, clean_up_tokenization_spaces=False)
        return gpt2_tokenizer(text, add_special_tokens=False)["input_ids"]

    assert check.bert_round_trip(
        SENTENCE, gpt2_tokenizer, bert_tokenizer, gpt2_to_bert, bert_to_gpt2
    )
    assert "PASS bert_round_trip" in capsys.readouterr().out

    def with_specials(ids):  # [CLS] and [SEP] left in
        text = gpt2_tokenizer.decode(ids, clean_up_tokenization_spaces=False)
        return bert_tokenizer(text)["input_ids"]

    assert not check.bert_round_trip(
        SENTENCE, gpt2_tokenizer, bert_tokenizer, with_specials, bert_to_gpt2
    )
    assert "without [CLS]/[SEP]" in capsys.readouterr().out

    # a round trip on an all-lowercase sentence without accents or punctuation loses nothing
    plain = "our new cafe plays jazz on sundays"
    assert not check.bert_round_trip(
        plain, gpt2_tokenizer, bert_tokenizer, gpt2_to_bert, bert_to_gpt2
    )
    assert "returned the original ids" in capsys.readouterr().out

    def blank(ids): ...

    assert not check.bert_round_trip(SENTENCE, gpt2_tokenizer, bert_tokenizer, blank, bert_to_gpt2)
    assert "returns None" in capsys.readouterr().out
