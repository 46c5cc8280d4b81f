"""ml4llm: the course package of "50 ML projects to understand LLMs".

One module per concern:

- ``ml4llm.models``: the model registry, profiles (hub / offline / auto), loading and device choice;
  offline, SmolLM2 and the BERT encoders are trained, the other stand-ins random (``is_trained``).
- ``ml4llm.tokens``: tokenizer helpers shared by notebooks (single-token ids, visible spaces).
- ``ml4llm.hooks``: TransformerLens hook names and hook functions over plain Hugging Face models
  (``run_with_cache``; the context manager ``ml4llm.hooks.hooks``).
- ``ml4llm.plotting``: ``setup()`` (style, seeds, blank guard) and ``savefig()``.
- ``ml4llm.blanks``: the guard that makes a cell needing a blank say so in one line.
- ``ml4llm.data``: the book's data sets with caching and visible offline fallbacks.
- ``ml4llm.checks``: the self-checks that helper notebooks call.
- ``ml4llm.scorecard``: what a notebook's checks said in this session (every helper's last cell).
- ``ml4llm.notebooks``: helper generation, header stamping, headless execution and grading.
- ``ml4llm.projects``: the table of the 50 projects.

Submodules are imported on first use so that ``import ml4llm`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "setup": ("ml4llm.plotting", "setup"),
    "savefig": ("ml4llm.plotting", "savefig"),
    "load_model": ("ml4llm.models", "load_model"),
    "load_tokenizer": ("ml4llm.models", "load_tokenizer"),
    "is_trained": ("ml4llm.models", "is_trained"),
    "run_with_cache": ("ml4llm.hooks", "run_with_cache"),
}
# ``ml4llm.hooks`` is the module, always (``from ml4llm import hooks`` gives it whether or not it
# was imported before); its context manager is ``ml4llm.hooks.hooks``.


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    try:
        return importlib.import_module(f"ml4llm.{name}")
    except ModuleNotFoundError as err:
        if err.name != f"ml4llm.{name}":
            raise
        raise AttributeError(f"module 'ml4llm' has no attribute {name!r}") from None


__all__ = ["__version__", *_LAZY]
