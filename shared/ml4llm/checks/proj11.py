"""Self-checks for project 11, "Network graphs of cosine similarities"."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ml4llm.checks import CheckFailed, check, common, has_blank, require
from ml4llm.tokens import decode_token


def _thresholds(vectors: Any, n_std: float) -> list[float]:
    """Median + n_std standard deviations of the reference upper triangle (ddof 0 and 1)."""
    upper = common.upper(common.cosines(vectors))
    return [float(np.median(upper) + n_std * upper.std(ddof=ddof)) for ddof in (0, 1)]


@check
def cosine_matrix(vectors: Any, matrix: Any) -> str:
    """The cosine matrix of the rows: symmetric, unit diagonal, equal to the reference."""
    n = common.require_cosine_matrix(
        matrix, vectors, how="divide each row by its norm, then unit @ unit.T"
    )
    return f"{n} x {n}, symmetric, unit diagonal"


@check
def threshold(vectors: Any, upper: Any, value: float, n_std: float = 1.0) -> str:
    """The strict upper triangle (n(n-1)/2 values) and the threshold median + n_std * std."""
    reference = common.upper(common.cosines(vectors))
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
    cosines = common.cosines(vectors)
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
    n_edges = _check_graph(graph, number_tokens, common.cosines(vectors), -np.inf)
    require(n_edges == n * (n - 1) // 2, "a complete graph has n(n-1)/2 edges")
    return f"complete graph: {n} nodes, {n_edges} edges weighted by cosine"


def _reference_graphs(vectors: Any, labels: Sequence[str], n_std: float) -> list[Any]:
    """The thresholded graph of the rows, with the population and with the sample std."""
    import networkx as nx

    cosines = common.cosines(vectors)
    graphs = []
    for cut in _thresholds(vectors, n_std):
        graph = nx.Graph()
        for position, label in enumerate(labels):
            graph.add_node(position, label=label)
        rows, cols = np.triu_indices(len(labels), k=1)
        for i, j in zip(rows, cols):
            if cosines[i, j] > cut:
                graph.add_edge(int(i), int(j), weight=float(cosines[i, j]))
        graphs.append(graph)
    return graphs


@check
def sentence_tokens(tokenizer: Any, text: str, token_ids: Any, tokens: Any) -> str:
    """The sentence's token ids without special tokens, and each id's token string."""
    reference = tokenizer(text, add_special_tokens=False)["input_ids"]
    ids = [int(i) for i in np.asarray(token_ids).ravel()]
    require(
        ids != tokenizer(text)["input_ids"] or ids == reference,
        "the ids include [CLS] and [SEP]: tokenize with add_special_tokens=False",
    )
    require(
        ids == reference,
        f"expected the {len(reference)} ids of the sentence, got {len(ids)} ids that differ: "
        "tokenize the whole sentence in one call",
    )
    strings = [decode_token(tokenizer, i) for i in reference]
    tokens = [str(t) for t in tokens]
    require(
        len(tokens) == len(strings),
        f"expected one token string per id ({len(strings)}), got {len(tokens)}",
    )
    require(
        tokens == strings,
        "the token strings differ from the ids' strings: decode each id on its own "
        "(decode_token(tokenizer, i))",
    )
    return f"{len(ids)} tokens, no [CLS] or [SEP]"


@check
def number_ids(tokenizer: Any, number_tokens: Sequence[str], ids: Any) -> str:
    """The vocabulary id of every number token (convert_tokens_to_ids), none of them [UNK]."""
    ids = [int(i) for i in np.asarray(ids).ravel()]
    require(
        len(ids) == len(number_tokens),
        f"expected one id per number token ({len(number_tokens)}), got {len(ids)}",
    )
    require(
        tokenizer.unk_token_id not in ids,
        "an id is [UNK]: that string is not in the vocabulary, so it should be refused",
    )
    for text, token_id in zip(number_tokens, ids):
        expected = tokenizer.convert_tokens_to_ids(text)
        require(
            token_id == expected,
            f"{text!r} has the id {expected}, not {token_id}: tokenizer.convert_tokens_to_ids(text)",
        )
    return f"{len(ids)} number tokens, all in the vocabulary"


@check
def kept_rows(
    embeddings: Any,
    tokenizer: Any,
    text: str,
    number_tokens: Sequence[str],
    token_vectors: Any,
    number_vectors: Any,
) -> str:
    """The embedding rows of the sentence's tokens and of the number tokens, in order."""
    matrix = np.asarray(embeddings)
    wanted = {
        "token_vectors": tokenizer(text, add_special_tokens=False)["input_ids"],
        "number_vectors": [tokenizer.convert_tokens_to_ids(t) for t in number_tokens],
    }
    found = {"token_vectors": token_vectors, "number_vectors": number_vectors}
    for name, ids in wanted.items():
        values = np.asarray(found[name])
        require(
            values.shape == (len(ids), matrix.shape[1]),
            f"{name} should have shape ({len(ids)}, {matrix.shape[1]}), one row per id; "
            f"got {values.shape}",
        )
        require(
            np.array_equal(values, matrix[ids]),
            f"{name} holds other rows: index the embedding matrix with the list of ids",
        )
    return (
        f"{len(wanted['token_vectors'])} sentence rows and {len(wanted['number_vectors'])} "
        f"number rows of width {matrix.shape[1]}"
    )


@check
def pairs_above(vectors: Any, n_above: Any, n_std: float = 1.0) -> str:
    """How many upper-triangle cosines lie above the threshold (the future edge count)."""
    upper = common.upper(common.cosines(vectors))
    counts = [int((upper > cut).sum()) for cut in _thresholds(vectors, n_std)]
    found = int(n_above)
    n = len(vectors)
    require(
        found not in [c + n for c in counts],
        "the count includes the diagonal: count only the upper-triangle values",
    )
    require(
        found not in [2 * c for c in counts],
        "each pair is counted twice: count the upper-triangle values, not the whole matrix",
    )
    require(
        found in counts,
        f"{counts[0]} of the {len(upper)} pairs lie above the threshold, not {found}: "
        f"(upper > threshold).sum() (the {n} tokens' diagonal left out)",
    )
    return f"{found} of {len(upper)} pairs above the threshold"


@check
def graph_summary(
    vectors: Any,
    tokens: Sequence[str],
    n_edges: Any,
    density: Any,
    ranking: Any,
    isolated: Any,
    n_std: float = 1.0,
) -> str:
    """Edge count, density, the (node, degree) ranking and the isolated tokens of the graph."""
    import networkx as nx

    graphs = _reference_graphs(vectors, tokens, n_std)
    found_edges = int(n_edges)
    matching = [g for g in graphs if g.number_of_edges() == found_edges]
    reference = matching[0] if matching else graphs[0]
    require(
        matching,
        f"the graph has {reference.number_of_edges()} edges, not {found_edges}: "
        "graph.number_of_edges()",
    )
    n = len(tokens)
    expected_density = nx.density(reference)
    over_n_squared = found_edges / n**2
    require(
        not np.isclose(float(density), over_n_squared, rtol=0, atol=1e-9),
        "density divides by n²: a graph without self-loops has at most n(n-1)/2 edges (nx.density)",
    )
    require(
        abs(float(density) - expected_density) < 1e-6,
        f"the density is {expected_density:.4f} (edges / possible edges), not {float(density):.4f}",
    )
    pairs = [(int(node), int(degree)) for node, degree in ranking]
    require(
        len(pairs) == n,
        f"the ranking should hold one (node, degree) pair per node ({n}), not {len(pairs)}",
    )
    require(
        all(reference.degree(node) == degree for node, degree in pairs),
        "some (node, degree) pairs give the wrong degree: use graph.degree",
    )
    degrees = [degree for _, degree in pairs]
    require(
        degrees == sorted(degrees, reverse=True),
        "the ranking is not sorted by degree, highest first: key=lambda item: item[1], "
        "reverse=True",
    )
    expected_isolated = [tokens[node] for node in sorted(nx.isolates(reference))]
    require(
        sorted(str(t) for t in isolated) == sorted(expected_isolated),
        f"the isolated tokens are {expected_isolated}: the nodes of degree 0 (nx.isolates), "
        "as token strings",
    )
    top = ", ".join(f"{tokens[node]!r} ({degree})" for node, degree in pairs[:3])
    return f"{found_edges} edges, density {expected_density:.3f}, highest degree {top}"


@check
def edge_style(function: Any, vectors: Any, tokens: Sequence[str], n_std: float = 1.0) -> str:
    """edge_style(graph, max_width): edges sorted weakest first, their weights, widths ∝ weight.

    The learner's function runs here on the reference graph of the rows.
    """
    graph = _reference_graphs(vectors, tokens, n_std)[0]
    max_width = 4.0
    result = function(graph, max_width)
    if has_blank(result):
        raise CheckFailed("fill in the blank first: edge_style still returns `...`")
    require(
        isinstance(result, tuple) and len(result) == 3,
        "edge_style should return three things: edges, weights, widths",
    )
    edges, weights, widths = result
    edges = [(int(i), int(j), float(w)) for i, j, w in edges]
    expected = sorted(graph.edges(data="weight"), key=lambda edge: edge[2])
    require(
        len(edges) == len(expected),
        f"the graph has {len(expected)} edges, edge_style gave {len(edges)}",
    )
    weights = np.asarray(weights, dtype=np.float64).ravel()
    require(
        np.all(np.diff([w for _, _, w in edges]) >= 0),
        "the edges are not sorted by weight, weakest first: sorted(..., key=lambda edge: edge[2])",
    )
    require(
        {(min(i, j), max(i, j)) for i, j, _ in edges} == {(i, j) for i, j, _ in expected},
        "the edges are not the graph's edges: graph.edges(data='weight')",
    )
    require(
        np.allclose(weights, [w for _, _, w in edges]),
        "weights should be the edges' weights, in the same (sorted) order",
    )
    widths = np.asarray(widths, dtype=np.float64).ravel()
    require(
        np.allclose(widths, max_width * weights / weights.max()),
        "the widths should be proportional to the weights, the strongest edge max_width wide: "
        "max_width * weights / weights.max()",
    )
    return f"{len(edges)} edges, weakest first, widths up to {max_width:g}"


@check
def circular_layout(labels: Sequence[str], layout: Any) -> str:
    """Node positions on a circle, one per node, as networkx's circular_layout gives them."""
    import networkx as nx

    n = len(labels)
    reference = nx.circular_layout(nx.empty_graph(n))
    require(
        hasattr(layout, "keys") and len(layout) == n,
        f"the layout should map each of the {n} nodes to its position (a dict), "
        "as nx.circular_layout(graph) returns",
    )
    require(
        set(layout) == set(range(n)),
        "the layout's keys should be the nodes 0 … n-1 (the graph's nodes)",
    )
    error = max(float(np.abs(np.asarray(layout[k]) - reference[k]).max()) for k in range(n))
    require(
        error < 1e-6,
        "the positions are not on networkx's circle in node order: nx.circular_layout(graph)",
    )
    return f"{n} nodes on a circle, in node order"


@check
def rim(vectors: Any, values: Any) -> str:
    """The cosine of each number token with the next one in the list."""
    cosines = common.cosines(vectors)
    reference = np.array([cosines[k, k + 1] for k in range(len(cosines) - 1)])
    found = np.asarray(values, dtype=np.float64).ravel()
    require(
        found.size == reference.size,
        f"{len(cosines)} tokens have {reference.size} neighbours in the list, you have "
        f"{found.size} values",
    )
    require(
        np.allclose(found, reference, atol=1e-4),
        "the values differ from cosine[k, k + 1] for k = 0 … n-2",
    )
    return f"{reference.size} rim cosines, mean {reference.mean():.3f}"


@check
def edge_table(vectors: Any, number_tokens: Sequence[str], table: Any) -> str:
    """One row per edge of the complete graph with its cosine, most similar first."""
    cosines = common.cosines(vectors)
    n = len(number_tokens)
    require(
        hasattr(table, "columns") and "cosine" in table.columns,
        "edge_table should be a DataFrame with a 'cosine' column",
    )
    require(len(table) > 0, "edge_table is still empty: one row per edge")
    require(
        len(table) == n * (n - 1) // 2,
        f"a complete graph of {n} nodes has {n * (n - 1) // 2} edges, the table has {len(table)} rows",
    )
    values = table["cosine"].to_numpy(dtype=np.float64)
    require(
        np.all(np.diff(values) <= 1e-12),
        "the rows are not sorted by cosine, most similar first: "
        "sort_values('cosine', ascending=False)",
    )
    reference = np.sort(common.upper(cosines))[::-1]
    require(
        np.allclose(values, reference, atol=1e-4),
        "the cosines differ from the number tokens' pairwise cosines",
    )
    return f"{len(table)} edges, cosine from {values[0]:.3f} down to {values[-1]:.3f}"
