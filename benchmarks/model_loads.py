"""Cold and warm load time of every registry model (default head) and its tokenizer, offline.

Usage: python benchmarks/model_loads.py [model_id ...]      (default: every id of the registry)

Each id is loaded in two fresh processes that share one temporary, initially empty course cache
(``ML4LLM_CACHE``): the first is the cold load (whatever the course builds into its cache is built
there), the second the warm load. Times are measured inside the process around ``load_model`` and
``load_tokenizer``, as wall time and
as the process's CPU time: on a shared machine the CPU time is what the load would take alone.
"import" (of the warm process) is torch, transformers and the model's class: transformers imports
a modeling module on first use, a cost paid once per kernel whatever the number of models.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

from ml4llm.models import REGISTRY

ONE_LOAD = """
import sys, time
def clocks():
    return time.perf_counter(), time.process_time()
def since(start):
    wall, cpu = clocks()
    return f"{wall - start[0]:.2f} {cpu - start[1]:.2f}"
start = clocks()
import torch, transformers
from ml4llm import models
from ml4llm.models import load_model, load_tokenizer
spec = models.get_spec(sys.argv[1])
models._model_class(spec, spec.default_head)  # transformers imports its modeling module lazily
imported = since(start)
start = clocks()
model = load_model(sys.argv[1], device="cpu")
loaded = since(start)
start = clocks()
tokenizer = load_tokenizer(sys.argv[1])
tokenized = since(start)
print(f"RESULT {imported} {loaded} {tokenized}")
"""


def measure(model_id: str, cache: str) -> list[float]:
    """Wall and CPU seconds of (import, model, tokenizer) of a fresh process loading ``model_id``."""
    env = {**os.environ, "ML4LLM_PROFILE": "offline", "HF_HUB_OFFLINE": "1", "ML4LLM_CACHE": cache}
    done = subprocess.run(
        [sys.executable, "-c", ONE_LOAD, model_id],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return [float(x) for x in line.split()[1:]]
    raise RuntimeError(f"{model_id} did not report:\n{done.stdout}\n{done.stderr}")


def main() -> None:
    import transformers

    ids = sys.argv[1:] or list(REGISTRY)
    print(f"transformers {transformers.__version__}, offline profile; seconds, wall / CPU")
    columns = ("cold model", "cold tok", "warm model", "warm tok", "import")
    print(f"{'model id':<36}" + "".join(f"{c:>13}" for c in columns))
    for model_id in ids:
        with tempfile.TemporaryDirectory() as cache:
            cold = measure(model_id, cache)
            warm = measure(model_id, cache)
        pairs = [cold[2:4], cold[4:6], warm[2:4], warm[4:6], warm[0:2]]
        cells = "".join(f"{f'{wall:.2f} / {cpu:.2f}':>13}" for wall, cpu in pairs)
        print(f"{model_id:<36}{cells}", flush=True)


if __name__ == "__main__":
    main()
