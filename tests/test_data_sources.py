"""ml4llm.data's sources: the offline substitutes, and the real path with ``datasets`` replaced
only at the network boundary (``datasets.load_dataset`` returns small in-memory data sets)."""

from __future__ import annotations

import os

os.environ["ML4LLM_PROFILE"] = "offline"
os.environ["HF_HUB_OFFLINE"] = "1"

import io
import json
import urllib.parse
import urllib.request

import numpy as np
import pandas as pd
import pytest

from ml4llm import data, models
from ml4llm.data import _shakespeare, hub


@pytest.fixture
def datasets():
    """The ``datasets`` module; its tests are skipped where it cannot be imported (the
    transformers 4.57 re-run pins a huggingface-hub that datasets 5 does not accept)."""
    return pytest.importorskip("datasets", exc_type=ImportError)


# --------------------------------------------------------------------------- offline: every source


def _twice(capsys, load):
    """Load twice; return the first result and the printed lines of the first call."""
    first = load()
    out = capsys.readouterr().out
    second = load()
    capsys.readouterr()
    if isinstance(first, pd.DataFrame):
        pd.testing.assert_frame_equal(first, second)
    else:
        assert first == second
    return first, [line for line in out.splitlines() if line]


def test_wikitext_offline_is_pydoc_for_test_and_shakespeare_for_train(capsys):
    rows, out = _twice(capsys, lambda: data.wikitext_lines("test"))
    assert out == [out[0]] and out[0].startswith(
        "Offline: Salesforce/wikitext (wikitext-2-raw-v1, test) -> "
    )
    assert "pydoc_data.topics" in out[0]
    from pydoc_data.topics import topics

    assert "\n".join(rows).startswith(next(iter(topics.values())).strip().split("\n")[0])
    assert len(rows) > 4000 and all(isinstance(r, str) for r in rows)
    # wikitext's row shapes: text rows end with a newline, "" rows separate them
    assert all(r == "" or r.endswith("\n") for r in rows) and rows[1] == ""
    assert data.wikitext_lines("test", n=2000) == rows[:2000]
    assert "2,000 rows" in capsys.readouterr().out
    train, out = _twice(capsys, lambda: data.wikitext_lines("train"))
    assert "ten Shakespeare texts" in out[0]
    joined = "\n".join(train)
    assert joined.count(" that ") > 1500 and "OTHELLO" in joined and "KING LEAR" in joined
    with pytest.raises(ValueError, match="'train' or 'test'"):
        data.wikitext_lines("validation")
    with pytest.raises(ValueError, match="positive whole number"):
        data.wikitext_lines("test", n=0)


def test_hellaswag_offline_items_keep_the_schema(capsys):
    items, out = _twice(capsys, lambda: data.hellaswag())
    assert len(out) == 1 and "Rowan/hellaswag (validation) -> 200 four-choice items" in out[0]
    assert len(items) == 200
    for item in items:
        assert list(item) == list(hub.HELLASWAG_FIELDS)
        assert item["ctx"] == f"{item['ctx_a']} {item['ctx_b']}"
        assert len(item["endings"]) == 4 and len(set(item["endings"])) == 4
        assert item["label"] in {"0", "1", "2", "3"}
    assert [i["ctx"] for i in data.hellaswag(n=50)] == [i["ctx"] for i in items[:50]]
    items[0]["endings"].append("changed")  # callers get fresh copies
    assert len(data.hellaswag(n=1)[0]["endings"]) == 4


def test_hellaswag_contexts_offline_are_lines_from_different_plays(capsys):
    (train, test), out = _twice(capsys, lambda: data.hellaswag_contexts())
    assert "ctx_a -> 500 + 500 Shakespeare speech lines" in out[0]
    assert len(train) == len(test) == 500
    assert all(len(line.split()) >= 6 and line[0].isupper() for line in train + test)
    assert not set(train) & set(test)
    othello = {line for speech in _shakespeare.speeches(84) for line in speech}
    assert set(train) <= othello and not set(test) & othello
    small_train, small_test = data.hellaswag_contexts(range(0, 100), range(1000, 1100))
    assert small_train == train[:100] and small_test == test[:100]
    with pytest.raises(ValueError, match="non-empty range"):
        data.hellaswag_contexts(range(0, 0))


def test_sst2_offline_is_the_course_sentences(capsys):
    frame, out = _twice(capsys, lambda: data.sst2_sentences())
    assert "nyu-mll/glue (sst2, train[:5%]) -> 480 labelled sentences" in out[0]
    assert list(frame.columns) == ["sentence", "label"] and frame["label"].dtype == np.int64
    assert len(frame) == 480 and frame["label"].sum() == 240
    head = data.sst2_sentences(n=100)
    pd.testing.assert_frame_equal(head, frame.iloc[:100])
    assert 35 <= head["label"].sum() <= 65  # any prefix is roughly balanced (shuffled file)


def test_rotten_tomatoes_offline_are_speeches_of_5_to_60_words(capsys):
    texts, out = _twice(capsys, lambda: data.rotten_tomatoes_texts())
    assert "rotten_tomatoes (test) -> 64 Shakespeare speeches of 5-60 words" in out[0]
    assert len(texts) == 64 and all(5 <= len(t.split()) <= 60 for t in texts)
    assert all("[" not in t and "\n" not in t for t in texts)
    assert data.rotten_tomatoes_texts(10) == texts[:10]


def test_wikipedia_articles_offline_are_shakespeare_passages(capsys):
    texts, out = _twice(capsys, lambda: data.wikipedia_articles(50_000))
    assert "wikimedia/wikipedia (20231101.en, train, streamed) -> " in out[0]
    words = [len(t.split()) for t in texts]
    assert sum(words) >= 50_000 and sum(words[:-1]) < 50_000
    assert np.median(words) >= 400  # passages of about 400 words (a text's last one is shorter)
    everything = data.wikipedia_articles(10**9)
    assert 200_000 < sum(len(t.split()) for t in everything) < 260_000
    assert everything[: len(texts)] == texts


def test_c4_contexts_offline_are_the_course_contexts(capsys):
    texts, out = _twice(capsys, lambda: data.c4_contexts(300))
    assert "allenai/c4 (en, train, streamed) -> " in out[0] and "(300 can't)" in out[0]
    assert sum(" can't " in t for t in texts) == 300
    assert sum(" can " in t for t in texts) == len(texts) - 300 >= 299
    everything = data.c4_contexts(10_000)
    assert len(everything) == 640 and everything[: len(texts)] == texts


def test_wikipedia_page_offline_is_romeo_and_juliet_with_love(capsys):
    page, out = _twice(capsys, lambda: data.wikipedia_page("Coffee production in Vietnam"))
    assert "'Coffee production in Vietnam' -> Romeo and Juliet" in out[0] and "' love'" in out[0]
    assert page.target == " love" and page.source == "shakespeare (offline)"
    assert page.text == data.books.offline_book(1513).text
    tok = models.load_tokenizer("gpt2")
    love = tok.encode(" love", add_special_tokens=False)
    assert len(love) == 1
    ids = tok.encode(page.text, add_special_tokens=False)
    assert ids.count(love[0]) >= 100  # enough targets for the N = 100 cap of projects 43 and 45
    with pytest.raises(ValueError, match="leading space"):
        data.wikipedia_page("Turkish coffee", target="coffee")


def test_sources_for_both_profiles_are_the_same_offline_and_on_the_hub(capsys):
    assert data.noun_verb_lists() == data.noun_verb_lists(), "deterministic"
    sentences, tests = data.him_her_sentences()
    again, tests_again = data.him_her_sentences()
    pd.testing.assert_frame_equal(sentences, again)
    assert tests == tests_again
    photo = data.sample_photo()
    assert photo.shape == (300, 256) and photo.dtype == np.float64
    assert 0 <= photo.min() < photo.max() <= 255
    assert np.array_equal(photo, data.sample_photo())
    full = data.sample_photo(downsample=1)
    assert full.shape == (600, 512)
    assert np.isclose(full[:2, :2].mean(), photo[0, 0], atol=0.5)  # 2 x 2 block means
    with pytest.raises(ValueError, match="positive whole number"):
        data.sample_photo(0)
    assert capsys.readouterr().out == ""  # nothing is substituted, so nothing is announced


def test_html_documents_are_stable_and_long_enough_for_a_window():
    first = data.html_documents()
    assert first == data.html_documents()
    names = list(first)
    pydoc_names = [f"pydoc {m}" for m in data.local.PYDOC_MODULES]
    course_names = [f"course/{name}.html" for name in data.local.COURSE_PAGES]
    assert names[-len(pydoc_names) - len(course_names) :] == pydoc_names + course_names
    assert len(names) >= 9  # project 5's documents, with its pandas table: at least 10
    for name in course_names:  # not ASCII: bytes differ from characters (issue 11)
        assert len(first[name].encode("utf-8")) > len(first[name])
    assert list(data.html_documents(packages=(), course_pages=False)) == pydoc_names
    assert any(n.startswith("matplotlib/") for n in names)
    for name in pydoc_names:
        assert first[name].lstrip().lower().startswith("<!doctype html>")
        assert " at 0x..." in first[name] or " at 0x" not in first[name]
    tok = models.load_tokenizer("gpt2")
    assert len(tok.encode(first["pydoc json"], add_special_tokens=False)) > 1024
    with pytest.raises(ModuleNotFoundError, match="not installed"):
        data.html_documents(packages=("no_such_package_xyz",))


def test_offline_loads_never_touch_datasets(monkeypatch, capsys, datasets):
    def refuse(*args, **kwargs):
        raise AssertionError("offline must not call datasets.load_dataset")

    monkeypatch.setattr(datasets, "load_dataset", refuse)
    data.hellaswag(5)
    data.wikitext_lines("test", 5)
    data.c4_contexts(10)
    capsys.readouterr()


# --------------------------------------------------------------------------- real path, faked at the boundary


class FakeHub:
    """Stands in for ``datasets.load_dataset``: records each call, returns in-memory data."""

    def __init__(self, datasets, tables: dict[str, dict[str, list]], streams: dict | None = None):
        self.datasets = datasets
        self.tables = tables
        self.streams = streams or {}
        self.calls: list[tuple] = []
        self.yielded: dict[str, int] = {}

    def __call__(self, dataset_id, config=None, *, split, streaming=False, **kwargs):
        self.calls.append((dataset_id, config, split, streaming, *kwargs.values()))
        if streaming:
            rows = self.streams[dataset_id]

            def generate():
                for row in rows:
                    self.yielded[dataset_id] = self.yielded.get(dataset_id, 0) + 1
                    yield row

            return self.datasets.IterableDataset.from_generator(generate)
        table = self.datasets.Dataset.from_dict(self.tables[dataset_id])
        # what "split[:n]" does in datasets
        if "[:" in split and not split.endswith("%]"):
            table = table.select(range(min(int(split.split("[:")[1][:-1]), len(table))))
        return table


@pytest.fixture
def hub_profile(monkeypatch, tmp_path):
    """The real path under the hub profile, with the course cache in a temporary folder."""
    monkeypatch.setenv("ML4LLM_CACHE", str(tmp_path))
    return "hub"


def _hellaswag_table(n: int) -> dict[str, list]:
    return {
        "ind": list(range(n)),
        "activity_label": [f"activity {i}" for i in range(n)],
        "ctx_a": [f"Context {i} begins here." for i in range(n)],
        "ctx_b": ["then"] * n,
        "ctx": [f"Context {i} begins here. then" for i in range(n)],
        "endings": [[f"ending {i}.{k}" for k in range(4)] for i in range(n)],
        "source_id": ["x"] * n,
        "split": ["val"] * n,
        "split_type": ["indomain"] * n,
        "label": [str(i % 4) for i in range(n)],
    }


def test_real_wikitext_uses_the_parquet_id_config_and_split(monkeypatch, hub_profile, datasets):
    fake = FakeHub(
        datasets, {"Salesforce/wikitext": {"text": ["", " = Title = \n", "", " Body text . \n"]}}
    )
    monkeypatch.setattr(datasets, "load_dataset", fake)
    assert data.wikitext_lines("test", profile=hub_profile) == [
        "",
        " = Title = \n",
        "",
        " Body text . \n",
    ]
    assert data.wikitext_lines("train", n=2, profile=hub_profile) == ["", " = Title = \n"]
    assert fake.calls == [
        ("Salesforce/wikitext", "wikitext-2-raw-v1", "test", False),
        ("Salesforce/wikitext", "wikitext-2-raw-v1", "train[:2]", False),
    ]


def test_real_hellaswag_keeps_the_fields_and_the_string_label(monkeypatch, hub_profile, datasets):
    fake = FakeHub(datasets, {"Rowan/hellaswag": _hellaswag_table(12)})
    monkeypatch.setattr(datasets, "load_dataset", fake)
    items = data.hellaswag(3, profile=hub_profile)
    assert fake.calls == [("Rowan/hellaswag", None, "validation[:3]", False)]
    assert [list(i) for i in items] == [list(hub.HELLASWAG_FIELDS)] * 3
    assert items[2]["endings"] == ["ending 2.0", "ending 2.1", "ending 2.2", "ending 2.3"]
    assert [i["label"] for i in items] == ["0", "1", "2"]
    train, test = data.hellaswag_contexts(range(0, 2), range(8, 11), profile=hub_profile)
    assert fake.calls[-1] == ("Rowan/hellaswag", None, "validation", False)
    assert train == ["Context 0 begins here.", "Context 1 begins here."]
    assert test == [f"Context {i} begins here." for i in (8, 9, 10)]


def test_real_sst2_and_rotten_tomatoes(monkeypatch, hub_profile, datasets):
    fake = FakeHub(
        datasets,
        {
            "nyu-mll/glue": {
                "sentence": ["a gem ", "a mess ", "fine "],
                "label": [1, 0, 1],
                "idx": [0, 1, 2],
            },
            "cornell-movie-review-data/rotten_tomatoes": {
                "text": [f"review {i}" for i in range(80)],
                "label": [0] * 80,
            },
        },
    )
    monkeypatch.setattr(datasets, "load_dataset", fake)
    frame = data.sst2_sentences(profile=hub_profile)
    assert list(frame.columns) == ["sentence", "label"] and frame["label"].tolist() == [1, 0, 1]
    assert frame["label"].dtype == np.int64
    assert data.sst2_sentences(2, profile=hub_profile)["sentence"].tolist() == ["a gem ", "a mess "]
    reviews = data.rotten_tomatoes_texts(profile=hub_profile)
    assert reviews == [f"review {i}" for i in range(64)]
    assert fake.calls == [
        ("nyu-mll/glue", "sst2", "train[:5%]", False),
        ("nyu-mll/glue", "sst2", "train[:5%]", False),
        ("cornell-movie-review-data/rotten_tomatoes", None, "test[:64]", False),
    ]


def test_real_wikipedia_streams_only_what_was_asked_and_caches_it(
    monkeypatch, hub_profile, capsys, datasets
):
    articles = [
        {"id": str(i), "url": "u", "title": f"t{i}", "text": " ".join(["word"] * 10)}
        for i in range(50)
    ]
    fake = FakeHub(datasets, {}, {"wikimedia/wikipedia": articles})
    monkeypatch.setattr(datasets, "load_dataset", fake)
    texts = data.wikipedia_articles(min_words=25, profile=hub_profile)
    assert len(texts) == 3 and texts[0] == articles[0]["text"]
    assert fake.calls == [("wikimedia/wikipedia", "20231101.en", "train", True)]
    assert fake.yielded["wikimedia/wikipedia"] <= 4, "the stream must stop after what was asked"
    capsys.readouterr()
    assert data.wikipedia_articles(min_words=25, profile=hub_profile) == texts
    assert len(fake.calls) == 1, "the second call reads the course cache"
    assert "read from the course cache" in capsys.readouterr().out
    assert data.wikipedia_articles(min_words=35, profile=hub_profile) == [
        a["text"] for a in articles[:4]
    ]


def test_real_c4_keeps_can_paragraphs_and_stops_at_n_cant(monkeypatch, hub_profile, datasets):
    context = "one two three four five six seven eight nine ten"
    docs = [
        {
            "text": f"Nothing here.\n{context} we can't go.\nShort: I can't.",
            "url": "",
            "timestamp": "",
        },
        {"text": f"{context} you can see it.\nNo modal verb.", "url": "", "timestamp": ""},
        {"text": f"{context} they can't stay.", "url": "", "timestamp": ""},
        {"text": f"{context} we can't leave.", "url": "", "timestamp": ""},
    ]
    fake = FakeHub(datasets, {}, {"allenai/c4": docs})
    monkeypatch.setattr(datasets, "load_dataset", fake)
    texts = data.c4_contexts(n_cant=2, profile=hub_profile)
    # "Short: I can't." has fewer than 10 words before can't: kept (it holds " can") but not counted
    assert texts == [
        f"{context} we can't go.",
        "Short: I can't.",
        f"{context} you can see it.",
        f"{context} they can't stay.",
    ]
    assert fake.calls == [("allenai/c4", "en", "train", True)]
    assert fake.yielded["allenai/c4"] == 3


def test_a_dataset_with_a_loading_script_is_read_from_the_parquet_export(
    monkeypatch, hub_profile, capsys, datasets
):
    fake = FakeHub(datasets, {"Rowan/hellaswag": _hellaswag_table(4)})

    def script_or_parquet(dataset_id, config=None, *, split, streaming=False, **kwargs):
        if kwargs.get("revision") != "refs/convert/parquet":
            fake.calls.append((dataset_id, config, split, streaming))
            raise RuntimeError("Dataset scripts are no longer supported, but found hellaswag.py")
        return fake(dataset_id, config, split=split, streaming=streaming, **kwargs)

    monkeypatch.setattr(datasets, "load_dataset", script_or_parquet)
    items = data.hellaswag(2, profile=hub_profile)
    assert [i["ctx_a"] for i in items] == ["Context 0 begins here.", "Context 1 begins here."]
    assert fake.calls == [
        ("Rowan/hellaswag", None, "validation[:2]", False),
        ("Rowan/hellaswag", None, "validation[:2]", False, "refs/convert/parquet"),
    ]
    assert "Parquet export (refs/convert/parquet)" in capsys.readouterr().out

    def other_runtime_error(*args, **kwargs):
        raise RuntimeError("something else")

    monkeypatch.setattr(datasets, "load_dataset", other_runtime_error)
    with pytest.raises(OSError, match="RuntimeError: something else"):
        data.hellaswag(2, profile=hub_profile)


def test_hub_profile_names_the_dataset_when_the_download_fails(monkeypatch, hub_profile, datasets):
    def unreachable(*args, **kwargs):
        raise ConnectionError("Couldn't reach 'Rowan/hellaswag' on the Hub")

    monkeypatch.setattr(datasets, "load_dataset", unreachable)
    with pytest.raises(OSError, match=r"Rowan/hellaswag.*ML4LLM_PROFILE=offline"):
        data.hellaswag(5, profile="hub")
    with pytest.raises(OSError, match=r"allenai/c4.*ML4LLM_PROFILE=offline"):
        data.c4_contexts(5, profile="hub")


def test_auto_falls_back_visibly_after_a_failed_download(monkeypatch, capsys, tmp_path, datasets):
    monkeypatch.setenv("ML4LLM_CACHE", str(tmp_path))
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setattr(models, "hub_reachable", lambda: True)

    def unreachable(*args, **kwargs):
        raise ConnectionError("Couldn't reach 'Rowan/hellaswag' on the Hub")

    monkeypatch.setattr(datasets, "load_dataset", unreachable)
    items = data.hellaswag(7, profile="auto")
    out = capsys.readouterr().out.splitlines()
    assert (
        out[0]
        == "Could not load Rowan/hellaswag (validation) (ConnectionError): using its offline substitute instead."
    )
    assert out[1].startswith("Offline: Rowan/hellaswag (validation) -> 7 four-choice items")
    assert items == data.hellaswag(7, profile="offline")


def test_auto_without_network_goes_offline_without_trying(monkeypatch, capsys, datasets):
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setattr(models, "hub_reachable", lambda: False)
    monkeypatch.setattr(
        datasets, "load_dataset", lambda *a, **k: pytest.fail("no download without network")
    )
    texts = data.rotten_tomatoes_texts(5, profile="auto")
    assert len(texts) == 5
    assert "-> 5 Shakespeare speeches" in capsys.readouterr().out


# --------------------------------------------------------------------------- Wikipedia pages (MediaWiki API)


class FakeResponse(io.BytesIO):
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_real_wikipedia_page_is_fetched_once_and_cached(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("ML4LLM_CACHE", str(tmp_path))
    requests = []

    def fake_urlopen(request, timeout):
        requests.append((request.full_url, request.get_header("User-agent"), timeout))
        page = {"pageid": 1, "title": "Turkish coffee", "extract": "Turkish coffee is coffee."}
        return FakeResponse(json.dumps({"query": {"pages": [page]}}).encode())

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    page = data.wikipedia_page("Turkish coffee", profile="hub")
    again = data.wikipedia_page("Turkish coffee", profile="hub")
    assert (
        page
        == again
        == data.TargetText("Turkish coffee", "Turkish coffee is coffee.", " coffee", "wikipedia")
    )
    assert len(requests) == 1
    url, agent, timeout = requests[0]
    query = urllib.parse.parse_qs(urllib.parse.urlparse(url).query)
    assert url.startswith("https://en.wikipedia.org/w/api.php?")
    assert query["titles"] == ["Turkish coffee"] and query["prop"] == ["extracts"]
    assert query["explaintext"] == ["1"] and agent.startswith("ml4llm") and timeout <= 30
    assert "25 characters" in capsys.readouterr().out


def test_missing_wikipedia_page_is_a_clear_error_under_hub(monkeypatch, tmp_path):
    monkeypatch.setenv("ML4LLM_CACHE", str(tmp_path))

    def missing(request, timeout):
        return FakeResponse(
            json.dumps({"query": {"pages": [{"title": "Nope", "missing": True}]}}).encode()
        )

    monkeypatch.setattr(urllib.request, "urlopen", missing)
    with pytest.raises(OSError, match=r"'Nope'.*ML4LLM_PROFILE=offline"):
        data.wikipedia_page("Nope", profile="hub")
