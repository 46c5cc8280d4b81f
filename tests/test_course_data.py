"""The data sets the course writes itself (shared/ml4llm/resources): in sync with the script that
writes them, sized, balanced, without duplicates, and well-formed. Each test prints a seeded
sample of its set into the test log, so that a reviewer can read them."""

from __future__ import annotations

import os

os.environ["ML4LLM_PROFILE"] = "offline"
os.environ["HF_HUB_OFFLINE"] = "1"

import importlib.util
import random
import re
from collections import Counter
from pathlib import Path

import pytest

from ml4llm import data, models
from ml4llm.data import course

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "tools" / "make_course_data.py"

GENDERED = {
    "he", "she", "his", "hers", "himself", "herself", "man", "woman", "men", "women", "boy",
    "girl", "mother", "father", "son", "daughter", "brother", "sister", "husband", "wife", "king",
    "queen", "mr", "mrs", "ms", "sir", "madam", "lady", "gentleman", "uncle", "aunt",
}  # fmt: skip


def _script():
    spec = importlib.util.spec_from_file_location("make_course_data", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _show(capsys, title: str, lines: list[str]) -> None:
    """Print a sample into the test log (outside pytest's capture)."""
    with capsys.disabled():
        print(f"\n--- {title}")
        for line in lines:
            print(f"    {line}")


def _sample(items: list, k: int, seed: int = 0) -> list:
    return random.Random(seed).sample(items, k)


@pytest.fixture(scope="module")
def gpt2():
    return models.load_tokenizer("gpt2")


def test_files_are_what_the_script_writes():
    script = _script()
    for name, text in script.files().items():
        path = ROOT / "shared" / "ml4llm" / "resources" / name
        assert path.read_text(encoding="utf-8") == text, (
            f"{name} differs from tools/make_course_data.py: run python tools/make_course_data.py"
        )


def test_hellaswag_items(capsys):
    items = course.hellaswag_items()
    assert len(items) == 200
    assert Counter(i["label"] for i in items) == {"0": 50, "1": 50, "2": 50, "3": 50}
    assert len({i["ctx"] for i in items}) == 200, "duplicate contexts"
    script = _script()
    scene_of_step = {step: s for s, scene in enumerate(script.SCENES) for step in scene[4]}
    for i, item in enumerate(items):
        assert item["ctx"] == f"{item['ctx_a']} {item['ctx_b']}"
        assert item["ctx_a"][0].isupper() and item["ctx_a"].endswith(".")
        assert item["ctx_b"].split()[-1] in ("he", "she", "He", "She")
        right = item["endings"][int(item["label"])]
        for ending in item["endings"]:
            assert ending[0].islower() and ending.endswith(".") and "  " not in ending
            assert not re.search(r"\b(his|her|him|hers)\b", ending), ending
        # the right ending is the next step of this item's scene; the wrong ones come from
        # scenes of other domains, so they are grammatical but plainly not what happens next
        scene = scene_of_step[right]
        assert i % len(script.SCENES) == scene
        domain = script.SCENES[scene][0]
        wrong = [e for e in item["endings"] if e != right]
        assert all(script.SCENES[scene_of_step[e]][0] != domain for e in wrong)
    sample = _sample(items, 4)
    lines = []
    for item in sample:
        lines.append(f"[{item['activity_label']}] {item['ctx']} ...")
        lines += [
            f"  {'*' if str(k) == item['label'] else ' '} {ending}"
            for k, ending in enumerate(item["endings"])
        ]
    _show(capsys, "four-choice items (* = label)", lines)


def test_sentiment_sentences(capsys):
    frame = course.sentiment_sentences()
    assert len(frame) >= 400 and not frame["sentence"].duplicated().any()
    assert frame.groupby(["label", "negated"]).size().tolist() == [192, 48, 192, 48]
    negation = re.compile(r"\b(not|far from|Nobody)\b")
    for sentence, negated in zip(frame["sentence"], frame["negated"]):
        assert sentence[0].isupper() and sentence.endswith(".") and "  " not in sentence
        assert bool(negation.search(sentence)) == negated, sentence
    # the label follows the adjective's sentiment, flipped by the negation
    script = _script()
    for sentence, label, negated in zip(frame["sentence"], frame["label"], frame["negated"]):
        adjective = next(w for w in script.POSITIVE + script.NEGATIVE if f" {w}" in sentence)
        assert label == int((adjective in script.POSITIVE) != negated), sentence
    shown = frame.sample(8, random_state=0)
    _show(capsys, "sentiment sentences (label 1 = positive)",
          [f"{label} {s}" for s, label in zip(shown["sentence"], shown["label"])])  # fmt: skip


def test_can_cant_contexts(capsys, gpt2):
    texts = course.can_cant_contexts()
    assert len(texts) == len(set(texts)) == 640
    cant = [t for t in texts if " can't " in t]
    assert len(cant) == 320 and texts[::2] == cant, "can't and can alternate"
    can_id = gpt2.encode(" can", add_special_tokens=False)
    apostrophe_t = gpt2.encode("'t", add_special_tokens=False)
    assert len(can_id) == len(apostrophe_t) == 1
    excluded = {" of", " with", " from", " in", " on", " for", " not"}
    for text in texts:
        assert text[0].isupper() and text.endswith(".") and "cannot" not in text
        ids = gpt2.encode(text, add_special_tokens=False)
        assert ids.count(can_id[0]) == 1, text
        k = ids.index(can_id[0])
        assert k >= 10, f"fewer than 10 tokens before ' can': {text}"
        after = gpt2.decode([ids[k + 1]], clean_up_tokenization_spaces=False)
        if text in cant:
            assert ids[k + 1] == apostrophe_t[0], text
        else:
            assert after.startswith(" ") and after not in excluded, text
    _show(capsys, "can / can't contexts", _sample(cant, 4) + _sample(texts[1::2], 4))


def test_noun_and_verb_lists(capsys, gpt2):
    nouns, verbs = course.noun_verb_lists()
    for words in (nouns, verbs):
        assert 280 <= len(words) <= 330 and len(set(words)) == len(words)
        assert all(re.fullmatch(r"[a-z]+", w) for w in words)
        single = [w for w in words if len(gpt2.encode(" " + w, add_special_tokens=False)) == 1]
        assert len(single) >= 270, "most words must be single GPT-2 tokens with a leading space"
    assert not set(nouns) & set(verbs)
    _show(capsys, "nouns", [" ".join(_sample(nouns, 15))])
    _show(capsys, "verbs", [" ".join(_sample(verbs, 15))])


def test_him_her_frames(capsys):
    sentences, tests = course.him_her_sentences()
    assert len(sentences) == 108 and not sentences["sentence"].duplicated().any()
    assert sentences["pronoun"].tolist() == ["him"] * 54 + ["her"] * 54
    assert sentences["frame"].tolist()[:54] == sentences["frame"].tolist()[54:]
    for frame, pronoun, sentence in sentences.itertuples(index=False):
        assert frame.count(course.PRONOUN_SLOT) == 1
        words = re.findall(r"[a-z]+", sentence.lower())
        assert words.count(pronoun) == 1 and not set(words) & GENDERED, sentence
        assert sentence[0].isupper() and sentence.endswith(".")
        # object position: the pronoun is never directly followed by a noun (no possessive "her")
        following = re.split(rf"\b{pronoun}\b", sentence, maxsplit=1)[1].split()
        assert not following or following[0].rstrip(".,") in {
            "a", "an", "the", "to", "for", "at", "with", "about", "all", "on", "in", "from",
            "out", "as", "of", "indoors", "greatly", "enormously", "deeply", "completely",
            "twice", "tired", "very", "carefully", "when", "after", "since", "",
        }, sentence  # fmt: skip
    clean, her_masked, him_masked = tests
    assert " her " in clean and " him " in clean
    assert her_masked == clean.replace(" her ", " [MASK] ", 1)
    assert him_masked == clean.replace(" him ", " [MASK] ", 1)
    bert = models.load_tokenizer("bert-base-uncased")
    for masked in (her_masked, him_masked):
        assert bert(masked)["input_ids"].count(bert.mask_token_id) == 1
    _show(capsys, "him/her sentences", _sample(sentences["sentence"].tolist(), 6) + tests)


def test_multilingual_text_has_more_bytes_than_characters(capsys, gpt2):
    text = course.course_multilingual_text()
    lines = text.splitlines()
    assert text.endswith("\n") and len(lines) == 11
    assert all(":" in line for line in lines[1:])
    assert len(text.encode("utf-8")) > len(text)
    accented = {"ç", "é", "ü", "ß", "ñ"}
    assert accented <= set(text)
    for start, end in [(0x0370, 0x03FF), (0x0400, 0x04FF), (0x0600, 0x06FF), (0x4E00, 0x9FFF)]:
        assert any(start <= ord(c) <= end for c in text), hex(start)  # Greek ... CJK
    assert any(ord(c) > 0xFFFF for c in text)  # emoji, outside the Basic Multilingual Plane
    pieces = [gpt2.decode([i]) for i in gpt2(text)["input_ids"]]
    assert any("\ufffd" in p for p in pieces)  # tokens holding part of a character


def test_offline_tempest_ends_with_the_multilingual_lines(capsys):
    from ml4llm import data

    tempest, othello = data.load_books([2591, 84], profile="offline")
    assert "The Tempest ends with the course's multilingual lines" in capsys.readouterr().out
    assert tempest.text.endswith(course.course_multilingual_text())
    assert othello.text.isascii()
def test_course_html_pages_hold_accents_other_scripts_and_emoji(capsys):
    import unicodedata
    from html.parser import HTMLParser

    documents = data.html_documents(packages=(), pydoc_modules=())
    pages = {name: documents[f"course/{name}.html"] for name in data.local.COURSE_PAGES}
    for page in pages.values():
        assert page.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in page
        assert "&#" not in page, "non-ASCII characters are written raw, not as entities"
        HTMLParser().feed(page)  # parses
    text = "".join(pages.values())
    names = {unicodedata.name(c, "") for c in text if ord(c) > 127}
    assert any(" WITH " in n and "LATIN" in n for n in names), "accented Latin letters"
    scripts = {n.split()[0] for n in names if "LETTER" in n or "SYLLABLE" in n or "IDEOGRAPH" in n}
    assert {"GREEK", "CYRILLIC", "ARABIC", "DEVANAGARI", "HIRAGANA", "HANGUL"} <= scripts
    assert any(ord(c) >= 0x1F300 for c in text), "emoji outside the Basic Multilingual Plane"
    _show(capsys, "course HTML pages", pages["greetings"].splitlines()[9:13])
