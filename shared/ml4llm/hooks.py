"""TransformerLens hook names over plain Hugging Face models, with torch forward hooks only.

Learners meet TransformerLens after this course, so its names are ours. Nothing in the model is
rewritten: every name is a torch forward hook (or forward pre-hook) on an existing module, and
:func:`hooks` removes them all when its ``with`` block ends, also when the block raises.

API
---
- ``run_with_cache(model, inputs, names=None) -> (output, cache)``: one forward under
  ``torch.no_grad()``; the cache holds detached CPU copies of the activations.
- ``ActivationCache``: a mapping from full names to tensors; ``cache["pattern", 3]`` is
  ``cache["blocks.3.attn.hook_pattern"]`` (short names as TransformerLens' ``get_act_name``).
- ``act_name(short, layer=None)``: the full name for a short one, e.g. ``act_name("z", 3)``.
- ``hooks(model, [(name, fn), ...])``: a context manager that installs reading or writing hooks.
  ``fn(tensor, name)`` returns None to only read, or a tensor of the same shape that replaces the
  activation. A writing hook returns a modified clone (``new = tensor.clone(); new[...] = 0``) and
  never changes ``tensor`` in place: an in-place change would reach the model without passing the
  checks here. Returned tensors are moved to the activation's device and dtype, so values cached
  on the CPU can be patched into a model on the GPU.
- ``hook_names(model)``: every valid name for this model. A wrong name raises a ValueError that
  lists the valid ones.
- ``block_output(output)``: the hidden states from a block's output, whether the block returns a
  tuple (transformers 4.x, GPT-Neo in 5.x) or a bare tensor (GPT-2 and BERT in 5.x).

Shapes (TransformerLens conventions; all names of a model: ``hook_names(model)``)
-------------------------------------------------------------------------------
==========================================================  ======================================
``hook_embed``                                              [batch, pos, d_model]
``hook_pos_embed``                                          [1 or batch, pos, d_model] (*)
``blocks.{L}.hook_resid_pre`` / ``hook_resid_mid`` /
``hook_resid_post``                                         [batch, pos, d_model]
``blocks.{L}.attn.hook_q`` / ``hook_k`` / ``hook_v``        [batch, pos, head, d_head]
``blocks.{L}.attn.hook_pattern``                            [batch, head, query_pos, key_pos]
``blocks.{L}.attn.hook_z``                                  [batch, pos, head, d_head]
``blocks.{L}.hook_attn_out``                                [batch, pos, d_model]
``blocks.{L}.mlp.hook_pre`` / ``mlp.hook_post``             [batch, pos, d_mlp]
``blocks.{L}.hook_mlp_out``                                 [batch, pos, d_model]
``ln_final.hook_normalized`` (GPT-2, GPT-Neo only)          [batch, pos, d_model]
==========================================================  ======================================

(*) the position embedding exactly as the model computes it: GPT-2, GPT-Neo and BERT look up one
row of positions for the whole batch ([1, pos, d_model]); RoBERTa one per sequence, because its
positions skip padding ([batch, pos, d_model]).

Within a block the names fire in the order listed (one exception: where the pattern cannot be
written, see Limitations, it is read when the attention module returns, which for GPT-2 is after
``hook_z`` and ``hook_attn_out``). Hooks on one name run in the order they were installed: in the
order given to one :func:`hooks` call, outer ``with`` blocks before inner ones.

Where each name lives
---------------------
GPT-2 and GPT-Neo (pre-LayerNorm blocks, ``model_type`` gpt2 / gpt_neo):

- ``hook_embed``: output of ``wte``; ``hook_pos_embed``: output of ``wpe``.
- ``hook_resid_pre``: the block's input; ``hook_resid_post``: the block's output.
- ``hook_q/k/v``: GPT-2 splits the output of its one ``attn.c_attn`` Conv1D (Q | K | V, each
  d_model wide); GPT-Neo has ``q_proj``, ``k_proj``, ``v_proj``. GPT-Neo does not scale q·k by
  1/sqrt(d_head), and its "local" layers only attend ``config.window_size`` tokens back.
- ``hook_pattern``: the softmax attention probabilities; ``hook_z``: the input of the output
  projection (``attn.c_proj`` / ``out_proj``), i.e. ``pattern @ v`` per head.
- ``hook_attn_out``: the output of that projection, the attention output that is added to the
  residual stream (the attention's residual dropout after it is the identity in eval mode).
- ``hook_resid_mid``: ``resid_pre + attn_out``, the input of ``ln_2``. It is read and written at
  the attention module's output (a written value arrives as ``(new - resid_pre) + resid_pre``,
  equal to ``new`` up to float rounding).
- ``mlp.hook_pre``: output of ``mlp.c_fc``; ``mlp.hook_post``: after the activation (input of
  ``mlp.c_proj``); ``hook_mlp_out``: output of ``mlp``.
- ``ln_final.hook_normalized``: output of the final LayerNorm ``ln_f``. It is the last entry of
  ``output_hidden_states``; ``hidden_states[i]`` is ``blocks.{i}.hook_resid_pre``.

BERT and RoBERTa (post-LayerNorm layers, ``model_type`` bert / roberta):

- ``hook_embed``: output of ``embeddings.word_embeddings``; ``hook_pos_embed``: output of
  ``embeddings.position_embeddings``. Token-type embeddings and the embedding LayerNorm come after
  them; their result is ``blocks.0.hook_resid_pre``.
- ``hook_resid_pre``: the layer's input; ``hook_resid_post``: the layer's output.
- ``hook_q/k/v``: outputs of ``attention.self.query/key/value``; ``hook_z``: input of
  ``attention.output.dense``.
- ``hook_attn_out``: output of ``attention.output.dense``, before the residual and LayerNorm.
- ``hook_resid_mid``: output of ``attention`` (after its residual and LayerNorm), the MLP's input.
  Post-LN means resid_mid is not resid_pre + attn_out.
- ``mlp.hook_pre``: output of ``intermediate.dense``; ``mlp.hook_post``: after the activation;
  ``hook_mlp_out``: output of ``output.dense``, before the residual and LayerNorm.
- There is no ``ln_final.hook_normalized``: BERT has no final LayerNorm. ``hidden_states[0]`` is
  ``blocks.0.hook_resid_pre`` and ``hidden_states[i + 1]`` is ``blocks.{i}.hook_resid_post``.

Limitations
-----------
- Writing ``hook_pattern`` needs an attention-dropout *module* that the model calls on the
  probabilities. GPT-Neo (transformers 4.x and 5.x) and GPT-2, BERT and RoBERTa on transformers
  4.x have one. On transformers 5.x, GPT-2, BERT and RoBERTa apply dropout as a function: there
  the pattern can be read but a hook that returns a new pattern raises a RuntimeError; overwrite
  ``hook_z`` (or ``hook_q``/``hook_k``/``hook_v``) instead.
- ``hook_pattern`` needs eager attention (``attn_implementation="eager"``, as
  ``ml4llm.models.load_model`` loads models); SDPA returns no probabilities, so the name is not
  offered for an SDPA model.
- Hooks fire on every forward call inside the ``with`` block (with ``generate``, once per step).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils.hooks import RemovableHandle

from ml4llm.models import check_length

HookFn = Callable[[Tensor, str], "Tensor | None"]
"""A hook function: ``fn(activation, name)`` returns None (read) or a replacement tensor (write)."""

SUPPORTED = ("gpt2", "gpt_neo", "bert", "roberta")
"""The ``model.config.model_type`` values that have an adapter."""

# Short name -> full-name suffix inside block L, in the order the hooks fire.
_BLOCK_HOOKS = {
    "resid_pre": "hook_resid_pre",
    "q": "attn.hook_q",
    "k": "attn.hook_k",
    "v": "attn.hook_v",
    "pattern": "attn.hook_pattern",
    "z": "attn.hook_z",
    "attn_out": "hook_attn_out",
    "resid_mid": "hook_resid_mid",
    "mlp_pre": "mlp.hook_pre",
    "mlp_post": "mlp.hook_post",
    "mlp_out": "hook_mlp_out",
    "resid_post": "hook_resid_post",
}
_MODEL_HOOKS = {
    "embed": "hook_embed",
    "pos_embed": "hook_pos_embed",
    "normalized": "ln_final.hook_normalized",
}
# TransformerLens' aliases of short names.
_ALIASES = {
    "attn": "pattern",
    "query": "q",
    "key": "k",
    "value": "v",
    "pre": "mlp_pre",
    "post": "mlp_post",
    "ln_final": "normalized",
}


# --------------------------------------------------------------------------- small helpers


def block_output(output: Tensor | tuple[Any, ...] | list[Any]) -> Tensor:
    """The hidden states in a transformer block's output, whether a tuple or a bare tensor.

    transformers 4.x blocks (and GPT-Neo's in 5.x) return ``(hidden_states, ...)``; GPT-2's and
    BERT's in 5.x return the [batch, pos, d_model] tensor itself, where ``output[0]`` would
    silently give batch row 0. Use this helper instead of indexing.
    """
    if isinstance(output, Tensor):
        return output
    if isinstance(output, (tuple, list)) and output and isinstance(output[0], Tensor):
        return output[0]
    raise TypeError(
        f"Expected a block output (a tensor, or a tuple whose first item is a tensor), "
        f"got {type(output).__name__}."
    )


def _replace_first(output: Tensor | tuple[Any, ...] | list[Any], new: Tensor) -> Any:
    """``output`` with its hidden states (see :func:`block_output`) replaced by ``new``."""
    if isinstance(output, Tensor):
        return new
    return type(output)([new, *output[1:]])


def _first_input(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Tensor:
    """A module's first input, passed by position or (newer transformers) as a keyword."""
    if args:
        return args[0]
    for key in ("hidden_states", "input"):
        if key in kwargs:
            return kwargs[key]
    raise RuntimeError(f"Cannot find the input tensor among the keyword arguments {list(kwargs)}.")


def _replace_first_input(
    args: tuple[Any, ...], kwargs: dict[str, Any], new: Tensor
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    if args:
        return (new, *args[1:]), kwargs
    key = "hidden_states" if "hidden_states" in kwargs else "input"
    return args, {**kwargs, key: new}


def _call(fn: HookFn, activation: Tensor, name: str) -> Tensor | None:
    """Run a user hook; check a returned tensor and move it to the activation's device/dtype."""
    new = fn(activation, name)
    if new is None:
        return None
    if not isinstance(new, Tensor):
        raise TypeError(
            f"The hook on {name} returned {type(new).__name__}: return None or a tensor."
        )
    if new.shape != activation.shape:
        raise ValueError(
            f"The hook on {name} returned shape {tuple(new.shape)}; the activation has shape "
            f"{tuple(activation.shape)}. Return a modified clone of the tensor it received."
        )
    return new.to(device=activation.device, dtype=activation.dtype)


# --------------------------------------------------------------------------- hook points


@dataclass(frozen=True)
class _Site:
    """An activation at one module's output (or first input), optionally reshaped.

    ``part=(i, n)`` takes the i-th of n equal slices of the last dimension (GPT-2's c_attn output
    is Q | K | V); ``n_heads`` splits the last dimension into [head, d_head].
    """

    module: nn.Module
    on_input: bool = False
    part: tuple[int, int] | None = None
    n_heads: int = 0

    def read(self, raw: Tensor) -> Tensor:
        x = raw
        if self.part is not None:
            index, n_parts = self.part
            x = x.chunk(n_parts, dim=-1)[index]
        if self.n_heads:
            x = x.unflatten(-1, (self.n_heads, -1))
        return x

    def write(self, raw: Tensor, new: Tensor) -> Tensor:
        if self.n_heads:
            new = new.flatten(-2)
        if self.part is not None:
            index, n_parts = self.part
            pieces = list(raw.chunk(n_parts, dim=-1))
            pieces[index] = new
            new = torch.cat(pieces, dim=-1)
        return new

    def attach(self, name: str, fn: HookFn) -> list[RemovableHandle]:
        if self.on_input:

            def pre_hook(module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
                raw = _first_input(args, kwargs)
                new = _call(fn, self.read(raw), name)
                if new is None:
                    return None
                return _replace_first_input(args, kwargs, self.write(raw, new))

            return [self.module.register_forward_pre_hook(pre_hook, with_kwargs=True)]

        def hook(module: nn.Module, args: tuple[Any, ...], output: Any) -> Any:
            raw = block_output(output)
            new = _call(fn, self.read(raw), name)
            if new is None:
                return None
            return _replace_first(output, self.write(raw, new))

        return [self.module.register_forward_hook(hook)]


@dataclass(frozen=True)
class _PreLnResidMid:
    """resid_mid of a pre-LN block: the residual (``ln_1``'s input) + the attention's output.

    Written at the attention's output, as ``new - residual``: the block adds the residual back.
    The residual is taken from ``ln_1``'s input, after every hook on the block's input has run.
    """

    ln_1: nn.Module
    attention: nn.Module

    def attach(self, name: str, fn: HookFn) -> list[RemovableHandle]:
        state: dict[str, Tensor] = {}

        def save_resid_pre(
            module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]
        ) -> None:
            state["resid_pre"] = _first_input(args, kwargs)

        def hook(module: nn.Module, args: tuple[Any, ...], output: Any) -> Any:
            resid_pre = state.pop("resid_pre")
            attn_out = block_output(output)
            # The block computes attn_out + resid_pre: the same sum, bit for bit.
            new = _call(fn, attn_out + resid_pre, name)
            if new is None:
                return None
            return _replace_first(output, new - resid_pre)

        return [
            self.ln_1.register_forward_pre_hook(save_resid_pre, with_kwargs=True),
            self.attention.register_forward_hook(hook),
        ]


@dataclass(frozen=True)
class _Pattern:
    """The attention probabilities [batch, head, query_pos, key_pos].

    Read and written at the attention-dropout module where the model calls it on the
    probabilities; otherwise read from the attention module's output ``(out, weights)``, where
    writing is impossible (see the module docstring).
    """

    attention: nn.Module
    dropout: nn.Module
    z_name: str

    def attach(self, name: str, fn: HookFn) -> list[RemovableHandle]:
        seen = [False]  # did the dropout module see the probabilities in this forward?

        def reset(module: nn.Module, args: tuple[Any, ...]) -> None:
            seen[0] = False

        def on_dropout(module: nn.Module, args: tuple[Any, ...], output: Tensor) -> Tensor | None:
            seen[0] = True
            return _call(fn, output, name)

        def on_attention(module: nn.Module, args: tuple[Any, ...], output: Any) -> None:
            if seen[0]:
                return
            weights = output[1] if isinstance(output, (tuple, list)) and len(output) > 1 else None
            if weights is None:
                raise RuntimeError(
                    f"{name}: the attention returned no probabilities. Load the model with "
                    "attn_implementation='eager' (ml4llm.models.load_model does)."
                )
            if _call(fn, weights, name) is not None:
                import transformers

                raise RuntimeError(
                    f"{name} cannot be overwritten here: {type(module).__name__} in transformers "
                    f"{transformers.__version__} applies attention dropout as a function, so no "
                    "forward hook sits between the probabilities and their use. Reading the pattern "
                    f"works; to change what the heads do, overwrite {self.z_name} (or hook_q, "
                    "hook_k, hook_v) instead."
                )

        return [
            self.attention.register_forward_pre_hook(reset),
            self.dropout.register_forward_hook(on_dropout),
            self.attention.register_forward_hook(on_attention),
        ]


_Point = _Site | _PreLnResidMid | _Pattern


# --------------------------------------------------------------------------- adapters


def _block_points(layer: int, parts: dict[str, _Point]) -> dict[str, _Point]:
    """Full names for one block's points, in firing order; skips parts a model lacks."""
    return {
        f"blocks.{layer}.{suffix}": parts[short]
        for short, suffix in _BLOCK_HOOKS.items()
        if short in parts
    }


def _pre_ln_block(
    block: nn.Module,
    layer: int,
    qkv: tuple[_Site, _Site, _Site],
    attention: nn.Module,
    dropout: nn.Module,
    out_proj: nn.Module,
    n_heads: int,
    eager: bool,
) -> dict[str, _Point]:
    """The points of a GPT-2 / GPT-Neo block (``ln_1``, ``attn``, ``ln_2``, ``mlp``)."""
    q, k, v = qkv
    parts: dict[str, _Point] = {
        "resid_pre": _Site(block, on_input=True),
        "q": q,
        "k": k,
        "v": v,
        "z": _Site(out_proj, on_input=True, n_heads=n_heads),
        "attn_out": _Site(out_proj),
        "resid_mid": _PreLnResidMid(block.ln_1, block.attn),
        "mlp_pre": _Site(block.mlp.c_fc),
        "mlp_post": _Site(block.mlp.c_proj, on_input=True),
        "mlp_out": _Site(block.mlp),
        "resid_post": _Site(block),
    }
    if eager:
        parts["pattern"] = _Pattern(attention, dropout, f"blocks.{layer}.attn.hook_z")
    return _block_points(layer, parts)


def _gpt2_points(model: nn.Module, eager: bool) -> dict[str, _Point]:
    """GPT2Model / GPT2LMHeadModel: Q, K and V come out of one Conv1D, ``attn.c_attn``."""
    base = model.base_model
    n_heads = model.config.num_attention_heads
    points: dict[str, _Point] = {"hook_embed": _Site(base.wte), "hook_pos_embed": _Site(base.wpe)}
    for layer, block in enumerate(base.h):
        attn = block.attn
        q, k, v = (_Site(attn.c_attn, part=(i, 3), n_heads=n_heads) for i in range(3))
        points |= _pre_ln_block(
            block, layer, (q, k, v), attn, attn.attn_dropout, attn.c_proj, n_heads, eager
        )
    points["ln_final.hook_normalized"] = _Site(base.ln_f)
    return points


def _gpt_neo_points(model: nn.Module, eager: bool) -> dict[str, _Point]:
    """GPTNeoModel / GPTNeoForCausalLM: ``attn.attention`` holds q_proj, k_proj, v_proj."""
    base = model.base_model
    n_heads = model.config.num_attention_heads
    points: dict[str, _Point] = {"hook_embed": _Site(base.wte), "hook_pos_embed": _Site(base.wpe)}
    for layer, block in enumerate(base.h):
        attn = block.attn.attention
        qkv = (
            _Site(attn.q_proj, n_heads=n_heads),
            _Site(attn.k_proj, n_heads=n_heads),
            _Site(attn.v_proj, n_heads=n_heads),
        )
        points |= _pre_ln_block(
            block, layer, qkv, attn, attn.attn_dropout, attn.out_proj, n_heads, eager
        )
    points["ln_final.hook_normalized"] = _Site(base.ln_f)
    return points


def _bert_points(model: nn.Module, eager: bool) -> dict[str, _Point]:
    """BertModel / BertForMaskedLM and the RoBERTa classes (same module layout, post-LN)."""
    base = model.base_model
    n_heads = model.config.num_attention_heads
    points: dict[str, _Point] = {"hook_embed": _Site(base.embeddings.word_embeddings)}
    if getattr(base.embeddings, "position_embeddings", None) is not None:
        points["hook_pos_embed"] = _Site(base.embeddings.position_embeddings)
    for layer, block in enumerate(base.encoder.layer):
        self_attn = block.attention.self
        parts: dict[str, _Point] = {
            "resid_pre": _Site(block, on_input=True),
            "q": _Site(self_attn.query, n_heads=n_heads),
            "k": _Site(self_attn.key, n_heads=n_heads),
            "v": _Site(self_attn.value, n_heads=n_heads),
            "z": _Site(block.attention.output.dense, on_input=True, n_heads=n_heads),
            "attn_out": _Site(block.attention.output.dense),
            "resid_mid": _Site(block.attention),
            "mlp_pre": _Site(block.intermediate.dense),
            "mlp_post": _Site(block.intermediate),
            "mlp_out": _Site(block.output.dense),
            "resid_post": _Site(block),
        }
        if eager:
            z_name = f"blocks.{layer}.attn.hook_z"
            parts["pattern"] = _Pattern(self_attn, self_attn.dropout, z_name)
        points |= _block_points(layer, parts)
    return points


_ADAPTERS: dict[str, Callable[[nn.Module, bool], dict[str, _Point]]] = {
    "gpt2": _gpt2_points,
    "gpt_neo": _gpt_neo_points,
    "bert": _bert_points,
    "roberta": _bert_points,
}


def _points(model: nn.Module) -> dict[str, _Point]:
    """Every hook point of ``model``, keyed by full name, in firing order."""
    config = getattr(model, "config", None)
    model_type = getattr(config, "model_type", None)
    if model_type not in _ADAPTERS:
        raise ValueError(
            f"ml4llm.hooks has no adapter for {type(model).__name__} (model_type {model_type!r}). "
            f"Supported model types: {', '.join(SUPPORTED)}."
        )
    eager = getattr(config, "_attn_implementation", "eager") in (None, "eager")
    return _ADAPTERS[model_type](model, eager)


# --------------------------------------------------------------------------- names


def hook_names(model: nn.Module) -> list[str]:
    """Every valid hook name for ``model``, in the order the hooks fire."""
    return list(_points(model))


def _compact(names: Iterable[str]) -> str:
    """``blocks.0.hook_q, blocks.1.hook_q`` -> ``blocks.{0..1}.hook_q`` (layers as a range)."""
    patterns: dict[str, list[int]] = {}
    for name in names:
        match = re.fullmatch(r"blocks\.(\d+)\.(.+)", name)
        if match:
            patterns.setdefault("blocks.{}." + match.group(2), []).append(int(match.group(1)))
        else:
            patterns.setdefault(name, [])
    parts = []
    for pattern, layers in patterns.items():
        if not layers:
            parts.append(pattern)
        elif len(layers) == 1:
            parts.append(pattern.format(layers[0]))
        elif layers == list(range(layers[0], layers[-1] + 1)):
            parts.append(pattern.format(f"{{{layers[0]}..{layers[-1]}}}"))
        else:
            parts.append(pattern.format("{" + ",".join(map(str, layers)) + "}"))
    return ", ".join(parts)


def _unknown_name_error(model: nn.Module, name: str, valid: list[str]) -> ValueError:
    message = f"{name!r} is not a hook name of {type(model).__name__}."
    match = re.fullmatch(r"blocks\.(\d+)\.(.+)", name)
    close = difflib.get_close_matches(name, valid, n=1)
    if name.endswith("attn.hook_pattern") and "blocks.0.attn.hook_pattern" not in valid:
        message += " hook_pattern needs the model loaded with attn_implementation='eager'."
    elif name == "ln_final.hook_normalized":
        message += " BERT and RoBERTa have no final LayerNorm: use the last hook_resid_post."
    elif match and f"blocks.0.{match.group(2)}" in valid:
        n_layers = sum(n.endswith(".hook_resid_pre") for n in valid)
        message += f" Its layers are 0..{n_layers - 1}."
    elif close:
        message += f" Did you mean {close[0]!r}?"
    return ValueError(f"{message} Valid names: {_compact(valid)}.")


def _select(model: nn.Module, names: Any, valid: list[str]) -> list[str]:
    """The hook names that ``names`` (None, a name or substring, a list, a predicate) selects."""
    if names is None:
        return valid
    if callable(names):
        chosen = [name for name in valid if names(name)]
        if not chosen:
            raise ValueError(f"The filter selects no hook name. Valid names: {_compact(valid)}.")
        return chosen
    if isinstance(names, str):
        if names in valid:
            return [names]
        chosen = [name for name in valid if names in name]
        if not chosen:
            raise _unknown_name_error(model, names, valid)
        return chosen
    wanted = list(names)
    for name in wanted:
        if name not in valid:
            raise _unknown_name_error(model, name, valid)
    return [name for name in valid if name in wanted]


def act_name(short: str, layer: int | None = None) -> str:
    """The full hook name for a short one, as TransformerLens' ``utils.get_act_name``.

    ``act_name("pattern", 3)`` -> ``"blocks.3.attn.hook_pattern"``; ``act_name("mlp_post", 2)``
    -> ``"blocks.2.mlp.hook_post"``; ``act_name("embed")`` -> ``"hook_embed"``. A full name is
    returned as it is.
    """
    if layer is None and (short in _MODEL_HOOKS.values() or short.startswith("blocks.")):
        return short
    short = _ALIASES.get(short, short)
    if layer is None and short in _MODEL_HOOKS:
        return _MODEL_HOOKS[short]
    if layer is not None and short in _BLOCK_HOOKS:
        return f"blocks.{layer}.{_BLOCK_HOOKS[short]}"
    if short in _BLOCK_HOOKS:
        raise KeyError(
            f"{short!r} names one hook per block: give the layer too, e.g. ({short!r}, 0)."
        )
    shorts = [*_BLOCK_HOOKS, *_MODEL_HOOKS, *_ALIASES]
    raise KeyError(
        f"Unknown short name {short!r}{'' if layer is None else f' with layer {layer}'}. "
        f"Short names: {', '.join(shorts)} (block names need a layer)."
    )


# --------------------------------------------------------------------------- hooks and cache


@contextmanager
def hooks(model: nn.Module, fwd_hooks: Iterable[tuple[str, HookFn]]) -> Iterator[nn.Module]:
    """Install forward hooks by name for the ``with`` block; yields the model.

    ``fwd_hooks`` is a list of ``(name, fn)``; ``fn(tensor, name)`` returns None to read or a
    modified clone to overwrite the activation. Every handle is removed on exit, also when the
    body raises. All names are checked before any hook is installed.
    """
    points = _points(model)
    valid = list(points)
    fwd_hooks = list(fwd_hooks)
    for item in fwd_hooks:
        if not (isinstance(item, tuple) and len(item) == 2):
            raise TypeError(f"fwd_hooks holds (name, fn) pairs, got {item!r}.")
        name, fn = item
        if name not in points:
            raise _unknown_name_error(model, name, valid)
        if not callable(fn):
            raise TypeError(f"The hook for {name} is not callable: {fn!r}.")
    # Each name has hook sites of its own, so only hooks on one name depend on the order in which
    # they are registered: the order given.
    handles: list[RemovableHandle] = []
    try:
        for name, fn in fwd_hooks:
            handles += points[name].attach(name, fn)
        yield model
    finally:
        for handle in handles:
            handle.remove()


class ActivationCache(Mapping[str, Tensor]):
    """Cached activations by full hook name; ``cache["pattern", 3]`` is a shorthand.

    Keys: a full name (``"blocks.3.attn.hook_pattern"``), a ``(short, layer)`` pair
    (``("resid_post", -1)`` is the last layer) or a short model-level name (``"embed"``).
    Shapes: see the module docstring of ``ml4llm.hooks``.
    """

    def __init__(self, tensors: dict[str, Tensor], n_layers: int) -> None:
        self._tensors = tensors
        self.n_layers = n_layers

    def _full_name(self, key: str | tuple[str, int]) -> str:
        if isinstance(key, tuple):
            if len(key) != 2 or not isinstance(key[1], int):
                raise KeyError(f"Use cache[name] or cache[short_name, layer], not cache[{key!r}].")
            short, layer = key
            if layer < 0:
                layer += self.n_layers
            return act_name(short, layer)
        if isinstance(key, str):
            return key if key in self._tensors else act_name(key)
        raise KeyError(f"Cache keys are names or (short_name, layer) pairs, not {key!r}.")

    def __getitem__(self, key: str | tuple[str, int]) -> Tensor:
        try:
            name = self._full_name(key)
        except KeyError as err:
            raise KeyError(f"{err.args[0]} Cached: {_compact(self._tensors)}.") from None
        if name not in self._tensors:
            raise KeyError(f"{name!r} is not in this cache. Cached: {_compact(self._tensors)}.")
        return self._tensors[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._tensors)

    def __len__(self) -> int:
        return len(self._tensors)

    def __repr__(self) -> str:
        return f"ActivationCache({len(self)} tensors: {_compact(self._tensors)})"


def _model_inputs(model: nn.Module, inputs: Mapping[str, Any] | Tensor) -> dict[str, Any]:
    """Keyword arguments for ``model(...)``, on the model's device."""
    device = next(model.parameters()).device
    if isinstance(inputs, Tensor):
        if inputs.is_floating_point():
            raise TypeError("inputs must hold token ids (a LongTensor), not floats.")
        ids = inputs.unsqueeze(0) if inputs.dim() == 1 else inputs
        return {"input_ids": ids.to(device)}
    if isinstance(inputs, Mapping):
        return {k: v.to(device) if isinstance(v, Tensor) else v for k, v in inputs.items()}
    raise TypeError(
        "inputs must be a tokenizer's output (input_ids, attention_mask, ...) or a tensor of ids, "
        f"not {type(inputs).__name__}."
    )


def run_with_cache(
    model: nn.Module,
    inputs: Mapping[str, Any] | Tensor,
    names: str | Iterable[str] | Callable[[str], bool] | None = None,
) -> tuple[Any, ActivationCache]:
    """Run ``model`` once under ``torch.no_grad()`` and cache activations by hook name.

    ``inputs``: a tokenizer's output (``input_ids``, ``attention_mask``, ...) or a tensor of ids
    ([batch, pos], or [pos] for one sequence); other keyword arguments of the model can ride in
    the dict (``{**inputs, "output_attentions": True}``). ``names``: None (every name), a list of names, a
    predicate ``name -> bool``, or a string: an exact name, else every name that contains it
    (``"hook_pattern"``, ``"blocks.3."``). Returns the model's usual output and an
    :class:`ActivationCache` of detached CPU copies.
    """
    valid = hook_names(model)
    selected = _select(model, names, valid)
    store: dict[str, Tensor] = {}

    def save(tensor: Tensor, name: str) -> None:
        store[name] = tensor.detach().to("cpu", copy=True)

    kwargs = _model_inputs(model, inputs)
    if "input_ids" in kwargs:
        check_length(model, kwargs["input_ids"])
    with torch.no_grad(), hooks(model, [(name, save) for name in selected]):
        output = model(**kwargs)
    n_layers = sum(name.endswith(".hook_resid_pre") for name in valid)
    return output, ActivationCache({name: store[name] for name in selected}, n_layers)
