"""The course's promises about bad networks, bad settings and bad inputs (issue 12), one test each.

Network tests talk to servers on 127.0.0.1 run by this file (threads): one that accepts and
never answers, one that answers every request with HTTP 503, one that resets the connection,
and a "hub" that answers the probe but fails every download. Each test is bounded to seconds.
"""

from __future__ import annotations

import os
import socket
import struct
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

os.environ["ML4LLM_PROFILE"] = "offline"
os.environ["HF_HUB_OFFLINE"] = "1"

import pytest
import torch
import transformers
from tqdm.auto import tqdm

import ml4llm
from ml4llm import data, hooks, models
from ml4llm.data import books

REPO = Path(__file__).resolve().parent.parent


# --------------------------------------------------------------------------- local servers


@dataclass
class Server:
    """A server on 127.0.0.1 that misbehaves in one way; it records what reached it."""

    url: str
    connections: int = 0
    request_lines: list[str] = field(default_factory=list)


_503 = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
_200 = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


@contextmanager
def local_server(kind: str) -> Iterator[Server]:
    """``silent`` (accepts, never answers), ``error`` (503), ``reset`` (RST) or ``hub``.

    ``hub`` answers the probe (HEAD /api/models/gpt2) with 200 and every other request with 503.
    """
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(32)
    listener.settimeout(0.1)
    server = Server(f"http://127.0.0.1:{listener.getsockname()[1]}")
    stop = threading.Event()
    open_connections: list[socket.socket] = []

    def answer(conn: socket.socket) -> None:
        conn.settimeout(2)
        try:
            line = conn.recv(65536).split(b"\r\n", 1)[0].decode("latin-1")
        except OSError:
            line = ""
        server.request_lines.append(line)
        if kind == "reset":
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        elif kind == "hub" and line.startswith("HEAD /api/models/gpt2 "):
            conn.sendall(_200)
        else:
            conn.sendall(_503)
        conn.close()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            server.connections += 1
            if kind == "silent":
                open_connections.append(conn)  # held open, never answered
            else:
                answer(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        stop.set()
        thread.join(2)
        listener.close()
        for conn in open_connections:
            conn.close()


@pytest.fixture
def auto(monkeypatch, tmp_path):
    """The default profile with a fresh network answer, a temporary course cache and Hub cache."""
    monkeypatch.setenv("ML4LLM_PROFILE", "auto")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setenv("ML4LLM_CACHE", str(tmp_path / "course"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr(models, "_hub_answers", {})
    monkeypatch.setattr(models, "_announced_auto", False)
    return monkeypatch


def write_hub_cache(hub_cache: Path) -> None:
    """A real-config GPT-2 (GPT2LMHeadModel, 1 layer x 8) and GPT-2's tokenizer as ``gpt2``,
    in the layout huggingface_hub uses: models--gpt2/refs/main -> snapshots/<commit>/."""
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = hub_cache / "models--gpt2"
    snapshot = repo / "snapshots" / commit
    config = transformers.GPT2Config(n_layer=1, n_embd=8, n_head=2, n_positions=1024)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        transformers.GPT2LMHeadModel(config).save_pretrained(str(snapshot))
    tokenizer_folder, _ = models._offline_tokenizer_source("gpt2")
    for name in ("vocab.json", "merges.txt", "tokenizer_config.json"):
        (snapshot / name).write_bytes((tokenizer_folder / name).read_bytes())
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)


def run_python(code: str, env: dict[str, str], timeout: float = 60) -> tuple[str, str]:
    """Run ``code`` in a fresh interpreter (the Hub client reads its settings at import)."""
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={**os.environ, "PYTHONPATH": os.environ.get("PYTHONPATH", ""), **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout, result.stderr


# --------------------------------------------------------------------------- 2. network policy


@pytest.mark.parametrize("kind", ["silent", "error", "reset"])
def test_auto_counts_the_hub_as_reachable_only_after_a_real_answer(auto, kind):
    with local_server(kind) as server:
        auto.setenv("HF_ENDPOINT", server.url)
        started = time.monotonic()
        assert models.hub_reachable() is False
        assert time.monotonic() - started < models.HUB_PROBE_TIMEOUT + 1.5
        assert models.hub_reachable() is False  # asked once per process
        assert server.connections == 1


def test_auto_uses_the_hub_that_answers_at_the_endpoint_the_client_uses(auto):
    with local_server("hub") as server:
        auto.setenv("HF_ENDPOINT", server.url + "/")
        assert models.hub_reachable() is True
        assert server.request_lines == ["HEAD /api/models/gpt2 HTTP/1.1"]
        assert models.resolve_profile("gpt2") == "hub"


def test_hf_hub_offline_asks_no_server(auto):
    with local_server("hub") as server:
        auto.setenv("HF_ENDPOINT", server.url)
        auto.setenv("HF_HUB_OFFLINE", "1")
        assert models.hub_reachable() is False
        assert server.connections == 0


def test_auto_without_hub_uses_the_standin_in_one_line(auto, capsys):
    with local_server("silent") as server:
        auto.setenv("HF_ENDPOINT", server.url)
        model = models.load_model("gpt2", device="cpu")
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Hugging Face Hub not reachable: using the offline profile")
    assert out[1].startswith("gpt2 -> offline stand-in (GPT2LMHeadModel, 4 layers x 128")
    assert len(out) == 2 and not models.is_trained(model)


def test_cached_model_and_tokenizer_load_from_the_hub_cache_when_the_hub_is_unreachable(
    auto, tmp_path, capsys
):
    write_hub_cache(tmp_path / "hub")
    with local_server("reset") as server:
        auto.setenv("HF_ENDPOINT", server.url)
        started = time.monotonic()
        model = models.load_model("gpt2", device="cpu")
        tokenizer = models.load_tokenizer("gpt2")
        assert time.monotonic() - started < models.HUB_PROBE_TIMEOUT + 5
        assert server.connections == 1  # the probe, nothing else
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "gpt2 -> the real one from the local Hugging Face cache (the Hub does not answer).",
        "gpt2 tokenizer -> the real one from the local Hugging Face cache (the Hub does not answer).",
    ]
    assert model.config.n_layer == 1 and models.is_trained(model)
    assert tokenizer("Hello world")["input_ids"] == [15496, 995]


def test_hub_profile_without_hub_is_one_short_error_naming_the_resource(auto):
    auto.setenv("ML4LLM_PROFILE", "hub")
    with local_server("silent") as server:
        auto.setenv("HF_ENDPOINT", server.url)
        with pytest.raises(OSError) as err:
            models.load_tokenizer("gpt2")
    message = str(err.value)
    assert message.startswith("Could not load the gpt2 tokenizer from the local Hub cache")
    assert "the Hub does not answer" in message and "ML4LLM_PROFILE=offline" in message
    assert "\n" not in message and len(message) < 500
    assert err.value.__cause__ is None and err.value.__suppress_context__


def test_hf_hub_offline_loads_cached_models_and_standins_for_the_rest(tmp_path):
    write_hub_cache(tmp_path / "hub")
    code = """
        from ml4llm import models
        gpt2 = models.load_model("gpt2", device="cpu")
        tokenizer = models.load_tokenizer("gpt2")
        bert = models.load_model("bert-base-uncased", device="cpu")
        print("layers", gpt2.config.n_layer, models.is_trained(gpt2), tokenizer("Hi")["input_ids"])
    """
    env = {
        "HF_HUB_OFFLINE": "1",
        "ML4LLM_PROFILE": "",
        "HF_HUB_CACHE": str(tmp_path / "hub"),
        "ML4LLM_CACHE": str(tmp_path / "course"),
        "HF_ENDPOINT": "http://127.0.0.1:9",  # must not be asked
    }
    out, _ = run_python(code, env)
    lines = out.splitlines()
    assert lines[0] == "gpt2 -> the real one from the local Hugging Face cache (HF_HUB_OFFLINE=1)."
    assert lines[1] == (
        "gpt2 tokenizer -> the real one from the local Hugging Face cache (HF_HUB_OFFLINE=1)."
    )
    assert lines[2].startswith("HF_HUB_OFFLINE=1: using the offline profile")
    assert lines[3].startswith("bert-base-uncased -> offline stand-in")
    assert lines[4] == "layers 1 True [17250]"


def test_a_hub_that_fails_after_the_probe_falls_back_in_one_line_within_bounded_time(tmp_path):
    code = """
        import time
        import transformers  # imported before the clock starts: only the network is timed
        from ml4llm import models
        transformers.GPT2LMHeadModel, transformers.AutoTokenizer
        started = time.monotonic()
        model = models.load_model("gpt2", device="cpu")
        print("model", round(time.monotonic() - started))
        started = time.monotonic()
        tokenizer = models.load_tokenizer("gpt2")
        print("tokenizer", round(time.monotonic() - started))
    """
    with local_server("hub") as server:
        env = {
            "ML4LLM_PROFILE": "auto",
            "HF_HUB_OFFLINE": "",
            "TRANSFORMERS_OFFLINE": "",
            "HF_ENDPOINT": server.url,
            "HF_HUB_CACHE": str(tmp_path / "hub"),
            "ML4LLM_CACHE": str(tmp_path / "course"),
        }
        out, err = run_python(code, env)
        config_requests = [line for line in server.request_lines if "config.json" in line]
    lines = out.splitlines()
    assert lines[0] == (
        "Could not load gpt2 from the Hugging Face Hub (OSError): using its offline substitute "
        "instead."
    )
    assert lines[1].startswith("gpt2 -> offline stand-in")
    assert int(lines[2].split()[1]) < 15  # one retry, bounded timeouts
    assert lines[3].startswith("gpt2 tokenizer -> offline copy")  # no second try of the Hub
    assert int(lines[4].split()[1]) < 3
    assert 1 <= len(config_requests) <= 4  # at most two look-ups, each tried twice at most
    assert "Retrying" not in err and "503" not in err  # no retry lines under the fallback line


def test_one_unreachable_gutenberg_ends_the_book_loop_at_once(auto, capsys):
    auto.setattr(models, "hub_reachable", lambda: True)
    bars = []

    def recorded_tqdm(*args, **kwargs):
        bars.append(tqdm(*args, **kwargs))
        return bars[-1]

    auto.setattr(books, "tqdm", recorded_tqdm)
    with local_server("silent") as server:
        auto.setattr(books, "GUTENBERG_URL", server.url + "/cache/epub/{id}/pg{id}.txt")
        started = time.monotonic()
        loaded = data.load_books([84, 11, 1513], profile="auto")
        assert time.monotonic() - started < models.NETWORK_TIMEOUT + 2
        assert server.connections == 1
    out = capsys.readouterr()
    assert "Could not load the Gutenberg books (TimeoutError)" in out.out
    assert [book.title for book in loaded] == [
        "Othello",
        "A Midsummer Night's Dream",
        "Romeo and Juliet (play)",
    ]
    (bar,) = bars
    assert bar.disable and bar.leave is False  # closed and taken off the screen


def test_tiktoken_download_failure_falls_back_under_auto_and_is_one_error_under_hub(auto, capsys):
    auto.setattr(models, "hub_reachable", lambda: True)
    with local_server("reset") as server:
        auto.setattr(models, "TIKTOKEN_SOURCE", server.url + "/")
        encoding = models.tiktoken_encoding("gpt2")
        out = capsys.readouterr().out.splitlines()
        assert out[0].startswith("Could not load tiktoken's gpt2 files from http://127.0.0.1")
        assert out[0].endswith("using its offline substitute instead.")
        assert encoding.encode("Hello world") == [15496, 995]
        with pytest.raises(OSError, match="ML4LLM_PROFILE=offline") as err:
            models.tiktoken_encoding("cl100k_base", profile="hub")
    assert "\n" not in str(err.value)


# --------------------------------------------------------------------------- 3. settings


def test_a_wrong_profile_names_the_setting_its_values_and_the_closest(monkeypatch):
    monkeypatch.setenv("ML4LLM_PROFILE", "ofline")
    message = "Unknown profile 'ofline' in ML4LLM_PROFILE: use one of hub, offline, auto"
    with pytest.raises(ValueError, match=message) as err:
        models.load_model("gpt2")
    assert "Did you mean 'offline'?" in str(err.value)
    with pytest.raises(ValueError, match=message):  # books read the same setting the same way
        data.load_books([84])
    with pytest.raises(ValueError, match="in the profile= argument"):
        models.resolve_profile("gpt2", "cloud")
    monkeypatch.setenv("ML4LLM_PROFILE", " OFFLINE ")
    assert models.requested_profile() == "offline"


def test_device_setting_is_normalised_and_checked(monkeypatch):
    monkeypatch.setenv("ML4LLM_DEVICE", " CPU ")
    assert models.get_device() == torch.device("cpu")
    monkeypatch.setenv("ML4LLM_DEVICE", "gpu")
    with pytest.raises(ValueError, match=r"Unknown device 'gpu' in ML4LLM_DEVICE: use one of cpu"):
        models.get_device()
    if not torch.cuda.is_available():
        monkeypatch.setenv("ML4LLM_DEVICE", "CUDA")
        with pytest.raises(ValueError, match="ML4LLM_DEVICE=cuda but CUDA is not available"):
            models.get_device()


def test_an_unusable_cache_folder_names_ml4llm_cache(monkeypatch, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("ML4LLM_CACHE", str(blocker / "cache"))
    with pytest.raises(OSError, match=r"Cannot create ML4LLM_CACHE=.*set ML4LLM_CACHE to a folder"):
        models.cache_dir()


def test_a_corrupted_tiktoken_file_is_found_by_its_checksum_and_rewritten(
    monkeypatch, tmp_path, capsys
):
    monkeypatch.setenv("ML4LLM_CACHE", str(tmp_path))
    models.seed_tiktoken_cache("cl100k_base")
    (cached,) = (tmp_path / "tiktoken").iterdir()
    cached.write_bytes(cached.read_bytes()[:1000])  # an interrupted write
    encoding = models.tiktoken_encoding("cl100k_base")
    assert "the cached cl100k_base failed its checksum; rewritten." in capsys.readouterr().out
    assert encoding.encode("Hello world") == [9906, 1917]


def test_an_unknown_model_id_suggests_the_closest_known_ids():
    with pytest.raises(ValueError, match=r"Did you mean 'gpt2'\?"):
        models.load_model("gtp2")
    with pytest.raises(ValueError, match=r"Did you mean 'EleutherAI/pythia-410m'"):
        models.get_spec("pythia-410m")


# --------------------------------------------------------------------------- 4. run_with_cache and hooks()


@pytest.fixture(scope="module")
def gpt2() -> transformers.PreTrainedModel:
    return models.load_model("gpt2", device="cpu")


def test_from_ml4llm_import_hooks_is_the_module():
    assert hooks.__name__ == "ml4llm.hooks" and ml4llm.hooks is hooks
    assert "hooks" not in ml4llm.__all__ and callable(hooks.hooks)


@pytest.fixture(scope="module")
def gpt2_tokenizer():
    return models.load_tokenizer("gpt2")


def test_an_empty_input_says_to_give_at_least_one_token(gpt2, gpt2_tokenizer):
    with pytest.raises(ValueError, match=r"The input holds no tokens \(shape \[1, 0\]\)"):
        hooks.run_with_cache(gpt2, torch.zeros(1, 0, dtype=torch.long))
    with pytest.raises(ValueError, match="an empty text has no tokens"):
        hooks.run_with_cache(gpt2, gpt2_tokenizer("", return_tensors="pt"))
    with pytest.raises(TypeError, match="return_tensors='pt'"):
        hooks.run_with_cache(gpt2, gpt2_tokenizer("Hello"))


def test_ids_of_another_tokenizer_are_named_as_such(gpt2):
    with pytest.raises(ValueError) as err:
        hooks.run_with_cache(gpt2, torch.tensor([[60000, 1]]))
    assert "Token id 60000 is outside this model's vocabulary (ids 0 .. 50256)" in str(err.value)
    assert "load_tokenizer('gpt2')" in str(err.value)


def test_inputs_embeds_longer_than_the_context_are_refused(gpt2):
    too_long = torch.zeros(1, gpt2.config.n_positions + 1, gpt2.config.n_embd)
    with pytest.raises(
        ValueError, match="The input has 1025 tokens but the model takes at most 1024"
    ):
        hooks.run_with_cache(gpt2, {"inputs_embeds": too_long})


def test_names_that_are_not_strings_and_one_argument_hooks_say_what_to_write(gpt2):
    ids = torch.tensor([[1, 2]])
    with pytest.raises(
        TypeError, match="Hook names are strings such as 'blocks.0.hook_resid_post', not int 5"
    ):
        hooks.run_with_cache(gpt2, ids, names=5)

    def one_argument(activation):
        return None

    with pytest.raises(TypeError, match=r"def fn\(activation, hook\)"):
        with hooks.hooks(gpt2, [("blocks.0.hook_resid_pre", one_argument)]):
            pass
    with pytest.raises(
        TypeError, match=r"for one hook write hooks\(model, \[\('blocks.0.hook_resid_pre', fn\)\]\)"
    ):
        with hooks.hooks(gpt2, ("blocks.0.hook_resid_pre", lambda activation, hook: None)):
            pass


def test_a_layer_out_of_range_names_the_valid_range(gpt2):
    _, cache = hooks.run_with_cache(gpt2, torch.tensor([[1, 2]]), names="hook_pattern")
    with pytest.raises(
        KeyError, match=r"Layer -99 is out of range: this model has 4 layers, 0 \.\. 3"
    ):
        cache["pattern", -99]
    with pytest.raises(KeyError, match=r"Layer 4 is out of range"):
        cache["pattern", 4]
    assert torch.equal(cache["pattern", -1], cache["blocks.3.attn.hook_pattern"])


@pytest.mark.parametrize(
    "model_id",
    [
        "gpt2",
        "EleutherAI/gpt-neo-125m",
        "bert-base-uncased",
        "roberta-base",
        "EleutherAI/pythia-410m",
    ],
)
def test_a_left_padded_batch_gives_the_activations_of_the_unpadded_run(model_id):
    model = models.load_model(model_id, device="cpu")
    tokenizer = models.load_tokenizer(model_id)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "left"
    batch = tokenizer(
        ["The cat sat on the mat today", "Hello there"], return_tensors="pt", padding=True
    )
    alone = tokenizer(["Hello there"], return_tensors="pt")
    n = alone["input_ids"].shape[1]
    assert batch["attention_mask"][1, 0] == 0  # the short text really is padded on the left
    _, padded = hooks.run_with_cache(model, batch, names="hook_resid_post")
    _, unpadded = hooks.run_with_cache(model, alone, names="hook_resid_post")
    for name in unpadded:
        torch.testing.assert_close(padded[name][1, -n:], unpadded[name][0], atol=1e-4, rtol=1e-4)


def test_a_left_padded_batch_on_a_rotary_llama_gives_the_unpadded_activations():
    """Rotary q·k depends on relative positions only, so this holds through the mask (and the
    grouped-query heads) alone; learned positions (GPT-2, GPT-Neo, BERT) need the position ids."""
    config = transformers.LlamaConfig(
        vocab_size=64,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        intermediate_size=64,
        attn_implementation="eager",
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = transformers.LlamaForCausalLM(config).eval()
    batch = {
        "input_ids": torch.tensor([[5, 6, 7, 8, 9], [0, 0, 0, 11, 12]]),
        "attention_mask": torch.tensor([[1, 1, 1, 1, 1], [0, 0, 0, 1, 1]]),
    }
    _, padded = hooks.run_with_cache(model, batch, names=["blocks.1.hook_resid_post"])
    _, alone = hooks.run_with_cache(
        model, torch.tensor([[11, 12]]), names=["blocks.1.hook_resid_post"]
    )
    torch.testing.assert_close(padded["resid_post", 1][1, -2:], alone["resid_post", 1][0])
