"""The book's data, one function per source, each with a visible offline substitute.

| function | real source | offline substitute |
|---|---|---|
| ``load_books(ids)``, ``load_book(id)`` | Gutenberg books by id | ten Shakespeare plays (The Tempest closed by the multilingual lines) |
| ``wikitext_lines(split, n)`` | ``Salesforce/wikitext`` wikitext-2-raw-v1 | test: ``pydoc_data.topics``; train: the ten Shakespeare texts |
| ``hellaswag(n)`` | ``Rowan/hellaswag`` validation | 200 items written by the course |
| ``hellaswag_contexts(train_rows, test_rows)`` | the same, field ``ctx_a`` | Shakespeare speech lines of 6+ words |
| ``sst2_sentences(n)`` | ``nyu-mll/glue`` sst2 ``train[:5%]`` | 480 labelled sentences written by the course |
| ``rotten_tomatoes_texts(n)`` | ``cornell-movie-review-data/rotten_tomatoes`` test | Shakespeare speeches of 5-60 words |
| ``wikipedia_articles(min_words)`` | ``wikimedia/wikipedia`` 20231101.en, streamed | passages of the ten Shakespeare texts |
| ``wikipedia_page(title, target)`` | one Wikipedia article (MediaWiki API), cached | Romeo and Juliet, target ' love' |
| ``c4_contexts(n_cant)`` | ``allenai/c4`` en train, streamed | can/can't contexts written by the course |
| ``noun_verb_lists()`` | written by the course (both profiles) | |
| ``him_her_sentences()`` | written by the course (both profiles) | |
| ``course_multilingual_text()`` | written by the course (both profiles): 11 lines, accented Latin, non-Latin scripts, emoji | |
| ``html_documents()`` | packaged ``.html`` files, pydoc pages and two course-written pages (both profiles) | |
| ``sample_photo()`` | matplotlib's sample photograph (both profiles) | |

Profiles are those of :func:`ml4llm.models.resolve_profile`: ``hub`` loads the real source and
raises a clear error when that fails; ``offline`` uses the substitute; ``auto`` (default) loads
the real source when the network answers and otherwise, or when the download fails, falls back
to the substitute. Every substitute is announced in one printed line. The schema of what a
function returns is the same in both profiles (see each docstring).
"""

from ml4llm.data._common import resource_path
from ml4llm.data.books import TEN_BOOKS, Book, load_book, load_books, normalise
from ml4llm.data.course import course_multilingual_text, him_her_sentences, noun_verb_lists
from ml4llm.data.hub import (
    c4_contexts,
    hellaswag,
    hellaswag_contexts,
    rotten_tomatoes_texts,
    sst2_sentences,
    wikipedia_articles,
    wikitext_lines,
)
from ml4llm.data.local import html_documents, sample_photo
from ml4llm.data.web import TargetText, wikipedia_page

__all__ = [
    "TEN_BOOKS",
    "Book",
    "TargetText",
    "c4_contexts",
    "course_multilingual_text",
    "hellaswag",
    "hellaswag_contexts",
    "him_her_sentences",
    "html_documents",
    "load_book",
    "load_books",
    "noun_verb_lists",
    "normalise",
    "resource_path",
    "rotten_tomatoes_texts",
    "sample_photo",
    "sst2_sentences",
    "wikipedia_articles",
    "wikipedia_page",
    "wikitext_lines",
]
