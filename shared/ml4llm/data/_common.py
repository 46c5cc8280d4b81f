"""What every data source shares: the network decision, the fallback lines, the packaged files.

The network decision lives in :func:`use_real_source`, which follows
:func:`ml4llm.models.resolve_profile`, and every failed download goes through
:func:`ml4llm.models.fall_back`: one policy for models, tokenizers and data.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from ml4llm.models import cache_dir, fall_back, hub_call, resolve_profile

T = TypeVar("T")

RESOURCES = Path(__file__).resolve().parent.parent / "resources"


def use_real_source(profile: str | None = None) -> bool:
    """Whether a loader should try the real (network) source at all.

    It follows :func:`ml4llm.models.resolve_profile`: ``offline`` never touches the network,
    ``hub`` always tries, and ``auto`` tries when the Hugging Face Hub answered a real HTTPS
    request within a few seconds (:func:`ml4llm.models.hub_reachable`).
    """
    return resolve_profile(None, profile) == "hub"


def announce(substitute: str, real: str) -> None:
    """The one printed line that says an offline substitute is in use."""
    print(f"Offline: {real} -> {substitute}.")


def real_or_offline(
    what: str,
    fetch: Callable[[], T],
    offline: Callable[[], tuple[T, str]],
    profile: str | None,
) -> T:
    """``fetch()`` when the real source is used and works, else ``offline()``, announced.

    ``offline`` returns the substitute and its description for :func:`announce`.
    """
    if use_real_source(profile):
        try:
            with hub_call():
                return fetch()
        except Exception as err:  # any failure of the download (network, missing script, ...)
            fall_back(what, err, profile, hub=True)
    result, description = offline()
    announce(description, what)
    return result


def resource_path(name: str) -> Path:
    """A data file that the course ships inside the package (``ml4llm/resources``)."""
    path = RESOURCES / name
    if not path.exists():
        raise FileNotFoundError(
            f"The course data file {name!r} is missing from {path.parent}: reinstall ml4llm."
        )
    return path


def cached_json(name: str, make: Callable[[], Any], what: str) -> Any:
    """A JSON value cached under the course cache (``<cache>/datasets/<name>.json``).

    Used for streamed data sets, which ``datasets`` does not cache: the first call streams and
    writes the file, later calls read it. The file is written atomically.
    """
    path = cache_dir() / "datasets" / f"{name}.json"
    if path.exists():
        print(f"{what}: read from the course cache ({path}).")
        return json.loads(path.read_text(encoding="utf-8"))
    value = make()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)
    return value
