"""Self-checks for project 9, "Sequential cosine similarity"."""

from __future__ import annotations

from typing import Any

import numpy as np

from ml4llm.checks import check, common, require
from ml4llm.tokens import decode_token


def _reference(tokenizer: Any, embeddings: Any, text: str) -> tuple[list[int], np.ndarray]:
    """The token ids of ``text`` (no special tokens) and each token's cosine with the previous one."""
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    rows = common.as_array(embeddings)[ids].astype(np.float64)
    unit = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    return ids, np.einsum("td,td->t", unit[1:], unit[:-1])


def _compare(tokenizer: Any, embeddings: Any, text: str, sims: Any, name: str) -> np.ndarray:
    require(
        sims is not None,
        f"{name} is None: successive_cosines must return its values (finish its body)",
    )
    ids, reference = _reference(tokenizer, embeddings, text)
    values = common.as_array(sims).astype(np.float64).ravel()
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


def _tokens(tokenizer: Any, text: str) -> list[str]:
    """The token strings of ``text`` without special tokens."""
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    return [decode_token(tokenizer, i) for i in ids]


def _names_pair(label: str, previous: str, current: str) -> bool:
    """True when ``label`` is ``previous``, a short separator (a dash) and ``current``."""
    middle = label[len(previous) : len(label) - len(current)]
    return label.startswith(previous) and label.endswith(current) and 0 < len(middle) <= 3


def _contextual_reference(model: Any, tokenizer: Any, text: str) -> np.ndarray:
    """Successive cosines of the last hidden state, [CLS] and [SEP] dropped."""
    import torch

    inputs = tokenizer(text, return_tensors="pt").to(model.device)
    with torch.no_grad():
        hidden = model(**inputs).last_hidden_state[0].detach().cpu().numpy()
    rows = hidden[1:-1].astype(np.float64)
    unit = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    return np.einsum("td,td->t", unit[1:], unit[:-1])


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
    got = np.sort(common.as_array(changed).astype(np.int64).ravel())
    require(
        np.array_equal(got, expected),
        f"the changed positions are {expected.tolist()}, not {got.tolist()}: "
        "compare the two id lists position by position (np.flatnonzero(ids_a != ids_b))",
    )
    # similarity k (0-based) compares tokens k and k + 1
    touched = np.array([k in expected or k + 1 in expected for k in range(len(ids_a) - 1)])
    flags = common.as_array(touches_change).astype(bool).ravel()
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
    a = common.as_array(sims_a).ravel()
    b = common.as_array(sims_b).ravel()
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
    for name, text, value in [("context_a", text_a, context_a), ("context_b", text_b, context_b)]:
        require(
            value is not None,
            f"{name} is None: last_hidden_rows and successive_cosines must return their values",
        )
        reference = _contextual_reference(model, tokenizer, text)
        values = common.as_array(value).astype(np.float64).ravel()
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


@check
def pair_labels(tokenizer: Any, text: str, labels: Any) -> str:
    """One bar label per similarity: the previous and the current token, as 'previous–current'."""
    tokens = _tokens(tokenizer, text)
    labels = [str(label) for label in labels]
    require(
        len(labels) == len(tokens) - 1,
        f"{len(tokens)} tokens give {len(tokens) - 1} neighbouring pairs, so {len(tokens) - 1} "
        f"labels; you have {len(labels)}",
    )
    for t, label in enumerate(labels, start=1):
        require(
            _names_pair(label, tokens[t - 1], tokens[t]),
            f"label {t} is {label!r}; expected the previous token, a dash and the current one: "
            f"'{tokens[t - 1]}–{tokens[t]}'",
        )
    return f"{len(labels)} labels, '{labels[0]}' … '{labels[-1]}'"


@check
def sklearn_pair(tokenizer: Any, embeddings: Any, text: str, t: int, one_pair: Any) -> str:
    """sklearn's cosine_similarity of token t with token t - 1: a 1 x 1 array with their cosine."""
    _, reference = _reference(tokenizer, embeddings, text)
    value = common.as_array(one_pair)
    require(
        value.shape == (1, 1),
        f"sklearn returns a matrix, here of shape (1, 1); yours has shape {value.shape}: pass two "
        "one-row selections such as vectors[[t]] and vectors[[t - 1]]",
    )
    expected = float(reference[int(t) - 1])
    require(
        abs(float(value[0, 0]) - expected) <= 1e-5,
        f"the value is {float(value[0, 0]):.6f}, but tokens {int(t) - 1} and {int(t)} have cosine "
        f"{expected:.6f}: compare row t with row t - 1",
    )
    return f"shape (1, 1), cosine {expected:.6f}, as in your vector of similarities"


@check
def equal_count(tokenizer: Any, text_a: str, text_b: str, n_equal: Any) -> str:
    """How many similarities away from the changed words are exactly equal: all of them."""
    ids_a = tokenizer(text_a, add_special_tokens=False)["input_ids"]
    ids_b = tokenizer(text_b, add_special_tokens=False)["input_ids"]
    changed = set(np.flatnonzero(np.array(ids_a) != np.array(ids_b)).tolist())
    away = sum(1 for t in range(1, len(ids_a)) if t - 1 not in changed and t not in changed)
    found = int(np.asarray(n_equal).sum()) if np.ndim(n_equal) else int(n_equal)
    require(
        found != len(ids_a) - 1,
        "that counts every similarity: count only those away from the change (~touches_change)",
    )
    require(
        found == away,
        f"{away} similarities touch no changed word, and a static embedding makes every one of "
        f"them equal; you counted {found}: compare sims_a and sims_b with == at ~touches_change",
    )
    return f"all {away} similarities away from the changed words are exactly equal"


@check
def pair_names(tokenizer: Any, text_a: str, text_b: str, names: Any) -> str:
    """The x labels of the grouped bars: one 'previous–current' pair, or both where they differ."""
    tokens_a = _tokens(tokenizer, text_a)
    tokens_b = _tokens(tokenizer, text_b)
    names = [str(name) for name in names]
    require(
        len(names) == len(tokens_a) - 1,
        f"one name per similarity ({len(tokens_a) - 1}), not {len(names)}",
    )
    for t, name in enumerate(names, start=1):
        pair_a = (tokens_a[t - 1], tokens_a[t])
        pair_b = (tokens_b[t - 1], tokens_b[t])
        if pair_a == pair_b:
            require(
                _names_pair(name, *pair_a),
                f"name {t} is {name!r}; both sentences have '{pair_a[0]}–{pair_a[1]}' there",
            )
            continue
        words = [*pair_a, *pair_b]
        require(
            all(word in name for word in words),
            f"name {t} is {name!r}; the sentences differ there, so it should name both pairs, "
            f"'{pair_a[0]}–{pair_a[1]}' (A) and '{pair_b[0]}–{pair_b[1]}' (B)",
        )
        require(
            name.rfind(pair_a[1]) < name.rfind(pair_b[1]) or pair_a[1] == pair_b[1],
            f"name {t} is {name!r}: put sentence A's pair first",
        )
    differ = sum(1 for name in names if "\n" in name or name.count("–") > 1)
    return f"{len(names)} names, {differ} of them naming both sentences' pairs"


@check
def gaps(
    model: Any,
    tokenizer: Any,
    embeddings: Any,
    text_a: str,
    text_b: str,
    static_gap: Any,
    context_gap: Any,
) -> str:
    """|similarity A - similarity B| per position, for the static and the contextual vectors."""
    _, static_a = _reference(tokenizer, embeddings, text_a)
    _, static_b = _reference(tokenizer, embeddings, text_b)
    references = {
        "static_gap": np.abs(static_a - static_b),
        "context_gap": np.abs(
            _contextual_reference(model, tokenizer, text_a)
            - _contextual_reference(model, tokenizer, text_b)
        ),
    }
    for name, value in [("static_gap", static_gap), ("context_gap", context_gap)]:
        values = common.as_array(value).astype(np.float64).ravel()
        reference = references[name]
        require(
            values.size == reference.size,
            f"{name} should hold one value per similarity ({reference.size}), not {values.size}",
        )
        require(
            np.all(values >= 0),
            f"{name} has negative values: take the absolute difference, np.abs(a - b)",
        )
        worst = float(np.abs(values - reference).max())
        require(
            worst <= 1e-4,
            f"{name} differs from |similarity A - similarity B| by up to {worst:.2g}",
        )
    return (
        f"largest static gap {references['static_gap'].max():.4f}, "
        f"largest contextual gap {references['context_gap'].max():.4f}"
    )
