"""Data that every installation already holds, used in both profiles: HTML pages and a photo.

The book downloads live web pages and a photograph; live pages change and downloads fail, so the
course uses files that installed packages ship and HTML that the standard library generates.
"""

from __future__ import annotations

import importlib
import importlib.util
import pydoc
import re
from pathlib import Path
from typing import TYPE_CHECKING

from ml4llm.data._common import resource_path

if TYPE_CHECKING:
    import numpy as np

HTML_PACKAGES = ("matplotlib", "torch")
PYDOC_MODULES = ("json", "re", "collections", "pathlib", "random", "statistics")
# written by tools/make_course_data.py into resources/course_page_<name>.html
COURSE_PAGES = ("travel_notes", "greetings")


def html_documents(
    packages: tuple[str, ...] = HTML_PACKAGES,
    pydoc_modules: tuple[str, ...] = PYDOC_MODULES,
    course_pages: bool = True,
) -> dict[str, str]:
    """HTML documents from this machine: name -> HTML text, in a fixed order.

    First every ``.html`` file inside the installed ``packages`` (small templates, named
    ``"package/file.html"``, sorted by path), then pydoc's HTML documentation of
    ``pydoc_modules`` (tens of KB each, named ``"pydoc module"``), with the memory addresses that
    pydoc prints for some defaults replaced by ``0x...`` so that the text is the same on every run,
    then (with ``course_pages``) the course's own pages, named ``"course/name.html"``: travel
    notes in accented Latin and a table of greetings in fifteen scripts, both with emoji, so
    that their UTF-8 bytes outnumber their characters (the packages' pages are pure ASCII).
    These are the documents of project 5, whose learners glob the packages' files themselves
    (``packages=()`` gives the rest). The pages depend on the Python and package versions.
    """
    documents: dict[str, str] = {}
    for package in packages:
        spec = importlib.util.find_spec(package)
        if spec is None or spec.origin is None:
            raise ModuleNotFoundError(f"html_documents: the package {package!r} is not installed.")
        for path in sorted(Path(spec.origin).parent.rglob("*.html")):
            documents[f"{package}/{path.name}"] = path.read_text(encoding="utf-8")
    for name in pydoc_modules:
        module = importlib.import_module(name)
        page = pydoc.html.page(pydoc.describe(module), pydoc.html.document(module, name))
        documents[f"pydoc {name}"] = re.sub(r" at 0x[0-9a-f]+", " at 0x...", page)
    if course_pages:
        for name in COURSE_PAGES:
            path = resource_path(f"course_page_{name}.html")
            documents[f"course/{name}.html"] = path.read_text(encoding="utf-8")
    return documents


def sample_photo(downsample: int = 2) -> np.ndarray:
    """matplotlib's sample photograph (``grace_hopper.jpg``) as a grayscale float image.

    A 2-D float64 array of brightness values 0-255, ``downsample`` times smaller in each
    direction (each output pixel is the mean of a ``downsample`` x ``downsample`` block).
    Used in both profiles instead of the book's downloaded photograph.
    """
    import numpy as np
    from matplotlib import cbook
    from PIL import Image

    if not isinstance(downsample, int) or downsample < 1:
        raise ValueError(f"downsample must be a positive whole number, not {downsample!r}.")
    with cbook.get_sample_data("grace_hopper.jpg") as handle:
        image = Image.open(handle).convert("L")
        if downsample > 1:
            image = image.reduce(downsample)
        return np.asarray(image, dtype=np.float64)
