"""TransformerLens hook names over plain Hugging Face models, with torch forward hooks only.

Learners meet TransformerLens after this course, so its names, shapes and hook functions are ours.
Nothing in the model is rewritten: every name is a torch forward hook (or forward pre-hook) on an
existing module, and :func:`hooks` removes them all when its ``with`` block ends, also when the
block raises.

API
---
- ``run_with_cache(model, inputs, names=None) -> (output, cache)``: one forward under
  ``torch.no_grad()``; the cache holds the activations as detached CPU tensors.
- ``ActivationCache``: a mapping from full names to tensors; ``cache["pattern", 3]`` is
  ``cache["blocks.3.attn.hook_pattern"]`` (short names as TransformerLens' ``get_act_name``).
- ``act_name(short, layer=None)``: the full name for a short one, e.g. ``act_name("z", 3)``.
- ``hooks(model, [(name, fn), ...])``: a context manager that installs reading or writing hooks.
  A hook function is called as TransformerLens calls it, ``fn(activation, hook=hook_point)``:
  ``hook.name`` is the full name and ``hook.layer()`` the block's index (a :class:`HookPoint`), so
  ``def fn(activation, hook): ...`` runs unchanged under TransformerLens' ``run_with_hooks``. It
  returns None to only read, or a tensor of the same shape that replaces the activation. A
  writing hook returns a modified clone (``new = activation.clone(); new[...] = 0``) and never
  changes ``activation`` in place: an in-place change would reach the model without passing the
  checks here. Returned tensors are moved to the activation's device and dtype, so values cached
  on the CPU can be patched into a model on the GPU.
- ``hook_names(model)``: every valid name for this model, in firing order. A wrong name raises a
  ValueError that lists the valid ones (and says why a name is missing from this architecture).
- ``block_output(output)``: the hidden states from a block's output, whether the block returns a
  tuple (transformers 4.x, GPT-Neo in 5.x) or a bare tensor (most blocks in 5.x).

Shapes (TransformerLens conventions; all names of a model: ``hook_names(model)``)
-------------------------------------------------------------------------------
==========================================================  ======================================
``hook_embed``                                              [batch, pos, d_model]
``hook_pos_embed`` (learned positions only)                 [1 or batch, pos, d_model] (*)
``blocks.{L}.hook_resid_pre`` / ``hook_resid_mid`` /
``hook_resid_post``                                         [batch, pos, d_model]
``blocks.{L}.attn.hook_q`` / ``hook_rot_q``                 [batch, pos, head, d_head]
``blocks.{L}.attn.hook_k`` / ``hook_rot_k`` / ``hook_v``    [batch, pos, kv_head, d_head] (**)
``blocks.{L}.attn.hook_pattern``                            [batch, head, query_pos, key_pos]
``blocks.{L}.attn.hook_z``                                  [batch, pos, head, d_head]
``blocks.{L}.hook_attn_out``                                [batch, pos, d_model]
``blocks.{L}.mlp.hook_pre`` / ``hook_pre_linear`` /
``hook_post``                                               [batch, pos, d_mlp]
``blocks.{L}.hook_mlp_out``                                 [batch, pos, d_model]
``ln_final.hook_normalized`` (not in BERT, RoBERTa)         [batch, pos, d_model]
==========================================================  ======================================

(*) the position embedding exactly as the model computes it: GPT-2, GPT-Neo and BERT look up one
row of positions for the whole batch ([1, pos, d_model]); RoBERTa one per sequence, because its
positions skip padding ([batch, pos, d_model]). Rotary models (Llama family, GPT-NeoX) have none.

(**) ``kv_head`` is ``config.num_key_value_heads`` where a model uses grouped-query attention
(SmolLM2: 3 key/value heads for 9 query heads; query head h reads key/value head
h // (n_heads // n_kv_heads)), else the number of heads.

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

The Llama family (pre-RMSNorm blocks with rotary positions and a gated MLP, ``model_type`` llama,
qwen2, mistral: SmolLM2 is a ``LlamaForCausalLM``; Qwen2 and Mistral have the same module paths):

- ``hook_embed``: output of ``embed_tokens``. There is no ``hook_pos_embed``: positions enter as
  the rotary embedding of q and k.
- ``hook_resid_pre`` / ``hook_resid_post``: the decoder layer's input and output.
- ``hook_q/k/v``: outputs of ``self_attn.q_proj/k_proj/v_proj``, split into heads, *before* the
  rotary embedding (so they carry no position). ``hook_k`` and ``hook_v`` have the key/value heads.
- ``hook_rot_q/rot_k``: q and k *after* the rotary embedding, what q·k really uses (scaled by
  1/sqrt(d_head)). Read from the projection's output, after every hook on ``hook_q``/``hook_k``,
  rotated with the model's own ``apply_rotary_pos_emb`` and the cos/sin the attention receives.
  A written value is rotated back (the inverse rotation) into the projection's output, and the
  attention rotates it forward again: it uses the new value up to float rounding.
- ``hook_pattern``: read where the attention returns (after ``hook_z`` and ``hook_attn_out``);
  it cannot be written (see Limitations). ``hook_z``: the input of ``o_proj``;
  ``hook_attn_out``: its output.
- ``hook_resid_mid``: ``resid_pre + attn_out``, the input of ``post_attention_layernorm``; read
  and written at the attention's output as in GPT-2.
- ``mlp.hook_pre``: output of ``mlp.gate_proj`` (the gate, before the activation: SiLU in
  SmolLM2); ``mlp.hook_pre_linear``: output of ``mlp.up_proj``; ``mlp.hook_post``:
  ``act(hook_pre) * hook_pre_linear``, the input of ``mlp.down_proj``; ``hook_mlp_out``: output
  of ``mlp``.
- ``ln_final.hook_normalized``: output of the final RMSNorm ``norm`` (its learned scale
  included), the last entry of ``output_hidden_states``; ``hidden_states[i]`` is
  ``blocks.{i}.hook_resid_pre``.

GPT-NeoX (Pythia, ``model_type`` gpt_neox):

- ``hook_embed``: output of ``embed_in``; no ``hook_pos_embed`` (rotary positions).
- ``hook_q/k/v``: from the one ``attention.query_key_value`` Linear, whose output holds for each
  head its own ``[q | k | v]`` (3 x d_head per head; GPT-2's ``c_attn`` is Q | K | V over all
  heads). ``hook_rot_q/rot_k`` as in the Llama family; the rotary embedding turns only the first
  ``rotary_pct`` of each head's dimensions (Pythia: 25 %), the rest pass unchanged.
- ``hook_pattern`` (read only), ``hook_z`` (input of ``attention.dense``), ``hook_attn_out`` (its
  output), ``mlp.hook_pre`` (output of ``mlp.dense_h_to_4h``), ``mlp.hook_post`` (after the
  GELU), ``hook_mlp_out`` (output of ``mlp``), ``ln_final.hook_normalized`` (output of
  ``final_layer_norm``).
- Pythia adds attention and MLP in parallel (``config.use_parallel_residual``):
  ``resid_post = resid_pre + attn_out + mlp_out``, and the MLP reads ``LayerNorm(resid_pre)``.
  Such a block has no ``hook_resid_mid``, as in TransformerLens; a GPT-NeoX model without the
  parallel residual has one, as in GPT-2.

Names whose meaning differs between architectures
-------------------------------------------------
- ``hook_q``/``hook_k``: with learned positions (GPT-2, GPT-Neo, BERT, RoBERTa) they already
  carry position, because ``hook_pos_embed`` was added to the residual stream; in rotary models
  they carry none, and ``hook_rot_q``/``hook_rot_k`` are what q·k uses.
- ``hook_k``/``hook_v`` have fewer heads than ``hook_q`` under grouped-query attention.
- ``mlp.hook_pre``: the input of the activation everywhere, but in a gated MLP it is the gate;
  the value path is ``mlp.hook_pre_linear``, and ``mlp.hook_post`` is ``act(gate) * up`` rather
  than ``act(pre)``.
- ``hook_resid_mid``: ``resid_pre + attn_out`` in pre-LN blocks; after the LayerNorm in BERT and
  RoBERTa; absent in Pythia's parallel blocks.
- ``hook_attn_out`` and ``hook_mlp_out``: in BERT and RoBERTa they come before the residual sum
  and the LayerNorm; elsewhere they are exactly what is added to the residual stream.
- ``ln_final.hook_normalized``: LayerNorm output (GPT-2, GPT-Neo, GPT-NeoX) or RMSNorm output
  (Llama family), the learned scale included (TransformerLens, which folds that scale into the
  unembedding by default, reads it before the scale); absent in BERT and RoBERTa.
- ``hook_pattern``: GPT-Neo does not scale q·k by 1/sqrt(d_head), the others do.

Firing order
------------
Within a block the names fire in the order of ``hook_names(model)`` (one exception: where the
pattern cannot be written, see Limitations, it is read when the attention module returns, which is
after ``hook_z`` and ``hook_attn_out``). Hooks on one name run in the order they were installed:
in the order given to one :func:`hooks` call, outer ``with`` blocks before inner ones. ml4llm's
hooks on a module run before any other forward hook on it (they are registered with torch's
``prepend=True``): transformers 5 records ``output_hidden_states`` and ``output_attentions`` with
forward hooks that it installs once, at the first call that asks for them, and keeps; running
first, a writing hook's value is what those records hold.

Limitations
-----------
- Writing ``hook_pattern`` needs an attention-dropout *module* that the model calls on the
  probabilities. GPT-Neo (transformers 4.x and 5.x) and GPT-2, BERT and RoBERTa on transformers
  4.x have one. On transformers 5.x, GPT-2, BERT and RoBERTa, and the Llama family and GPT-NeoX
  on every version, apply dropout as a function: there the pattern can be read but a hook that
  returns a new pattern raises a RuntimeError; overwrite ``hook_z`` (or ``hook_q``/``hook_k``/
  ``hook_v``, ``hook_rot_q``/``hook_rot_k``) instead.
- ``hook_pattern`` needs eager attention (``attn_implementation="eager"``, as
  ``ml4llm.models.load_model`` loads models); SDPA returns no probabilities, so the name is not
  offered for an SDPA model.
- On transformers 4.x the Llama family (Llama, Qwen2, Mistral) records ``output_hidden_states``
  inside each layer's forward, before forward hooks run: after a write at ``blocks.{L}.hook_resid_post``,
  ``hidden_states[L + 1]`` still holds the value before the write (the later entries include its
  effect). The cache of :func:`run_with_cache` holds the written value on every version.
- Hooks fire on every forward call inside the ``with`` block (with ``generate``, once per step).
"""

from __future__ import annotations

import difflib
import inspect
import itertools
import re
import sys
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils.hooks import RemovableHandle

from ml4llm.models import check_length

SUPPORTED = ("gpt2", "gpt_neo", "bert", "roberta", "llama", "qwen2", "mistral", "gpt_neox")
"""The ``model.config.model_type`` values that have an adapter."""

# Short name -> full-name suffix inside block L, in the order the hooks fire.
_BLOCK_HOOKS = {
    "resid_pre": "hook_resid_pre",
    "q": "attn.hook_q",
    "rot_q": "attn.hook_rot_q",
    "k": "attn.hook_k",
    "rot_k": "attn.hook_rot_k",
    "v": "attn.hook_v",
    "pattern": "attn.hook_pattern",
    "z": "attn.hook_z",
    "attn_out": "hook_attn_out",
    "resid_mid": "hook_resid_mid",
    "mlp_pre": "mlp.hook_pre",
    "mlp_pre_linear": "mlp.hook_pre_linear",
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
    "pre_linear": "mlp_pre_linear",
    "post": "mlp_post",
    "ln_final": "normalized",
}


@dataclass(frozen=True)
class HookPoint:
    """The ``hook`` that a hook function receives, as TransformerLens' ``HookPoint``.

    ``hook.name`` is the full hook name; ``hook.layer()`` the index of its block.
    """

    name: str

    def layer(self) -> int:
        """The block index of a ``blocks.{L}.*`` name; a ValueError for model-level names."""
        match = re.fullmatch(r"blocks\.(\d+)\..+", self.name)
        if match is None:
            raise ValueError(f"{self.name} is not inside a block, so it has no layer.")
        return int(match.group(1))


HookFn = Callable[..., "Tensor | None"]
"""A hook function ``fn(activation, hook)``: returns None (read) or a replacement tensor (write)."""


# --------------------------------------------------------------------------- small helpers


def block_output(output: Tensor | tuple[Any, ...] | list[Any]) -> Tensor:
    """The hidden states in a transformer block's output, whether a tuple or a bare tensor.

    transformers 4.x blocks (and GPT-Neo's in 5.x) return ``(hidden_states, ...)``; most blocks
    in 5.x return the [batch, pos, d_model] tensor itself, where ``output[0]`` would silently
    give batch row 0. Use this helper instead of indexing.
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


def _argument(module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any], name: str) -> Any:
    """The argument ``name`` of a call of ``module``, passed by keyword or by position."""
    if name in kwargs:
        return kwargs[name]
    parameters = list(inspect.signature(module.forward).parameters)
    if name in parameters and parameters.index(name) < len(args):
        return args[parameters.index(name)]
    raise RuntimeError(f"{type(module).__name__} was called without {name}.")


def _call(fn: HookFn, activation: Tensor, hook: HookPoint) -> Tensor | None:
    """Run a user hook; check a returned tensor and move it to the activation's device/dtype."""
    new = fn(activation, hook=hook)
    if new is None:
        return None
    if not isinstance(new, Tensor):
        raise TypeError(
            f"The hook on {hook.name} returned {type(new).__name__}: return None or a tensor."
        )
    if new.shape != activation.shape:
        raise ValueError(
            f"The hook on {hook.name} returned shape {tuple(new.shape)}; the activation has shape "
            f"{tuple(activation.shape)}. Return a modified clone of the tensor it received."
        )
    return new.to(device=activation.device, dtype=activation.dtype)


# --------------------------------------------------------------------------- dispatch

# Each installed hook is ordered by (the name's place in hook_names(model), install number).
_Order = tuple[int, int]
_INSTALLS = itertools.count()


@dataclass(eq=False)
class _Entry:
    """One callback of one hook name on one module; ``remove()`` takes it out again."""

    dispatcher: _Dispatcher
    order: _Order
    callback: Callable[..., Any]

    def remove(self) -> None:
        self.dispatcher.discard(self)


@dataclass(eq=False)
class _Dispatcher:
    """All of ml4llm's callbacks of one kind (``"pre"`` or ``"post"``) on one module.

    They run as one torch hook, registered with ``prepend=True`` so that it runs before the
    hooks that transformers 5 installs to record hidden states and attentions; inside it, the
    callbacks run in firing order of their names, then in install order.
    """

    kind: str
    module: weakref.ref[nn.Module]
    entries: list[_Entry] = field(default_factory=list)
    handle: RemovableHandle | None = None

    def add(self, order: _Order, callback: Callable[..., Any]) -> _Entry:
        entry = _Entry(self, order, callback)
        self.entries.append(entry)
        self.entries.sort(key=lambda e: e.order)
        module = self.module()
        if self.handle is None and module is not None:
            if self.kind == "pre":
                self.handle = module.register_forward_pre_hook(
                    self._run_pre, with_kwargs=True, prepend=True
                )
            else:
                self.handle = module.register_forward_hook(self._run_post, prepend=True)
        return entry

    def discard(self, entry: _Entry) -> None:
        if entry in self.entries:
            self.entries.remove(entry)
        if not self.entries and self.handle is not None:
            self.handle.remove()
            self.handle = None
            module = self.module()
            if module is not None:
                _DISPATCHERS.get(module, {}).pop(self.kind, None)

    def _run_pre(self, module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        changed = False
        for entry in list(self.entries):
            result = entry.callback(module, args, kwargs)
            if result is not None:
                args, kwargs = result
                changed = True
        return (args, kwargs) if changed else None

    def _run_post(self, module: nn.Module, args: tuple[Any, ...], output: Any) -> Any:
        changed = False
        for entry in list(self.entries):
            result = entry.callback(module, args, output)
            if result is not None:
                output = result
                changed = True
        return output if changed else None


_DISPATCHERS: weakref.WeakKeyDictionary[nn.Module, dict[str, _Dispatcher]] = (
    weakref.WeakKeyDictionary()
)


def _add(module: nn.Module, kind: str, order: _Order, callback: Callable[..., Any]) -> _Entry:
    """Run ``callback`` as a forward pre-hook (``kind="pre"``, with kwargs) or forward hook."""
    per_module = _DISPATCHERS.setdefault(module, {})
    if kind not in per_module:
        per_module[kind] = _Dispatcher(kind, weakref.ref(module))
    return per_module[kind].add(order, callback)


# --------------------------------------------------------------------------- hook points


@dataclass(frozen=True)
class _Site:
    """An activation at one module's output (or first input), optionally reshaped.

    ``n_heads`` splits the last dimension into [head, d_head]. ``part=(i, n)`` takes the i-th of
    n equal slices of the last dimension: of the whole output (GPT-2's c_attn is Q | K | V) or,
    with ``per_head``, of each head's slice (GPT-NeoX's query_key_value holds [q | k | v] per
    head).
    """

    module: nn.Module
    on_input: bool = False
    part: tuple[int, int] | None = None
    n_heads: int = 0
    per_head: bool = False

    def read(self, raw: Tensor) -> Tensor:
        x = raw
        if self.per_head:
            x = x.unflatten(-1, (self.n_heads, -1))
        if self.part is not None:
            index, n_parts = self.part
            x = x.chunk(n_parts, dim=-1)[index]
        if self.n_heads and not self.per_head:
            x = x.unflatten(-1, (self.n_heads, -1))
        return x

    def write(self, raw: Tensor, new: Tensor) -> Tensor:
        if self.n_heads and not self.per_head:
            new = new.flatten(-2)
        if self.part is not None:
            index, n_parts = self.part
            whole = raw.unflatten(-1, (self.n_heads, -1)) if self.per_head else raw
            pieces = list(whole.chunk(n_parts, dim=-1))
            pieces[index] = new
            new = torch.cat(pieces, dim=-1)
        if self.per_head:
            new = new.flatten(-2)
        return new

    def attach(self, hook: HookPoint, fn: HookFn, order: _Order) -> list[_Entry]:
        if self.on_input:

            def pre_hook(module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
                raw = _first_input(args, kwargs)
                new = _call(fn, self.read(raw), hook)
                if new is None:
                    return None
                return _replace_first_input(args, kwargs, self.write(raw, new))

            return [_add(self.module, "pre", order, pre_hook)]

        def post_hook(module: nn.Module, args: tuple[Any, ...], output: Any) -> Any:
            raw = block_output(output)
            new = _call(fn, self.read(raw), hook)
            if new is None:
                return None
            return _replace_first(output, self.write(raw, new))

        return [_add(self.module, "post", order, post_hook)]


@dataclass(frozen=True)
class _Rotary:
    """q or k after the rotary position embedding, [batch, pos, head, d_head].

    Read at the projection's output (``site``), rotated with the model's own
    ``apply_rotary_pos_emb`` and the ``position_embeddings`` (cos, sin) that the attention module
    received; written as the inverse rotation of the new value (``sin`` -> ``-sin``), which the
    attention turns back into the new value.
    """

    attention: nn.Module
    site: _Site

    def _rotate(self, x: Tensor, cos: Tensor, sin: Tensor) -> Tensor:
        module = sys.modules[type(self.attention).__module__]
        apply_rotary = getattr(module, "apply_rotary_pos_emb", None)
        if apply_rotary is None:
            raise RuntimeError(
                f"{module.__name__} has no apply_rotary_pos_emb: ml4llm cannot compute "
                "hook_rot_q/hook_rot_k for this transformers version; use hook_q/hook_k."
            )
        heads_first = x.transpose(1, 2)  # the model rotates [batch, head, pos, d_head]
        rotated, _ = apply_rotary(heads_first, heads_first, cos, sin)
        return rotated.transpose(1, 2)

    def attach(self, hook: HookPoint, fn: HookFn, order: _Order) -> list[_Entry]:
        state: dict[str, tuple[Tensor, Tensor]] = {}

        def save_rotation(module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
            cos_sin = _argument(module, args, kwargs, "position_embeddings")
            if cos_sin is None:
                raise RuntimeError(
                    f"{hook.name}: {type(module).__name__} received no position_embeddings "
                    "(cos, sin), so the rotation it applies is unknown; use hook_q/hook_k."
                )
            state["cos_sin"] = cos_sin

        def post_hook(module: nn.Module, args: tuple[Any, ...], output: Tensor) -> Any:
            cos, sin = state["cos_sin"]
            raw = block_output(output)
            new = _call(fn, self._rotate(self.site.read(raw), cos, sin), hook)
            if new is None:
                return None
            return _replace_first(output, self.site.write(raw, self._rotate(new, cos, -sin)))

        return [
            _add(self.attention, "pre", order, save_rotation),
            _add(self.site.module, "post", order, post_hook),
        ]


@dataclass(frozen=True)
class _PreLnResidMid:
    """resid_mid of a pre-LN block: the residual (``ln_1``'s input) + the attention's output.

    Written at the attention's output, as ``new - residual``: the block adds the residual back.
    The residual is taken from ``ln_1``'s input, after every hook on the block's input has run.
    """

    ln_1: nn.Module
    attention: nn.Module

    def attach(self, hook: HookPoint, fn: HookFn, order: _Order) -> list[_Entry]:
        state: dict[str, Tensor] = {}

        def save_resid_pre(
            module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]
        ) -> None:
            state["resid_pre"] = _first_input(args, kwargs)

        def post_hook(module: nn.Module, args: tuple[Any, ...], output: Any) -> Any:
            resid_pre = state.pop("resid_pre")
            attn_out = block_output(output)
            # The block computes attn_out + resid_pre: the same sum, bit for bit.
            new = _call(fn, attn_out + resid_pre, hook)
            if new is None:
                return None
            return _replace_first(output, new - resid_pre)

        return [
            _add(self.ln_1, "pre", order, save_resid_pre),
            _add(self.attention, "post", order, post_hook),
        ]


@dataclass(frozen=True)
class _Pattern:
    """The attention probabilities [batch, head, query_pos, key_pos].

    Read and written at the attention-dropout module where the model calls it on the
    probabilities; otherwise (``dropout=None``, or a module the model does not call) read from the
    attention module's output ``(out, weights)``, where writing is impossible (see the module
    docstring).
    """

    attention: nn.Module
    dropout: nn.Module | None
    z_name: str

    def attach(self, hook: HookPoint, fn: HookFn, order: _Order) -> list[_Entry]:
        seen = [False]  # did the dropout module see the probabilities in this forward?

        def reset(module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
            seen[0] = False

        def on_dropout(module: nn.Module, args: tuple[Any, ...], output: Tensor) -> Tensor | None:
            seen[0] = True
            return _call(fn, output, hook)

        def on_attention(module: nn.Module, args: tuple[Any, ...], output: Any) -> None:
            if seen[0]:
                return
            weights = output[1] if isinstance(output, (tuple, list)) and len(output) > 1 else None
            if weights is None:
                raise RuntimeError(
                    f"{hook.name}: the attention returned no probabilities. Load the model with "
                    "attn_implementation='eager' (ml4llm.models.load_model does)."
                )
            if _call(fn, weights, hook) is not None:
                import transformers

                raise RuntimeError(
                    f"{hook.name} cannot be overwritten here: {type(module).__name__} in "
                    f"transformers {transformers.__version__} applies attention dropout as a "
                    "function, so no forward hook sits between the probabilities and their use. "
                    f"Reading the pattern works; to change what the heads do, overwrite "
                    f"{self.z_name} (or the queries, keys or values) instead."
                )

        entries = [_add(self.attention, "pre", order, reset)]
        if self.dropout is not None:
            entries.append(_add(self.dropout, "post", order, on_dropout))
        entries.append(_add(self.attention, "post", order, on_attention))
        return entries


_Point = _Site | _Rotary | _PreLnResidMid | _Pattern


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


def _llama_points(model: nn.Module, eager: bool) -> dict[str, _Point]:
    """LlamaModel / LlamaForCausalLM, and Qwen2 and Mistral (the same module paths).

    Each decoder layer: ``input_layernorm``, ``self_attn`` (q_proj, k_proj, v_proj, o_proj),
    ``post_attention_layernorm``, ``mlp`` (gate_proj, up_proj, down_proj).
    """
    base = model.base_model
    config = model.config
    n_heads = config.num_attention_heads
    n_kv_heads = getattr(config, "num_key_value_heads", None) or n_heads
    points: dict[str, _Point] = {"hook_embed": _Site(base.embed_tokens)}
    for layer, block in enumerate(base.layers):
        attn, mlp = block.self_attn, block.mlp
        q = _Site(attn.q_proj, n_heads=n_heads)
        k = _Site(attn.k_proj, n_heads=n_kv_heads)
        parts: dict[str, _Point] = {
            "resid_pre": _Site(block, on_input=True),
            "q": q,
            "rot_q": _Rotary(attn, q),
            "k": k,
            "rot_k": _Rotary(attn, k),
            "v": _Site(attn.v_proj, n_heads=n_kv_heads),
            "z": _Site(attn.o_proj, on_input=True, n_heads=n_heads),
            "attn_out": _Site(attn.o_proj),
            "resid_mid": _PreLnResidMid(block.input_layernorm, attn),
            "mlp_pre": _Site(mlp.gate_proj),
            "mlp_pre_linear": _Site(mlp.up_proj),
            "mlp_post": _Site(mlp.down_proj, on_input=True),
            "mlp_out": _Site(mlp),
            "resid_post": _Site(block),
        }
        if eager:
            parts["pattern"] = _Pattern(attn, None, f"blocks.{layer}.attn.hook_z")
        points |= _block_points(layer, parts)
    points["ln_final.hook_normalized"] = _Site(base.norm)
    return points


def _gpt_neox_points(model: nn.Module, eager: bool) -> dict[str, _Point]:
    """GPTNeoXModel / GPTNeoXForCausalLM (Pythia): one ``query_key_value`` Linear per layer."""
    base = model.base_model
    n_heads = model.config.num_attention_heads
    points: dict[str, _Point] = {"hook_embed": _Site(base.embed_in)}
    for layer, block in enumerate(base.layers):
        attn, mlp = block.attention, block.mlp
        q, k, v = (
            _Site(attn.query_key_value, part=(i, 3), n_heads=n_heads, per_head=True)
            for i in range(3)
        )
        parts: dict[str, _Point] = {
            "resid_pre": _Site(block, on_input=True),
            "q": q,
            "rot_q": _Rotary(attn, q),
            "k": k,
            "rot_k": _Rotary(attn, k),
            "v": v,
            "z": _Site(attn.dense, on_input=True, n_heads=n_heads),
            "attn_out": _Site(attn.dense),
            "mlp_pre": _Site(mlp.dense_h_to_4h),
            "mlp_post": _Site(mlp.dense_4h_to_h, on_input=True),
            "mlp_out": _Site(mlp),
            "resid_post": _Site(block),
        }
        if not block.use_parallel_residual:
            parts["resid_mid"] = _PreLnResidMid(block.input_layernorm, attn)
        if eager:
            parts["pattern"] = _Pattern(attn, None, f"blocks.{layer}.attn.hook_z")
        points |= _block_points(layer, parts)
    points["ln_final.hook_normalized"] = _Site(base.final_layer_norm)
    return points


_ADAPTERS: dict[str, Callable[[nn.Module, bool], dict[str, _Point]]] = {
    "gpt2": _gpt2_points,
    "gpt_neo": _gpt_neo_points,
    "bert": _bert_points,
    "roberta": _bert_points,
    "llama": _llama_points,
    "qwen2": _llama_points,
    "mistral": _llama_points,
    "gpt_neox": _gpt_neox_points,
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


def _missing_reason(model: nn.Module, suffix: str, valid: list[str]) -> str | None:
    """Why a name that other architectures have is not one of ``model``'s, or None."""
    cls = type(model).__name__
    if suffix in ("attn.hook_rot_q", "attn.hook_rot_k") and "hook_pos_embed" in valid:
        return (
            f" {cls} has no rotary embedding: its learned position embedding (hook_pos_embed) is "
            "added to the residual stream, so hook_q and hook_k are what q·k uses."
        )
    if suffix == "hook_pos_embed" and "blocks.0.attn.hook_rot_q" in valid:
        return (
            f" {cls} adds no position embedding: positions enter through the rotary embedding "
            "of q and k (attn.hook_rot_q, attn.hook_rot_k)."
        )
    if suffix == "mlp.hook_pre_linear":
        return (
            f" Only gated MLPs (the Llama family) have mlp.hook_pre_linear; {cls}'s MLP is "
            "act(mlp.hook_pre)."
        )
    if suffix == "hook_resid_mid" and "blocks.0.hook_mlp_out" in valid:
        return (
            f" {cls} adds attention and MLP in parallel (resid_post = resid_pre + attn_out + "
            "mlp_out, the MLP reads resid_pre): there is no resid_mid. Use hook_resid_pre, "
            "hook_attn_out and hook_mlp_out."
        )
    if suffix == "ln_final.hook_normalized":
        return " BERT and RoBERTa have no final LayerNorm: use the last hook_resid_post."
    return None


def _check_name_type(name: Any) -> None:
    if not isinstance(name, str):
        hint = ""
        if isinstance(name, tuple):
            hint = (
                " For a short name and a layer, use act_name(short, layer), e.g. act_name('z', 3)."
            )
        raise TypeError(
            f"Hook names are strings such as 'blocks.0.hook_resid_post', not "
            f"{type(name).__name__} {name!r}.{hint}"
        )


def _unknown_name_error(model: nn.Module, name: str, valid: list[str]) -> ValueError:
    message = f"{name!r} is not a hook name of {type(model).__name__}."
    match = re.fullmatch(r"blocks\.(\d+)\.(.+)", name)
    suffix = match.group(2) if match else name
    close = difflib.get_close_matches(name, valid, n=1)
    reason = None if f"blocks.0.{suffix}" in valid else _missing_reason(model, suffix, valid)
    if name.endswith("attn.hook_pattern") and "blocks.0.attn.hook_pattern" not in valid:
        message += " hook_pattern needs the model loaded with attn_implementation='eager'."
    elif reason:
        message += reason
    elif match and f"blocks.0.{suffix}" in valid:
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
    if not isinstance(names, Iterable):
        _check_name_type(names)
    wanted = list(names)
    for name in wanted:
        _check_name_type(name)
        if name not in valid:
            raise _unknown_name_error(model, name, valid)
    return [name for name in valid if name in wanted]


def act_name(short: str, layer: int | None = None) -> str:
    """The full hook name for a short one, as TransformerLens' ``utils.get_act_name``.

    ``act_name("pattern", 3)`` -> ``"blocks.3.attn.hook_pattern"``; ``act_name("mlp_post", 2)``
    -> ``"blocks.2.mlp.hook_post"``; ``act_name("rot_q", 0)`` -> ``"blocks.0.attn.hook_rot_q"``;
    ``act_name("embed")`` -> ``"hook_embed"``. A full name is returned as it is.
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


def _check_hook_function(name: str, fn: Any) -> None:
    """A clear error now, rather than a TypeError inside the forward pass."""
    if not callable(fn):
        raise TypeError(f"The hook for {name} is not callable: {fn!r}.")
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):  # a builtin without a signature: let the call decide
        return
    try:
        signature.bind(None, hook=None)
    except TypeError:
        raise TypeError(
            f"The hook for {name} cannot be called as fn(activation, hook=...): its signature is "
            f"{signature}. Hook functions take the activation and the hook point, as in "
            "TransformerLens: def fn(activation, hook): ... (hook.name is the full name, "
            "hook.layer() the block)."
        ) from None


@contextmanager
def hooks(model: nn.Module, fwd_hooks: Iterable[tuple[str, HookFn]]) -> Iterator[nn.Module]:
    """Install forward hooks by name for the ``with`` block; yields the model.

    ``fwd_hooks`` is a list of ``(name, fn)``; ``fn(activation, hook)`` returns None to read or a
    modified clone to overwrite the activation (``hook.name``, ``hook.layer()``: see
    :class:`HookPoint`). Every hook is removed on exit, also when the body raises. All names and
    functions are checked before any hook is installed.
    """
    points = _points(model)
    valid = list(points)
    rank = {name: index for index, name in enumerate(valid)}
    if isinstance(fwd_hooks, tuple) and len(fwd_hooks) == 2 and isinstance(fwd_hooks[0], str):
        raise TypeError(
            "fwd_hooks is a list of (name, fn) pairs: for one hook write "
            f"hooks(model, [({fwd_hooks[0]!r}, fn)])."
        )
    if not isinstance(fwd_hooks, Iterable) or isinstance(fwd_hooks, str):
        raise TypeError(
            f"fwd_hooks is a list of (name, fn) pairs, not {type(fwd_hooks).__name__}: "
            "e.g. hooks(model, [('blocks.0.hook_resid_post', fn)])."
        )
    fwd_hooks = list(fwd_hooks)
    for item in fwd_hooks:
        if not (isinstance(item, tuple) and len(item) == 2):
            raise TypeError(f"fwd_hooks holds (name, fn) pairs, got {item!r}.")
        _check_name_type(item[0])
        if item[0] not in points:
            raise _unknown_name_error(model, item[0], valid)
    for name, fn in fwd_hooks:
        _check_hook_function(name, fn)
    entries: list[_Entry] = []
    try:
        for name, fn in fwd_hooks:
            order = (rank[name], next(_INSTALLS))
            entries += points[name].attach(HookPoint(name), fn, order)
        yield model
    finally:
        for entry in entries:
            entry.remove()


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
            if not -self.n_layers <= layer < self.n_layers:
                raise KeyError(
                    f"Layer {layer} is out of range: this model has {self.n_layers} layers, "
                    f"0 .. {self.n_layers - 1} (or -1 .. -{self.n_layers} counted from the end)."
                )
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


def _check_inputs(model: nn.Module, kwargs: dict[str, Any]) -> None:
    """Clear errors for inputs the model would fail on deep inside its forward pass."""
    ids, embeds = kwargs.get("input_ids"), kwargs.get("inputs_embeds")
    for key, value in (("input_ids", ids), ("inputs_embeds", embeds)):
        if value is not None and not isinstance(value, Tensor):
            raise TypeError(
                f"inputs[{key!r}] is a {type(value).__name__}, not a tensor: call the tokenizer "
                "with return_tensors='pt'."
            )
    tokens = ids if ids is not None else embeds
    if tokens is None:
        raise ValueError(
            "inputs hold neither input_ids nor inputs_embeds: pass a tokenizer's output, e.g. "
            "tokenizer(text, return_tensors='pt'), or a tensor of ids."
        )
    n_positions = tokens.shape[-1 if tokens is ids else -2] if tokens.dim() >= 1 else 0
    if tokens.numel() == 0 or n_positions == 0:
        raise ValueError(
            f"The input holds no tokens (shape {list(tokens.shape)}): give at least one, e.g. "
            "tokenizer('some text', return_tensors='pt'); an empty text has no tokens."
        )
    check_length(model, tokens if tokens is ids else tokens[..., 0])
    if tokens is ids:
        vocab = model.get_input_embeddings().num_embeddings
        low, high = int(ids.min()), int(ids.max())
        if low < 0 or high >= vocab:
            bad = low if low < 0 else high
            origin = getattr(model, "_ml4llm_origin", None)
            model_id = getattr(origin, "model_id", None) or model.config.name_or_path
            raise ValueError(
                f"Token id {bad} is outside this model's vocabulary (ids 0 .. {vocab - 1}): the ids "
                f"were probably made by another model's tokenizer. Encode the text with this "
                f"model's tokenizer, ml4llm.models.load_tokenizer({model_id!r})."
            )


# Families whose positions come from position_ids (RoBERTa derives them from the padding itself).
_POSITION_IDS = ("gpt2", "gpt_neo", "bert", "llama", "qwen2", "mistral", "gpt_neox")


def _positions_for_left_padding(model: nn.Module, kwargs: dict[str, Any]) -> dict[str, Any]:
    """Add position ids counted from the attention mask when a row is padded on the left.

    Without them a left-padded sequence gets other positions (and activations) than the same
    sequence unpadded; with them its real tokens get the same.
    """
    mask = kwargs.get("attention_mask")
    if not isinstance(mask, Tensor) or mask.dim() != 2 or "position_ids" in kwargs:
        return kwargs
    mask = mask.long()
    left_padded = bool(((mask[:, 1:] - mask[:, :-1]) > 0).any())  # a 0 followed by a 1
    if not left_padded:
        return kwargs
    if model.config.model_type not in _POSITION_IDS:
        return kwargs
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    return {**kwargs, "position_ids": positions}


def run_with_cache(
    model: nn.Module,
    inputs: Mapping[str, Any] | Tensor,
    names: str | Iterable[str] | Callable[[str], bool] | None = None,
) -> tuple[Any, ActivationCache]:
    """Run ``model`` once under ``torch.no_grad()`` and cache activations by hook name.

    ``inputs``: a tokenizer's output (``input_ids``, ``attention_mask``, ...) or a tensor of ids
    ([batch, pos], or [pos] for one sequence); other keyword arguments of the model can ride in
    the dict (``{**inputs, "output_attentions": True}``). ``names``: None (every name), a list of
    names, a predicate ``name -> bool``, or a string: an exact name, else every name that contains
    it (``"hook_pattern"``, ``"blocks.3."``). Returns the model's usual output and an
    :class:`ActivationCache` of detached CPU tensors: the values the model computed, also where
    it changed a tensor in place later in the forward, apart from the returned output. A CPU
    model's activations are not copied, so names that are one tensor share it (q, k and v are
    views of GPT-2's ``c_attn`` output; ``blocks.{L}.hook_resid_post`` is
    ``blocks.{L+1}.hook_resid_pre``): clone a cached tensor before changing it in place.

    Inputs are checked first: an empty input, ids outside the model's vocabulary (another
    tokenizer's) and inputs longer than the context raise a ValueError that says what to do. A
    batch padded on the left gets position ids counted from its attention mask, so its real
    tokens get the same activations as without padding.
    """
    valid = hook_names(model)
    selected = _select(model, names, valid)
    kwargs = _model_inputs(model, inputs)
    _check_inputs(model, kwargs)
    kwargs = _positions_for_left_padding(model, kwargs)
    # Eval mode is deterministic, so a name whose tensor the model changed in place can be read
    # again in a second forward; in training mode (dropout) every tensor is copied at once.
    output, store, changed = _cached_forward(model, kwargs, selected, copy=model.training)
    if changed:
        _, again, _ = _cached_forward(model, kwargs, changed, copy=True)
        store.update(again)
    n_layers = sum(name.endswith(".hook_resid_pre") for name in valid)
    return output, ActivationCache({name: store[name] for name in selected}, n_layers)


def _cached_forward(
    model: nn.Module, kwargs: dict[str, Any], names: list[str], copy: bool
) -> tuple[Any, dict[str, Tensor], list[str]]:
    """One forward that keeps the activations of ``names``: (output, tensors, names to redo).

    Without ``copy`` a CPU activation is kept as it is (detached, no copy: copying every
    activation costs as much as a tenth of the forward), with its version counter; a name whose
    tensor the model then changed in place is returned to be read again with ``copy``.
    Activations on another device are copied to the CPU, inference tensors (which have no
    version counter) copied where they are.
    """
    store: dict[str, Tensor] = {}
    versions: dict[str, int] = {}

    def save(activation: Tensor, hook: HookPoint) -> None:
        kept = activation.detach()
        if copy or kept.device.type != "cpu" or kept.is_inference():
            kept = kept.to("cpu", copy=True)
        else:
            versions[hook.name] = kept._version
        store[hook.name] = kept

    with torch.no_grad(), hooks(model, [(name, save) for name in names]):
        output = model(**kwargs)
    changed = [name for name, version in versions.items() if store[name]._version != version]
    # What the model returns stays apart from the cache: changing one must not change the other.
    returned = _storages(output)
    for name in versions:
        if store[name].untyped_storage().data_ptr() in returned:
            store[name] = store[name].clone()
    return output, store, changed


def _storages(value: Any) -> set[int]:
    """The data pointers of the storages of every tensor in a model output (nested)."""
    if isinstance(value, Tensor):
        return {value.untyped_storage().data_ptr()}
    items = value.values() if isinstance(value, Mapping) else value
    if not isinstance(value, (Mapping, tuple, list)):
        return set()
    return set().union(*(_storages(item) for item in items))
