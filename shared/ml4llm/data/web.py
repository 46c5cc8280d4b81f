"""Single Wikipedia articles by title (MediaWiki API), cached, with Romeo and Juliet offline.

The book fetches its articles with the ``wikipedia`` package, a thin wrapper around the same
MediaWiki "extracts" API (plain text of the whole article) that is read here with the standard
library, so the course needs no extra dependency. The live article changes; the text is cached
on first use, so later runs see the same text.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from ml4llm.data import _shakespeare
from ml4llm.data._common import announce, fall_back, use_real_source
from ml4llm.models import NETWORK_TIMEOUT, cache_dir

WIKIPEDIA_API = "https://en.wikipedia.org/w/api.php"
USER_AGENT = "ml4llm-course/0.1 (https://github.com/ml4llm/ml4llm)"
ROMEO_AND_JULIET = 1513
OFFLINE_TARGET = " love"


@dataclass(frozen=True)
class TargetText:
    """A text and the target word to find in it (with its leading space, as a GPT-2 token)."""

    title: str
    text: str
    target: str
    source: str  # "wikipedia" or "shakespeare (offline)"


def _api_url(title: str) -> str:
    query = {
        "action": "query",
        "format": "json",
        "formatversion": "2",
        "prop": "extracts",
        "explaintext": "1",
        "redirects": "1",
        "titles": title,
    }
    return f"{WIKIPEDIA_API}?{urllib.parse.urlencode(query)}"


def _fetch_extract(title: str, timeout: float = NETWORK_TIMEOUT) -> str:
    request = urllib.request.Request(_api_url(title), headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (fixed https URL)
        reply = json.loads(response.read().decode("utf-8"))
    page = reply["query"]["pages"][0]
    if page.get("missing") or not page.get("extract"):
        raise LookupError(f"Wikipedia has no article titled {title!r}.")
    return page["extract"]


def wikipedia_page(title: str, target: str = " coffee", profile: str | None = None) -> TargetText:
    """The plain text of the English Wikipedia article ``title``, with ``target``.

    Downloaded once and cached (``<cache>/wikipedia/``); the printed line gives its length.
    Offline: Romeo and Juliet from the ``shakespeare`` package, with the target ``" love"``.
    """
    if not target.startswith(" ") or len(target.split()) != 1:
        raise ValueError(
            f"target must be one word with its leading space, like ' coffee', not {target!r}."
        )
    name = f"the Wikipedia article {title!r}"
    if use_real_source(profile):
        path = (
            cache_dir() / "wikipedia" / (re.sub(r"[^A-Za-z0-9]+", "_", title).strip("_") + ".txt")
        )
        try:
            if path.exists():
                text = path.read_text(encoding="utf-8")
            else:
                text = _fetch_extract(title)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
            print(f"Wikipedia {title!r}: {len(text):,} characters (cached in {path}).")
            return TargetText(title, text, target, "wikipedia")
        except (urllib.error.URLError, OSError, LookupError, KeyError, ValueError) as err:
            fall_back(name, err, profile)
    announce(f"Romeo and Juliet (package shakespeare) with the target {OFFLINE_TARGET!r}", name)
    text = _shakespeare.text(ROMEO_AND_JULIET)
    return TargetText("Romeo and Juliet", text, OFFLINE_TARGET, "shakespeare (offline)")
