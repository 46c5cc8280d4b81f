"""Self-checks for project 9, "Sequential cosine similarity".

Every reference starts from the texts, the tokenizer, the embedding matrix and the model: the
checks tokenize the sentences and run the forward passes themselves.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from ml4llm.checks import CheckFailed, Expect, check, common, require
from ml4llm.tokens import decode_token, encode

SIMS = (
    "differs from the cosine of each token with the previous one: compare row t with row t - 1 "
    "(rows 1..n-1 against rows 0..n-2), summing over dimensions"
)
NORMS = "values outside [-1, 1]: divide by the vectors' norms (normalise each row)"


def _successive(rows: np.ndarray) -> np.ndarray:
    unit = common.unit_rows(rows)
    return np.einsum("td,td->t", unit[1:], unit[:-1])


def _static(tokenizer: Any, embeddings: Any, text: str) -> np.ndarray:
    """Each token's static-embedding cosine with the previous one (no special tokens)."""
    return _successive(common.as_array(embeddings)[encode(tokenizer, text)])


@functools.lru_cache(maxsize=8)
def _contextual(model: Any, tokenizer: Any, text: str) -> np.ndarray:
    """Successive cosines of the last hidden state, [CLS] and [SEP] dropped."""
    import torch

    inputs = tokenizer(text, return_tensors="pt").to(model.device)
    with torch.no_grad():
        hidden = model(**inputs).last_hidden_state[0]
    return _successive(common.as_array(hidden)[1:-1])


def _sims(right: np.ndarray, n_with_specials: int, hint: str = SIMS) -> Expect:
    traps = [
        (
            lambda v: v.size == n_with_specials - 1 != right.size,
            "that counts [CLS] and [SEP]: tokenize with add_special_tokens=False",
        ),
        (lambda v: np.any(np.abs(v) > 1 + 1e-6), NORMS),
    ]
    return Expect(right, f"one value per neighbouring pair (n_tokens - 1); {hint}", traps=traps)


def _pieces(tokenizer: Any, text: str) -> list[str]:
    return [decode_token(tokenizer, i) for i in encode(tokenizer, text)]


def _ndarrays(**values: Any) -> None:
    """The prints and plots after a check index and call .shape, .sum(): NumPy arrays only."""
    for name, value in values.items():
        require(
            isinstance(value, np.ndarray),
            f"{name}: give a NumPy array (np.array(...)), not {common.describe(value)}",
        )


def _one(tokenizer: Any, embeddings: Any, text: str, t: int = 1) -> dict[str, Any]:
    """Part 1: the sentence's successive cosines, their labels and sklearn's one pair."""
    right = _static(tokenizer, embeddings, text)
    tokens = _pieces(tokenizer, text)
    shape = (
        lambda v: v.shape != (1, 1),
        "sklearn returns a matrix, here of shape (1, 1): pass two one-row selections such as "
        "vectors[[t]] and vectors[[t - 1]]",
    )
    return {
        "sims": _sims(right, len(tokenizer(text)["input_ids"])),
        "pair_labels": [f"{a}–{b}" for a, b in zip(tokens, tokens[1:])],
        "one_pair": Expect(
            np.array([[right[int(t) - 1]]]), "compare row t with row t - 1", traps=[shape]
        ),
    }


def _names_pair(label: str, previous: str, current: str) -> bool:
    """True when ``label`` is ``previous``, a short separator (a dash) and ``current``."""
    middle = label[len(previous) : len(label) - len(current)]
    return label.startswith(previous) and label.endswith(current) and 0 < len(middle) <= 3


@check(reference=_one)
def successive(tokenizer, embeddings, text, *, sims) -> str:
    """n_tokens - 1 similarities in [-1, 1], each token's static-embedding cosine with the previous."""
    return f"{len(sims)} similarities, all in [-1, 1]"


@check(reference=_one)
def pair_labels(tokenizer, embeddings, text, *, pair_labels) -> str:
    """One bar label per similarity: the previous and the current token, as 'previous–current'."""
    tokens = _pieces(tokenizer, text)
    n = len(tokens) - 1
    got = common.require_array(pair_labels, name="pair_labels", shape=(n,), kind="strings")
    for t, label in enumerate(got.tolist(), start=1):
        require(
            _names_pair(label, tokens[t - 1], tokens[t]),
            f"pair_labels[{t - 1}] is {label!r}; expected the previous token, a dash and the current "
            f"one: '{tokens[t - 1]}–{tokens[t]}'",
        )
    return f"{n} labels, '{got[0]}' … '{got[-1]}'"


@check(reference=_one)
def sklearn_pair(tokenizer, embeddings, text, t, *, one_pair) -> str:
    """sklearn's cosine_similarity of token t with token t - 1: a 1 x 1 array with their cosine."""
    _ndarrays(one_pair=one_pair)
    return f"shape (1, 1), cosine {float(one_pair[0, 0]):.6f}"


def _two(tokenizer: Any, embeddings: Any, text_a: str, text_b: str) -> dict[str, Any]:
    """Part 2: the changed positions, the flags of the similarities they touch, both sims."""
    ids_a, ids_b = np.array(encode(tokenizer, text_a)), np.array(encode(tokenizer, text_b))
    if len(ids_a) != len(ids_b):
        raise CheckFailed(
            "the two sentences have different token counts: positions would shift, rewrite one"
        )
    changed = np.flatnonzero(ids_a != ids_b)
    touched = np.array([k in changed or k + 1 in changed for k in range(len(ids_a) - 1)])
    n_with = len(tokenizer(text_a)["input_ids"])
    tokens_a, tokens_b = _pieces(tokenizer, text_a), _pieces(tokenizer, text_b)
    names = []
    for t in range(1, len(tokens_a)):
        a, b = f"{tokens_a[t - 1]}–{tokens_a[t]}", f"{tokens_b[t - 1]}–{tokens_b[t]}"
        names.append(a if a == b else f"A: {a}\nB: {b}")
    return {
        "changed": Expect(
            changed,
            "compare the two id lists position by position (np.flatnonzero(ids_a != ids_b))",
        ),
        "touches_change": Expect(
            touched,
            "similarity t - 1 compares tokens t - 1 and t, and touches the change if either changed",
        ),
        "sims_a": _sims(_static(tokenizer, embeddings, text_a), n_with),
        "sims_b": _sims(_static(tokenizer, embeddings, text_b), n_with),
        "n_equal": Expect(
            int((~touched).sum()),
            f"{int((~touched).sum())} similarities touch no changed word, and a static embedding "
            "makes every one of them equal: compare sims_a and sims_b with == at ~touches_change",
            traps=[
                (
                    len(touched),
                    "that counts every similarity: count only those away from the change "
                    "(~touches_change)",
                )
            ],
        ),
        "pair_names": names,
        "pairs": list(zip(zip(tokens_a, tokens_a[1:]), zip(tokens_b, tokens_b[1:]))),
    }


@check(reference=_two)
def sentence_pair(
    tokenizer, embeddings, text_a, text_b, *, changed, touches_change, sims_a, sims_b, ref
) -> str:
    """Changed positions, the similarities they touch, and equal similarities everywhere else."""
    _ndarrays(changed=changed, touches_change=touches_change, sims_a=sims_a, sims_b=sims_b)
    away = ~ref["touches_change"]
    unequal = np.flatnonzero(away & (sims_a != sims_b)).tolist()
    require(
        not unequal,
        f"similarities {unequal} touch no changed word but differ between the sentences: "
        "compute both with the same function on the embedding rows",
    )
    return (
        f"changed positions {ref['changed'].tolist()}; the {int(away.sum())} similarities away "
        "from them are exactly equal"
    )


@check(reference=_two)
def equal_count(tokenizer, embeddings, text_a, text_b, *, n_equal) -> str:
    """How many similarities away from the changed words are exactly equal: all of them."""
    return f"all {int(n_equal)} similarities away from the changed words are exactly equal"


@check(reference=_two)
def pair_names(tokenizer, embeddings, text_a, text_b, *, pair_names, ref) -> str:
    """The x labels of the grouped bars: one 'previous–current' pair, or both where they differ."""
    pairs = ref["pairs"]
    got = common.require_array(
        pair_names, name="pair_names", shape=(len(pairs),), kind="strings"
    ).tolist()
    for t, (name, (pair_a, pair_b)) in enumerate(zip(got, pairs)):
        if pair_a == pair_b:
            require(
                _names_pair(name, *pair_a),
                f"pair_names[{t}] is {name!r}; both sentences have '{pair_a[0]}–{pair_a[1]}' there",
            )
            continue
        require(
            all(word in name for word in [*pair_a, *pair_b]),
            f"pair_names[{t}] is {name!r}; the sentences differ there, so it should name both pairs, "
            f"'{pair_a[0]}–{pair_a[1]}' (A) and '{pair_b[0]}–{pair_b[1]}' (B)",
        )
        require(
            name.rfind(pair_a[1]) < name.rfind(pair_b[1]) or pair_a[1] == pair_b[1],
            f"pair_names[{t}] is {name!r}: put sentence A's pair first",
        )
    differ = sum(a != b for a, b in pairs)
    return f"{len(got)} names, {differ} of them naming both sentences' pairs"


def _context(model: Any, tokenizer: Any, text_a: str, text_b: str) -> dict[str, Any]:
    """Part 3: the contextual successive cosines of both sentences."""
    hint = (
        "use last_hidden_state of a forward pass with the special tokens, then drop them; "
        "then the successive cosines"
    )
    specials = "includes [CLS] and [SEP]: drop the first and the last position"
    out = {}
    for key, text in [("context_a", text_a), ("context_b", text_b)]:
        right = _contextual(model, tokenizer, text)
        n = right.size
        out[key] = Expect(
            right, hint, traps=[(lambda v, n=n: v.size == n + 2, specials)], atol=1e-4
        )
    return out


def _three(model: Any, tokenizer: Any, embeddings: Any, text_a: str, text_b: str) -> dict:
    """Part 3: the gaps between the sentences, static and contextual."""
    static = [_static(tokenizer, embeddings, t) for t in (text_a, text_b)]
    context = [_contextual(model, tokenizer, t) for t in (text_a, text_b)]
    negative = (lambda v: np.any(v < 0), "take the absolute difference, np.abs(a - b)")
    gap = "|similarity A - similarity B| per position"
    return {
        "static_gap": Expect(np.abs(static[0] - static[1]), gap, traps=[negative], atol=1e-4),
        "context_gap": Expect(np.abs(context[0] - context[1]), gap, traps=[negative], atol=1e-4),
    }


@check(reference=_context)
def contextual(model, tokenizer, text_a, text_b, *, context_a, context_b) -> str:
    """Successive cosines of the last hidden state, [CLS] and [SEP] left out, for both sentences."""
    return f"{len(context_a)} contextual similarities per sentence"


@check(reference=_three)
def gaps(model, tokenizer, embeddings, text_a, text_b, *, static_gap, context_gap) -> str:
    """|similarity A - similarity B| per position, for the static and the contextual vectors."""
    _ndarrays(static_gap=static_gap, context_gap=context_gap)
    return (
        f"largest static gap {static_gap.max():.4f}, largest contextual gap {context_gap.max():.4f}"
    )
