"""Time run_with_cache(model, inputs) (all names) against a bare forward with output_hidden_states.

Usage: ML4LLM_PROFILE=offline python benchmarks/run_with_cache.py [runs] [tokens,...] [model_id]

Defaults: 50 runs at 64 and at 512 tokens, batch 1, on a seeded random GPT-2 small (the real
``GPT2Config()``: 12 layers x 768, eager attention). ``model_id`` loads a course model instead,
e.g. HuggingFaceTB/SmolLM2-135M-Instruct times the Llama adapter on the trained offline model.
The two calls alternate run by run, so that machine load hits both alike; the figure to read is
the median of the per-run ratios (cached / bare), of wall times and of the process's CPU times
(which a busy machine disturbs less).
"""

import statistics
import sys
import time

import torch
import transformers

from ml4llm.hooks import hook_names, run_with_cache
from ml4llm.models import load_model

runs = int(sys.argv[1]) if len(sys.argv) > 1 else 50
lengths = [int(n) for n in sys.argv[2].split(",")] if len(sys.argv) > 2 else [64, 512]
model_id = sys.argv[3] if len(sys.argv) > 3 else None
if model_id is None:
    torch.manual_seed(0)
    config = transformers.GPT2Config()
    config._attn_implementation = "eager"
    model = transformers.GPT2LMHeadModel(config).eval()
    model_id = "GPT-2 small config (seeded random)"
else:
    model = load_model(model_id, profile="offline", device="cpu")
print(
    f"{model_id}: transformers {transformers.__version__}, torch {torch.__version__}, "
    f"{torch.get_num_threads()} threads; {len(hook_names(model))} hook names; batch 1, {runs} runs"
)


def measure(tokens: int) -> None:
    """Print the medians and the paired median ratio at ``tokens`` tokens."""
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(0, model.config.vocab_size, (1, tokens), generator=generator)
    inputs = {"input_ids": ids}

    def bare() -> None:
        with torch.no_grad():
            model(**inputs, output_hidden_states=True)

    def cached() -> None:
        run_with_cache(model, inputs)

    for _ in range(5):  # warm-up
        bare()
        cached()
    bare_times, cache_times, bare_cpu, cache_cpu = [], [], [], []
    for _ in range(runs):  # interleaved, so that machine load hits both alike
        for call, wall, cpu in ((bare, bare_times, bare_cpu), (cached, cache_times, cache_cpu)):
            start, start_cpu = time.perf_counter(), time.process_time()
            call()
            wall.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
    ratios = [c / b for c, b in zip(cache_times, bare_times)]
    cpu_ratios = [c / b for c, b in zip(cache_cpu, bare_cpu)]
    print(
        f"{tokens:>4} tokens: bare forward (output_hidden_states=True) median "
        f"{1e3 * statistics.median(bare_times):.2f} ms, run_with_cache (all names) median "
        f"{1e3 * statistics.median(cache_times):.2f} ms; paired median ratio "
        f"{statistics.median(ratios):.3f} (of CPU times {statistics.median(cpu_ratios):.3f})",
        flush=True,
    )


for tokens in lengths:
    measure(tokens)
