"""One setup call for every notebook (style, seeds, blank detection) and figure saving."""

from __future__ import annotations

import os
import random
import sys
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_SEED = 42
# What setup() was told: the project that names the figures, and whether this is a helper.
_current: dict[str, Any] = {"chapter": None, "project": None, "helper": False}


def seed_everything(seed: int = DEFAULT_SEED) -> np.random.Generator:
    """Seed Python, NumPy and torch (if installed); return a NumPy generator from the same seed."""
    random.seed(seed)
    np.random.seed(seed)
    try:
        import torch
    except ImportError:
        pass
    else:
        torch.manual_seed(seed)
    return np.random.default_rng(seed)


def _apply_style() -> None:
    import matplotlib as mpl

    mpl.rcParams.update(
        {
            "figure.figsize": (8, 4.5),
            "figure.dpi": 100,
            "savefig.dpi": 120,
            "savefig.bbox": "tight",
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.titlesize": 12,
            "axes.labelsize": 11,
            "legend.frameon": False,
            "image.cmap": "viridis",
        }
    )


def _in_ipython() -> Any:
    if "IPython" not in sys.modules:
        return None
    from IPython import get_ipython

    return get_ipython()


def setup(
    project: int | None = None, seed: int = DEFAULT_SEED, helper: bool = False
) -> np.random.Generator:
    """Prepare a notebook: plotting style, sharp inline figures, seeds, and blank detection.

    ``project`` (1 to 50) names the figures that :func:`savefig` writes; ``helper=True`` (the
    generator writes it into every helper notebook) adds ``_helper`` to those names, so that a
    helper's figures never overwrite the solution's. Returns a seeded ``numpy.random.Generator``:
    draw all of the notebook's randomness from it (or from seeds derived from ``seed``), so that
    two runs give the same numbers and figures.

    Inline figures are PNG at twice their resolution ("retina"): JupyterLab, Colab and VS Code
    shrink a PNG to the output area and it stays sharp, whereas JupyterLab shows an SVG at its
    natural width and cuts off what is wider than the output area.
    """
    if project is not None:
        from ml4llm.projects import get_project

        _current["project"] = project
        _current["chapter"] = get_project(project).chapter
    _current["helper"] = helper
    _apply_style()
    shell = _in_ipython()
    if shell is not None:
        try:
            from matplotlib_inline.backend_inline import set_matplotlib_formats

            set_matplotlib_formats("retina")
        except ImportError:
            pass
        from ml4llm import blanks

        blanks.install(shell)  # cells that need a blank still `...` say so in one line
    return seed_everything(seed)


def figures_dir() -> Path:
    """``ML4LLM_FIGURES`` if set, else ``figures/`` under the working directory (created if missing)."""
    folder = Path(os.environ.get("ML4LLM_FIGURES") or Path.cwd() / "figures")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def figure_name(part: str | int, project: int | None = None, helper: bool | None = None) -> str:
    """The file name of a figure, e.g. ``ch02_proj01_part1.png``.

    In a helper notebook it ends in ``_helper.png``; ``helper`` defaults to what :func:`setup`
    was told.
    """
    from ml4llm.projects import get_project

    number = project if project is not None else _current["project"]
    if number is None:
        raise RuntimeError("Call ml4llm.setup(project=N) first, or pass project=N to savefig.")
    chapter = get_project(number).chapter
    in_helper = _current["helper"] if helper is None else helper
    suffix = "_helper" if in_helper else ""
    return f"ch{chapter:02d}_proj{number:02d}_part{part}{suffix}.png"


def savefig(fig: Any, part: str | int, project: int | None = None) -> Path:
    """Save ``fig`` as ``figures/chNN_projMM_part<part>.png`` and return the path.

    In a helper notebook (``setup(..., helper=True)``) the name ends in ``_helper.png``. Call it
    before ``plt.show()``: showing a figure closes it.
    """
    path = figures_dir() / figure_name(part, project)
    fig.savefig(path)
    print(f"saved {path.parent.name}/{path.name}")
    return path
