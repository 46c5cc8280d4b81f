"""ml4llm.data's books (normalisation, cache, fallback), ml4llm.tokens and ml4llm.plotting.

The other data sources are tested in test_data_sources.py and test_course_data.py."""

from __future__ import annotations

import os

os.environ["ML4LLM_PROFILE"] = "offline"
os.environ["HF_HUB_OFFLINE"] = "1"

import urllib.error
import urllib.request

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from ml4llm import data, models, plotting, tokens


def test_normalise_drops_bom_crlf_and_gutenberg_frame():
    raw = (
        "\ufeffThe Project Gutenberg eBook\r\n*** START OF THE PROJECT GUTENBERG EBOOK X ***\r\n"
        "Chapter 1\r\nIt began.\r\n*** END OF THE PROJECT GUTENBERG EBOOK X ***\r\nLicence text"
    ).encode()
    assert data.normalise(raw) == "Chapter 1\nIt began.\n"
    assert data.normalise("no markers\r\nhere") == "no markers\nhere\n"


def test_offline_books_are_the_ten_plays_and_say_so(capsys):
    books = data.load_books()
    out = capsys.readouterr().out
    assert "Offline: 10 Shakespeare plays" in out and "Frankenstein -> Othello" in out
    assert [b.gutenberg_id for b in books] == list(data.TEN_BOOKS)
    assert all(b.source == "shakespeare (offline)" for b in books)
    assert books[1].title == "Hamlet" and len(books[1].text) > 150_000
    total = sum(len(b.text) for b in books)
    assert 1_100_000 < total < 1_400_000
    assert all("\r" not in b.text and not b.text.startswith("\ufeff") for b in books)


def test_auto_falls_back_visibly_when_gutenberg_fails(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("ML4LLM_CACHE", str(tmp_path))
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setattr(models, "hub_reachable", lambda: True)  # the network seems up ...

    def refuse(*args, **kwargs):  # ... but Gutenberg does not answer
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    books = data.load_books([11], profile="auto")
    out = capsys.readouterr().out
    assert "Could not load the Gutenberg books (URLError): using its offline substitute" in out
    assert books[0].title == "A Midsummer Night's Dream"
    with pytest.raises(OSError, match="ML4LLM_PROFILE=offline"):
        data.load_books([11], profile="hub")


def test_auto_without_network_uses_the_plays_without_trying(monkeypatch, capsys):
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setattr(models, "hub_reachable", lambda: False)
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: pytest.fail("no download"))
    books = data.load_books([84], profile="auto")
    assert books[0].title == "Othello" and "Offline: 1 Shakespeare plays" in capsys.readouterr().out


def test_downloaded_books_are_cached_and_normalised(monkeypatch, tmp_path):
    monkeypatch.setenv("ML4LLM_CACHE", str(tmp_path))
    calls = []

    class Response:
        def __init__(self, body):
            self.body = body

        def read(self):
            return self.body

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    def fake_urlopen(url, timeout):
        calls.append(url)
        return Response("\ufeff*** START OF X ***\r\nCall me Ishmael.\r\n*** END OF X ***".encode())

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    first = data.load_book(84, profile="hub")
    second = data.load_book(84, profile="hub")
    assert first.text == second.text == "Call me Ishmael.\n"
    assert first.title == "Frankenstein" and first.source == "gutenberg"
    assert calls == ["https://www.gutenberg.org/cache/epub/84/pg84.txt"]


def test_unknown_book_id_is_a_clear_error():
    with pytest.raises(ValueError, match="course's books"):
        data.load_books([999999])


def test_token_helpers():
    tok = models.load_tokenizer("gpt2")
    assert tokens.encode(tok, " Ada") == [47395]
    with pytest.raises(TypeError, match="one string"):
        tokens.encode(tok, ["a", "b"])
    assert tokens.decode_token(tok, 47395) == " Ada"
    assert tokens.visible(" a\nb\t") == "␣a⏎b⇥"
    assert tokens.single_token_id(tok, "Ada") == 47395
    with pytest.raises(ValueError, match="not a single token"):
        tokens.single_token_id(tok, "Lovelace")
    bert = models.load_tokenizer("bert-base-uncased")
    assert tokens.single_token_id(bert, "king") == bert.convert_tokens_to_ids("king")
    with pytest.raises(ValueError, match="not a single token"):
        tokens.single_token_id(bert, "xqzwv")
    assert tokens.is_byte_level(tok) and not tokens.is_byte_level(bert)


def test_decode_vocab_matches_single_decodes():
    tok = models.load_tokenizer("gpt2")
    vocab = tokens.decode_vocab(tok)
    assert len(vocab) == 50257
    for i in (0, 13, 262, 50256, 49426):
        assert vocab[i] == tok.decode([i], clean_up_tokenization_spaces=False)


def test_setup_seeds_everything_reproducibly():
    rng = plotting.setup(project=3)
    a = (rng.random(3), np.random.rand(2), torch.rand(2))
    rng = plotting.setup(project=3)
    b = (rng.random(3), np.random.rand(2), torch.rand(2))
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]) and torch.equal(a[2], b[2])


def test_savefig_names_and_writes_the_png(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    plotting.setup(project=12)
    fig, ax = plt.subplots()
    ax.plot([1, 2])
    path = plotting.savefig(fig, "4a")
    plt.close(fig)
    assert path == tmp_path / "figures" / "ch03_proj12_part4a.png"
    assert path.read_bytes()[:4] == b"\x89PNG"
