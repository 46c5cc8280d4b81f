"""Project 12's checks: each wrong answer gets its hint (the solution notebook is the pass test)."""

from __future__ import annotations

import functools

import checkutil
import numpy as np

from ml4llm.checks import proj12 as check
from ml4llm.tokens import encode

WORDS = [
    "planet", "moon", "comet", "galaxy", "asteroid", "universe",
    "chair", "sofa", "desk", "shelf", "couch", "wardrobe",
    "apple", "banana", "cherry", "grape", "lemon", "peach",
]  # fmt: skip
CATEGORIES = ["space"] * 6 + ["furniture"] * 6 + ["fruit"] * 6
BERT, GPT2 = "bert-large-uncased", "gpt2-medium"
MODELS = ["bert-base-uncased", "bert-large-uncased", "gpt2"]  # offline the two BERTs are one
PAIR = (WORDS, BERT, GPT2)


@functools.cache
def inputs() -> dict[str, tuple]:
    part4 = (WORDS, CATEGORIES, MODELS)
    return {
        **dict.fromkeys(["word_ids", "token_counts", "per_word_r", "example_pair", "rsa"], PAIR),
        "cosine_matrix": (WORDS, GPT2),
        "permutation_test": (*PAIR, 50),
        "same_category_pairs": (CATEGORIES,),
        **dict.fromkeys(["rsa_matrix", "category_scores", "family_pairs"], part4),
    }


def vectors(model_id: str) -> np.ndarray:
    return check._vectors(model_id, tuple(WORDS))


def cosines(model_id: str) -> np.ndarray:
    return check._cosines(model_id, WORDS)


def shared_cosines(r: dict) -> list[float]:
    a, b = vectors(BERT)[:, :160], vectors(GPT2)[:, :160]
    return [x @ y / np.linalg.norm(x) / np.linalg.norm(y) for x, y in zip(a, b)]


def null(orders, rows_only: bool = False) -> list[float]:
    a, b = cosines(BERT), cosines(GPT2)
    return [check._rsa(a, b[o] if rows_only else b[o][:, o]) for o in orders]


def each_piece(change):
    return lambda r: [[change(piece) for piece in word] for word in r["gpt2_bare_pieces"]]


def whole(a, b) -> float:  # the correlation of the whole matrices, not of the upper triangles
    return check.common.pearson(a.ravel(), b.ravel())


def pairs(r: dict, column: int, value) -> list[tuple]:
    return [(*row[:column], value, *row[column + 1 :]) for row in r["family_pairs"]]


bare = [encode(check._tokenizer(GPT2), w)[0] for w in WORDS]
same_order = np.tile(np.arange(18), (50, 1))
WRONG = {  # check -> [(learner value, wrong answer from the right values r, hint substring)]
    "word_ids": [
        ("gpt2_ids", lambda r: bare, "that is the id without the leading space"),
        ("bert_ids", lambda r: r["bert_ids"][::-1], "BERT's id of each bare word"),
    ],
    "token_counts": [
        ("bert_counts", lambda r: [c + 1 for c in r["bert_counts"]], "encode each"),
        ("gpt2_bare_counts", lambda r: r["gpt2_space_counts"], "these count ' ' +"),
        ("gpt2_space_counts", lambda r: r["gpt2_bare_counts"], "without a space"),
        ("gpt2_bare_pieces", lambda r: ["|".join(p) for p in r["gpt2_bare_pieces"]], "one string"),
        ("gpt2_bare_pieces", each_piece(str.upper), "['planet']: GPT-2 splits"),
    ],
    "per_word_r": [
        ("per_word_r", shared_cosines, "these are cosines"),
        ("per_word_r", lambda r: r["per_word_r"][::-1], "Pearson r of word i's two"),
    ],
    "example_pair": [
        ("example_bert", lambda r: r["example_gpt2"], "x and y are swapped"),
        ("example_bert", lambda r: vectors(BERT)[0], "the 160 shared dimensions"),
        ("example_bert", lambda r: vectors(BERT)[1, :160], "x should be row 0"),
    ],
    "cosine_matrix": [
        ("matrix", lambda r: vectors(GPT2) @ vectors(GPT2).T, "diagonal is not 1"),
        ("matrix", lambda r: cosines(BERT), "differ from the cosines of the rows"),
    ],
    "rsa": [
        ("bert_upper", lambda r: cosines(BERT)[np.triu_indices(18)], "diagonal is included"),
        ("bert_upper", lambda r: cosines(BERT)[np.tril_indices(18, -1)], "their order differ"),
        ("rsa_function", lambda r: whole, "rsa(a, b) should be"),
        ("rsa_function", lambda r: lambda a, b: None, "rsa(...) returned None"),
        ("rsa_pearson", lambda r: whole(cosines(BERT), cosines(GPT2)), "whole matrices"),
        ("rsa_spearman", lambda r: r["rsa_pearson"], "this is Pearson's r"),
    ],
    "permutation_test": [
        # the finding of issue 11: shuffling only the rows used to pass
        ("null_rsa", lambda r: null(r["orders"], rows_only=True), "only the rows are shuffled"),
        ("null_rsa", lambda r: [check._rsa(cosines(BERT), cosines(GPT2))] * 50, "the observed RSA"),
        ("orders", lambda r: same_order, "every shuffle has the same order"),
        ("orders", lambda r: np.zeros((50, 18)), "a permutation of range(n_words)"),
        ("p_value", lambda r: (r["p_value"] * 51 - 1) / 50, "count the observed order"),
        ("p_value", lambda r: 1 - r["p_value"], "the share of shuffles with RSA >="),
    ],
    "same_category_pairs": [
        ("same_category", lambda r: r["same_category"][::-1], "upper-triangle order"),
        ("same_category", lambda r: r["same_category"].astype(int), "True/False"),
        ("same_category", lambda r: ~r["same_category"], "45 pairs join two words"),
    ],
    "rsa_matrix": [
        ("rsa_matrix", lambda r: np.triu(r["rsa_matrix"]), "not symmetric"),
        ("rsa_matrix", lambda r: np.ones((3, 3)), "every entry is still 1"),
        ("rsa_matrix", lambda r: r["rsa_matrix"] - np.eye(3), "the diagonal should be 1"),
        ("rsa_matrix", lambda r: r["rsa_matrix"][::-1, ::-1], "the RSA of models i and j"),
    ],
    "category_scores": [
        ("scores", lambda r: {m: s + 1 for m, s in r["scores"].items()}, "minus mean across"),
        ("scores", lambda r: dict(list(r["scores"].items())[:2]), "expected the keys"),
    ],
    "family_pairs": [
        ("family_pairs", lambda r: pairs(r, 2, "within family"), "'within family' when"),
        ("family_pairs", lambda r: pairs(r, 3, False), "np.array_equal"),
        ("family_pairs", lambda r: pairs(r, 4, 1.0), "the RSA of the pair"),
        ("family_pairs", lambda r: r["family_pairs"][::-1], "with i < j"),
        ("family_pairs", lambda r: [], "a list of 3 rows of 5 values"),
    ],
}

test_wrong_answers = checkutil.wrong_answers(check, inputs, WRONG)


def test_a_word_that_is_not_one_token_is_named(capsys):
    check.word_ids([*WORDS[:-1], "kumquat"], BERT, GPT2, bert_ids=[0] * 18, gpt2_ids=[0] * 18)
    assert (
        "FAIL word_ids: replace the word: 'kumquat' is not a single token"
        in capsys.readouterr().out
    )


def test_the_pass_lines_of_two_models_differ(capsys):
    for model_id in (BERT, GPT2):
        check.cosine_matrix(WORDS, model_id, matrix=cosines(model_id))
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        f"PASS cosine_matrix: {m}: 18 x 18, symmetric, unit diagonal" for m in (BERT, GPT2)
    ]
