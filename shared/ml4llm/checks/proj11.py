"""Self-checks for project 11, "Network graphs of cosine similarities".

Every reference starts from the model id, the sentence and the number tokens: the checks tokenize
and load the embedding rows themselves (once per session), so that a wrong id list upstream cannot
make them pass. The threshold is the median plus ``n_std`` population standard deviations
(``np.std``) of the upper triangle, as in the notebook.
"""

from __future__ import annotations

import contextlib
import functools
import io
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ml4llm.checks import CheckFailed, Expect, check, common, has_blank, require
from ml4llm.models import free, load_model, load_tokenizer
from ml4llm.tokens import decode_token, encode

KEPT_DIAGONAL = "you kept the diagonal: use the strict upper triangle (k=1)"
SPECIALS = "the ids include [CLS] and [SEP]: tokenize with add_special_tokens=False"
DECODE = "the token strings differ from the ids' strings: decode each id on its own (decode_token(tokenizer, i))"
OTHER_ROWS = "holds other rows: index the embedding matrix with the list of ids (one row per id)"
SPECIAL_ROWS = (
    "these are the rows of the ids with [CLS] and [SEP]: use the ids of add_special_tokens=False"
)
UPPER = "the values differ from the cosines above the diagonal, row by row (matrix[np.triu_indices(n, k=1)])"
SAMPLE_STD = "this is the sample standard deviation (ddof=1): use np.std (ddof=0), the population one, as the checks that follow do"
COUNT_DIAGONAL = "the count includes the diagonal: count only the upper-triangle values"
TWICE = "each pair is counted twice: count the upper-triangle values, not the whole matrix"
DENSITY_N2 = (
    "density divides by n²: a graph without self-loops has at most n(n-1)/2 edges (nx.density)"
)
UNK = "an id is [UNK]: that string is not in the vocabulary, so it should be refused"
CLS_IDS = "these are [CLS], the first id of each encoding: look each string up with tokenizer.convert_tokens_to_ids(text)"
SORTED = (
    "the rows are not sorted by cosine, most similar first: sort_values('cosine', ascending=False)"
)
PAIR = "each row's tokens: number_tokens[i] and number_tokens[j] of edge (i, j)"
MAX_WIDTH = 4.0


@functools.cache
def _tokenizer(model_id: str) -> Any:
    with contextlib.redirect_stdout(io.StringIO()):  # a check prints its own line only
        return load_tokenizer(model_id)


@functools.cache
def _rows(model_id: str, ids: tuple[int, ...]) -> np.ndarray:
    """The ids' rows of the model's input embedding matrix (float64)."""
    with contextlib.redirect_stdout(io.StringIO()):
        model = load_model(model_id)
    rows = model.get_input_embeddings().weight[list(ids)].detach().float().cpu().numpy()
    del model
    free()
    return rows.astype(np.float64)


def _graph(cosines: np.ndarray, labels: Sequence[str], cut: float) -> Any:
    """One node per position (label = token), an edge (weight = cosine) per pair above ``cut``."""
    import networkx as nx

    graph = nx.Graph()
    graph.add_nodes_from((k, {"label": label}) for k, label in enumerate(labels))
    rows, cols = np.triu_indices(len(labels), k=1)
    graph.add_weighted_edges_from(
        (int(i), int(j), float(cosines[i, j])) for i, j in zip(rows, cols) if cosines[i, j] > cut
    )
    return graph


def _sizes(graph: Any, scale: float) -> Expect:
    """Node sizes ``scale * √degree`` in node order, with the hints of the usual mistakes."""
    degrees = np.array([graph.degree(node) for node in graph.nodes], dtype=np.float64)
    isolated = degrees == 0
    return Expect(
        scale * np.sqrt(degrees),
        "the sizes are not proportional to √degree: node_size_scale * np.sqrt(degrees), "
        "in node order ([graph.degree(n) for n in graph.nodes])",
        traps=[
            (scale * degrees, "the sizes grow with the degree itself: take the square root"),
            (
                lambda v: v.shape == degrees.shape and np.any(v[isolated] != 0),
                "a node without edges has degree 0, so size 0 (∝ √0)",
            ),
        ],
    )


def _layout(n: int) -> Expect:
    import networkx as nx

    return Expect(
        nx.circular_layout(nx.empty_graph(n)),
        "the positions are not on networkx's circle in node order: nx.circular_layout(graph)",
    )


def _sentence(model_id: str, sentence: str, n_std: float = 1.0, node_size_scale: float = 1.0):
    """Parts 1 and 2: the sentence's ids, rows, cosines, threshold and graph."""
    import networkx as nx

    tokenizer = _tokenizer(model_id)
    ids, special = encode(tokenizer, sentence), tokenizer(sentence)["input_ids"]
    n, m = len(ids), len(ids) * (len(ids) - 1) // 2
    rows = _rows(model_id, tuple(special + ids))
    vectors, with_special = rows[len(special) :], rows[: len(special)]
    tokens = [decode_token(tokenizer, i) for i in ids]
    cosines = common.cosines(vectors)
    upper = common.upper(cosines)
    low, high = upper.min(), upper.max()
    cut = float(np.median(upper) + n_std * upper.std())
    diagonal = cosines[np.triu_indices(n)]
    count = int((upper > cut).sum())
    graph = _graph(cosines, tokens, cut)
    edges = graph.number_of_edges()
    isolated = [tokens[k] for k in nx.isolates(graph)]
    return {
        "token_ids": Expect(
            ids,
            f"expected the {n} ids of the sentence: tokenize the whole sentence in one call",
            traps=[(special, SPECIALS)],
        ),
        "tokens": Expect(
            tokens,
            DECODE,
            traps=[(lambda v: v.shape != (n,), f"expected one token string per id ({n})")],
        ),
        "token_vectors": Expect(vectors, OTHER_ROWS, traps=[(with_special[:n], SPECIAL_ROWS)]),
        "matrix": common.cosine_expect(vectors),
        "upper": Expect(
            upper,
            UPPER,
            traps=[
                (lambda v: v.shape == (n * (n + 1) // 2,), KEPT_DIAGONAL),
                (lambda v: v.shape != (m,), f"{n} tokens have {m} pairs above the diagonal"),
            ],
        ),
        "threshold": Expect(
            cut,
            f"the threshold should be the median plus {n_std:g} standard deviation(s) of the upper-triangle values",
            traps=[
                (
                    lambda v: not low <= v <= high,
                    f"the threshold lies outside the off-diagonal range [{low:.4f}, {high:.4f}]: was the diagonal included?",
                ),
                (np.median(diagonal) + n_std * diagonal.std(), KEPT_DIAGONAL),
                (np.median(upper) + n_std * upper.std(ddof=1), SAMPLE_STD),
            ],
        ),
        "n_above": Expect(
            count,
            f"{count} of the {m} pairs lie above the threshold: (upper > threshold).sum() (the diagonal left out)",
            traps=[(count + n, COUNT_DIAGONAL), (2 * count, TWICE)],
        ),
        "token_graph": graph,
        "node_sizes": _sizes(graph, node_size_scale),
        "n_edges": Expect(edges, f"the graph has {edges} edges: graph.number_of_edges()"),
        "density": Expect(
            nx.density(graph),
            "the density is the share of possible edges present (nx.density)",
            traps=[(edges / n**2, DENSITY_N2)],
        ),
        "ranking": sorted(graph.degree, key=lambda item: item[1], reverse=True),
        "isolated": Expect(
            np.array(isolated, dtype=str) if isolated else [],  # [] compares as no numbers
            f"the isolated tokens are {isolated}: the nodes of degree 0 (nx.isolates), as token strings, in node order",
        ),
        "edge_style": _edge_style,
        "token_layout": _layout(n),
    }


def _edge_style(graph: Any, max_width: float) -> tuple[list, np.ndarray, np.ndarray]:
    """The right edge_style: edges weakest first, their weights, widths ∝ weight."""
    edges = sorted(graph.edges(data="weight"), key=lambda edge: edge[2])
    weights = np.array([w for _, _, w in edges])
    return edges, weights, max_width * weights / weights.max()


def _numbers(model_id: str, number_tokens: Sequence[str], node_size_scale: float = 1.0):
    """Part 3: the number tokens' ids, rows, cosines, complete graph, rim and edge table."""
    tokenizer = _tokenizer(model_id)
    ids = [tokenizer.convert_tokens_to_ids(t) for t in number_tokens]
    n, m = len(ids), len(ids) * (len(ids) - 1) // 2
    vectors = _rows(model_id, tuple(ids))
    cosines = common.cosines(vectors)
    graph = _graph(cosines, list(number_tokens), -np.inf)
    pairs = [(number_tokens[i], number_tokens[j], w) for i, j, w in graph.edges(data="weight")]
    table = pd.DataFrame(pairs, columns=["token a", "token b", "cosine"])
    table = table.sort_values("cosine", ascending=False).reset_index(drop=True)
    edges = f"a complete graph of {n} nodes has {m} edges: one row per edge"
    unknown = tokenizer.unk_token_id
    return {
        "number_ids": Expect(
            ids,
            "each id should be tokenizer.convert_tokens_to_ids(text) of its number token",
            traps=[
                (lambda v: unknown in v.ravel().tolist(), UNK),
                ([tokenizer(t)["input_ids"][0] for t in number_tokens], CLS_IDS),
                (lambda v: v.shape != (n,), f"expected one id per number token ({n})"),
            ],
        ),
        "number_vectors": Expect(vectors, OTHER_ROWS),
        "number_graph": graph,
        "number_layout": _layout(n),
        "number_sizes": _sizes(graph, node_size_scale),
        "rim": Expect(
            [cosines[k, k + 1] for k in range(n - 1)],
            "the values differ from cosine[k, k + 1] for k = 0 … n-2",
            traps=[
                (lambda v: v.shape != (n - 1,), f"{n} tokens have {n - 1} neighbours in the list")
            ],
        ),
        "edge_table": Expect(
            table,
            columns={  # the cosines first: a wrong order shows there
                "cosine": (
                    "the cosines differ from the number tokens' pairwise cosines",
                    [
                        (np.sort(table["cosine"].to_numpy()), SORTED),
                        (lambda v: v.shape != (m,), edges),
                    ],
                ),
                "token a": PAIR,
                "token b": PAIR,
            },
        ),
    }


def _require_graph(graph: Any, want: Any, name: str, edges_hint: str) -> int:
    """Fail unless ``graph`` has ``want``'s nodes (by position, labelled), edges and weights."""
    import networkx as nx

    require(
        isinstance(graph, nx.Graph),
        f"{name}: expected a networkx Graph (the function must return it), "
        f"got {common.describe(graph)}",
    )
    labels = [want.nodes[k]["label"] for k in want.nodes]
    n = len(labels)
    require(
        graph.number_of_nodes() == n,
        f"{name}: expected {n} nodes (one per position), got {graph.number_of_nodes()}: key "
        "nodes by position, not by token string, so that repeated tokens stay separate",
    )
    require(
        sorted(graph.nodes) == list(range(n)), f"{name}: key the nodes by position: 0, 1, …, n-1"
    )
    require(
        [graph.nodes[k].get("label") for k in range(n)] == labels,
        f"{name}: give every node its token string as the 'label' attribute",
    )
    require(
        nx.number_of_selfloops(graph) == 0,
        f"{name}: there are self-loops: leave out the diagonal (j > i)",
    )
    expected = set(want.edges)
    found = {(min(i, j), max(i, j)) for i, j in graph.edges}
    require(
        len(found) == len(expected),
        f"{name}: expected {len(expected)} edges, got {len(found)}: {edges_hint}",
    )
    require(
        found == expected,
        f"{name}: the edges join the wrong pairs: add (i, j) where cosine[i, j] > threshold",
    )
    for i, j, right in want.edges(data="weight"):
        weight = graph.edges[i, j].get("weight")
        require(weight is not None, f"{name}: give every edge its cosine as the 'weight' attribute")
        require(
            abs(float(weight) - right) < 1e-4,
            f"{name}: edge ({i}, {j}) has weight {float(weight):.4f}, its cosine is {right:.4f}",
        )
    return len(expected)


@check(reference=_sentence)
def sentence_tokens(model_id, sentence, *, token_ids, tokens) -> str:
    """The sentence's token ids without special tokens, and each id's token string."""
    return f"{len(tokens)} tokens, no [CLS] or [SEP]"


@check(reference=_numbers)
def number_ids(model_id, number_tokens, *, number_ids) -> str:
    """The vocabulary id of every number token (convert_tokens_to_ids), none of them [UNK]."""
    return f"{len(number_tokens)} number tokens, all in the vocabulary"


@check(reference=_sentence)
def token_rows(model_id, sentence, *, token_vectors) -> str:
    """The embedding rows of the sentence's tokens, in order."""
    return f"{len(token_vectors)} sentence rows of width {len(token_vectors[0])}"


@check(reference=_numbers)
def number_rows(model_id, number_tokens, *, number_vectors) -> str:
    """The embedding rows of the number tokens, in order."""
    return f"{len(number_vectors)} number rows of width {len(number_vectors[0])}"


@check(reference=_sentence)
def cosine_matrix(model_id, sentence, *, matrix) -> str:
    """The tokens' cosine matrix (the hints every cosine-matrix check shares)."""
    return f"{len(matrix)} x {len(matrix)}, symmetric, unit diagonal"


@check(reference=_sentence)
def threshold(model_id, sentence, n_std, *, upper, threshold, n_above) -> str:
    """The strict upper triangle, the threshold median + n_std * std and the pairs above it."""
    return f"{len(upper)} pairs, threshold {float(threshold):.4f}, {int(n_above)} pairs above it"


@check(reference=_sentence)
def token_graph(model_id, sentence, n_std, *, token_graph, ref) -> str:
    """The thresholded token graph: nodes by position with labels, edges above the threshold."""
    hint = "one per upper-triangle value above the threshold"
    n_edges = _require_graph(token_graph, ref["token_graph"], "token_graph", hint)
    return f"{len(ref['tokens'])} nodes keyed by position, {n_edges} edges, weights = cosines"


@check(reference=_sentence)
def node_sizes(model_id, sentence, n_std, node_size_scale, *, node_sizes) -> str:
    """Node sizes node_size_scale * √degree, in node order."""
    return f"{len(node_sizes)} sizes ∝ √degree"


@check(reference=_sentence)
def graph_summary(model_id, sentence, n_std, *, n_edges, density, ranking, isolated, ref) -> str:
    """Edge count, density, the (node, degree) ranking and the isolated tokens of the graph."""
    graph, tokens = ref["token_graph"], ref["tokens"]
    pairs = common.require_array(ranking, name="ranking", shape=(len(tokens), 2), kind="integers")
    require(
        sorted(pairs[:, 0].tolist()) == list(range(len(tokens))),
        "ranking: expected one (node, degree) pair per node",
    )
    require(
        all(graph.degree(int(node)) == degree for node, degree in pairs),
        "ranking: some (node, degree) pairs give the wrong degree: use graph.degree",
    )
    require(
        np.all(np.diff(pairs[:, 1]) <= 0),
        "ranking is not sorted by degree, highest first: key=lambda item: item[1], reverse=True",
    )
    top = ", ".join(f"{tokens[node]!r} ({degree})" for node, degree in pairs[:3])
    return f"{int(n_edges)} edges, density {float(density):.3f}, highest degree {top}"


@check(reference=_sentence)
def edge_style(model_id, sentence, n_std, *, edge_style, token_layout, ref) -> str:
    """edge_style(graph, max_width) on the right graph: edges weakest first, widths ∝ weight;
    and the circular layout of the token graph."""
    graph = ref["token_graph"]
    result = common.call(edge_style, graph, MAX_WIDTH, name="edge_style", returns="three values")
    if has_blank(result):
        raise CheckFailed("fill in the blank first: edge_style still returns `...`")
    require(
        isinstance(result, tuple) and len(result) == 3,
        "edge_style should return three things: edges, weights, widths",
    )
    edges, weights, widths = result
    right, right_weights, right_widths = _edge_style(graph, MAX_WIDTH)
    rows = common.require_array(edges, name="edges", shape=(len(right), 3))
    require(
        {(min(i, j), max(i, j)) for i, j in rows[:, :2].astype(int).tolist()} == set(graph.edges),
        "edge_style: the edges are not the graph's edges: graph.edges(data='weight')",
    )
    require(
        np.all(np.diff(rows[:, 2]) >= 0),
        "edge_style: the edges are not sorted by weight, weakest first: "
        "sorted(..., key=lambda edge: edge[2])",
    )
    how = "should be the edges' weights, in the same (sorted) order"
    common.require_values(weights, right_weights, name="weights", hint=how)
    common.require_values(
        widths,
        right_widths,
        name="widths",
        hint="should be proportional to the weights, the strongest edge max_width "
        "wide: max_width * weights / weights.max()",
    )
    return f"{len(rows)} edges, weakest first, widths up to {MAX_WIDTH:g}; a circular layout"


@check(reference=_numbers)
def number_graph(
    model_id, number_tokens, node_size_scale, *, number_graph, number_layout, number_sizes, ref
) -> str:
    """The complete graph of the number tokens (weights = cosines), its layout and node sizes."""
    hint = "a complete graph has n(n-1)/2 edges: keep every pair (threshold -np.inf)"
    n_edges = _require_graph(number_graph, ref["number_graph"], "number_graph", hint)
    return f"complete graph: {len(number_tokens)} nodes, {n_edges} edges weighted by cosine"


@check(reference=_numbers)
def rim(model_id, number_tokens, *, rim) -> str:
    """The cosine of each number token with the next one in the list."""
    return f"{len(rim)} rim cosines, mean {float(np.mean(common.as_array(rim))):.3f}"


@check(reference=_numbers)
def edge_table(model_id, number_tokens, *, edge_table) -> str:
    """One row per edge of the complete graph with its cosine, most similar first."""
    return f"{len(edge_table)} edges, most similar first"
