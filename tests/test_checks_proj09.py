"""Project 9's checks: each wrong answer gets its hint (the solution notebook is the pass test)."""

from __future__ import annotations

import functools

import checkutil
import numpy as np

from ml4llm.checks import proj09 as check
from ml4llm.models import input_embeddings, load_model, load_tokenizer
from ml4llm.tokens import encode

SENTENCE = "We drank hot coffee in the kitchen before the bus came"
SENTENCE_A = "Late one evening in our street the dog barked and everyone in the house woke up"
SENTENCE_B = "Late one evening in our street the baby cried and everyone in the house woke up"


@functools.cache
def bert() -> tuple:
    model = load_model("bert-base-uncased")
    return model, load_tokenizer("bert-base-uncased"), input_embeddings(model)


@functools.cache
def inputs() -> dict[str, tuple]:
    model, tokenizer, embeddings = bert()
    two = (tokenizer, embeddings, SENTENCE_A, SENTENCE_B)
    return {
        **dict.fromkeys(["successive", "pair_labels"], (tokenizer, embeddings, SENTENCE)),
        "sklearn_pair": (tokenizer, embeddings, SENTENCE, 3),
        **dict.fromkeys(["sentence_pair", "equal_count", "pair_names"], two),
        "contextual": (model, tokenizer, SENTENCE_A, SENTENCE_B),
        "gaps": (model, *two),
    }


def raw_products(text: str) -> np.ndarray:  # dot products of the rows, not normalised
    rows = bert()[2][encode(bert()[1], text)].astype(np.float64)
    return np.sum(rows[1:] * rows[:-1], axis=1)


def with_specials(text: str) -> np.ndarray:  # the successive cosines of [CLS] … [SEP]
    tokenizer, embeddings = bert()[1], bert()[2]
    return check._successive(embeddings[tokenizer(text)["input_ids"]])


def replace(names: list[str], at: int, value: str) -> list[str]:
    return [value if k == at else name for k, name in enumerate(names)]


def differ(r) -> int:  # the first similarity whose pairs differ between the two sentences
    return next(k for k, (a, b) in enumerate(r["pairs"]) if a != b)


def swapped(r) -> str:
    (a, b) = r["pairs"][differ(r)]
    return f"B: {b[0]}–{b[1]}\nA: {a[0]}–{a[1]}"


WRONG = {  # check -> [(learner value, wrong answer from the right values r, hint substring)]
    "successive": [
        ("sims", lambda r: with_specials(SENTENCE), "that counts [CLS] and [SEP]"),
        # products of rows longer than 1 (not normalised) leave [-1, 1]
        ("sims", lambda r: raw_products(SENTENCE) * 100, "divide by the vectors' norms"),
        ("sims", lambda r: r["sims"][::-1], "compare row t with row t - 1"),
    ],
    "pair_labels": [
        ("pair_labels", lambda r: r["pair_labels"][:-1], "expected 10 strings"),
        ("pair_labels", lambda r: [p.replace("–", "") for p in r["pair_labels"]], "a dash"),
    ],
    "sklearn_pair": [
        ("one_pair", lambda r: r["one_pair"][0], "pass two one-row selections"),
        ("one_pair", lambda r: r["one_pair"] - 0.1, "compare row t with row t - 1"),
        ("one_pair", lambda r: r["one_pair"].tolist(), "one_pair: give a NumPy array"),
    ],
    "sentence_pair": [
        ("changed", lambda r: r["changed"] + 1, "position by position"),
        ("touches_change", lambda r: ~r["touches_change"], "touches the change if either"),
        ("sims_b", lambda r: r["sims_a"], "compare row t with row t - 1"),
        ("sims_a", lambda r: with_specials(SENTENCE_A), "that counts [CLS] and [SEP]"),
        (
            "sims_b",
            lambda r: np.where(r["touches_change"], r["sims_b"], r["sims_b"] + 1e-7),
            "touch no changed word but differ",
        ),
        ("changed", lambda r: r["changed"].tolist(), "changed: give a NumPy array"),
    ],
    "equal_count": [
        ("n_equal", lambda r: len(r["touches_change"]), "that counts every similarity"),
        ("n_equal", lambda r: r["n_equal"] - 1, "compare sims_a and sims_b with =="),
    ],
    "pair_names": [
        ("pair_names", lambda r: r["pair_names"][:-1], "expected 15 strings"),
        ("pair_names", lambda r: replace(r["pair_names"], 0, "one–late"), "both sentences have"),
        (
            "pair_names",
            lambda r: replace(r["pair_names"], differ(r), "the–dog"),
            "name both pairs",
        ),
        (
            "pair_names",
            lambda r: replace(r["pair_names"], differ(r), swapped(r)),
            "put sentence A's pair first",
        ),
    ],
    "contextual": [
        ("context_a", lambda r: np.concatenate([[0.5], r["context_a"], [0.5]]), "[CLS] and [SEP]"),
        ("context_b", lambda r: r["context_a"], "last_hidden_state of a forward pass"),
    ],
    "gaps": [
        ("static_gap", lambda r: -r["static_gap"], "take the absolute difference"),
        ("context_gap", lambda r: r["static_gap"], "|similarity A - similarity B|"),
        ("context_gap", lambda r: list(r["context_gap"]), "context_gap: give a NumPy array"),
    ],
}

test_wrong_answers = checkutil.wrong_answers(check, inputs, WRONG)


def test_sentences_of_different_lengths_are_named(capsys):
    _, tokenizer, embeddings = bert()
    check.equal_count(tokenizer, embeddings, SENTENCE_A, SENTENCE, n_equal=3)
    assert "different token counts" in capsys.readouterr().out
