"""Self-checks for project 9, "Sequential cosine similarity"."""

from __future__ import annotations

from typing import Any

import numpy as np

from ml4llm.checks import check, require


def _array(value: Any) -> np.ndarray:
    """A NumPy array from a NumPy array, a list or a (CPU or GPU) torch tensor."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def _reference(tokenizer: Any, embeddings: Any, text: str) -> tuple[list[int], np.ndarray]:
    """The token ids of ``text`` (no special tokens) and each token's cosine with the previous one."""
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    rows = _array(embeddings)[ids].astype(np.float64)
    unit = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    return ids, np.einsum("td,td->t", unit[1:], unit[:-1])


def _compare(tokenizer: Any, embeddings: Any, text: str, sims: Any, name: str) -> np.ndarray:
    ids, reference = _reference(tokenizer, embeddings, text)
    values = _array(sims).astype(np.float64).ravel()
    with_specials = len(tokenizer(text)["input_ids"])
    require(
        values.size != with_specials - 1 or with_specials == len(ids),
        f"{name} has {values.size} values: that counts [CLS] and [SEP]; "
        "tokenize with add_special_tokens=False",
    )
    require(
        values.size == len(ids) - 1,
        f"{name} should hold n_tokens - 1 = {len(ids) - 1} values (one per neighbouring pair), "
        f"not {values.size}",
    )
    require(
        np.all(np.abs(values) <= 1 + 1e-6),
        f"{name} has values outside [-1, 1]: divide by the vectors' norms (normalise each row)",
    )
    worst = float(np.abs(values - reference).max())
    require(
        worst <= 1e-5,
        f"{name} differs from the cosine of each token with the previous one by up to {worst:.2g}: "
        "compare row t with row t - 1 (rows 1..n-1 against rows 0..n-2), summing over dimensions",
    )
    return reference


@check
def successive(tokenizer: Any, embeddings: Any, text: str, sims: Any) -> str:
    """n_tokens - 1 similarities in [-1, 1], each token's static-embedding cosine with the previous."""
    reference = _compare(tokenizer, embeddings, text, sims, "the similarity vector")
    return f"{reference.size} similarities, all in [-1, 1], equal to the reference"


@check
def sentence_pair(
    tokenizer: Any,
    embeddings: Any,
    text_a: str,
    text_b: str,
    changed: Any,
    touches_change: Any,
    sims_a: Any,
    sims_b: Any,
) -> str:
    """Changed positions, the similarities they touch, and equal similarities everywhere else."""
    ids_a = tokenizer(text_a, add_special_tokens=False)["input_ids"]
    ids_b = tokenizer(text_b, add_special_tokens=False)["input_ids"]
    require(
        len(ids_a) == len(ids_b),
        "the two sentences have different token counts: positions would shift, rewrite one",
    )
    expected = np.flatnonzero(np.array(ids_a) != np.array(ids_b))
    got = np.sort(_array(changed).astype(np.int64).ravel())
    require(
        np.array_equal(got, expected),
        f"the changed positions are {expected.tolist()}, not {got.tolist()}: "
        "compare the two id lists position by position (np.flatnonzero(ids_a != ids_b))",
    )
    # similarity k (0-based) compares tokens k and k + 1
    touched = np.array([k in expected or k + 1 in expected for k in range(len(ids_a) - 1)])
    flags = _array(touches_change).astype(bool).ravel()
    require(
        flags.size == touched.size,
        f"touches_change needs one flag per similarity ({touched.size}), not {flags.size}",
    )
    require(
        np.array_equal(flags, touched),
        f"touches_change should flag similarities {np.flatnonzero(touched).tolist()}: "
        "similarity t - 1 compares tokens t - 1 and t, and touches the change if either changed",
    )
    _compare(tokenizer, embeddings, text_a, sims_a, "sims_a")
    _compare(tokenizer, embeddings, text_b, sims_b, "sims_b")
    a = _array(sims_a).ravel()
    b = _array(sims_b).ravel()
    unequal = [k for k in np.flatnonzero(~touched) if a[k] != b[k]]
    require(
        not unequal,
        f"similarities {unequal} touch no changed word but differ between the sentences: "
        "compute both with the same function on the embedding rows",
    )
    return (
        f"changed positions {expected.tolist()}; the {int((~touched).sum())} similarities away "
        "from them are exactly equal"
    )


@check
def contextual(
    model: Any, tokenizer: Any, text_a: str, text_b: str, context_a: Any, context_b: Any
) -> str:
    """Successive cosines of the last hidden state, [CLS] and [SEP] left out, for both sentences."""
    import torch

    for name, text, value in [("context_a", text_a, context_a), ("context_b", text_b, context_b)]:
        inputs = tokenizer(text, return_tensors="pt").to(model.device)
        with torch.no_grad():
            hidden = model(**inputs).last_hidden_state[0].detach().cpu().numpy()
        rows = hidden[1:-1].astype(np.float64)
        unit = rows / np.linalg.norm(rows, axis=1, keepdims=True)
        reference = np.einsum("td,td->t", unit[1:], unit[:-1])
        values = _array(value).astype(np.float64).ravel()
        require(
            values.size != reference.size + 2,
            f"{name} includes [CLS] and [SEP]: drop the first and the last position",
        )
        require(
            values.size == reference.size,
            f"{name} should hold {reference.size} values (one per pair of neighbouring words), "
            f"not {values.size}",
        )
        worst = float(np.abs(values - reference).max())
        require(
            worst <= 1e-4,
            f"{name} differs from the last hidden state's successive cosines by up to {worst:.2g}: "
            "use last_hidden_state of a forward pass with the special tokens, then drop them",
        )
    return f"{values.size} contextual similarities per sentence"
