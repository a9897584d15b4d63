"""``LSTMLanguageModel``: word- or character-level LSTM language model, evaluation by
perplexity / bits per character, and text generation (greedy, temperature, top-k, top-p, beam).

Training is truncated BPTT over one continuous stream (Zaremba et al. 2014; Merity et al.
2018): the training text becomes one token stream, cut into ``batch_size`` contiguous rows;
each step reads ``bptt`` tokens of every row and carries the LSTM state to the next chunk.

Evaluation protocol (:meth:`LSTMLanguageModel.evaluate`): the whole text as one stream, read
in chunks of 256 tokens with the state carried, from a zero state at the start; every token
after the first is predicted from all tokens before it. Batch-size independent by design
(one stream), so two runs with different training batch sizes are compared on equal terms.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np
import torch

from lstmkit.data.text import TEXT_LEVELS, TextPipeline, TextWindows, read_text
from lstmkit.errors import ConfigError, DataError, suggest
from lstmkit.estimators.base import Estimator, Prepared
from lstmkit.models.decoding import beam_search, check_sampling, sample_token
from lstmkit.models.language_model import LanguageModelNetwork, LanguageModelNetworkConfig
from lstmkit.persist import register
from lstmkit.train.tbptt import StreamLoader

__all__ = ["LSTMLanguageModel"]

EVAL_CHUNK = 256  # tokens per forward pass when evaluating (state carried between chunks)
RECORD_WINDOW = 64  # tokens per window in the run record that lstmkit report shows
ON_UNKNOWN = ("unk", "error")


def _streams(ids: np.ndarray, rows: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """``rows`` contiguous (x (n, 1), y (n,)) streams of next-token pairs over ``ids`` (N,)."""
    n = (len(ids) - 1) // rows
    t = torch.from_numpy(ids)
    return [(t[b * n:(b + 1) * n, None], t[b * n + 1:(b + 1) * n + 1]) for b in range(rows)]


@register
class LSTMLanguageModel(Estimator):
    """Word- or character-level LSTM language model (scikit-learn style).

    ``fit(text)`` learns a vocabulary and the network; ``evaluate(text)`` gives perplexity and
    bits per token (bits per character at ``level="char"``); ``generate(prompt)`` and
    ``stream(prompt)`` continue a prompt.

    Args:
        level: ``"word"`` (lines split on white space, each ending with ``<eos>``) or ``"char"``.
        min_freq, max_vocab, lowercase: the vocabulary (:class:`~lstmkit.data.text.TextPipeline`);
            tokens outside it become ``<unk>``.
        embedding_dim, hidden_size, num_layers, tie_weights, dropout, input_dropout,
        embedding_dropout, weight_drop, layer_norm, ar_alpha, tar_beta: the network
            (:class:`~lstmkit.models.language_model.LanguageModelNetworkConfig`; AWD-LSTM's
            regularisers are the last six).
        bptt: tokens per truncated-BPTT chunk (gradients flow back this far; the state flows on).
        val_size: share of the text (its end) held out for validation when ``fit`` gets no
            ``X_val``; 0 for none.
        random_state: seed of initialisation, dropout and sampling order.
        trainer: :class:`~lstmkit.train.TrainerConfig` fields over ``trainer_defaults``
            (SGD with lr 20 and the gradient norm clipped at 0.25 on the loss averaged over
            tokens, batch 20, the learning rate quartered when the validation loss stops
            falling, at most 13 epochs: the PyTorch word_language_model example's rule.
            Zaremba et al.'s lr 1 and clip 5 are the same steps on a loss summed over the
            ``bptt`` steps of a chunk).

    Raises:
        ConfigError: an argument out of range (``fit`` reports all of them at once).
        DataError: empty text, a text shorter than two batches of ``bptt`` tokens.
    """

    network_class: ClassVar[type] = LanguageModelNetwork
    pipeline_class: ClassVar[type] = TextPipeline
    trainer_defaults: ClassVar[dict[str, Any]] = {
        "optimizer": "sgd", "lr": 20.0, "momentum": 0.0, "grad_clip": 0.25, "batch_size": 20, "max_epochs": 13,
        "schedule": "plateau", "plateau_factor": 0.25, "plateau_patience": 0, "shuffle": False,
    }

    def __init__(
        self,
        level: str = "word",
        min_freq: int = 1,
        max_vocab: int | None = None,
        lowercase: bool = False,
        embedding_dim: int = 200,
        hidden_size: int = 200,
        num_layers: int = 2,
        tie_weights: bool = True,
        dropout: float = 0.2,
        input_dropout: float = 0.2,
        embedding_dropout: float = 0.0,
        weight_drop: float = 0.0,
        layer_norm: bool = False,
        ar_alpha: float = 0.0,
        tar_beta: float = 0.0,
        bptt: int = 35,
        val_size: float = 0.05,
        random_state: int = 0,
        trainer: Any = None,
    ) -> None:
        self.level = level
        self.min_freq = min_freq
        self.max_vocab = max_vocab
        self.lowercase = lowercase
        self.embedding_dim = embedding_dim
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.tie_weights = tie_weights
        self.dropout = dropout
        self.input_dropout = input_dropout
        self.embedding_dropout = embedding_dropout
        self.weight_drop = weight_drop
        self.layer_norm = layer_norm
        self.ar_alpha = ar_alpha
        self.tar_beta = tar_beta
        self.bptt = bptt
        self.val_size = val_size
        self.random_state = random_state
        self.trainer = trainer

    # --- fit --------------------------------------------------------------------------------
    def fit(self, X: Any, X_val: Any = None, *, resume: bool = False) -> "LSTMLanguageModel":
        """Learn the vocabulary and the network from text ``X`` (str, list of str lines, or the
        path of a .txt file or folder); ``X_val`` (same forms) for validation, else the last
        ``val_size`` of ``X``. ``resume=True`` continues from ``trainer.run_dir``."""
        return self._fit(X, X_val, resume=resume)

    def _check_params(self) -> None:
        problems = []
        if self.level not in TEXT_LEVELS:
            problems.append(f"level must be one of {list(TEXT_LEVELS)}, got {self.level!r}{suggest(str(self.level), TEXT_LEVELS)}")
        if isinstance(self.bptt, bool) or not isinstance(self.bptt, int) or self.bptt < 1:
            problems.append(f"bptt must be a positive int, got {self.bptt!r}")
        if isinstance(self.val_size, bool) or not isinstance(self.val_size, (int, float)) or not 0 <= self.val_size < 0.5:
            problems.append(f"val_size must be a fraction in [0, 0.5), got {self.val_size!r}")
        if problems:
            raise ConfigError("; ".join(problems))

    def _prepare(self, X: Any, X_val: Any) -> Prepared:
        text = read_text(X, "X")
        val_text = None if X_val is None else read_text(X_val, "X_val")
        pipe = TextPipeline(self.level, self.min_freq, self.max_vocab, self.lowercase)
        if val_text is None and self.val_size > 0:
            cut = _line_cut(text, self.val_size)
            text, val_text = text[:cut], text[cut:]
        pipe.fit(text)
        ids = pipe.encode(text)
        config = LanguageModelNetworkConfig(
            vocab_size=len(pipe), embedding_dim=self.embedding_dim, hidden_size=self.hidden_size,
            num_layers=self.num_layers, tie_weights=self.tie_weights, dropout=self.dropout,
            input_dropout=self.input_dropout, embedding_dropout=self.embedding_dropout, weight_drop=self.weight_drop,
            layer_norm=self.layer_norm, ar_alpha=self.ar_alpha, tar_beta=self.tar_beta,
        )
        rows = self.trainer_config().batch_size
        if len(ids) - 1 < rows * 2:
            raise DataError(f"the training text holds {len(ids)} tokens; it needs more than 2 x batch_size "
                            f"({rows}) to fill the rows of truncated BPTT: give more text or a smaller "
                            "trainer batch_size")
        val_ids = pipe.encode(val_text) if val_text is not None else None
        if val_ids is not None and len(val_ids) < 2:
            raise DataError(f"the validation text holds {len(val_ids)} token(s); it needs at least 2 "
                            "(give a longer X_val, or val_size=0 for none)")
        bptt = self.bptt

        def training_data(cfg: Any) -> StreamLoader:
            return StreamLoader(_streams(ids, cfg.batch_size), batch_size=cfg.batch_size, chunk_length=bptt)

        val = None
        if val_ids is not None:
            val_rows = max(1, min(rows, (len(val_ids) - 1) // bptt))
            val = StreamLoader(_streams(val_ids, val_rows), batch_size=val_rows, chunk_length=bptt)
        return Prepared(pipe, config, training_data, val)

    # --- run record (lstmkit report) -----------------------------------------------------------
    def _record_data(self, prepared: Prepared, train: Any) -> tuple[Any, str] | None:
        """64-token windows of the validation text (else of the training text) for the report."""
        loader, split = prepared.val, "validation text (held out from training)"
        if loader is None:
            loader, split = train, "training text (no validation text was kept), so these are figures on seen data"
        if not isinstance(loader, StreamLoader):
            return None
        ids = torch.cat([x[:, 0] for x, _ in loader.streams] + [loader.streams[-1][1][-1:]])  # the rows, in order
        return TextWindows(ids, RECORD_WINDOW), split

    def _baselines(self, prepared: Prepared) -> Any:
        """A unigram model: each token's training frequency (add-one smoothed)."""
        pipe = prepared.pipeline
        counts = np.ones(len(pipe), dtype=np.float64)
        for token, c in pipe.vocab_.counts.items():
            counts[pipe.vocab_.stoi.get(token, 1)] += c
        counts[0] = 0  # <pad> never occurs
        log_p = torch.from_numpy(np.log(np.maximum(counts, 1e-300) / counts.sum()))

        def run(batch: dict[str, torch.Tensor]) -> list[tuple[str, dict[str, float]]]:
            loss = float(-log_p[batch["y"]].mean())
            return [("unigram (training frequencies)", {"loss": loss, "perplexity": math.exp(min(loss, 700.0))})]

        return run

    def _record_notes(self) -> dict[str, Any]:
        return {"units": f"loss is the mean negative log-likelihood per token (nats), over {RECORD_WINDOW}-token "
                         "windows each read from a zero state (evaluate() streams the whole text with the state "
                         "carried and gives lower figures)"}

    # --- evaluate ---------------------------------------------------------------------------
    @torch.no_grad()
    def evaluate(self, X: Any) -> dict[str, float]:
        """Held-out quality of text ``X`` (see the module docstring for the protocol).

        Returns:
            ``loss`` (mean negative log-likelihood per predicted token, nats), ``perplexity``
            (exp(loss)), ``bits_per_token`` (loss / ln 2: bits per character at char level),
            ``tokens`` (tokens predicted) and ``unknown_share`` (share of them that are ``<unk>``).

        Raises:
            DataError: ``X`` empty or shorter than two tokens.
        """
        self._check_fitted()
        ids = self.pipeline_.encode(read_text(X, "X"))
        if len(ids) < 2:
            raise DataError(f"X holds {len(ids)} token(s); perplexity needs at least 2")
        net = self.networks_[0].eval()
        t = torch.from_numpy(ids)
        state, total = None, 0.0
        for s in range(0, len(ids) - 1, EVAL_CHUNK):
            x = t[s:min(s + EVAL_CHUNK, len(ids) - 1)][None]  # (1, K)
            y = t[s + 1:s + 1 + x.shape[1]]  # (K,)
            logits, state = net(x, state)  # (1, K, V)
            total += float(torch.nn.functional.cross_entropy(logits[0].float(), y, reduction="sum"))
        n = len(ids) - 1
        loss = total / n
        return {"loss": loss, "perplexity": math.exp(min(loss, 700.0)), "bits_per_token": loss / math.log(2),
                "tokens": n, "unknown_share": float((ids[1:] == 1).mean())}

    def perplexity(self, X: Any) -> float:
        """exp(mean negative log-likelihood per token) of text ``X`` (:meth:`evaluate`)."""
        return self.evaluate(X)["perplexity"]

    def score(self, X: Any, y: Any = None) -> float:
        """Minus the mean negative log-likelihood per token (higher is better, for scikit-learn)."""
        return -self.evaluate(X)["loss"]

    # --- generate ---------------------------------------------------------------------------
    def _prime(self, prompt: str, on_unknown: str) -> tuple[Any, int]:
        """State after reading all but the prompt's last token, and that last token's id."""
        if not isinstance(prompt, str):
            raise DataError(f"prompt must be a str, got {type(prompt).__name__}")
        if on_unknown not in ON_UNKNOWN:
            raise ConfigError(f"on_unknown must be one of {list(ON_UNKNOWN)}, got {on_unknown!r}")
        pipe = self.pipeline_
        unknown = pipe.unknown(prompt)
        if unknown:
            msg = (f"the prompt holds {len(unknown)} token(s) never seen in training ({', '.join(map(repr, unknown[:5]))}"
                   f"{', ...' if len(unknown) > 5 else ''})")
            if on_unknown == "error":
                raise DataError(msg + "; rephrase it, or pass on_unknown='unk' to read them as <unk>")
            warnings.warn(msg + "; they are read as <unk>", stacklevel=3)
        ids = pipe.encode(prompt, end_of_text=False)
        start = pipe.eos_id if pipe.eos_id is not None else 1  # an empty prompt starts as after a line break
        ids = np.concatenate([[start], ids]).astype(np.int64)
        net = self.networks_[0].eval()
        state = None
        with torch.no_grad():
            for s in range(0, len(ids) - 1, EVAL_CHUNK):  # any prompt length: the state carries it
                _, state = net(torch.from_numpy(ids[s:min(s + EVAL_CHUNK, len(ids) - 1)])[None], state)
        return state, int(ids[-1])

    def stream(self, prompt: str = "", max_tokens: int = 100, *, temperature: float = 1.0, top_k: int | None = None,
               top_p: float | None = None, seed: int | None = None, stop_at_eos: bool = False,
               on_unknown: str = "unk") -> Iterator[str]:
        """Continue ``prompt`` token by token, yielding each token's text as it is drawn.

        Args:
            prompt: text that primes the state (empty: start as after a line break).
            max_tokens: tokens to generate.
            temperature: 0 is greedy (argmax); otherwise logits / temperature are sampled from.
            top_k: sample among the k most likely tokens only (exactly k).
            top_p: sample among the most likely tokens whose probability reaches p (the crossing
                token included).
            seed: seed of the sampling generator (same seed, same text); None draws a fresh one.
            stop_at_eos: stop after ``<eos>`` (word level) or a line break (char level).
            on_unknown: prompt tokens never seen in training: ``"unk"`` reads them as ``<unk>``
                with a warning, ``"error"`` raises a DataError.

        Raises:
            ConfigError: a sampling argument out of range; DataError: see ``on_unknown``.
        """
        self._check_fitted()
        check_sampling(temperature, top_k, top_p)
        if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 0:
            raise ConfigError(f"max_tokens must be an int >= 0, got {max_tokens!r}")
        state, last = self._prime(prompt, on_unknown)  # errors now, not at the first next()
        return self._draw(prompt, state, last, max_tokens, temperature, top_k, top_p, seed, stop_at_eos)

    def _draw(self, prompt: str, state: Any, last: int, max_tokens: int, temperature: float, top_k: int | None,
              top_p: float | None, seed: int | None, stop_at_eos: bool) -> Iterator[str]:
        gen = torch.Generator()
        if seed is None:
            gen.seed()  # fresh entropy; the global torch generator is left alone
        else:
            gen.manual_seed(int(seed))
        pipe, net = self.pipeline_, self.networks_[0]
        previous = None if not prompt.strip() or prompt[-1].isspace() else "x"
        for _ in range(max_tokens):
            with torch.no_grad():
                logits, state = net(torch.tensor([[last]]), state)  # (1, 1, V)
            logits = logits[0, 0].float()
            logits[0] = float("-inf")  # <pad> is never a token of the text
            last = int(sample_token(logits, temperature=temperature, top_k=top_k, top_p=top_p, generator=gen))
            token = pipe.token(last)
            yield pipe.join(token, previous)
            previous = token
            if stop_at_eos and last == pipe.eos_id:
                return

    def generate(self, prompt: str = "", max_tokens: int = 100, *, temperature: float = 1.0, top_k: int | None = None,
                 top_p: float | None = None, num_beams: int | None = None, length_penalty: float = 1.0,
                 seed: int | None = None, stop_at_eos: bool = False, on_unknown: str = "unk") -> str:
        """The continuation of ``prompt`` as one string (the prompt itself not included).

        Sampling arguments as in :meth:`stream`. ``num_beams``: beam search with that many beams
        (deterministic; the sampling arguments are then unused), hypotheses ranked by summed
        log-probability / length ** ``length_penalty``; ``num_beams=1`` equals greedy decoding.
        """
        if num_beams is None:
            return "".join(self.stream(prompt, max_tokens, temperature=temperature, top_k=top_k, top_p=top_p,
                                       seed=seed, stop_at_eos=stop_at_eos, on_unknown=on_unknown))
        self._check_fitted()
        if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
            raise ConfigError(f"max_tokens must be a positive int for beam search, got {max_tokens!r}")
        state, last = self._prime(prompt, on_unknown)
        net = self.networks_[0]

        def step(tokens: torch.Tensor, st: Any) -> tuple[torch.Tensor, Any]:
            with torch.no_grad():
                logits, st = net(tokens[:, None], st)  # (K, 1, V)
            logits = logits[:, 0].float()
            logits[:, 0] = float("-inf")
            return torch.log_softmax(logits, dim=-1), st

        best = beam_search(step, state, last, beam_size=num_beams, max_len=max_tokens,
                           eos_id=self.pipeline_.eos_id if stop_at_eos else None,
                           length_penalty=length_penalty)[0]  # the default select: dim 1 of each (h, c)
        pipe, out, previous = self.pipeline_, [], None if not prompt.strip() or prompt[-1].isspace() else "x"
        for i in best.tokens:
            token = pipe.token(i)
            out.append(pipe.join(token, previous))
            previous = token
        return "".join(out)

    # --- persistence ---------------------------------------------------------------------------
    @property
    def vocabulary_(self) -> list[str]:
        """The tokens, in id order (``<pad>``, ``<unk>``, then by training frequency)."""
        self._check_fitted()
        return list(self.pipeline_.vocab_.itos)


def _line_cut(text: str, share: float) -> int:
    """Where the last ``share`` of ``text`` starts, moved back to a line start when one is near."""
    cut = int(len(text) * (1 - share))
    line = text.rfind("\n", 0, cut)
    return line + 1 if line > 0 and cut - line < max(1000, len(text) * share / 2) else cut
