"""Project 11's checks: each wrong answer gets its hint (the solution notebook is the pass test)."""

from __future__ import annotations

import functools

import checkutil
import networkx as nx
import numpy as np

from ml4llm.checks import proj11 as check

MODEL = "bert-large-uncased"
SENTENCE = (
    "As the young clerk woke one grey morning from restless dreams, "
    "he found that in the night he had become a vast beetle."
)
NUMBERS = [str(d) for d in range(10)] + [str(t) for t in range(10, 101, 10)]
SCALE = 260.0
TOKENS = (MODEL, SENTENCE)
GRAPH = (MODEL, SENTENCE, 1.0)


@functools.cache
def inputs() -> dict[str, tuple]:
    numbers = (MODEL, NUMBERS)
    return {
        **dict.fromkeys(["sentence_tokens", "token_rows", "cosine_matrix"], TOKENS),
        **dict.fromkeys(["number_ids", "number_rows", "rim", "edge_table"], numbers),
        **dict.fromkeys(["threshold", "token_graph", "graph_summary", "edge_style"], GRAPH),
        "node_sizes": (*GRAPH, SCALE),
        "number_graph": (*numbers, SCALE / 2),
    }


def with_specials() -> list[int]:
    return tokenizer(SENTENCE)["input_ids"]


def changed(change):
    """A wrong graph: a copy of the right one, changed in place by ``change(graph)``."""

    def wrong(r: dict):
        graph = (r.get("token_graph") or r["number_graph"]).copy()
        return change(graph) or graph

    return wrong


def by_string(graph):
    strings = nx.Graph()
    strings.add_nodes_from(graph.nodes[k]["label"] for k in graph.nodes)
    strings.add_edges_from(
        (graph.nodes[i]["label"], graph.nodes[j]["label"]) for i, j in graph.edges
    )
    return strings


def swap_one_edge(graph):
    i, j = next(iter(graph.edges))
    graph.remove_edge(i, j)
    graph.add_edge(*next(p for p in nx.non_edges(graph) if p != (i, j)), weight=0.5)


def unweighted(graph):
    for i, j in graph.edges:
        del graph.edges[i, j]["weight"]


def reweighted(graph):
    i, j = next(iter(graph.edges))
    graph.edges[i, j]["weight"] += 0.1


def styled(change):
    """A wrong edge_style: the right one with its result changed by ``change``."""
    return lambda r: lambda graph, width: change(*check._edge_style(graph, width), width)


def spring(r: dict, key: str) -> dict:
    return nx.spring_layout(nx.empty_graph(len(r[key])), seed=0)


def ranking(change):
    return lambda r: [change(node, degree) for node, degree in r["ranking"]]


tokenizer = check._tokenizer(MODEL)
n = len(tokenizer(SENTENCE, add_special_tokens=False)["input_ids"])
WRONG = {  # check -> [(learner value, wrong answer from the right values r, hint substring)]
    "sentence_tokens": [
        ("token_ids", lambda r: with_specials(), "the ids include [CLS] and [SEP]"),
        ("token_ids", lambda r: r["token_ids"][::-1], "tokenize the whole sentence in one call"),
        ("tokens", lambda r: SENTENCE.lower().split(), f"one token string per id ({n})"),
        ("tokens", lambda r: [t.upper() for t in r["tokens"]], "decode each id on its own"),
    ],
    "number_ids": [
        ("number_ids", lambda r: [tokenizer.cls_token_id] * 20, "these are [CLS], the first id"),
        ("number_ids", lambda r: [*r["number_ids"][:-1], tokenizer.unk_token_id], "an id is [UNK]"),
        ("number_ids", lambda r: r["number_ids"][:10], "one id per number token (20)"),
        ("number_ids", lambda r: r["number_ids"][::-1], "convert_tokens_to_ids(text) of its"),
    ],
    "token_rows": [
        ("token_vectors", lambda r: check._rows(MODEL, tuple(with_specials()[:n])), "[CLS] and"),
        ("token_vectors", lambda r: r["token_vectors"][::-1], "holds other rows"),
    ],
    "number_rows": [("number_vectors", lambda r: r["number_vectors"][::-1], "holds other rows")],
    "cosine_matrix": [
        ("matrix", lambda r: r["token_vectors"] @ r["token_vectors"].T, "diagonal is not 1"),
        ("matrix", lambda r: r["matrix"][::-1, ::-1] ** 3, "differ from the cosines"),
    ],
    "threshold": [
        ("upper", lambda r: r["matrix"][np.triu_indices(n)], "you kept the diagonal"),
        ("upper", lambda r: r["upper"][:-1], f"{n} tokens have {n * (n - 1) // 2} pairs above"),
        ("upper", lambda r: r["upper"][::-1], "differ from the cosines above the diagonal"),
        ("threshold", lambda r: np.median(r["upper"]), "the median plus 1 standard deviation"),
        ("threshold", lambda r: 1.5, "lies outside the off-diagonal range"),
        ("threshold", lambda r: np.median(r["upper"]) + r["upper"].std(ddof=1), "ddof=1"),
        (
            "threshold",
            lambda r: np.median(d := r["matrix"][np.triu_indices(n)]) + d.std(),
            "you kept the diagonal",
        ),
        ("n_above", lambda r: r["n_above"] + n, "the count includes the diagonal"),
        ("n_above", lambda r: 2 * r["n_above"], "each pair is counted twice"),
        ("n_above", lambda r: r["n_above"] - 1, "pairs lie above the threshold"),
    ],
    "token_graph": [
        ("token_graph", lambda r: by_string(r["token_graph"]), "one per position"),
        ("token_graph", lambda r: None, "expected a networkx Graph"),
        ("token_graph", changed(lambda g: nx.relabel_nodes(g, lambda k: k + 1)), "by position"),
        ("token_graph", changed(lambda g: g.nodes[0].clear()), "the 'label' attribute"),
        ("token_graph", changed(lambda g: g.add_edge(0, 0, weight=1.0)), "self-loops"),
        ("token_graph", changed(lambda g: g.add_edges_from(nx.non_edges(g))), "edges, got"),
        ("token_graph", changed(swap_one_edge), "the edges join the wrong pairs"),
        ("token_graph", changed(unweighted), "its cosine as the 'weight' attribute"),
        ("token_graph", changed(reweighted), "its cosine is"),
    ],
    "node_sizes": [
        ("node_sizes", lambda r: r["node_sizes"] ** 2 / SCALE, "grow with the degree itself"),
        ("node_sizes", lambda r: r["node_sizes"] + 50, "a node without edges has degree 0"),
        ("node_sizes", lambda r: 2 * r["node_sizes"], "not proportional to √degree"),
    ],
    "graph_summary": [
        ("n_edges", lambda r: r["n_edges"] + 1, "graph.number_of_edges()"),
        ("density", lambda r: r["n_edges"] / n**2, "density divides by n²"),
        ("density", lambda r: r["density"] / 2, "the share of possible edges present"),
        ("ranking", lambda r: r["ranking"][::-1], "highest first"),
        ("ranking", ranking(lambda node, degree: (node, degree + 1)), "the wrong degree"),
        ("ranking", ranking(lambda node, degree: (0, degree)), "one (node, degree) pair per node"),
        ("ranking", lambda r: r["ranking"][:-1], f"an array of integers of shape ({n}, 2)"),
        ("isolated", lambda r: [r["tokens"][0]], "the isolated tokens are"),
    ],
    "edge_style": [
        ("edge_style", styled(lambda e, w, s, m: (e[::-1], w[::-1], s[::-1])), "weakest first"),
        ("edge_style", styled(lambda e, w, s, m: (e, w, np.full(len(w), m))), "proportional to"),
        ("edge_style", styled(lambda e, w, s, m: (e, w[::-1], s)), "in the same (sorted) order"),
        ("edge_style", styled(lambda e, w, s, m: (e, w)), "should return three things"),
        ("edge_style", styled(lambda e, w, s, m: (e[:-1], w, s)), "expected an array of numbers"),
        ("edge_style", styled(lambda e, w, s, m: ([(0, 1, x) for *_, x in e], w, s)), "not the gr"),
        ("edge_style", styled(lambda e, w, s, m: (..., ..., ...)), "fill in the blank first"),
        ("edge_style", lambda r: lambda graph, width: None, "edge_style(...) returned None"),
        ("token_layout", lambda r: spring(r, "tokens"), "not on networkx's circle"),
        ("token_layout", lambda r: dict(zip(r["tokens"], r["token_layout"].values())), "the keys"),
    ],
    "number_graph": [
        ("number_graph", changed(lambda g: g.remove_edge(0, 1)), "a complete graph has n(n-1)/2"),
        ("number_layout", lambda r: spring(r, "number_ids"), "not on networkx's circle"),
        ("number_sizes", lambda r: r["number_sizes"] ** 2 / SCALE * 2, "grow with the degree"),
    ],
    "rim": [
        ("rim", lambda r: np.ones(20), "20 tokens have 19 neighbours in the list"),
        ("rim", lambda r: r["rim"][::-1], "cosine[k, k + 1]"),
    ],
    "edge_table": [
        ("edge_table", lambda r: r["edge_table"][::-1], "most similar first"),
        ("edge_table", lambda r: r["edge_table"].head(5), "of 20 nodes has 190 edges"),
        ("edge_table", lambda r: r["edge_table"].iloc[:0], "is empty"),
        ("edge_table", lambda r: r["edge_table"].rename(columns={"cosine": "w"}), "needs the col"),
        ("edge_table", lambda r: r["edge_table"].assign(**{"token a": "0"}), "each row's tokens"),
        ("edge_table", lambda r: r["edge_table"].assign(cosine=0.5), "pairwise cosines"),
    ],
}

test_wrong_answers = checkutil.wrong_answers(check, inputs, WRONG)
