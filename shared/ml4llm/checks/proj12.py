"""Self-checks for project 12, "RSA to compare GPT-2 & BERT embeddings"."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ml4llm.checks import check, common, require
from ml4llm.tokens import decode_token, encode, single_token_id


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a, b)[0, 1])


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    from scipy import stats

    return float(stats.spearmanr(a, b)[0])


def _rsa(vectors_a: Any, vectors_b: Any) -> float:
    return _pearson(
        common.upper(common.cosines(vectors_a)), common.upper(common.cosines(vectors_b))
    )


def _rows(vectors: Mapping[str, Any], model_id: str) -> np.ndarray:
    """The word vectors of ``model_id`` from the notebook's ``vectors`` dict."""
    require(
        model_id in vectors,
        f"`vectors` has no entry for {model_id!r}: run the cell of Part 1 that loads the models "
        "(it needs the word ids)",
    )
    return np.asarray(vectors[model_id], dtype=np.float64)


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
def token_counts(
    words: Sequence[str],
    bert_tokenizer: Any,
    gpt2_tokenizer: Any,
    bert_counts: Sequence[int],
    gpt2_bare_counts: Sequence[int],
    gpt2_space_counts: Sequence[int],
    gpt2_bare_pieces: Sequence[Sequence[str]],
) -> str:
    """Tokens per word (BERT bare, GPT-2 bare, GPT-2 with a leading space) and GPT-2's pieces."""
    bert_ref = [len(encode(bert_tokenizer, w)) for w in words]
    bare_ref = [len(encode(gpt2_tokenizer, w)) for w in words]
    space_ref = [len(encode(gpt2_tokenizer, " " + w)) for w in words]
    pieces_ref = [
        [decode_token(gpt2_tokenizer, i) for i in encode(gpt2_tokenizer, w)] for w in words
    ]
    given = {
        "bert_counts": bert_counts,
        "gpt2_bare_counts": gpt2_bare_counts,
        "gpt2_space_counts": gpt2_space_counts,
        "gpt2_bare_pieces": gpt2_bare_pieces,
    }
    for name, values in given.items():
        require(
            len(values) == len(words),
            f"{name}: expected one entry per word ({len(words)}), got {len(values)}",
        )
    require(
        [int(c) for c in bert_counts] == bert_ref, "bert_counts: encode each bare word with BERT"
    )
    space = [int(c) for c in gpt2_space_counts]
    bare = [int(c) for c in gpt2_bare_counts]
    require(
        space != bare_ref or bare_ref == space_ref,
        "gpt2_space_counts equals the counts without a space: encode ' ' + word",
    )
    require(bare == bare_ref, "gpt2_bare_counts: encode each word without a leading space")
    require(space == space_ref, "gpt2_space_counts: encode ' ' + word with GPT-2's tokenizer")
    for word, pieces, reference in zip(words, gpt2_bare_pieces, pieces_ref):
        require(
            not isinstance(pieces, str),
            f"{word!r}: give a list of decoded pieces per word, not one string",
        )
        require(
            list(pieces) == reference,
            f"{word!r}: GPT-2 splits the bare word into {reference}, not {list(pieces)} "
            "(decode each id alone)",
        )
    split = sum(c > 1 for c in bare_ref)
    return f"{split} of {len(words)} words split into pieces without the leading space"


@check
def per_word_r(vectors: Mapping[str, Any], bert_id: str, gpt2_id: str, values: Any) -> str:
    """Pearson r of each word's two vectors, dimensions paired by index (the shared ones)."""
    bert = _rows(vectors, bert_id)
    gpt2 = _rows(vectors, gpt2_id)
    values = np.asarray(values, dtype=np.float64).ravel()
    n_shared = min(bert.shape[1], gpt2.shape[1])
    require(len(values) == len(bert), f"expected one r per word ({len(bert)}), got {len(values)}")
    require(np.any(values != 0), "still all zero: fill in the loop first")
    reference = np.array(
        [_pearson(bert[i, :n_shared], gpt2[i, :n_shared]) for i in range(len(bert))]
    )
    cosines = np.array(
        [
            common.cosines(np.stack([bert[i, :n_shared], gpt2[i, :n_shared]]))[0, 1]
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
def example_pair(vectors: Mapping[str, Any], bert_id: str, gpt2_id: str, x: Any, y: Any) -> str:
    """The scatter's data: the first word's BERT (x) and GPT-2 (y) values of the shared dimensions."""
    bert = _rows(vectors, bert_id)
    gpt2 = _rows(vectors, gpt2_id)
    n_shared = min(bert.shape[1], gpt2.shape[1])
    x = np.asarray(x, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    require(
        len(x) == n_shared and len(y) == n_shared,
        f"both arrays need the {n_shared} shared dimensions (got {len(x)} and {len(y)} values): "
        "slice each vector with [:n_shared]",
    )
    require(
        not np.allclose(x, gpt2[0, :n_shared]) or np.allclose(y, gpt2[0, :n_shared]),
        "x and y are swapped: x is the BERT vector, y the GPT-2 vector",
    )
    require(np.allclose(x, bert[0, :n_shared], atol=1e-6), "x should be row 0 of the BERT vectors")
    require(np.allclose(y, gpt2[0, :n_shared], atol=1e-6), "y should be row 0 of the GPT-2 vectors")
    return f"{n_shared} points, dimension k of one model against dimension k of the other"


@check
def cosine_matrix(vectors: Mapping[str, Any], model_id: str, matrix: Any) -> str:
    """An 18 x 18 cosine matrix: symmetric, unit diagonal, equal to the reference."""
    rows = _rows(vectors, model_id)
    n = common.require_cosine_matrix(
        matrix, rows, how="normalise every row (axis=1), then unit @ unit.T"
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
        np.allclose(values, common.upper(matrix), atol=1e-6),
        "the values or their order differ from matrix[np.triu_indices(n, k=1)]",
    )
    return f"{len(values)} values above the diagonal"


@check
def rsa(
    vectors: Mapping[str, Any],
    bert_id: str,
    gpt2_id: str,
    rsa_function: Callable[[Any, Any], Any],
    pearson: float,
    spearman: float,
) -> str:
    """RSA of a matrix with itself is 1; the two models' RSA (Pearson and Spearman) is right."""
    bert_cos = common.cosines(_rows(vectors, bert_id))
    gpt2_cos = common.cosines(_rows(vectors, gpt2_id))
    self_rsa = rsa_function(bert_cos, bert_cos)
    require(self_rsa is not None, "rsa(...) returned None: it must return the correlation")
    require(
        abs(float(self_rsa) - 1) < 1e-6,
        f"the RSA of a matrix with itself should be 1, rsa gives {float(self_rsa):.4f}",
    )
    reference = _pearson(common.upper(bert_cos), common.upper(gpt2_cos))
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
    ranked = _spearman(common.upper(bert_cos), common.upper(gpt2_cos))
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
    require(np.any(values != 0), "the null is still all zero: fill in the loop first")
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
def same_category_pairs(categories: Sequence[str], same: Any) -> str:
    """One flag per word pair above the diagonal (row by row): True when both share a category."""
    labels = np.asarray(categories)
    reference = common.upper(labels[:, None] == labels[None, :])
    flags = np.asarray(same).ravel()
    n = len(labels)
    require(
        len(flags) == len(reference),
        f"{n} words give {len(reference)} pairs above the diagonal, you have {len(flags)} flags",
    )
    require(flags.dtype == bool, "give True/False flags (a boolean array)")
    require(
        int(flags.sum()) == int(reference.sum()),
        f"{int(reference.sum())} pairs join two words of the same category, you flag "
        f"{int(flags.sum())}",
    )
    require(
        np.array_equal(flags, reference),
        "the flags are not in the upper-triangle order (row by row, as np.triu_indices(n, k=1))",
    )
    return f"{int(reference.sum())} of {len(reference)} pairs within a category"


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
    require(
        n < 2 or not np.allclose(values, 1),
        "every entry is still 1: fill in the loop over pairs of models",
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
        cosines = common.cosines(vectors[model_id])
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


@check
def family_pairs(model_ids: Sequence[str], vectors: Mapping[str, Any], pairs: Any) -> str:
    """One row per pair of models: (model a, model b, kind, identical vectors, RSA)."""
    from ml4llm.models import get_spec

    rows = list(pairs)
    n = len(model_ids)
    require(rows, "the list is still empty: fill in the loop over pairs of models first")
    require(
        len(rows) == n * (n - 1) // 2,
        f"{n} models give {n * (n - 1) // 2} pairs (each pair once, no model with itself), "
        f"got {len(rows)} rows",
    )
    expected = [(model_ids[i], model_ids[j]) for i in range(n) for j in range(i + 1, n)]
    for row, (a, b) in zip(rows, expected):
        require(len(row) == 5, "each row holds 5 values: model a, model b, kind, identical, RSA")
        require(
            (row[0], row[1]) == (a, b),
            f"expected the pair ({a}, {b}) here, got ({row[0]}, {row[1]})",
        )
        same = get_spec(a).family == get_spec(b).family
        kind = "within family" if same else "across families"
        require(row[2] == kind, f"({a}, {b}): the kind is {kind!r}, not {row[2]!r}")
        identical = bool(np.array_equal(np.asarray(vectors[a]), np.asarray(vectors[b])))
        require(
            bool(row[3]) == identical,
            f"({a}, {b}): 'identical vectors' should be {identical} (np.array_equal of the rows)",
        )
        reference = _rsa(vectors[a], vectors[b])
        require(
            abs(float(row[4]) - reference) < 1e-4, f"({a}, {b}): the RSA should be {reference:.4f}"
        )
    within = sum(1 for a, b in expected if get_spec(a).family == get_spec(b).family)
    return f"{len(rows)} pairs, {within} within a family"
