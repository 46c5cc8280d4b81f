"""Project 11's self-checks: each passes on the solution's value, fails on a wrong one, and asks
for the blank to be filled on `...`."""

from __future__ import annotations

import os

os.environ["ML4LLM_PROFILE"] = "offline"
os.environ["HF_HUB_OFFLINE"] = "1"

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from ml4llm.checks import proj11 as check
from ml4llm.models import input_embeddings, load_model, load_tokenizer
from ml4llm.tokens import decode_token

N = 12
SENTENCE = (
    "As the young clerk woke one grey morning from restless dreams, "
    "he found that in the night he had become a vast beetle."
)
NUMBERS = [str(d) for d in range(10)] + [str(t) for t in range(10, 101, 10)]


@pytest.fixture(scope="module")
def bert():
    model = load_model("bert-large-uncased")
    emb = input_embeddings(model)
    del model
    return emb, load_tokenizer("bert-large-uncased")


@pytest.fixture(scope="module")
def vectors():
    # a repeated row, as with a token that occurs twice in the sentence
    x = np.random.default_rng(1).normal(size=(N, 24)).astype(np.float32)
    x[7] = x[2]
    return x


@pytest.fixture(scope="module")
def labels():
    return [f"t{k}" for k in range(N - 1)] + ["t2"]


def _cosines(x):
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    return unit @ unit.T


def _solution_graph(cosines, labels, threshold):
    graph = nx.Graph()
    for position, label in enumerate(labels):
        graph.add_node(position, label=label)
    for i in range(len(labels)):
        for j in range(i + 1, len(labels)):
            if cosines[i, j] > threshold:
                graph.add_edge(i, j, weight=float(cosines[i, j]))
    return graph


def _solution_threshold(cosines):
    upper = cosines[np.triu_indices(len(cosines), k=1)]
    return upper, np.median(upper) + upper.std()


def test_cosine_matrix(vectors, capsys):
    assert check.cosine_matrix(vectors, _cosines(vectors))
    assert f"PASS cosine_matrix: {N} x {N}" in capsys.readouterr().out
    assert not check.cosine_matrix(vectors, vectors @ vectors.T)
    assert "FAIL cosine_matrix: the diagonal is not 1" in capsys.readouterr().out
    assert not check.cosine_matrix(vectors, None)
    assert "FAIL cosine_matrix: got None" in capsys.readouterr().out
    assert not check.cosine_matrix(vectors, ...)
    assert "fill in the blank first" in capsys.readouterr().out


def test_threshold(vectors, capsys):
    cosines = _cosines(vectors)
    upper, threshold = _solution_threshold(cosines)
    assert check.threshold(vectors, upper, threshold)
    assert f"PASS threshold: {N * (N - 1) // 2} pairs" in capsys.readouterr().out
    # the sample standard deviation is accepted too
    assert check.threshold(vectors, upper, np.median(upper) + upper.std(ddof=1))
    capsys.readouterr()
    with_diagonal = cosines[np.triu_indices(N)]
    assert not check.threshold(vectors, with_diagonal, threshold)
    assert "FAIL threshold: you kept the diagonal" in capsys.readouterr().out
    assert not check.threshold(vectors, upper, np.median(upper))
    assert "FAIL threshold: the threshold should be the median plus" in capsys.readouterr().out
    assert not check.threshold(vectors, upper, 1.5)
    assert "lies outside the off-diagonal range" in capsys.readouterr().out
    assert not check.threshold(vectors, upper, ...)
    assert "fill in the blank first" in capsys.readouterr().out


def test_token_graph(vectors, labels, capsys):
    cosines = _cosines(vectors)
    _, threshold = _solution_threshold(cosines)
    graph = _solution_graph(cosines, labels, threshold)
    assert check.token_graph(vectors, labels, graph)
    assert f"PASS token_graph: {N} nodes keyed by position" in capsys.readouterr().out

    by_string = nx.Graph()
    for i, j, weight in graph.edges(data="weight"):
        by_string.add_edge(labels[i], labels[j], weight=weight)
    by_string.add_nodes_from(labels)
    assert not check.token_graph(vectors, labels, by_string)
    assert "FAIL token_graph: expected 12 nodes (one per position)" in capsys.readouterr().out

    everything = _solution_graph(cosines, labels, -np.inf)
    assert not check.token_graph(vectors, labels, everything)
    assert "FAIL token_graph: expected" in capsys.readouterr().out

    unweighted = _solution_graph(cosines, labels, threshold)
    for i, j in unweighted.edges:
        del unweighted.edges[i, j]["weight"]
    assert not check.token_graph(vectors, labels, unweighted)
    assert "'weight' attribute" in capsys.readouterr().out
    assert not check.token_graph(vectors, labels, ...)
    assert "fill in the blank first" in capsys.readouterr().out


def test_node_sizes(vectors, labels, capsys):
    cosines = _cosines(vectors)
    _, threshold = _solution_threshold(cosines)
    graph = _solution_graph(cosines, labels, threshold)
    degrees = np.array([graph.degree(node) for node in graph.nodes])
    assert check.node_sizes(graph, 260 * np.sqrt(degrees))
    assert "PASS node_sizes" in capsys.readouterr().out
    assert not check.node_sizes(graph, 260 * degrees)
    assert "FAIL node_sizes: the sizes grow with the degree itself" in capsys.readouterr().out
    assert not check.node_sizes(graph, 260 * np.sqrt(degrees) + 50)
    assert "FAIL node_sizes" in capsys.readouterr().out
    assert not check.node_sizes(graph, ...)
    assert "fill in the blank first" in capsys.readouterr().out


def test_number_graph(vectors, capsys):
    names = [str(k) for k in range(N)]
    cosines = _cosines(vectors)
    complete = _solution_graph(cosines, names, -np.inf)
    assert check.number_graph(vectors, names, complete)
    assert f"PASS number_graph: complete graph: {N} nodes, {N * (N - 1) // 2} edges" in (
        capsys.readouterr().out
    )
    thresholded = _solution_graph(cosines, names, 0.0)
    assert not check.number_graph(vectors, names, thresholded)
    assert "FAIL number_graph" in capsys.readouterr().out
    assert not check.number_graph(vectors, names, None)
    assert "FAIL number_graph: got None" in capsys.readouterr().out
    assert not check.number_graph(vectors, names, ...)
    assert "fill in the blank first" in capsys.readouterr().out


def _edge_style(graph, max_width):
    """The solution's edge_style."""
    edges = sorted(graph.edges(data="weight"), key=lambda edge: edge[2])
    weights = np.array([weight for _, _, weight in edges])
    return edges, weights, max_width * weights / weights.max()


def test_sentence_tokens(bert, capsys):
    _, tokenizer = bert
    ids = tokenizer(SENTENCE, add_special_tokens=False)["input_ids"]
    tokens = [decode_token(tokenizer, i) for i in ids]
    assert check.sentence_tokens(tokenizer, SENTENCE, ids, tokens)
    assert f"PASS sentence_tokens: {len(ids)} tokens" in capsys.readouterr().out
    with_specials = tokenizer(SENTENCE)["input_ids"]
    assert not check.sentence_tokens(tokenizer, SENTENCE, with_specials, tokens)
    assert "add_special_tokens=False" in capsys.readouterr().out
    # the words, not the tokens: the comma and the full stop are tokens of their own
    assert not check.sentence_tokens(tokenizer, SENTENCE, ids, SENTENCE.lower().split())
    assert "FAIL sentence_tokens: expected one token string per id" in capsys.readouterr().out
    assert not check.sentence_tokens(tokenizer, SENTENCE, ids, ...)
    assert "fill in the blank first" in capsys.readouterr().out


def test_number_ids(bert, capsys):
    _, tokenizer = bert
    ids = [tokenizer.convert_tokens_to_ids(t) for t in NUMBERS]
    assert check.number_ids(tokenizer, NUMBERS, ids)
    assert "PASS number_ids: 20 number tokens" in capsys.readouterr().out
    # the encoding of each string with [CLS]: its first id is [CLS]
    first = [tokenizer(t)["input_ids"][0] for t in NUMBERS]
    assert not check.number_ids(tokenizer, NUMBERS, first)
    assert "FAIL number_ids: '0' has the id" in capsys.readouterr().out
    with_unk = ids[:-1] + [tokenizer.unk_token_id]
    assert not check.number_ids(tokenizer, NUMBERS, with_unk)
    assert "an id is [UNK]" in capsys.readouterr().out
    assert not check.number_ids(tokenizer, NUMBERS, ids[:10])
    assert "expected one id per number token (20)" in capsys.readouterr().out
    assert not check.number_ids(tokenizer, NUMBERS, ...)
    assert "fill in the blank first" in capsys.readouterr().out


def test_kept_rows(bert, capsys):
    emb, tokenizer = bert
    ids = tokenizer(SENTENCE, add_special_tokens=False)["input_ids"]
    number_ids = [tokenizer.convert_tokens_to_ids(t) for t in NUMBERS]
    args = (emb, tokenizer, SENTENCE, NUMBERS)
    assert check.kept_rows(*args, emb[ids], emb[number_ids])
    assert f"PASS kept_rows: {len(ids)} sentence rows and 20 number rows" in capsys.readouterr().out
    # only the digits' rows
    assert not check.kept_rows(*args, emb[ids], emb[number_ids[:10]])
    assert "number_vectors should have shape (20," in capsys.readouterr().out
    # the rows of the ids with [CLS] and [SEP], without the last two
    shifted = emb[tokenizer(SENTENCE)["input_ids"][: len(ids)]]
    assert not check.kept_rows(*args, shifted, emb[number_ids])
    assert "token_vectors holds other rows" in capsys.readouterr().out
    assert not check.kept_rows(*args, emb[ids], ...)
    assert "fill in the blank first" in capsys.readouterr().out


def test_pairs_above(vectors, capsys):
    cosines = _cosines(vectors)
    upper, threshold = _solution_threshold(cosines)
    n_above = int((upper > threshold).sum())
    assert check.pairs_above(vectors, n_above)
    assert f"PASS pairs_above: {n_above} of {len(upper)} pairs" in capsys.readouterr().out
    assert not check.pairs_above(vectors, int((cosines > threshold).sum()))
    assert "FAIL pairs_above" in capsys.readouterr().out
    off_diagonal = cosines[~np.eye(N, dtype=bool)]
    assert not check.pairs_above(vectors, int((off_diagonal > threshold).sum()))
    assert "counted twice" in capsys.readouterr().out
    assert not check.pairs_above(vectors, int((upper <= threshold).sum()))
    assert "lie above the threshold, not" in capsys.readouterr().out
    assert not check.pairs_above(vectors, ...)
    assert "fill in the blank first" in capsys.readouterr().out


def test_graph_summary(vectors, labels, capsys):
    cosines = _cosines(vectors)
    _, threshold = _solution_threshold(cosines)
    graph = _solution_graph(cosines, labels, threshold)
    ranking = sorted(graph.degree, key=lambda item: item[1], reverse=True)
    isolated = [labels[node] for node in nx.isolates(graph)]
    good = (graph.number_of_edges(), nx.density(graph), ranking, isolated)
    assert check.graph_summary(vectors, labels, *good)
    assert f"PASS graph_summary: {graph.number_of_edges()} edges" in capsys.readouterr().out

    n_edges, density, _, _ = good
    assert not check.graph_summary(vectors, labels, n_edges + 1, density, ranking, isolated)
    assert "graph.number_of_edges()" in capsys.readouterr().out
    assert not check.graph_summary(vectors, labels, n_edges, n_edges / N**2, ranking, isolated)
    assert "density divides by n²" in capsys.readouterr().out
    ascending = sorted(graph.degree, key=lambda item: item[1])
    assert not check.graph_summary(vectors, labels, n_edges, density, ascending, isolated)
    assert "highest first" in capsys.readouterr().out
    assert not check.graph_summary(vectors, labels, n_edges, density, ranking, labels[:1])
    assert "FAIL graph_summary: the isolated tokens are" in capsys.readouterr().out
    assert not check.graph_summary(vectors, labels, n_edges, density, ranking, ...)
    assert "fill in the blank first" in capsys.readouterr().out


def test_edge_style(vectors, labels, capsys):
    assert check.edge_style(_edge_style, vectors, labels)
    assert "PASS edge_style" in capsys.readouterr().out

    def stub(graph, max_width):
        edges = ...
        weights = ...
        widths = ...
        return edges, weights, widths

    assert not check.edge_style(stub, vectors, labels)
    assert "fill in the blank first" in capsys.readouterr().out

    def unsorted(graph, max_width):
        edges = list(graph.edges(data="weight"))
        weights = np.array([weight for _, _, weight in edges])
        return edges, weights, max_width * weights / weights.max()

    # the edges added in pair order happen not to be sorted by weight
    assert not check.edge_style(unsorted, vectors, labels)
    assert "weakest first" in capsys.readouterr().out

    def constant_width(graph, max_width):
        edges, weights, _ = _edge_style(graph, max_width)
        return edges, weights, np.full(len(weights), max_width)

    assert not check.edge_style(constant_width, vectors, labels)
    assert "proportional to the weights" in capsys.readouterr().out
    assert not check.edge_style(lambda graph, width: None, vectors, labels)
    assert "should return three things" in capsys.readouterr().out


def test_circular_layout(labels, capsys):
    graph = nx.empty_graph(len(labels))
    assert check.circular_layout(labels, nx.circular_layout(graph))
    assert f"PASS circular_layout: {len(labels)} nodes on a circle" in capsys.readouterr().out
    assert not check.circular_layout(labels, nx.spring_layout(graph, seed=0))
    assert "not on networkx's circle" in capsys.readouterr().out
    by_label = dict(zip(labels, nx.circular_layout(graph).values()))
    assert not check.circular_layout(labels, by_label)
    assert "FAIL circular_layout" in capsys.readouterr().out
    assert not check.circular_layout(labels, ...)
    assert "fill in the blank first" in capsys.readouterr().out


def test_number_sizes_and_rim(vectors, capsys):
    names = [str(k) for k in range(N)]
    complete = _solution_graph(_cosines(vectors), names, -np.inf)
    degrees = [complete.degree(node) for node in complete.nodes]
    assert check.node_sizes(complete, 130 * np.sqrt(degrees))
    assert "PASS node_sizes" in capsys.readouterr().out
    cosines = _cosines(vectors)
    rim = np.array([cosines[k, k + 1] for k in range(N - 1)])
    assert check.rim(vectors, rim)
    assert f"PASS rim: {N - 1} rim cosines" in capsys.readouterr().out
    assert not check.rim(vectors, np.diag(cosines))
    assert f"{N} tokens have {N - 1} neighbours" in capsys.readouterr().out
    assert not check.rim(vectors, np.array([cosines[k, 0] for k in range(1, N)]))
    assert "cosine[k, k + 1]" in capsys.readouterr().out
    assert not check.rim(vectors, ...)
    assert "fill in the blank first" in capsys.readouterr().out


def test_edge_table(vectors, capsys):
    names = [str(k) for k in range(N)]
    complete = _solution_graph(_cosines(vectors), names, -np.inf)
    rows = [(names[i], names[j], w) for i, j, w in complete.edges(data="weight")]
    table = pd.DataFrame(rows, columns=["token a", "token b", "cosine"])
    ordered = table.sort_values("cosine", ascending=False)
    assert check.edge_table(vectors, names, ordered)
    assert f"PASS edge_table: {N * (N - 1) // 2} edges" in capsys.readouterr().out
    assert not check.edge_table(vectors, names, table.sort_values("cosine"))
    assert "most similar first" in capsys.readouterr().out
    assert not check.edge_table(vectors, names, ordered.head(5))
    assert "the table has 5 rows" in capsys.readouterr().out
    assert not check.edge_table(vectors, names, ordered.iloc[:0])
    assert "still empty" in capsys.readouterr().out
    assert not check.edge_table(vectors, names, ordered.rename(columns={"cosine": "w"}))
    assert "a 'cosine' column" in capsys.readouterr().out
    assert not check.edge_table(vectors, names, ...)
    assert "fill in the blank first" in capsys.readouterr().out
