"""Time run_with_cache(model, inputs) (all names) against a bare forward with output_hidden_states.

Usage: ML4LLM_PROFILE=offline python benchmarks/run_with_cache.py [runs] [tokens] [model_id]

``model_id`` defaults to gpt2; e.g. HuggingFaceTB/SmolLM2-135M-Instruct times the Llama adapter on
the trained offline model.
"""

import statistics
import sys
import time

import torch
import transformers

from ml4llm.hooks import hook_names, run_with_cache
from ml4llm.models import load_model

runs = int(sys.argv[1]) if len(sys.argv) > 1 else 50
tokens = int(sys.argv[2]) if len(sys.argv) > 2 else 64
model_id = sys.argv[3] if len(sys.argv) > 3 else "gpt2"
model = load_model(model_id, profile="offline", device="cpu")
generator = torch.Generator().manual_seed(0)
inputs = {"input_ids": torch.randint(0, model.config.vocab_size, (1, tokens), generator=generator)}


def bare() -> None:
    with torch.no_grad():
        model(**inputs, output_hidden_states=True)


def cached() -> None:
    run_with_cache(model, inputs)


for _ in range(5):  # warm-up
    bare()
    cached()
bare_times, cache_times = [], []
for _ in range(runs):  # interleaved, so that machine load hits both alike
    start = time.perf_counter()
    bare()
    bare_times.append(time.perf_counter() - start)
    start = time.perf_counter()
    cached()
    cache_times.append(time.perf_counter() - start)
ratios = [c / b for c, b in zip(cache_times, bare_times)]
print(
    f"{model_id}: transformers {transformers.__version__}, torch {torch.__version__}, "
    f"{torch.get_num_threads()} threads; {len(hook_names(model))} hook names; "
    f"{runs} runs of {tokens} tokens"
)
print(
    f"bare forward (output_hidden_states=True): median {1e3 * statistics.median(bare_times):.2f} ms"
)
print(
    f"run_with_cache (all names):              median {1e3 * statistics.median(cache_times):.2f} ms"
)
print(
    f"median of per-run ratios: {statistics.median(ratios):.2f}  "
    f"(ratio of medians {statistics.median(cache_times) / statistics.median(bare_times):.2f})"
)
