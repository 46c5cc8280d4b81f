"""Time and peak memory of every built project's solution through ``ml4llm run N``, offline.

Usage: python benchmarks/notebooks.py [N ...]      (default: every built project)

Each project runs in a fresh process. "first output" is the time from the kernel's start to the
end of the first cell that shows an output (from the cells' execution timestamps, which nbclient
records); "total" is the whole run, kernel start included. The peak memory is the largest
resident set of that process and its children (the notebook's kernel), from ``getrusage``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from ml4llm.notebooks import find_repo_root
from ml4llm.projects import PROJECTS

ONE_RUN = """
import datetime, json, pathlib, resource, sys, time
from ml4llm.cli import main
start, epoch = time.perf_counter(), time.time()
code = main(["run", sys.argv[1], "--out", sys.argv[2]])
seconds = time.perf_counter() - start
peak_kb = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
              resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
first = float("nan")
for path in pathlib.Path(sys.argv[2]).glob("*.ipynb"):
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        reply = cell.get("metadata", {}).get("execution", {}).get("shell.execute_reply")
        if cell["cell_type"] == "code" and cell.get("outputs") and reply:
            first = datetime.datetime.fromisoformat(reply).timestamp() - epoch
            break
print(f"RESULT {code} {first:.1f} {seconds:.1f} {peak_kb / 1024**2:.2f}")
"""


def measure(number: int, out_dir: Path) -> tuple[int, float, float, float]:
    """(exit code, seconds to the first output, seconds in all, peak GB) of project ``number``."""
    env = {**os.environ, "ML4LLM_PROFILE": "offline", "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", ONE_RUN, str(number), str(out_dir)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            code, first, seconds, peak = line.split()[1:]
            return int(code), float(first), float(seconds), float(peak)
    raise RuntimeError(f"project {number} did not report:\n{done.stdout}\n{done.stderr}")


def main() -> None:
    root = find_repo_root()
    numbers = [int(a) for a in sys.argv[1:]] or [p.number for p in PROJECTS if p.exists(root)]
    print(
        f"{'project':>7}  {'exit':>4}  {'first output (s)':>16}  {'total (s)':>9}  {'peak (GB)':>9}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for number in numbers:
            code, first, seconds, peak = measure(number, Path(tmp) / f"proj{number:02d}")
            print(
                f"{number:>7}  {code:>4}  {first:>16.1f}  {seconds:>9.1f}  {peak:>9.2f}", flush=True
            )


if __name__ == "__main__":
    main()
