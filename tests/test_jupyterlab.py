"""The course in a real JupyterLab: every figure fits the output area and stays sharp.

JupyterLab is started on localhost with a fresh configuration, and Debian's Chromium (driven by
playwright, never with a browser that playwright downloads) opens a copy of a solution notebook in
a 1400 px wide window with the file browser open, runs all its cells and measures every output
image: its rendered width must fit the output area, nothing may scroll sideways, and a PNG must
carry at least two image pixels per CSS pixel (sharp on a HiDPI screen).

The test runs project 12 (its figures are the widest); ``ML4LLM_BROWSER_PROJECTS="1 5 12"`` runs
other projects. ``ML4LLM_SCREENSHOTS=DIR`` keeps a screenshot of each notebook's widest figure.
It skips, saying why, where Chromium is not installed (``.ci/run`` installs it on Debian).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from ml4llm.notebooks import find_repo_root
from ml4llm.projects import get_project

pytestmark = [pytest.mark.notebook, pytest.mark.browser]

WINDOW = {"width": 1400, "height": 900}
# The flags this machine's notes give for headless Chromium on a closed network; playwright adds
# --headless and a fresh --user-data-dir itself.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
RUN_TIMEOUT_S = 180
MIN_PIXELS_PER_CSS_PX = 2.0

ROOT = find_repo_root(Path(__file__).parent)
PROJECTS = [int(n) for n in os.environ.get("ML4LLM_BROWSER_PROJECTS", "12").split()]


def _chromium() -> str:
    for candidate in (os.environ.get("ML4LLM_CHROMIUM"), "/usr/bin/chromium"):
        if candidate and Path(candidate).is_file():
            return candidate
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip(
        "Chromium is not installed: the JupyterLab figure test needs Debian's chromium "
        "(apt-get install chromium, as .ci/run does) or ML4LLM_CHROMIUM=/path/to/chromium."
    )


def _require(module: str) -> None:
    """Fail, saying what to install, when a development dependency is missing."""
    if importlib.util.find_spec(module) is None:
        pytest.fail(
            f"{module} is not installed: it comes with the development tools "
            "(pip install -c .ci/constraints.txt -r requirements.txt, or ./course.sh setup)."
        )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _write_settings(folder: Path) -> None:
    """A fresh JupyterLab user settings folder: no news or update checks over the network."""
    path = folder / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    """A JupyterLab server on localhost serving a folder with copies of the notebooks."""
    _require("jupyterlab")
    base = tmp_path_factory.mktemp("jupyterlab")
    root = base / "notebooks"
    root.mkdir()
    for number in PROJECTS:
        source = ROOT / get_project(number).notebook("solution")
        shutil.copy(source, root / source.name)
    settings = base / "settings"
    _write_settings(settings)
    port, token = _free_port(), "ml4llm-test"
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(base / "config"),
        "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
        "ML4LLM_FIGURES": str(base / "figures"),
    }
    log = (base / "jupyterlab.log").open("w")
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        f"--LabApp.user_settings_dir={settings}",
        f"--LabApp.workspaces_dir={base / 'workspaces'}",
        "--LabApp.expose_app_in_browser=True",
        "--LabApp.extension_manager=readonly",
        "--allow-root",  # CI runs as root
    ]
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail(
                        "JupyterLab did not start:\n"
                        + (base / "jupyterlab.log").read_text()[-3000:]
                    )
                time.sleep(0.3)
        yield {"url": url, "token": token, "root": root, "log": base / "jupyterlab.log"}
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's Chromium, headless, driven by playwright (skips where it is not installed)."""
    executable = _chromium()
    _require("playwright")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


# Measures one output image after it was scrolled into view (JupyterLab's default windowing
# mode skips the layout of cells out of view).
MEASURE_JS = """img => {
    const out = img.closest('.jp-OutputArea-output');
    const style = getComputedStyle(out);
    const inner = out.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    return {
        mime: out.dataset.mimeType || '',
        width: img.getBoundingClientRect().width,
        area: inner,
        overflow: out.scrollWidth - out.clientWidth,
        natural: img.naturalWidth,
    };
}"""

KERNEL_IDLE_JS = """() => {
    const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
    const kernel = panel && panel.sessionContext && panel.sessionContext.session
        && panel.sessionContext.session.kernel;
    return Boolean(kernel) && kernel.status === 'idle';
}"""


def _scroll_to(image) -> None:
    """Scroll an output image into the middle of the notebook; return once it is laid out."""
    image.evaluate(
        """async img => {
            img.scrollIntoView({block: 'center'});
            await img.decode();
            await new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)));
        }"""
    )


@pytest.mark.parametrize("number", PROJECTS)
def test_figures_fit_jupyterlab_output_area(browser, lab, number: int) -> None:
    name = Path(get_project(number).notebook("solution")).name
    page = browser.new_page(viewport=WINDOW)
    try:
        # A workspace of its own, reset: only this notebook is open, beside the file browser.
        page.goto(
            f"{lab['url']}/lab/workspaces/proj{number}/tree/{name}?reset&token={lab['token']}"
        )
        page.wait_for_function(KERNEL_IDLE_JS, timeout=60_000)
        assert page.locator("#filebrowser").is_visible(), "the file browser should be open"
        panel = page.locator(f"#{page.evaluate('window.jupyterapp.shell.currentWidget.id')}")
        started = time.perf_counter()
        page.evaluate(
            "() => { window.ml4llmRun = undefined; "
            "window.jupyterapp.commands.execute('notebook:run-all-cells')"
            ".then(ok => { window.ml4llmRun = String(ok); }, "
            "err => { window.ml4llmRun = 'error: ' + err; }); }"
        )
        page.wait_for_function("() => window.ml4llmRun !== undefined", timeout=RUN_TIMEOUT_S * 1000)
        page.wait_for_function(KERNEL_IDLE_JS, timeout=30_000)
        run_seconds = time.perf_counter() - started
        errors = panel.locator(
            '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]'
        )
        if errors.count():
            pytest.fail(f"{name} failed in JupyterLab:\n{errors.first.inner_text()[:2000]}")
        assert page.evaluate("window.ml4llmRun") == "true", "Run All did not complete"

        images = [
            panel.locator(".jp-OutputArea-output img").nth(i)
            for i in range(panel.locator(".jp-OutputArea-output img").count())
        ]
        assert images, f"{name} showed no figure"
        measured = []
        for image in images:
            _scroll_to(image.element_handle())
            measured.append(image.evaluate(MEASURE_JS))
        folder = os.environ.get("ML4LLM_SCREENSHOTS")
        if folder:
            widest = max(range(len(measured)), key=lambda i: measured[i]["natural"])
            Path(folder).mkdir(parents=True, exist_ok=True)
            _scroll_to(images[widest].element_handle())
            page.screenshot(path=str(Path(folder) / f"proj{number:02d}_widest_figure.png"))
        print(f"\n{name}: Run All {run_seconds:.1f} s; figures (rendered / area / image px):")
        for item in measured:
            print(
                f"  {item['mime']:<14} {item['width']:7.1f} / {item['area']:6.1f} / {item['natural']}"
            )

        assert all(m["width"] > 0 and m["area"] > 0 for m in measured), measured
        too_wide = [m for m in measured if m["width"] > m["area"] + 0.5 or m["overflow"] > 0]
        assert not too_wide, f"{len(too_wide)} of {len(measured)} figures do not fit: {too_wide}"
        blurry = [
            m
            for m in measured
            if m["mime"] == "image/png" and m["natural"] < MIN_PIXELS_PER_CSS_PX * m["width"] - 1
        ]
        assert not blurry, f"PNG figures with under {MIN_PIXELS_PER_CSS_PX} px per CSS px: {blurry}"
    finally:
        # Shut the notebook's kernel down: the next notebook starts its own.
        page.evaluate(
            "() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
            " && window.jupyterapp.shell.currentWidget.sessionContext.shutdown()"
        )
        page.close()
