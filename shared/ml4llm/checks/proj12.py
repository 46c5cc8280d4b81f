"""Self-checks for project 12, "RSA to compare GPT-2 & BERT embeddings"."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ml4llm.checks import check, require
from ml4llm.tokens import encode, single_token_id


def _cosines(vectors: Any) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float64)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    return unit @ unit.T


def _upper(matrix: np.ndarray) -> np.ndarray:
    rows, cols = np.triu_indices(len(matrix), k=1)
    return matrix[rows, cols]


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a, b)[0, 1])


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    from scipy import stats

    return float(stats.spearmanr(a, b)[0])


def _rsa(vectors_a: Any, vectors_b: Any) -> float:
    return _pearson(_upper(_cosines(vectors_a)), _upper(_cosines(vectors_b)))


@check
def word_ids(
    words: Sequence[str],
    bert_tokenizer: Any,
    gpt2_tokenizer: Any,
    bert_ids: Sequence[int],
    gpt2_ids: Sequence[int],
) -> str:
    """Every word is one token in both models (bare in BERT, leading space in GPT-2)."""
    require(
        len(bert_ids) == len(words) and len(gpt2_ids) == len(words),
        f"expected one id per word ({len(words)}) for each model",
    )
    for word, bert_id, gpt2_id in zip(words, bert_ids, gpt2_ids):
        try:
            bert_ref = single_token_id(bert_tokenizer, word)
            gpt2_ref = single_token_id(gpt2_tokenizer, word)
        except ValueError as err:
            require(False, f"replace {word!r}: {err}")
        require(int(bert_id) == bert_ref, f"{word!r}: BERT's id is {bert_ref}, not {int(bert_id)}")
        if int(gpt2_id) != gpt2_ref:
            bare = encode(gpt2_tokenizer, word)
            hint = (
                "that is the id without the leading space: GPT-2 needs ' ' + word"
                if bare == [int(gpt2_id)]
                else f"GPT-2's id (with a leading space) is {gpt2_ref}, not {int(gpt2_id)}"
            )
            require(False, f"{word!r}: {hint}")
    return f"{len(words)} words, each a single token in both vocabularies"


@check
def per_word_r(bert_vectors: Any, gpt2_vectors: Any, values: Any) -> str:
    """Pearson r of each word's two vectors, dimensions paired by index (the shared ones)."""
    bert = np.asarray(bert_vectors, dtype=np.float64)
    gpt2 = np.asarray(gpt2_vectors, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64).ravel()
    n_shared = min(bert.shape[1], gpt2.shape[1])
    require(len(values) == len(bert), f"expected one r per word ({len(bert)}), got {len(values)}")
    reference = np.array(
        [_pearson(bert[i, :n_shared], gpt2[i, :n_shared]) for i in range(len(bert))]
    )
    cosines = np.array(
        [
            _cosines(np.stack([bert[i, :n_shared], gpt2[i, :n_shared]]))[0, 1]
            for i in range(len(bert))
        ]
    )
    require(
        not np.allclose(values, cosines, atol=1e-5) or np.allclose(values, reference, atol=1e-4),
        "these are cosines: Pearson r centres each vector first (stats.pearsonr or np.corrcoef)",
    )
    require(
        np.allclose(values, reference, atol=1e-4),
        "the values differ from Pearson r of word i's two vectors over the shared dimensions",
    )
    return f"{len(values)} correlations, |r| at most {np.abs(reference).max():.3f}"


@check
def cosine_matrix(vectors: Any, matrix: Any) -> str:
    """An 18 x 18 cosine matrix: symmetric, unit diagonal, equal to the reference."""
    require(matrix is not None, "got None: cosine_matrix must return the matrix")
    values = np.asarray(matrix, dtype=np.float64)
    n = len(vectors)
    require(values.shape == (n, n), f"expected a {n} x {n} matrix, got shape {values.shape}")
    require(np.allclose(values, values.T, atol=1e-5), "the matrix is not symmetric")
    require(
        np.allclose(np.diag(values), 1, atol=1e-4),
        "the diagonal is not 1: normalise every row (axis=1) before the product",
    )
    require(
        np.allclose(values, _cosines(vectors), atol=1e-4),
        "the entries differ from the cosines of the rows",
    )
    return f"{n} x {n}, symmetric, unit diagonal"


@check
def upper_triangle(matrix: Any, upper: Any) -> str:
    """The n(n-1)/2 values above the diagonal, row by row."""
    require(upper is not None, "got None: upper_triangle must return the values")
    matrix = np.asarray(matrix, dtype=np.float64)
    values = np.asarray(upper, dtype=np.float64).ravel()
    n = len(matrix)
    require(len(values) != n * (n + 1) // 2, "the diagonal is included: use k=1")
    require(
        len(values) == n * (n - 1) // 2,
        f"{n} words give {n * (n - 1) // 2} pairs above the diagonal, you have {len(values)}",
    )
    require(
        np.allclose(values, _upper(matrix), atol=1e-6),
        "the values or their order differ from matrix[np.triu_indices(n, k=1)]",
    )
    return f"{len(values)} values above the diagonal"


@check
def rsa(
    bert_vectors: Any,
    gpt2_vectors: Any,
    rsa_function: Callable[[Any, Any], Any],
    pearson: float,
    spearman: float,
) -> str:
    """RSA of a matrix with itself is 1; the two models' RSA (Pearson and Spearman) is right."""
    bert_cos = _cosines(bert_vectors)
    gpt2_cos = _cosines(gpt2_vectors)
    self_rsa = rsa_function(bert_cos, bert_cos)
    require(self_rsa is not None, "rsa(...) returned None: it must return the correlation")
    require(
        abs(float(self_rsa) - 1) < 1e-6,
        f"the RSA of a matrix with itself should be 1, rsa gives {float(self_rsa):.4f}",
    )
    reference = _pearson(_upper(bert_cos), _upper(gpt2_cos))
    full = _pearson(bert_cos.ravel(), gpt2_cos.ravel())
    require(
        abs(float(pearson) - full) > 1e-5 or abs(full - reference) < 1e-5,
        "this correlates the whole matrices: use only the upper triangles (diagonal and the "
        "mirrored half excluded)",
    )
    require(
        abs(float(pearson) - reference) < 1e-4,
        f"the Pearson RSA should be {reference:.4f}: correlate the two upper triangles",
    )
    ranked = _spearman(_upper(bert_cos), _upper(gpt2_cos))
    require(
        abs(float(spearman) - ranked) < 1e-4,
        f"the Spearman RSA should be {ranked:.4f}: stats.spearmanr of the two upper triangles",
    )
    return f"rsa(M, M) = 1; Pearson {reference:.3f}, Spearman {ranked:.3f}"


@check
def permutation_test(null: Any, p_value: float, observed: float, n_permutations: int) -> str:
    """The permutation null (one RSA per shuffle) and its p-value."""
    values = np.asarray(null, dtype=np.float64).ravel()
    require(
        len(values) == int(n_permutations),
        f"expected one RSA per permutation ({n_permutations}), got {len(values)}",
    )
    require(np.all(np.abs(values) <= 1 + 1e-6), "every RSA is a correlation, between -1 and 1")
    require(
        len(np.unique(np.round(values, 10))) > 1,
        "all null values are equal: draw a new permutation in every iteration",
    )
    require(
        not np.allclose(values, observed),
        "the null values equal the observed RSA: shuffle the word order of one matrix",
    )
    exceed = int(np.sum(values >= observed))
    accepted = [(exceed + 1) / (len(values) + 1), exceed / len(values)]
    require(
        any(abs(float(p_value) - p) < 1e-9 for p in accepted),
        "p should be the share of shuffles with RSA >= the observed one: "
        "(count + 1) / (n_permutations + 1)",
    )
    return (
        f"{len(values)} shuffles, {exceed} at or above the observed RSA, p = {float(p_value):.4f}"
    )


@check
def rsa_matrix(model_ids: Sequence[str], vectors: Mapping[str, Any], matrix: Any) -> str:
    """The model x model RSA matrix: symmetric, unit diagonal, each entry the models' RSA."""
    values = np.asarray(matrix, dtype=np.float64)
    n = len(model_ids)
    require(values.shape == (n, n), f"expected a {n} x {n} matrix, got shape {values.shape}")
    require(np.allclose(values, values.T, atol=1e-6), "the RSA matrix is not symmetric")
    require(
        np.allclose(np.diag(values), 1, atol=1e-6),
        "the diagonal should be 1 (each model with itself)",
    )
    for i in range(n):
        for j in range(i + 1, n):
            reference = _rsa(vectors[model_ids[i]], vectors[model_ids[j]])
            require(
                abs(values[i, j] - reference) < 1e-4,
                f"entry ({model_ids[i]}, {model_ids[j]}) should be {reference:.4f}, got "
                f"{values[i, j]:.4f}",
            )
    return f"{n} x {n}, symmetric, unit diagonal, every entry the pair's RSA"


@check
def category_scores(
    model_ids: Sequence[str],
    vectors: Mapping[str, Any],
    categories: Sequence[str],
    scores: Mapping[str, float],
) -> str:
    """Mean within-category minus mean across-category cosine, per model."""
    labels = np.asarray(categories)
    same = labels[:, None] == labels[None, :]
    off_diagonal = ~np.eye(len(labels), dtype=bool)
    require(set(scores) == set(model_ids), "give one score per model id (a dict keyed by model id)")
    for model_id in model_ids:
        cosines = _cosines(vectors[model_id])
        reference = cosines[same & off_diagonal].mean() - cosines[~same].mean()
        with_diagonal = cosines[same].mean() - cosines[~same].mean()
        value = float(scores[model_id])
        require(
            abs(value - with_diagonal) > 1e-5 or abs(with_diagonal - reference) < 1e-5,
            f"{model_id}: the within-category mean includes the diagonal's 1s: leave it out",
        )
        require(
            abs(value - reference) < 1e-4,
            f"{model_id}: expected {reference:.4f}, got {value:.4f}",
        )
    return f"{len(model_ids)} scores (within − across category cosine)"
