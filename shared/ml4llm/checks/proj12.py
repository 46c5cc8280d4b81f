"""Self-checks for project 12, "RSA to compare GPT-2 & BERT embeddings".

Every reference starts from the words and the model ids: the checks load each model's word
vectors themselves (once per session), so that a wrong id list upstream cannot make them pass.
"""

from __future__ import annotations

import contextlib
import functools
import io
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats

from ml4llm.checks import CheckFailed, Expect, check, common, require
from ml4llm.models import free, get_spec, load_model, load_tokenizer
from ml4llm.tokens import decode_token, encode, single_token_id

SWAPPED = "x and y are swapped: x is the BERT vector, y the GPT-2 vector"
ORDER = "the flags are not in the upper-triangle order (row by row, as np.triu_indices(n, k=1))"
PAIRS = "expected the pairs (model i, model j) with i < j, in the order of the models"
KIND = "'within family' when get_spec(a).family == get_spec(b).family, else 'across families'"
WHOLE = "this correlates the whole matrices: use only the upper triangles (diagonal excluded)"
P_HOW = "(count + 1) / (n_permutations + 1)"


@functools.cache
def _tokenizer(model_id: str) -> Any:
    with contextlib.redirect_stdout(io.StringIO()):  # a check prints its own line only
        return load_tokenizer(model_id)


def _ids(model_id: str, words: Sequence[str]) -> list[int]:
    """Each word's one token id: bare in WordPiece, with a leading space in byte-level BPE."""
    try:
        return [single_token_id(_tokenizer(model_id), word) for word in words]
    except ValueError as err:
        raise CheckFailed(f"replace the word: {err}") from None


@functools.cache
def _vectors(model_id: str, words: tuple[str, ...]) -> np.ndarray:
    """The words' rows of the model's input embedding matrix (float64)."""
    ids = _ids(model_id, words)
    with contextlib.redirect_stdout(io.StringIO()):
        model = load_model(model_id, head="base")
    rows = model.get_input_embeddings().weight[ids].detach().float().cpu().numpy()
    del model
    free()
    return rows.astype(np.float64)


def _cosines(model_id: str, words: Sequence[str]) -> np.ndarray:
    return common.cosines(_vectors(model_id, tuple(words)))


def _rsa(matrix_a: Any, matrix_b: Any) -> float:
    """Pearson r of two matrices' upper triangles (the right rsa function)."""
    return common.pearson(common.upper(matrix_a), common.upper(matrix_b))


def _tokens(words: Sequence[str], bert_id: str, gpt2_id: str) -> dict[str, Any]:
    """Parts 1 and 2: the word ids, the token counts and GPT-2's pieces of the bare words."""
    bert, gpt2 = _tokenizer(bert_id), _tokenizer(gpt2_id)
    bare = [encode(gpt2, w) for w in words]
    bare_counts, space_counts = [len(i) for i in bare], [len(encode(gpt2, " " + w)) for w in words]
    ids = {m: _ids(m, words) for m in (bert_id, gpt2_id)}
    no_space = "that is the id without the leading space: GPT-2 needs ' ' + word"
    joined = (lambda v: v.ndim == 0, "give a list of decoded pieces per word, not one string")
    return {
        "bert_ids": Expect(ids[bert_id], "BERT's id of each bare word, in order"),
        "gpt2_ids": Expect(
            ids[gpt2_id],
            "GPT-2's id of each word with a leading space, in order",
            traps=[([i[0] for i in bare], no_space)],
        ),
        "bert_counts": Expect([len(encode(bert, w)) for w in words], "encode each bare word"),
        "gpt2_bare_counts": Expect(
            bare_counts,
            "encode each word without a leading space",
            traps=[(space_counts, "these count ' ' + word: encode the bare word")],
        ),
        "gpt2_space_counts": Expect(
            space_counts,
            "encode ' ' + word with GPT-2's tokenizer",
            traps=[(bare_counts, "equals the counts without a space: encode ' ' + word")],
        ),
        "gpt2_bare_pieces": Expect(
            [[decode_token(gpt2, i) for i in ids] for ids in bare],
            "GPT-2 splits the bare word otherwise: decode each id alone",
            items=list(words),
            traps=[joined],
        ),
    }


def _raw(words: Sequence[str], bert_id: str, gpt2_id: str) -> dict[str, Any]:
    """Part 2: Pearson r of each word's two vectors over the shared dimensions."""
    bert, gpt2 = _vectors(bert_id, tuple(words)), _vectors(gpt2_id, tuple(words))
    n = min(bert.shape[1], gpt2.shape[1])
    cosines = [common.cosines(np.stack([a[:n], b[:n]]))[0, 1] for a, b in zip(bert, gpt2)]
    cut = f"both arrays need the {n} shared dimensions: slice each vector with [:n_shared]"
    centre = "these are cosines: Pearson r centres each vector first (stats.pearsonr)"
    return {
        "per_word_r": Expect(
            [common.pearson(a[:n], b[:n]) for a, b in zip(bert, gpt2)],
            "the values differ from Pearson r of word i's two vectors over the shared dimensions",
            traps=[(cosines, centre)],
        ),
        "example_bert": Expect(
            bert[0, :n],
            "x should be row 0 of the BERT vectors",
            traps=[(gpt2[0, :n], SWAPPED), (bert[0], cut)],
        ),
        "example_gpt2": Expect(
            gpt2[0, :n],
            "y should be row 0 of the GPT-2 vectors",
            traps=[(bert[0, :n], SWAPPED), (gpt2[0], cut)],
        ),
    }


def _rsa_values(words: Sequence[str], bert_id: str, gpt2_id: str) -> dict[str, Any]:
    """Part 3: the upper triangle and both RSAs of the two models."""
    a, b = _cosines(bert_id, words), _cosines(gpt2_id, words)
    ua, ub, pearson = common.upper(a), common.upper(b), _rsa(a, b)
    return {
        "bert_upper": Expect(
            ua,
            "the values or their order differ from matrix[np.triu_indices(n, k=1)]",
            traps=[(a[np.triu_indices(len(words))], "the diagonal is included: use k=1")],
        ),
        "rsa_function": _rsa,
        "rsa_pearson": Expect(
            pearson,
            "correlate the two upper triangles (stats.pearsonr)",
            traps=[(common.pearson(a.ravel(), b.ravel()), WHOLE)],
        ),
        "rsa_spearman": Expect(
            float(stats.spearmanr(ua, ub)[0]),
            "stats.spearmanr of the two upper triangles",
            traps=[(pearson, "this is Pearson's r: rank the values first (stats.spearmanr)")],
        ),
    }


def _null(words: Sequence[str], bert_id: str, gpt2_id: str, n_permutations: int) -> dict:
    """A right null from a seeded draw (any draw is right: the check recomputes the learner's)."""
    orders = [np.random.default_rng(k).permutation(len(words)) for k in range(n_permutations)]
    a, b = _cosines(bert_id, words), _cosines(gpt2_id, words)
    null = np.array([_rsa(a, b[o][:, o]) for o in orders])
    p = (np.sum(null >= _rsa(a, b)) + 1) / (n_permutations + 1)
    return {"null_rsa": null, "orders": np.array(orders), "p_value": float(p)}


def _same_category(word_categories: Sequence[str]) -> dict[str, Any]:
    labels = np.array(list(word_categories))
    same = labels[:, None] == labels[None, :]
    flags, lower = common.upper(same), same[np.tril_indices(len(labels), k=-1)]
    count = f"{int(flags.sum())} pairs join two words of the same category"
    traps = [(lower, ORDER), (lambda v: v.sum() != flags.sum(), count)]
    return {"same_category": Expect(flags, ORDER, traps=traps)}


def _models(words: Sequence[str], word_categories: Sequence[str], model_ids: Sequence[str]):
    """Part 4: the RSA matrix, the category scores and one row per pair of models."""
    cosines = {m: _cosines(m, words) for m in model_ids}
    matrix = np.array([[_rsa(cosines[a], cosines[b]) for b in model_ids] for a in model_ids])
    labels = np.array(list(word_categories))
    same, off = labels[:, None] == labels[None, :], ~np.eye(len(labels), dtype=bool)
    pairs = []
    for i, a in enumerate(model_ids):
        for j, b in enumerate(model_ids[i + 1 :], start=i + 1):
            kind = (
                "within family" if get_spec(a).family == get_spec(b).family else "across families"
            )
            pairs.append((a, b, kind, bool(np.array_equal(cosines[a], cosines[b])), matrix[i, j]))
    ones = (
        lambda m: np.allclose(m, 1),
        "every entry is still 1: fill in the loop over pairs of models",
    )
    symmetric = (lambda m: not common.is_symmetric(m), "the RSA matrix is not symmetric")
    diagonal = "the diagonal should be 1 (each model with itself)"
    with_diagonal = {m: c[same].mean() - c[~same].mean() for m, c in cosines.items()}
    diagonal_in = "the within-category mean includes the diagonal's 1s: leave it out"
    return {
        "rsa_matrix": Expect(
            matrix,
            "entry (i, j) should be the RSA of models i and j",
            traps=[ones, symmetric, (lambda m: not common.has_unit_diagonal(m), diagonal)],
        ),
        "scores": Expect(
            {m: c[same & off].mean() - c[~same].mean() for m, c in cosines.items()},
            "mean within-category cosine minus mean across-category cosine",
            traps=[(with_diagonal, diagonal_in)],
        ),
        "family_pairs": Expect(
            pairs,
            columns={
                "model a": PAIRS,
                "model b": PAIRS,
                "kind": KIND,
                "identical vectors": "np.array_equal of the two models' rows",
                "RSA": "the RSA of the pair (rsa_matrix[i, j])",
            },
        ),
    }


@check(reference=_tokens)
def word_ids(words, bert_id, gpt2_id, *, bert_ids, gpt2_ids) -> str:
    """Every word is one token in both models (bare in BERT, leading space in GPT-2)."""
    return f"{len(words)} words, each a single token in both vocabularies"


@check(reference=_tokens)
def token_counts(
    words, bert_id, gpt2_id, *, bert_counts, gpt2_bare_counts, gpt2_space_counts, gpt2_bare_pieces
) -> str:
    """Tokens per word (BERT bare, GPT-2 bare, GPT-2 with a leading space) and GPT-2's pieces."""
    split = sum(c > 1 for c in gpt2_bare_counts)
    return f"{split} of {len(words)} words split into pieces without the leading space"


@check(reference=_raw)
def per_word_r(words, bert_id, gpt2_id, *, per_word_r) -> str:
    """Pearson r of each word's two vectors, dimensions paired by index (the shared ones)."""
    return f"{len(words)} correlations, |r| at most {np.abs(common.as_array(per_word_r)).max():.3f}"


@check(reference=_raw)
def example_pair(words, bert_id, gpt2_id, *, example_bert, example_gpt2) -> str:
    """The scatter's data: the first word's BERT (x) and GPT-2 (y) values, shared dimensions."""
    return f"{len(example_bert)} points, dimension k of one model against dimension k of the other"


@check(
    reference=lambda words, model_id: {
        "matrix": common.cosine_expect(_vectors(model_id, tuple(words)))
    }
)
def cosine_matrix(words, model_id, *, matrix) -> str:
    """The model's word x word cosine matrix (the hints every cosine-matrix check shares)."""
    return f"{model_id}: {len(words)} x {len(words)}, symmetric, unit diagonal"


@check(reference=_rsa_values)
def rsa(words, bert_id, gpt2_id, *, bert_upper, rsa_function, rsa_pearson, rsa_spearman) -> str:
    """The upper triangle; rsa gives 1 for a matrix with itself and the Pearson RSA; both RSAs."""
    a, b = _cosines(bert_id, words), _cosines(gpt2_id, words)
    itself = float(common.call(rsa_function, a, a, name="rsa", returns="the correlation"))
    require(abs(itself - 1) < 1e-6, f"rsa of a matrix with itself should be 1, not {itself:.4f}")
    given = float(common.call(rsa_function, a, b, name="rsa", returns="the correlation"))
    require(abs(given - _rsa(a, b)) < 1e-4, "rsa(a, b) should be Pearson r of the upper triangles")
    return f"rsa(M, M) = 1; Pearson {_rsa(a, b):.3f}, Spearman {float(rsa_spearman):.3f}"


@check(reference=_null)
def permutation_test(words, bert_id, gpt2_id, n_permutations, *, null_rsa, orders, p_value) -> str:
    """Each null value is the RSA after shuffling one matrix's words by orders[k]; then p."""
    n, a, b = len(words), _cosines(bert_id, words), _cosines(gpt2_id, words)
    orders = common.require_array(orders, name="orders", shape=(n_permutations, n), kind="integers")
    require(
        np.array_equal(np.sort(orders, axis=1), np.tile(np.arange(n), (n_permutations, 1))),
        "orders: each row should be a permutation of range(n_words) (rng.permutation)",
    )
    require(
        len(np.unique(orders, axis=0)) > 1,
        "orders: every shuffle has the same order: draw a new permutation in every iteration",
    )
    null, observed = np.array([_rsa(a, b[o][:, o]) for o in orders]), _rsa(a, b)
    rows_only = np.array([_rsa(a, b[o]) for o in orders])
    null_expect = Expect(
        null,
        "null_rsa[k] should be the RSA of bert_cosines and gpt2_cosines shuffled by orders[k]",
        traps=[
            (lambda v: np.allclose(v, observed), "the null values equal the observed RSA: shuffle "
             "the word order of one matrix"),
            (lambda v: np.any(np.abs(v) > 1 + 1e-6), "every RSA is a correlation, in [-1, 1]"),
            (rows_only, "only the rows are shuffled: reorder rows and columns together, "
             "matrix[order][:, order]"),
        ],
    )  # fmt: skip
    common.require_expected(null_rsa, null_expect, "null_rsa")
    count = int(np.sum(null >= observed))
    p_expect = Expect(
        (count + 1) / (n_permutations + 1),
        f"p should be the share of shuffles with RSA >= the observed one: {P_HOW}",
        atol=1e-9,
        traps=[(count / n_permutations, f"count the observed order as a shuffle: {P_HOW}")],
    )
    common.require_expected(p_value, p_expect, "p_value")
    return (
        f"{n_permutations} shuffles, {count} at or above the observed RSA, p = {float(p_value):.4f}"
    )


@check(reference=_same_category)
def same_category_pairs(word_categories, *, same_category) -> str:
    """One flag per word pair above the diagonal (row by row): True when both share a category."""
    flags = common.as_array(same_category)
    return f"{int(flags.sum())} of {len(flags)} pairs within a category"


@check(reference=_models)
def rsa_matrix(words, word_categories, model_ids, *, rsa_matrix) -> str:
    """The model x model RSA matrix: symmetric, unit diagonal, each entry the models' RSA."""
    return f"{len(model_ids)} x {len(model_ids)}, symmetric, unit diagonal, each entry an RSA"


@check(reference=_models)
def category_scores(words, word_categories, model_ids, *, scores) -> str:
    """Mean within-category minus mean across-category cosine, per model."""
    return f"{len(model_ids)} scores (within − across category cosine)"


@check(reference=_models)
def family_pairs(words, word_categories, model_ids, *, family_pairs) -> str:
    """One row per pair of models: (model a, model b, kind, identical vectors, RSA)."""
    within = sum(row[2] == "within family" for row in family_pairs)
    return f"{len(family_pairs)} pairs, {within} within a family"
