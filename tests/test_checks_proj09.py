"""Project 9's checks pass on the solution's values, fail on wrong ones and spot blanks."""

from __future__ import annotations

import os

os.environ["ML4LLM_PROFILE"] = "offline"
os.environ["HF_HUB_OFFLINE"] = "1"

import numpy as np
import pytest
import torch

from ml4llm.checks import proj09 as check
from ml4llm.models import input_embeddings, load_model, load_tokenizer
from ml4llm.tokens import decode_token

SENTENCE = "We drank hot coffee in the kitchen before the bus came"
SENTENCE_A = "Late one evening in our street the dog barked and everyone in the house woke up"
SENTENCE_B = "Late one evening in our street the baby cried and everyone in the house woke up"


@pytest.fixture(scope="module")
def bert():
    model = load_model("bert-base-uncased")
    return model, load_tokenizer("bert-base-uncased"), input_embeddings(model)


def successive_cosines(vectors):
    """The solution's function."""
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.sum(unit[1:] * unit[:-1], axis=1)


def ids_of(tokenizer, text):
    return tokenizer(text, add_special_tokens=False)["input_ids"]


def pair_values(tokenizer, embeddings):
    ids_a = ids_of(tokenizer, SENTENCE_A)
    ids_b = ids_of(tokenizer, SENTENCE_B)
    changed = np.flatnonzero(np.array(ids_a) != np.array(ids_b))
    touches = np.array([(t - 1 in changed) or (t in changed) for t in range(1, len(ids_a))])
    sims_a = successive_cosines(embeddings[ids_a])
    sims_b = successive_cosines(embeddings[ids_b])
    return changed, touches, sims_a, sims_b


def last_hidden_rows(model, tokenizer, text):
    inputs = tokenizer(text, return_tensors="pt").to(model.device)
    with torch.no_grad():
        return model(**inputs).last_hidden_state[0].cpu().numpy()


def test_successive(bert, capsys):
    _, tokenizer, embeddings = bert
    ids = ids_of(tokenizer, SENTENCE)
    sims = successive_cosines(embeddings[ids])
    assert check.successive(tokenizer, embeddings, SENTENCE, sims)
    assert "PASS successive" in capsys.readouterr().out

    with_specials = tokenizer(SENTENCE)["input_ids"]
    assert not check.successive(
        tokenizer, embeddings, SENTENCE, successive_cosines(embeddings[with_specials])
    )
    assert "add_special_tokens=False" in capsys.readouterr().out
    rows = embeddings[ids]
    dots = np.sum(rows[1:] * rows[:-1], axis=1)  # not normalised
    assert not check.successive(tokenizer, embeddings, SENTENCE, dots)
    assert "FAIL successive" in capsys.readouterr().out
    # each token against the first one instead of the previous one
    unit = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    assert not check.successive(tokenizer, embeddings, SENTENCE, unit[1:] @ unit[0])
    assert "row t - 1" in capsys.readouterr().out
    assert not check.successive(tokenizer, embeddings, SENTENCE, ...)
    assert "fill in the blank first" in capsys.readouterr().out


def test_sentence_pair(bert, capsys):
    _, tokenizer, embeddings = bert
    changed, touches, sims_a, sims_b = pair_values(tokenizer, embeddings)
    args = (tokenizer, embeddings, SENTENCE_A, SENTENCE_B)
    assert check.sentence_pair(*args, changed, touches, sims_a, sims_b)
    out = capsys.readouterr().out
    assert "PASS sentence_pair" in out and "[7, 8]" in out

    assert not check.sentence_pair(*args, changed + 1, touches, sims_a, sims_b)
    assert "changed positions are [7, 8]" in capsys.readouterr().out
    # flags that mark only the similarities ending at a changed token
    only_current = np.array([t in changed for t in range(1, len(touches) + 1)])
    assert not check.sentence_pair(*args, changed, only_current, sims_a, sims_b)
    assert "touches_change should flag" in capsys.readouterr().out
    # sentence B's similarities computed on sentence A's rows
    assert not check.sentence_pair(*args, changed, touches, sims_a, sims_a)
    assert "FAIL sentence_pair" in capsys.readouterr().out
    # a tiny change at an untouched position: must be exactly equal
    nudged = sims_b.copy()
    nudged[0] += 1e-7
    assert not check.sentence_pair(*args, changed, touches, sims_a, nudged)
    assert "differ between the sentences" in capsys.readouterr().out
    assert not check.sentence_pair(*args, ..., touches, sims_a, sims_b)
    assert "fill in the blank first" in capsys.readouterr().out


def test_contextual(bert, capsys):
    model, tokenizer, _ = bert
    hidden_a = last_hidden_rows(model, tokenizer, SENTENCE_A)
    hidden_b = last_hidden_rows(model, tokenizer, SENTENCE_B)
    context_a = successive_cosines(hidden_a[1:-1])
    context_b = successive_cosines(hidden_b[1:-1])
    args = (model, tokenizer, SENTENCE_A, SENTENCE_B)
    assert check.contextual(*args, context_a, context_b)
    assert "PASS contextual" in capsys.readouterr().out

    assert not check.contextual(*args, successive_cosines(hidden_a), context_b)
    assert "drop the first and the last" in capsys.readouterr().out
    assert not check.contextual(*args, context_b, context_a)
    assert "FAIL contextual" in capsys.readouterr().out
    assert not check.contextual(*args, context_a, ...)
    assert "fill in the blank first" in capsys.readouterr().out


def test_successive_none(bert, capsys):
    _, tokenizer, embeddings = bert
    # a successive_cosines whose body is still a stub returns None
    assert not check.successive(tokenizer, embeddings, SENTENCE, None)
    assert "successive_cosines must return its values" in capsys.readouterr().out


def test_pair_labels(bert, capsys):
    _, tokenizer, _ = bert
    tokens = [decode_token(tokenizer, i) for i in ids_of(tokenizer, SENTENCE)]
    labels = [f"{tokens[t - 1]}–{tokens[t]}" for t in range(1, len(tokens))]
    assert check.pair_labels(tokenizer, SENTENCE, labels)
    assert "PASS pair_labels: 10 labels, 'we–drank' … 'bus–came'" in capsys.readouterr().out
    assert check.pair_labels(tokenizer, SENTENCE, [label.replace("–", "-") for label in labels])
    assert "PASS pair_labels" in capsys.readouterr().out
    # current-previous
    swapped = [f"{tokens[t]}–{tokens[t - 1]}" for t in range(1, len(tokens))]
    assert not check.pair_labels(tokenizer, SENTENCE, swapped)
    assert "FAIL pair_labels: label 1 is 'drank–we'" in capsys.readouterr().out
    # one label per token instead of per pair
    assert not check.pair_labels(tokenizer, SENTENCE, tokens)
    assert "11 tokens give 10 neighbouring pairs" in capsys.readouterr().out
    assert not check.pair_labels(tokenizer, SENTENCE, ...)
    assert "fill in the blank first" in capsys.readouterr().out


def test_sklearn_pair(bert, capsys):
    from sklearn.metrics.pairwise import cosine_similarity

    _, tokenizer, embeddings = bert
    vectors = embeddings[ids_of(tokenizer, SENTENCE)]
    one_pair = cosine_similarity(vectors[[1]], vectors[[0]])
    assert check.sklearn_pair(tokenizer, embeddings, SENTENCE, 1, one_pair)
    assert "PASS sklearn_pair: shape (1, 1)" in capsys.readouterr().out
    # the whole matrix of the sentence
    assert not check.sklearn_pair(tokenizer, embeddings, SENTENCE, 1, cosine_similarity(vectors))
    assert "yours has shape (11, 11)" in capsys.readouterr().out
    # token t with token t + 1
    assert not check.sklearn_pair(
        tokenizer, embeddings, SENTENCE, 1, cosine_similarity(vectors[[1]], vectors[[2]])
    )
    assert "compare row t with row t - 1" in capsys.readouterr().out
    assert not check.sklearn_pair(tokenizer, embeddings, SENTENCE, 1, ...)
    assert "fill in the blank first" in capsys.readouterr().out


def test_equal_count(bert, capsys):
    _, tokenizer, embeddings = bert
    _, touches, sims_a, sims_b = pair_values(tokenizer, embeddings)
    n_equal = int(np.sum(sims_a[~touches] == sims_b[~touches]))
    assert check.equal_count(tokenizer, SENTENCE_A, SENTENCE_B, n_equal)
    assert "PASS equal_count: all 12 similarities" in capsys.readouterr().out
    # every position counted, touching the change or not
    assert not check.equal_count(tokenizer, SENTENCE_A, SENTENCE_B, len(sims_a))
    assert "that counts every similarity" in capsys.readouterr().out
    # the unequal ones counted
    assert not check.equal_count(tokenizer, SENTENCE_A, SENTENCE_B, int(touches.sum()))
    assert "12 similarities touch no changed word" in capsys.readouterr().out
    assert not check.equal_count(tokenizer, SENTENCE_A, SENTENCE_B, ...)
    assert "fill in the blank first" in capsys.readouterr().out


def test_pair_names(bert, capsys):
    _, tokenizer, _ = bert
    tokens_a = [decode_token(tokenizer, i) for i in ids_of(tokenizer, SENTENCE_A)]
    tokens_b = [decode_token(tokenizer, i) for i in ids_of(tokenizer, SENTENCE_B)]
    names, only_a = [], []
    for t in range(1, len(tokens_a)):
        label_a = f"{tokens_a[t - 1]}–{tokens_a[t]}"
        label_b = f"{tokens_b[t - 1]}–{tokens_b[t]}"
        names.append(label_a if label_a == label_b else f"A: {label_a}\nB: {label_b}")
        only_a.append(label_a)
    assert check.pair_names(tokenizer, SENTENCE_A, SENTENCE_B, names)
    assert "PASS pair_names: 15 names, 3 of them naming both" in capsys.readouterr().out
    # sentence A's pairs only: the changed positions lose sentence B's words
    assert not check.pair_names(tokenizer, SENTENCE_A, SENTENCE_B, only_a)
    assert "it should name both pairs" in capsys.readouterr().out
    # B above A
    flipped = [
        n if "\n" not in n else "B: " + n.split("B: ")[1] + "\n" + n.split("\n")[0] for n in names
    ]
    assert not check.pair_names(tokenizer, SENTENCE_A, SENTENCE_B, flipped)
    assert "put sentence A's pair first" in capsys.readouterr().out
    assert not check.pair_names(tokenizer, SENTENCE_A, SENTENCE_B, names[1:])
    assert "one name per similarity (15), not 14" in capsys.readouterr().out
    assert not check.pair_names(tokenizer, SENTENCE_A, SENTENCE_B, ...)
    assert "fill in the blank first" in capsys.readouterr().out


def test_gaps(bert, capsys):
    model, tokenizer, embeddings = bert
    _, _, sims_a, sims_b = pair_values(tokenizer, embeddings)
    context_a = successive_cosines(last_hidden_rows(model, tokenizer, SENTENCE_A)[1:-1])
    context_b = successive_cosines(last_hidden_rows(model, tokenizer, SENTENCE_B)[1:-1])
    args = (model, tokenizer, embeddings, SENTENCE_A, SENTENCE_B)
    static_gap, context_gap = np.abs(sims_a - sims_b), np.abs(context_a - context_b)
    assert check.gaps(*args, static_gap, context_gap)
    assert "PASS gaps: largest static gap" in capsys.readouterr().out
    assert not check.gaps(*args, sims_b - sims_a, context_gap)
    assert "take the absolute difference" in capsys.readouterr().out
    # the contextual gap from the static similarities
    assert not check.gaps(*args, static_gap, static_gap)
    assert "FAIL gaps: context_gap differs" in capsys.readouterr().out
    assert not check.gaps(*args, static_gap, ...)
    assert "fill in the blank first" in capsys.readouterr().out
