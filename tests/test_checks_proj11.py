"""Project 11's self-checks: each passes on the solution's value, fails on a wrong one, and asks
for the blank to be filled on `...`."""

from __future__ import annotations

import os

os.environ["ML4LLM_PROFILE"] = "offline"
os.environ["HF_HUB_OFFLINE"] = "1"

import networkx as nx
import numpy as np
import pytest

from ml4llm.checks import proj11 as check

N = 12


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
