"""The Colab install keeps Colab's preinstalled packages: pip upgrades or replaces none of them.

A notebook's first cell runs ``pip install git+<repository>`` in Colab. This test builds an
environment holding Colab's versions of the packages a learner's runtime depends on (torch is
the one local build, 2.13.0; the others are what Colab ships, see ``COLAB``), asks pip what
installing this repository there would do (``pip install --dry-run --report``) and fails when
the answer installs any of those packages in another version.

It downloads some 50 MB of wheels (pandas, numpy, matplotlib, ...) and takes a minute or two
(81 s on a busy 2-core machine), so it is marked ``slow``: it runs with ``pytest --slow`` (as
``./course.sh test`` and CI do).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]

# Colab's versions (Python 3.12 there; all exist for 3.11 on PyPI). google-colab itself pins
# ipykernel, IPython and pandas; ipywidgets 7 and its widgetsnbextension 3 render Colab's widgets.
COLAB = {
    "torch": "2.13.0",  # Colab ships a CUDA build of 2.9; 2.13.0 is the one build on this disk
    "ipykernel": "6.17.1",
    "ipython": "7.34.0",
    "pandas": "2.2.2",
    "numpy": "2.0.2",
    "matplotlib": "3.10.0",
    "ipywidgets": "7.7.1",
    "widgetsnbextension": "3.6.10",
}


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pip(python: Path, *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), *args],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(
            f"pip {' '.join(args[:3])} ... failed:\n{done.stdout[-2000:]}{done.stderr[-3000:]}"
        )
    return done


def test_colab_install_changes_none_of_colabs_packages(tmp_path: Path) -> None:
    started = time.perf_counter()
    venv = tmp_path / "colab"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    pins = [f"{name}=={version}" for name, version in COLAB.items()]
    _pip(python, "install", "--quiet", "--no-compile", "--disable-pip-version-check", *pins)
    installed = time.perf_counter()

    report_path = tmp_path / "report.json"
    _pip(
        python,
        "install",
        "--dry-run",
        "--quiet",
        "--disable-pip-version-check",
        "--report",
        str(report_path),
        str(ROOT),
    )
    print(
        f"Colab's packages installed in {installed - started:.0f} s, "
        f"the dry run took {time.perf_counter() - installed:.0f} s"
    )
    report = json.loads(report_path.read_text(encoding="utf-8"))
    would_install = {
        _canonical(item["metadata"]["name"]): item["metadata"]["version"]
        for item in report["install"]
    }
    assert "ml4llm" in would_install, "the report does not install the course package"
    changed = {
        name: f"{COLAB[name]} -> {would_install[name]}" for name in COLAB if name in would_install
    }
    print("pip would install:", ", ".join(f"{n} {v}" for n, v in sorted(would_install.items())))
    assert not changed, (
        f"installing ml4llm would replace Colab's {changed}: relax the bound in pyproject.toml "
        "(or name the feature that needs the newer version there)"
    )
