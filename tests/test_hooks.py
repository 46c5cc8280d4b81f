"""Tests of ml4llm.hooks on every architecture it supports.

GPT-2, GPT-Neo, BERT, RoBERTa and Pythia (GPT-NeoX) run on the offline stand-ins; the Llama
family (Llama, Qwen2, Mistral) and a GPT-NeoX without Pythia's parallel residual on tiny seeded
models. Every cached activation is checked against what the model itself computes: its
``output_hidden_states`` and ``output_attentions``, its own modules applied to cached inputs, and
attention recomputed from the cached q, k and v (after the rotary embedding, where there is one).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import torch
import transformers
from torch import Tensor, nn

from ml4llm.hooks import (
    ActivationCache,
    HookPoint,
    act_name,
    block_output,
    hook_names,
    hooks,
    run_with_cache,
)

# (model id, head) of a registry model, or the name of a tiny seeded model (see _tiny): the
# architectures, BERT both as the trained MiniLM encoder and with a masked-LM head, GPT-2 also
# without its LM head.
MODELS: dict[str, tuple[str, str] | str] = {
    "gpt2": ("gpt2", "lm"),
    "gpt2_base": ("gpt2", "base"),
    "gpt_neo": ("EleutherAI/gpt-neo-125m", "lm"),
    "bert": ("bert-base-uncased", "base"),
    "bert_mlm": ("bert-base-uncased", "mlm"),
    "roberta": ("roberta-base", "mlm"),
    "pythia": ("EleutherAI/pythia-410m", "lm"),
    "gpt_neox_sequential": "gpt_neox_sequential",
    "llama": "llama",
    "qwen2": "qwen2",
    "mistral": "mistral",
}
TRANSFORMERS_MAJOR = int(transformers.__version__.split(".")[0])
LLAMA_FAMILY = ("llama", "qwen2", "mistral")
ROTARY = (*LLAMA_FAMILY, "gpt_neox")


def _tiny(kind: str) -> nn.Module:
    """A tiny seeded causal LM: 3 layers x 64, 4 heads, eager attention.

    Llama with 2 key/value heads, Qwen2 (q/k/v biases) with 2, Mistral with 1 and a sliding
    window of 3 tokens, and a GPT-NeoX with a sequential residual and rotary on half of each head.
    """
    common: dict[str, Any] = {
        "vocab_size": 2200,
        "hidden_size": 64,
        "num_hidden_layers": 3,
        "num_attention_heads": 4,
        "intermediate_size": 96,
        "max_position_embeddings": 64,
    }
    if kind == "llama":
        config = transformers.LlamaConfig(num_key_value_heads=2, **common)
        cls = transformers.LlamaForCausalLM
    elif kind == "qwen2":
        config = transformers.Qwen2Config(num_key_value_heads=2, **common)
        cls = transformers.Qwen2ForCausalLM
    elif kind == "mistral":
        config = transformers.MistralConfig(num_key_value_heads=1, sliding_window=3, **common)
        cls = transformers.MistralForCausalLM
    else:
        config = transformers.GPTNeoXConfig(use_parallel_residual=False, rotary_pct=0.5, **common)
        cls = transformers.GPTNeoXForCausalLM
    config._attn_implementation = "eager"
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = cls(config)
    return model.eval().requires_grad_(False)


@pytest.fixture(scope="module")
def offline() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ML4LLM_PROFILE", "offline")
        patch.setenv("HF_HUB_OFFLINE", "1")
        yield


@pytest.fixture(scope="module", autouse=True)
def one_thread() -> Iterator[None]:
    """The stand-ins are tiny: one thread beats two that fight over a busy CPU."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module", params=list(MODELS), ids=list(MODELS))
def model(request: pytest.FixtureRequest, offline: None) -> nn.Module:
    from ml4llm.models import load_model

    source = MODELS[request.param]
    if isinstance(source, str):
        return _tiny(source)
    model_id, head = source
    return load_model(model_id, head=head, profile="offline", device="cpu")


def _pad_id(model: nn.Module) -> int:
    return model.config.pad_token_id if model.config.pad_token_id is not None else 0


@pytest.fixture(scope="module")
def batch(model: nn.Module) -> dict[str, Tensor]:
    """Two sequences, the second right-padded by two tokens."""
    ids = torch.tensor([[1012, 1037, 1996, 2154, 2003, 1045], [1012, 2023, 2003, 1037, 0, 0]])
    mask = torch.tensor([[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0]])
    ids[mask == 0] = _pad_id(model)
    return {"input_ids": ids, "attention_mask": mask}


@pytest.fixture(scope="module")
def clean(model: nn.Module, batch: dict[str, Tensor]) -> tuple[Any, ActivationCache]:
    """A cached run of ``batch`` that also asks for the model's own hidden states and attentions."""
    return run_with_cache(model, {**batch, "output_hidden_states": True, "output_attentions": True})


def _final(output: Any) -> Tensor:
    """Logits where the model has a head, else the last hidden state."""
    logits = getattr(output, "logits", None)
    return logits if logits is not None else output.last_hidden_state


def _forward(model: nn.Module, batch: dict[str, Tensor]) -> Tensor:
    with torch.no_grad():
        return _final(model(**batch))


def _kind(model: nn.Module) -> str:
    return model.config.model_type


def _pre_ln(model: nn.Module) -> bool:
    return _kind(model) not in ("bert", "roberta")


def _rotary(model: nn.Module) -> bool:
    return _kind(model) in ROTARY


def _parallel(model: nn.Module) -> bool:
    """Pythia's blocks: resid_post = resid_pre + attn_out + mlp_out, no resid_mid."""
    return _kind(model) == "gpt_neox" and model.config.use_parallel_residual


def _gated(model: nn.Module) -> bool:
    return _kind(model) in LLAMA_FAMILY


def _blocks(model: nn.Module) -> nn.ModuleList:
    base = model.base_model
    if _kind(model) in ("gpt2", "gpt_neo"):
        return base.h
    if _kind(model) in ("bert", "roberta"):
        return base.encoder.layer
    return base.layers


def _embed(model: nn.Module) -> nn.Module:
    base = model.base_model
    if _kind(model) in ("gpt2", "gpt_neo"):
        return base.wte
    if _kind(model) in ("bert", "roberta"):
        return base.embeddings.word_embeddings
    return base.embed_in if _kind(model) == "gpt_neox" else base.embed_tokens


def _final_norm(model: nn.Module) -> nn.Module:
    base = model.base_model
    if _kind(model) in ("gpt2", "gpt_neo"):
        return base.ln_f
    return base.final_layer_norm if _kind(model) == "gpt_neox" else base.norm


def _out_proj(model: nn.Module, layer: int) -> nn.Module:
    block = _blocks(model)[layer]
    return {
        "gpt2": lambda: block.attn.c_proj,
        "gpt_neo": lambda: block.attn.attention.out_proj,
        "gpt_neox": lambda: block.attention.dense,
        "bert": lambda: block.attention.output.dense,
        "roberta": lambda: block.attention.output.dense,
    }.get(_kind(model), lambda: block.self_attn.o_proj)()


def _down_proj(model: nn.Module, layer: int) -> nn.Module:
    block = _blocks(model)[layer]
    return {
        "gpt2": lambda: block.mlp.c_proj,
        "gpt_neo": lambda: block.mlp.c_proj,
        "gpt_neox": lambda: block.mlp.dense_4h_to_h,
        "bert": lambda: block.output.dense,
        "roberta": lambda: block.output.dense,
    }.get(_kind(model), lambda: block.mlp.down_proj)()


def _ln_2(block: nn.Module) -> nn.Module:
    """The LayerNorm (or RMSNorm) in front of a pre-LN block's MLP."""
    return getattr(block, "ln_2", None) or block.post_attention_layernorm


def _activation(block: nn.Module) -> nn.Module:
    mlp = block.mlp
    return getattr(mlp, "act_fn", None) or mlp.act


def _d_head(model: nn.Module) -> int:
    config = model.config
    return getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads


def _kv_heads(model: nn.Module) -> int:
    return getattr(model.config, "num_key_value_heads", None) or model.config.num_attention_heads


def _hook_count(model: nn.Module) -> int:
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules())


def _pattern_writable(model: nn.Module) -> bool:
    """Where the model calls an attention-dropout module on the probabilities (module docstring)."""
    return _kind(model) == "gpt_neo" or (
        TRANSFORMERS_MAJOR < 5 and _kind(model) in ("gpt2", "bert", "roberta")
    )


def _records_inside_forward(model: nn.Module) -> bool:
    """transformers 4.x records the Llama family's hidden states before forward hooks run."""
    return TRANSFORMERS_MAJOR < 5 and _kind(model) in LLAMA_FAMILY


def _per_block(model: nn.Module) -> list[str]:
    """The suffixes of one block's hook names, in firing order."""
    q, k = ["attn.hook_q"], ["attn.hook_k"]
    if _rotary(model):
        q, k = [*q, "attn.hook_rot_q"], [*k, "attn.hook_rot_k"]
    mid = [] if _parallel(model) else ["hook_resid_mid"]
    mlp_in = ["mlp.hook_pre", "mlp.hook_pre_linear"] if _gated(model) else ["mlp.hook_pre"]
    return [
        "hook_resid_pre",
        *q,
        *k,
        "attn.hook_v",
        "attn.hook_pattern",
        "attn.hook_z",
        "hook_attn_out",
        *mid,
        *mlp_in,
        "mlp.hook_post",
        "hook_mlp_out",
        "hook_resid_post",
    ]


# --------------------------------------------------------------------------- names


def test_hook_names_per_architecture(model: nn.Module) -> None:
    names = hook_names(model)
    n_layers = model.config.num_hidden_layers
    expected = ["hook_embed"] if _rotary(model) else ["hook_embed", "hook_pos_embed"]
    expected += [f"blocks.{layer}.{s}" for layer in range(n_layers) for s in _per_block(model)]
    if _pre_ln(model):
        expected.append("ln_final.hook_normalized")  # BERT and RoBERTa have no final LayerNorm
    assert names == expected


def test_wrong_name_raises_and_lists_valid_names(model: nn.Module) -> None:
    last = model.config.num_hidden_layers - 1
    before = _hook_count(model)
    with pytest.raises(ValueError) as err:
        with hooks(
            model,
            [("blocks.0.hook_resid_pre", lambda t, hook: None), ("blocks.99.attn.hook_q", print)],
        ):
            pass
    message = str(err.value)
    assert "blocks.99.attn.hook_q" in message and f"Its layers are 0..{last}" in message
    assert f"blocks.{{0..{last}}}.attn.hook_q" in message and "hook_embed" in message
    assert _hook_count(model) == before  # nothing was installed
    with pytest.raises(ValueError, match=r"Did you mean 'blocks.0.attn.hook_pattern'"):
        run_with_cache(model, torch.tensor([5, 6]), names=["blocks.0.attn.hook_patern"])
    with pytest.raises(ValueError, match="Valid names"):
        run_with_cache(model, torch.tensor([5, 6]), names="hook_nothing")
    if not _pre_ln(model):
        with pytest.raises(ValueError, match="no final LayerNorm"):
            run_with_cache(model, torch.tensor([5, 6]), names=["ln_final.hook_normalized"])


def test_names_other_architectures_have_are_explained(model: nn.Module) -> None:
    """A name that exists elsewhere but not here says why."""
    reasons = {
        "blocks.0.attn.hook_rot_q": (not _rotary(model), "has no rotary embedding"),
        "hook_pos_embed": (_rotary(model), "positions enter through the rotary embedding"),
        "blocks.1.mlp.hook_pre_linear": (not _gated(model), "Only gated MLPs"),
        "blocks.0.hook_resid_mid": (_parallel(model), "adds attention and MLP in parallel"),
    }
    for name, (missing, reason) in reasons.items():
        if missing:
            with pytest.raises(ValueError, match=reason):
                run_with_cache(model, torch.tensor([5, 6]), names=[name])
        else:
            assert name in hook_names(model)


def test_hook_names_must_be_strings(model: nn.Module) -> None:
    with pytest.raises(TypeError, match=r"strings such as .*act_name\(short, layer\)"):
        with hooks(model, [(("resid_post", 0), lambda t, hook: None)]):
            pass
    with pytest.raises(TypeError, match="not int 3"):
        run_with_cache(model, torch.tensor([5, 6]), names=[3])
    with pytest.raises(TypeError, match="strings"):
        run_with_cache(model, torch.tensor([5, 6]), names=7)


def test_unsupported_architecture_names_the_supported_ones() -> None:
    module = nn.Linear(2, 2)
    module.config = SimpleNamespace(model_type="t5")
    with pytest.raises(
        ValueError, match="gpt2, gpt_neo, bert, roberta, llama, qwen2, mistral, gpt_neox"
    ):
        hook_names(module)


def test_names_filters(model: nn.Module, batch: dict[str, Tensor]) -> None:
    n_layers = model.config.num_hidden_layers
    _, by_substring = run_with_cache(model, batch, names="hook_pattern")
    assert list(by_substring) == [f"blocks.{layer}.attn.hook_pattern" for layer in range(n_layers)]
    _, by_predicate = run_with_cache(model, batch, names=lambda name: name.startswith("blocks.1."))
    assert len(by_predicate) == len(_per_block(model))
    _, exact = run_with_cache(model, batch, names="hook_embed")
    assert list(exact) == ["hook_embed"]
    # A list is cached in firing order, whatever order it was given in.
    _, listed = run_with_cache(model, batch, names=["blocks.1.hook_mlp_out", "hook_embed"])
    assert list(listed) == ["hook_embed", "blocks.1.hook_mlp_out"]


# --------------------------------------------------------------------------- reading


def test_cache_shapes_and_storage(model: nn.Module, clean: tuple[Any, ActivationCache]) -> None:
    _, cache = clean
    config = model.config
    batch, pos, d_model = 2, 6, config.hidden_size
    heads, kv_heads, d_head = config.num_attention_heads, _kv_heads(model), _d_head(model)
    # GPT-2's and GPT-Neo's configs leave the MLP width unset: 4 x d_model.
    d_mlp = getattr(config, "intermediate_size", None) or 4 * d_model
    for name, tensor in cache.items():
        assert tensor.device.type == "cpu" and not tensor.requires_grad, name
        short = name.rsplit("hook_", 1)[1]
        if short in ("q", "rot_q", "z"):
            assert tensor.shape == (batch, pos, heads, d_head), name
        elif short in ("k", "rot_k", "v"):
            assert tensor.shape == (batch, pos, kv_heads, d_head), name
        elif short == "pattern":
            assert tensor.shape == (batch, heads, pos, pos), name
        elif ".mlp." in name:
            assert tensor.shape == (batch, pos, d_mlp), name
        elif short == "pos_embed":
            assert tensor.shape in ((1, pos, d_model), (batch, pos, d_model)), name
        else:
            assert tensor.shape == (batch, pos, d_model), name
    # The cache holds copies: changing the model's own output afterwards leaves it as it was.
    output, cache = run_with_cache(
        model, {"input_ids": torch.tensor([[5, 6, 7]]), "output_hidden_states": True}, names="resid"
    )
    kept = cache["resid_pre", 1].clone()
    output.hidden_states[1].zero_()  # the input of block 1 in every architecture
    assert torch.equal(cache["resid_pre", 1], kept)


def test_resid_equals_output_hidden_states(
    model: nn.Module, clean: tuple[Any, ActivationCache]
) -> None:
    output, cache = clean
    hidden = output.hidden_states
    n_layers = model.config.num_hidden_layers
    assert len(hidden) == n_layers + 1
    if _pre_ln(model):
        # hidden_states[i] is the input of block i; the last one comes after the final LayerNorm.
        for layer in range(n_layers):
            assert torch.equal(hidden[layer], cache["resid_pre", layer])
        assert torch.equal(hidden[n_layers], cache["ln_final.hook_normalized"])
        assert not torch.allclose(hidden[n_layers], cache["resid_post", n_layers - 1])
    else:
        assert torch.equal(hidden[0], cache["resid_pre", 0])
        for layer in range(n_layers):
            assert torch.equal(hidden[layer + 1], cache["resid_post", layer])


def test_pattern_equals_output_attentions(
    model: nn.Module, clean: tuple[Any, ActivationCache]
) -> None:
    output, cache = clean
    for layer, attentions in enumerate(output.attentions):
        pattern = cache["pattern", layer]
        assert torch.equal(attentions, pattern)
        torch.testing.assert_close(pattern.sum(-1), torch.ones(pattern.shape[:-1]))


def test_cache_run_changes_nothing(
    model: nn.Module, batch: dict[str, Tensor], clean: tuple[Any, ActivationCache]
) -> None:
    output, cache = clean
    assert torch.equal(_final(output), _forward(model, batch))
    with torch.no_grad():
        plain = model(**batch, output_hidden_states=True)
    for layer in range(1, model.config.num_hidden_layers):
        assert torch.equal(plain.hidden_states[layer], cache["resid_pre", layer])
    # The same ids given as a bare tensor (no padding) or one unbatched sequence.
    ids = batch["input_ids"][:1]
    out_ids, cache_ids = run_with_cache(model, ids, names="hook_resid_post")
    out_1d, cache_1d = run_with_cache(model, ids[0], names="hook_resid_post")
    assert torch.equal(_final(out_ids), _final(out_1d))
    assert torch.equal(cache_ids["resid_post", -1], cache_1d["resid_post", -1])
    torch.testing.assert_close(cache_ids["resid_post", -1], cache["resid_post", -1][:1])


def _attention_mask(model: nn.Module, layer: int, padding: Tensor) -> Tensor:
    """[batch, 1, query, key] booleans: which keys each query may attend to."""
    pos = padding.shape[1]
    allowed = padding.bool()[:, None, None, :]
    if _pre_ln(model):
        query, key = torch.arange(pos)[:, None], torch.arange(pos)[None, :]
        allowed = allowed & (key <= query)
        if model.config.model_type == "gpt_neo" and model.config.attention_layers[layer] == "local":
            allowed = allowed & (query - key < model.config.window_size)
        if model.config.model_type == "mistral" and model.config.sliding_window:
            allowed = allowed & (query - key < model.config.sliding_window)
    return allowed


def _scores(model: nn.Module, cache: ActivationCache, layer: int) -> Tensor:
    """q·k per head from the cache: after the rotary embedding, key heads shared under GQA."""
    q = cache["rot_q" if _rotary(model) else "q", layer]
    k = cache["rot_k" if _rotary(model) else "k", layer]
    k = k.repeat_interleave(q.shape[2] // k.shape[2], dim=2)
    scores = torch.einsum("bqhd,bkhd->bhqk", q, k)
    if model.config.model_type != "gpt_neo":  # GPT-Neo does not scale by 1/sqrt(d_head)
        scores = scores / math.sqrt(q.shape[-1])
    return scores


def test_qkv_recombine_into_z_and_attn_out(
    model: nn.Module, batch: dict[str, Tensor], clean: tuple[Any, ActivationCache]
) -> None:
    _, cache = clean
    for layer in range(model.config.num_hidden_layers):
        allowed = _attention_mask(model, layer, batch["attention_mask"])
        pattern = _scores(model, cache, layer).masked_fill(~allowed, float("-inf")).softmax(-1)
        torch.testing.assert_close(pattern, cache["pattern", layer])
        v = cache["v", layer].repeat_interleave(pattern.shape[1] // cache["v", layer].shape[2], 2)
        z = torch.einsum("bhqk,bkhd->bqhd", pattern, v)
        torch.testing.assert_close(z, cache["z", layer])
        with torch.no_grad():
            attn_out = _out_proj(model, layer)(cache["z", layer].flatten(-2))
        torch.testing.assert_close(attn_out, cache["attn_out", layer])


def test_rotary_turns_q_and_k_by_position(
    model: nn.Module, clean: tuple[Any, ActivationCache]
) -> None:
    """hook_rot_q/k rotate hook_q/k: lengths kept, position 0 unturned, later positions turned."""
    if not _rotary(model):
        assert "blocks.0.attn.hook_rot_q" not in hook_names(model)
        return
    _, cache = clean
    for short in ("q", "k"):
        plain, turned = cache[short, 1], cache[f"rot_{short}", 1]
        torch.testing.assert_close(turned.norm(dim=-1), plain.norm(dim=-1))
        assert torch.equal(turned[:, 0], plain[:, 0])  # cos 0 = 1, sin 0 = 0
        assert not torch.allclose(turned[:, 1:], plain[:, 1:])
        if _kind(model) == "gpt_neox":  # only the first rotary_pct of each head turns
            n_rotary = _blocks(model)[1].attention.rotary_ndims
            assert 0 < n_rotary < _d_head(model)
            assert torch.equal(turned[..., n_rotary:], plain[..., n_rotary:])


def _check_layer(
    model: nn.Module, cache: ActivationCache, layer: int, mid_written: bool = False
) -> None:
    """How one block's resid_pre, attn_out, resid_mid, mlp_pre/post, mlp_out and resid_post fit.

    ``mid_written``: resid_mid was overwritten, so it is no longer made of resid_pre and attn_out.
    """
    close = torch.testing.assert_close
    block = _blocks(model)[layer]
    pre, post = cache["resid_pre", layer], cache["resid_post", layer]
    attn_out, mlp_pre, mlp_post, mlp_out = (
        cache[name, layer] for name in ("attn_out", "mlp_pre", "mlp_post", "mlp_out")
    )
    with torch.no_grad():
        # hook_post through the down projection is hook_mlp_out, in every architecture.
        close(_down_proj(model, layer)(mlp_post), mlp_out)
        if _parallel(model):  # Pythia: attention and MLP both read resid_pre
            close(post, pre + attn_out + mlp_out)
            close(mlp_out, block.mlp(_ln_2(block)(pre)))
        elif _pre_ln(model):
            mid = cache["resid_mid", layer]
            if not mid_written:
                close(mid, pre + attn_out)
            close(post, mid + mlp_out)
            close(mlp_out, block.mlp(_ln_2(block)(mid)))
        else:  # post-LN: a LayerNorm after each residual sum
            mid = cache["resid_mid", layer]
            if not mid_written:
                close(mid, block.attention.output.LayerNorm(attn_out + pre))
            close(post, block.output.LayerNorm(mlp_out + mid))
            close(mlp_post, block.intermediate.intermediate_act_fn(mlp_pre))
            close(mlp_pre, block.intermediate.dense(mid))
        if _gated(model):  # SwiGLU: act(gate) x up
            mlp_in = _ln_2(block)(cache["resid_mid", layer])
            close(cache["mlp_pre_linear", layer], block.mlp.up_proj(mlp_in))
            close(mlp_pre, block.mlp.gate_proj(mlp_in))
            close(mlp_post, _activation(block)(mlp_pre) * cache["mlp_pre_linear", layer])
        elif _pre_ln(model):
            close(mlp_post, _activation(block)(mlp_pre))


def test_block_relations(model: nn.Module, clean: tuple[Any, ActivationCache]) -> None:
    _, cache = clean
    n_layers = model.config.num_hidden_layers
    for layer in range(n_layers):
        _check_layer(model, cache, layer)
        if layer + 1 < n_layers:
            assert torch.equal(cache["resid_post", layer], cache["resid_pre", layer + 1])
    if _pre_ln(model):
        with torch.no_grad():
            final = _final_norm(model)(cache["resid_post", n_layers - 1])
        torch.testing.assert_close(cache["ln_final.hook_normalized"], final)


def test_embeddings(
    model: nn.Module, batch: dict[str, Tensor], clean: tuple[Any, ActivationCache]
) -> None:
    _, cache = clean
    with torch.no_grad():
        assert torch.equal(cache["embed"], _embed(model)(batch["input_ids"]))
    if _rotary(model):  # positions enter later, through the rotary embedding
        assert torch.equal(cache["resid_pre", 0], cache["embed"])
    elif _pre_ln(model):
        assert torch.equal(cache["resid_pre", 0], cache["embed"] + cache["pos_embed"])


def test_block_output_helper(model: nn.Module, batch: dict[str, Tensor]) -> None:
    seen: list[Tensor] = []
    block = _blocks(model)[1]
    handle = block.register_forward_hook(lambda mod, args, out: seen.append(block_output(out)))
    try:
        _, cache = run_with_cache(model, batch, names=["blocks.1.hook_resid_post"])
    finally:
        handle.remove()
    assert torch.equal(seen[0], cache["resid_post", 1])
    hidden = torch.zeros(2, 3, 4)
    assert block_output(hidden) is hidden and block_output((hidden, None)) is hidden
    with pytest.raises(TypeError):
        block_output({"hidden_states": hidden})


def test_block_input_passed_as_keyword(model: nn.Module) -> None:
    """Newer transformers may pass ``hidden_states=`` by keyword: hooks read and replace it."""
    block = _blocks(model)[0]
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(1, 3, model.config.hidden_size, generator=generator)
    seen: list[Tensor] = []

    def double(tensor: Tensor, hook: HookPoint) -> Tensor:
        seen.append(tensor)
        return 2 * tensor

    extra: dict[str, Any] = {}
    if _rotary(model):  # rotary blocks take the (cos, sin) that the model computes once
        positions = torch.arange(x.shape[1])[None]
        extra["position_embeddings"] = model.base_model.rotary_emb(x, positions)
    with torch.no_grad():
        with hooks(model, [("blocks.0.hook_resid_pre", double)]):
            by_keyword = block_output(block(hidden_states=x, **extra))
        expected = block_output(block(2 * x, **extra))
    assert torch.equal(seen[0], x)
    assert torch.equal(by_keyword, expected)


def test_cache_keys_and_shorthand(clean: tuple[Any, ActivationCache]) -> None:
    _, cache = clean
    last = cache.n_layers - 1
    assert cache["pattern", 1] is cache["blocks.1.attn.hook_pattern"]
    assert cache["attn", 1] is cache["blocks.1.attn.hook_pattern"]
    assert cache["resid_post", -1] is cache[f"blocks.{last}.hook_resid_post"]
    assert cache["q", 0] is cache["blocks.0.attn.hook_q"]
    assert cache["mlp_post", 1] is cache["blocks.1.mlp.hook_post"]
    assert cache["pre", 1] is cache["blocks.1.mlp.hook_pre"]
    assert cache["attn_out", 0] is cache["blocks.0.hook_attn_out"]
    assert cache["embed"] is cache["hook_embed"]
    if "hook_pos_embed" in cache:  # learned positions only
        assert cache["pos_embed"] is cache["hook_pos_embed"]
    if "blocks.0.attn.hook_rot_q" in cache:
        assert cache["rot_q", 0] is cache["blocks.0.attn.hook_rot_q"]
    if "blocks.1.mlp.hook_pre_linear" in cache:
        assert cache["pre_linear", 1] is cache["blocks.1.mlp.hook_pre_linear"]
    assert act_name("rot_k", 2) == "blocks.2.attn.hook_rot_k"
    assert act_name("mlp_pre_linear", 0) == "blocks.0.mlp.hook_pre_linear"
    assert act_name("z", 3) == "blocks.3.attn.hook_z"
    assert act_name("normalized") == "ln_final.hook_normalized"
    assert ("pattern", 0) in cache and "hook_embed" in cache and ("pattern", 99) not in cache
    assert len(cache) == len(cache.keys()) == len(list(cache))
    with pytest.raises(
        KeyError, match=r"Layer 99 is out of range: this model has .*Cached: hook_embed"
    ):
        cache["pattern", 99]
    with pytest.raises(KeyError, match="Short names"):
        cache["patern", 0]
    with pytest.raises(KeyError, match="give the layer"):
        cache["resid_pre"]


def test_tokenizer_batch_with_padding(offline: None) -> None:
    from ml4llm.models import load_model, load_tokenizer

    model = load_model("bert-base-uncased", profile="offline", device="cpu")
    tokenizer = load_tokenizer("bert-base-uncased", profile="offline")
    inputs = tokenizer(["The cat sat on the mat.", "Hi."], padding=True, return_tensors="pt")
    assert inputs["attention_mask"][1].tolist().count(0) > 0
    output, cache = run_with_cache(model, inputs)
    torch.testing.assert_close(cache["resid_post", -1], output.last_hidden_state, rtol=0, atol=0)
    pad_keys = inputs["attention_mask"][1] == 0
    assert torch.all(cache["pattern", 0][1][..., pad_keys] == 0)  # nobody attends to padding


def test_sdpa_model_offers_no_pattern() -> None:
    config = transformers.GPT2Config(n_layer=2, n_embd=32, n_head=2, vocab_size=64, n_positions=16)
    config._attn_implementation = "sdpa"
    model = transformers.GPT2LMHeadModel(config).eval()
    names = hook_names(model)
    assert "blocks.0.attn.hook_z" in names and "blocks.0.attn.hook_pattern" not in names
    _, cache = run_with_cache(model, torch.tensor([[1, 2, 3]]))
    assert len(cache) == len(names)
    with pytest.raises(ValueError, match="eager"):
        run_with_cache(model, torch.tensor([[1, 2, 3]]), names=["blocks.0.attn.hook_pattern"])


# --------------------------------------------------------------------------- writing


def _zero(tensor: Tensor, hook: HookPoint) -> Tensor:
    return torch.zeros_like(tensor)


def test_zeroing_resid_post_changes_only_downstream(
    model: nn.Module, batch: dict[str, Tensor], clean: tuple[Any, ActivationCache]
) -> None:
    clean_output, clean_cache = clean
    target = "blocks.1.hook_resid_post"
    with hooks(model, [(target, _zero)]):
        patched_output, patched = run_with_cache(model, batch)
    assert not torch.allclose(_final(patched_output), _final(clean_output))
    names = list(patched)
    for name in names[: names.index(target)]:
        assert torch.equal(patched[name], clean_cache[name]), f"{name} is upstream of {target}"
    assert torch.all(patched[target] == 0) and torch.all(patched["resid_pre", 2] == 0)
    assert torch.equal(_forward(model, batch), _final(clean_output))  # the hooks are gone


def test_hooks_removed_when_the_body_raises(
    model: nn.Module, batch: dict[str, Tensor], clean: tuple[Any, ActivationCache]
) -> None:
    before = _hook_count(model)
    with pytest.raises(RuntimeError, match="inside"):
        with hooks(model, [(name, _zero) for name in hook_names(model)[:5]]):
            assert _hook_count(model) > before
            raise RuntimeError("raised inside the with block")
    assert _hook_count(model) == before
    assert torch.equal(_forward(model, batch), _final(clean[0]))


def test_zeroing_one_head_of_z(
    model: nn.Module, batch: dict[str, Tensor], clean: tuple[Any, ActivationCache]
) -> None:
    clean_output, clean_cache = clean
    head = 1

    def zero_head(z: Tensor, hook: HookPoint) -> Tensor:
        z = z.clone()
        z[:, :, head] = 0
        return z

    with hooks(model, [("blocks.0.attn.hook_z", zero_head)]):
        output, patched = run_with_cache(
            model, batch, names=lambda name: name.startswith("blocks.0")
        )
    assert not torch.allclose(_final(output), _final(clean_output))
    upstream = ("q", "rot_q", "k", "rot_k", "v", "pattern") if _rotary(model) else ("q", "k", "v")
    for name in upstream:
        assert torch.equal(patched[name, 0], clean_cache[name, 0])
    others = [h for h in range(model.config.num_attention_heads) if h != head]
    assert torch.equal(patched["z", 0][:, :, others], clean_cache["z", 0][:, :, others])
    assert torch.all(patched["z", 0][:, :, head] == 0)
    with torch.no_grad():
        attn_out = _out_proj(model, 0)(patched["z", 0].flatten(-2))
    torch.testing.assert_close(patched["attn_out", 0], attn_out)
    assert not torch.allclose(patched["attn_out", 0], clean_cache["attn_out", 0])


def test_zeroing_one_head_equals_a_pre_hook_on_the_output_projection(
    model: nn.Module, batch: dict[str, Tensor]
) -> None:
    """hook_z against an independent torch pre-hook that zeroes the head's slice of the input."""
    head, layer, d_head = 1, 1, _d_head(model)

    def zero_head(z: Tensor, hook: HookPoint) -> Tensor:
        z = z.clone()
        z[:, :, head] = 0
        return z

    def zero_slice(module: nn.Module, args: tuple[Tensor, ...]) -> tuple[Tensor, ...]:
        x = args[0].clone()
        x[..., head * d_head : (head + 1) * d_head] = 0
        return (x, *args[1:])

    with hooks(model, [(act_name("z", layer), zero_head)]):
        by_name = _forward(model, batch)
    handle = _out_proj(model, layer).register_forward_pre_hook(zero_slice)
    try:
        by_torch = _forward(model, batch)
    finally:
        handle.remove()
    assert torch.equal(by_name, by_torch)
    assert not torch.allclose(by_name, _forward(model, batch))


def test_every_name_can_be_written(
    model: nn.Module, batch: dict[str, Tensor], clean: tuple[Any, ActivationCache]
) -> None:
    """Returning a copy on every name leaves the output as it is; returning zeros changes it."""
    batch = {key: value[:1, :4] for key, value in batch.items()}  # one short row, many forwards
    reference = _forward(model, batch)
    writable = [
        name
        for name in hook_names(model)
        if _pattern_writable(model) or not name.endswith("hook_pattern")
    ]
    with hooks(model, [(name, lambda t, hook: t.clone()) for name in writable]):
        torch.testing.assert_close(_forward(model, batch), reference)
    for name in writable:
        with hooks(model, [(name, _zero)]):
            assert not torch.allclose(_forward(model, batch), reference), name
    if not _pattern_writable(model):
        with pytest.raises(RuntimeError, match=r"cannot be overwritten.*hook_z"):
            with hooks(model, [("blocks.0.attn.hook_pattern", _zero)]):
                _forward(model, batch)
    assert torch.equal(_forward(model, batch), reference)


def test_written_rotated_keys_are_what_the_attention_uses(
    model: nn.Module, batch: dict[str, Tensor], clean: tuple[Any, ActivationCache]
) -> None:
    """Keys patched after the rotary embedding, from a run on other tokens."""
    if not _rotary(model):
        return
    _, clean_cache = clean
    other = {**batch, "input_ids": batch["input_ids"].flip(1)}
    _, other_cache = run_with_cache(model, other, names="hook_rot_k")

    def patch(activation: Tensor, hook: HookPoint) -> Tensor:
        return other_cache[hook.name]

    with hooks(model, [("blocks.0.attn.hook_rot_k", patch)]):
        _, patched = run_with_cache(model, batch, names="blocks.0.")
    # The model rotated the written keys back to the patched ones (up to float rounding).
    mixed = ActivationCache({**clean_cache, "blocks.0.attn.hook_rot_k": other_cache["rot_k", 0]}, 1)
    allowed = _attention_mask(model, 0, batch["attention_mask"])
    pattern = _scores(model, mixed, 0).masked_fill(~allowed, float("-inf")).softmax(-1)
    torch.testing.assert_close(patched["pattern", 0], pattern)
    torch.testing.assert_close(patched["rot_k", 0], other_cache["rot_k", 0])
    assert torch.equal(patched["rot_q", 0], clean_cache["rot_q", 0])


def test_rotated_q_sees_writes_on_q_installed_later(
    model: nn.Module, batch: dict[str, Tensor], clean: tuple[Any, ActivationCache]
) -> None:
    """Firing order holds across names: an outer hook_rot_q reader sees an inner hook_q write."""
    if not _rotary(model):
        return
    _, clean_cache = clean
    seen: dict[str, Tensor] = {}

    def read(activation: Tensor, hook: HookPoint) -> None:
        seen[hook.name] = activation

    with hooks(model, [("blocks.0.attn.hook_rot_q", read)]):
        with hooks(model, [("blocks.0.attn.hook_q", lambda t, hook: 3 * t)]):
            _forward(model, batch)
    torch.testing.assert_close(seen["blocks.0.attn.hook_rot_q"], 3 * clean_cache["rot_q", 0])


def test_written_residual_is_what_transformers_records(
    model: nn.Module, batch: dict[str, Tensor]
) -> None:
    """After a write at resid_post L, hidden_states[L + 1] of the same forward holds it.

    Also when transformers 5 already installed its recording hooks in an earlier call.
    """
    layer = 1
    with torch.no_grad():
        model(**batch, output_hidden_states=True, output_attentions=True)
    generator = torch.Generator().manual_seed(1)
    written = torch.randn(*batch["input_ids"].shape, model.config.hidden_size, generator=generator)
    with torch.no_grad(), hooks(model, [(act_name("resid_post", layer), lambda t, hook: written)]):
        output = model(**batch, output_hidden_states=True)
    if _records_inside_forward(model):  # the documented transformers 4.x limitation
        assert not torch.equal(output.hidden_states[layer + 1], written)
    else:
        assert torch.equal(output.hidden_states[layer + 1], written)


def test_written_resid_mid_reaches_the_residual_stream(
    model: nn.Module, batch: dict[str, Tensor], clean: tuple[Any, ActivationCache]
) -> None:
    if _parallel(model):
        assert "blocks.0.hook_resid_mid" not in hook_names(model)
        return
    _, clean_cache = clean
    with hooks(model, [("blocks.0.hook_resid_mid", lambda t, hook: 2 * t)]):
        _, patched = run_with_cache(model, batch)
    torch.testing.assert_close(patched["resid_mid", 0], 2 * clean_cache["resid_mid", 0])
    assert torch.equal(patched["attn_out", 0], clean_cache["attn_out", 0])
    _check_layer(model, patched, 0, mid_written=True)  # the MLP and resid_post use the written mid


def test_nested_hooks_see_what_the_model_computes(
    model: nn.Module, batch: dict[str, Tensor], clean: tuple[Any, ActivationCache]
) -> None:
    """An outer reader sees the writes of hooks installed later, upstream of it."""
    _, clean_cache = clean
    seen: dict[str, Tensor] = {}

    def read(tensor: Tensor, hook: HookPoint) -> None:
        seen[hook.name] = tensor.clone()

    shorts = ["resid_post", "mlp_out", "attn_out", "resid_pre"]
    if not _parallel(model):
        shorts.insert(0, "resid_mid")
    with hooks(model, [(act_name(short, 1), read) for short in shorts]):
        with hooks(model, [("blocks.1.hook_resid_pre", lambda t, hook: 2 * t)]):
            _forward(model, batch)
    doubled = 2 * clean_cache["resid_pre", 1]
    # The outer reader of resid_pre fires before the inner writer, like TransformerLens' hooks.
    assert torch.equal(seen["blocks.1.hook_resid_pre"], clean_cache["resid_pre", 1])
    attn_out = seen["blocks.1.hook_attn_out"]
    if _parallel(model):
        expected = doubled + attn_out + seen["blocks.1.hook_mlp_out"]
        torch.testing.assert_close(seen["blocks.1.hook_resid_post"], expected)
    elif _pre_ln(model):
        torch.testing.assert_close(seen["blocks.1.hook_resid_mid"], doubled + attn_out)
    else:
        expected_mid = _blocks(model)[1].attention.output.LayerNorm(attn_out + doubled)
        torch.testing.assert_close(seen["blocks.1.hook_resid_mid"], expected_mid)


def test_patching_from_a_cache_and_hook_order(
    model: nn.Module, batch: dict[str, Tensor], clean: tuple[Any, ActivationCache]
) -> None:
    """Patch q from another run; hooks on one name run in the order given."""
    _, clean_cache = clean
    other = {**batch, "input_ids": batch["input_ids"].flip(1)}
    _, other_cache = run_with_cache(model, other, names="hook_q")
    calls: list[str] = []

    def first(q: Tensor, hook: HookPoint) -> Tensor:
        calls.append("first")
        return other_cache[hook.name]

    def second(q: Tensor, hook: HookPoint) -> None:
        calls.append("second")
        assert torch.equal(q, other_cache[hook.name])  # sees what the first hook wrote

    fwd_hooks = [(act_name("q", layer), first) for layer in range(model.config.num_hidden_layers)]
    with hooks(model, [*fwd_hooks, ("blocks.0.attn.hook_q", second)]):
        _, patched = run_with_cache(model, batch, names=["blocks.0.attn.hook_k"])
    assert calls[:2] == ["first", "second"]
    # k comes out of the same module as q in GPT-2 (c_attn) and GPT-NeoX (query_key_value).
    assert torch.equal(patched["k", 0], clean_cache["k", 0])


def test_bad_return_values(model: nn.Module, batch: dict[str, Tensor]) -> None:
    with pytest.raises(ValueError, match=r"returned shape \(1,\)"):
        with hooks(model, [("blocks.0.hook_resid_pre", lambda t, hook: torch.zeros(1))]):
            _forward(model, batch)
    with pytest.raises(TypeError, match="returned int"):
        with hooks(model, [("blocks.0.hook_resid_pre", lambda t, hook: 0)]):
            _forward(model, batch)
    with pytest.raises(TypeError, match="not callable"):
        with hooks(model, [("blocks.0.hook_resid_pre", "zero")]):
            pass
    before = _hook_count(model)
    with pytest.raises(TypeError, match=r"fn\(activation, hook=...\).*def fn\(activation, hook\)"):
        with hooks(model, [("blocks.0.hook_resid_pre", lambda t, name: None)]):
            pass
    assert _hook_count(model) == before


def test_hook_functions_get_a_hook_point(model: nn.Module, batch: dict[str, Tensor]) -> None:
    """As in TransformerLens: fn(activation, hook) with hook.name and hook.layer()."""
    calls: list[tuple[str, int | None]] = []

    def record(activation: Tensor, hook: HookPoint) -> None:
        layer = hook.layer() if hook.name.startswith("blocks.") else None
        calls.append((hook.name, layer))

    names = ["hook_embed", "blocks.2.attn.hook_z", "blocks.0.hook_resid_post"]
    with hooks(model, [(name, record) for name in names]):
        _forward(model, batch)
    assert calls == [
        ("hook_embed", None),
        ("blocks.0.hook_resid_post", 0),
        ("blocks.2.attn.hook_z", 2),
    ]
    with pytest.raises(ValueError, match="not inside a block"):
        HookPoint("hook_embed").layer()


def test_input_longer_than_the_context_is_a_clear_error():
    from ml4llm.hooks import run_with_cache
    from ml4llm.models import context_length, load_model

    model = load_model("gpt2", profile="offline", device="cpu")
    too_long = torch.zeros(1, context_length(model) + 1, dtype=torch.long)
    with pytest.raises(ValueError, match="split it into windows"):
        run_with_cache(model, too_long)


def test_cached_tensors_keep_the_values_the_model_changes_in_place_later(offline):
    # run_with_cache keeps CPU activations without copying them; a tensor that the model changes
    # in place after it was cached must still hold the value the model computed at that point.
    from ml4llm.models import load_model

    model = load_model("gpt2", profile="offline", device="cpu")
    ids = torch.arange(5).unsqueeze(0)
    block = model.transformer.h[0]
    forwards = []
    counter = model.register_forward_pre_hook(lambda module, args: forwards.append(1))
    _, plain = run_with_cache(model, ids)
    assert len(forwards) == 1  # nothing changed in place: one forward, no copy pass

    def double_in_place(module: nn.Module, args: Any, output: Tensor) -> None:
        output.mul_(2)  # the model goes on with the doubled tensor

    handle = block.mlp.c_fc.register_forward_hook(double_in_place)
    try:
        _, cache = run_with_cache(model, ids)
    finally:
        handle.remove()
        counter.remove()
    assert len(forwards) == 3  # a second pass read the changed tensor again, copied
    pre = cache["blocks.0.mlp.hook_pre"]
    assert torch.equal(pre, plain["blocks.0.mlp.hook_pre"])
    with torch.no_grad():
        expected = block.mlp.c_fc(block.ln_2(cache["blocks.0.hook_resid_mid"]))
        doubled_post = block.mlp.act(2 * pre)
    assert torch.equal(pre, expected)
    torch.testing.assert_close(cache["blocks.0.mlp.hook_post"], doubled_post)
