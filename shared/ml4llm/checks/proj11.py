"""Self-checks for project 11, "Network graphs of cosine similarities"."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ml4llm.checks import CheckFailed, check, require


def _cosines(vectors: Any) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float64)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    return unit @ unit.T


def _upper(matrix: np.ndarray) -> np.ndarray:
    rows, cols = np.triu_indices(len(matrix), k=1)
    return matrix[rows, cols]


def _thresholds(vectors: Any, n_std: float) -> list[float]:
    """Median + n_std standard deviations of the reference upper triangle (ddof 0 and 1)."""
    upper = _upper(_cosines(vectors))
    return [float(np.median(upper) + n_std * upper.std(ddof=ddof)) for ddof in (0, 1)]


@check
def cosine_matrix(vectors: Any, matrix: Any) -> str:
    """The cosine matrix of the rows: symmetric, unit diagonal, equal to the reference."""
    require(
        matrix is not None, "got None: the function must return the matrix (return unit @ unit.T)"
    )
    values = np.asarray(matrix, dtype=np.float64)
    n = len(vectors)
    require(values.shape == (n, n), f"expected a {n} x {n} matrix, got shape {values.shape}")
    require(np.allclose(values, values.T, atol=1e-5), "the matrix is not symmetric")
    require(
        np.allclose(np.diag(values), 1, atol=1e-4),
        "the diagonal is not 1: divide each row (axis=1) by its norm before the product",
    )
    require(
        np.allclose(values, _cosines(vectors), atol=1e-4),
        "the entries differ from the rows' cosines: normalise the rows, then unit @ unit.T",
    )
    return f"{n} x {n}, symmetric, unit diagonal"


@check
def threshold(vectors: Any, upper: Any, value: float, n_std: float = 1.0) -> str:
    """The strict upper triangle (n(n-1)/2 values) and the threshold median + n_std * std."""
    reference = _upper(_cosines(vectors))
    values = np.asarray(upper, dtype=np.float64).ravel()
    n = len(vectors)
    require(
        len(values) != n * (n + 1) // 2,
        "you kept the diagonal: use the strict upper triangle (k=1)",
    )
    require(
        len(values) == len(reference),
        f"{n} tokens have {len(reference)} pairs above the diagonal, you have {len(values)} values",
    )
    require(
        np.allclose(np.sort(values), np.sort(reference), atol=1e-4),
        "the values differ from the cosines above the diagonal",
    )
    value = float(value)
    require(
        reference.min() <= value <= reference.max(),
        f"the threshold {value:.4f} lies outside the off-diagonal range "
        f"[{reference.min():.4f}, {reference.max():.4f}]: was the diagonal included?",
    )
    require(
        any(abs(value - t) < 1e-4 for t in _thresholds(vectors, n_std)),
        f"the threshold should be the median plus {n_std:g} standard deviation(s) of these values",
    )
    return (
        f"{len(reference)} pairs, threshold {value:.4f} inside [{reference.min():.4f}, "
        f"{reference.max():.4f}]"
    )


def _selfloops(graph: Any) -> int:
    """The number of edges from a node to itself."""
    return sum(1 for i, j in graph.edges if i == j)


def _check_graph(graph: Any, labels: Sequence[str], cosines: np.ndarray, cut: float) -> int:
    """Nodes 0..n-1 with labels, one edge (weight = cosine) per pair above ``cut``."""
    require(graph is not None, "got None: the function must return the graph")
    n = len(labels)
    require(
        graph.number_of_nodes() == n,
        f"expected {n} nodes (one per position), got {graph.number_of_nodes()}: key nodes by "
        "position, not by token string, so that repeated tokens stay separate",
    )
    require(sorted(graph.nodes) == list(range(n)), "key the nodes by position: 0, 1, …, n-1")
    require(
        [graph.nodes[i].get("label") for i in range(n)] == list(labels),
        "give every node its token string as the 'label' attribute",
    )
    require(_selfloops(graph) == 0, "there are self-loops: leave out the diagonal (j > i)")
    rows, cols = np.triu_indices(n, k=1)
    above = cosines[rows, cols] > cut
    expected = {(int(i), int(j)) for i, j, keep in zip(rows, cols, above) if keep}
    found = {(min(i, j), max(i, j)) for i, j in graph.edges}
    require(
        len(found) == len(expected),
        f"expected {len(expected)} edges (the upper-triangle values above the threshold), got "
        f"{len(found)}",
    )
    require(
        found == expected,
        "the edges join the wrong pairs: add (i, j) where cosine[i, j] > threshold",
    )
    for i, j in expected:
        weight = graph.edges[i, j].get("weight")
        require(weight is not None, "give every edge its cosine as the 'weight' attribute")
        require(
            abs(float(weight) - cosines[i, j]) < 1e-4,
            f"edge ({i}, {j}) has weight {float(weight):.4f}, its cosine is {cosines[i, j]:.4f}",
        )
    return len(expected)


@check
def token_graph(vectors: Any, tokens: Sequence[str], graph: Any, n_std: float = 1.0) -> str:
    """The thresholded token graph, against a threshold and cosines computed here."""
    cosines = _cosines(vectors)
    population, sample = _thresholds(vectors, n_std)
    try:
        n_edges = _check_graph(graph, tokens, cosines, population)
    except CheckFailed:
        # a threshold with the sample standard deviation (ddof=1) is fine too
        n_edges = _check_graph(graph, tokens, cosines, sample)
    return f"{len(tokens)} nodes keyed by position, {n_edges} edges above the threshold, weights = cosines"


@check
def node_sizes(graph: Any, sizes: Any) -> str:
    """Node sizes proportional to the square root of each node's degree."""
    values = np.asarray(sizes, dtype=np.float64).ravel()
    degrees = np.array([graph.degree(node) for node in graph.nodes], dtype=np.float64)
    require(
        len(values) == len(degrees),
        f"expected one size per node ({len(degrees)}), got {len(values)}",
    )
    positive = degrees > 0
    require(positive.any(), "the graph has no edges")
    ratios = values[positive] / np.sqrt(degrees[positive])
    linear = values[positive] / degrees[positive]
    require(
        not (np.allclose(linear, linear[0]) and not np.allclose(ratios, ratios[0])),
        "the sizes grow with the degree itself: take the square root of the degree",
    )
    require(
        np.allclose(ratios, ratios[0], rtol=1e-6) and ratios[0] > 0,
        "the sizes are not proportional to √degree (in node order: [graph.degree(n) for n in graph.nodes])",
    )
    require(
        np.allclose(values[~positive], 0), "a node without edges has degree 0, so size 0 (∝ √0)"
    )
    return f"{len(values)} sizes ∝ √degree (degrees {int(degrees.min())} … {int(degrees.max())})"


@check
def number_graph(vectors: Any, number_tokens: Sequence[str], graph: Any) -> str:
    """The complete graph of the number tokens, every edge weighted by its cosine."""
    n = len(number_tokens)
    n_edges = _check_graph(graph, number_tokens, _cosines(vectors), -np.inf)
    require(n_edges == n * (n - 1) // 2, "a complete graph has n(n-1)/2 edges")
    return f"complete graph: {n} nodes, {n_edges} edges weighted by cosine"
