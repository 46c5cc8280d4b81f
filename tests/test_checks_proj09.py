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
