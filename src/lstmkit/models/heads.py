"""Shared pieces of task models: a length-aware (Bi)LSTM encoder, sequence pooling,
dense heads and a linear-chain CRF.

Shape letters: B batch, T time, F features, H hidden, D directions, C classes/tags.
"""

from __future__ import annotations

import torch
from torch import nn

from lstmkit.errors import ConfigError, suggest
from lstmkit.nn import LSTM

__all__ = ["LSTMEncoder", "SequencePooling", "DenseHead", "CRF", "FCNBranch", "length_mask", "POOLINGS"]

POOLINGS = ("last", "mean", "max", "attention")



def length_mask(lengths: torch.Tensor, T: int) -> torch.Tensor:
    """(B, T) bool, True at valid steps ``t < lengths[b]``."""
    return torch.arange(T, device=lengths.device)[None, :] < lengths[:, None]


class LSTMEncoder(nn.Module):
    """(Bi)LSTM over right-padded batches, length-aware.

    Returns ``(output (B, T, D*H), last (B, D*H))``: output is zero past each sequence's end;
    ``last`` concatenates each direction's final state (forward: step ``lengths-1``,
    backward: step 0).
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bidirectional: bool = True, dropout: float = 0.0) -> None:
        super().__init__()
        self.lstm = LSTM(
            input_size,
            hidden_size,
            num_layers=num_layers,
            batch_first=True,
            bidirectional=bidirectional,
            dropout=dropout if num_layers > 1 else 0.0,
        )
        self.num_directions = 2 if bidirectional else 1
        self.output_size = hidden_size * self.num_directions

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        B, T, _ = x.shape
        out, (h_n, _) = self.lstm(x, lengths=lengths)  # (B, T, D*H), zero past each end
        D = self.num_directions
        last = h_n[-D:].transpose(0, 1).reshape(B, -1)  # (D, B, H) -> (B, D*H)
        return out, last


class SequencePooling(nn.Module):
    """Pool (B, T, E) encoder outputs to (B, E), ignoring steps past ``lengths``.

    ``last``: final states; ``mean``/``max`` over valid steps; ``attention``: softmax over
    valid steps of ``v . tanh(W o_t)``, then the weighted sum of ``o_t``.
    """

    def __init__(self, mode: str, size: int) -> None:
        super().__init__()
        if mode not in POOLINGS:
            raise ConfigError(f"pooling must be one of {list(POOLINGS)}, got {mode!r}{suggest(str(mode), POOLINGS)}")
        self.mode = mode
        if mode == "attention":
            self.proj = nn.Linear(size, size)
            self.score = nn.Linear(size, 1, bias=False)

    def forward(self, out: torch.Tensor, last: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        if self.mode == "last":
            return last
        mask = length_mask(lengths, out.shape[1]).unsqueeze(-1)  # (B, T, 1)
        if self.mode == "mean":
            return (out * mask).sum(1) / lengths.clamp(min=1).unsqueeze(-1).to(out.dtype)
        if self.mode == "max":
            return out.masked_fill(~mask, float("-inf")).amax(1)
        scores = self.score(torch.tanh(self.proj(out))).masked_fill(~mask, float("-inf"))  # (B, T, 1)
        return (torch.softmax(scores, dim=1) * out).sum(1)  # (B, E)

    def extra_repr(self) -> str:
        return f"mode={self.mode!r}"


class MaskedBatchNorm1d(nn.BatchNorm1d):
    """Batch norm over (B, C, T) whose training statistics count the valid steps only.

    ``mask`` (B, 1, T): 1 on valid steps. In training, the batch mean and (biased) variance are
    taken over the valid steps; the running statistics are updated as torch's ``BatchNorm1d``
    does (momentum, unbiased variance). A batch without padding, and evaluation, take torch's own
    path, so the module matches ``nn.BatchNorm1d`` exactly there and has the same state dict.
    """

    def forward(self, h: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        if not self.training or mask is None or bool(mask.all()):
            return super().forward(h)
        n = mask.sum()  # valid steps in the batch
        mean = (h * mask).sum((0, 2)) / n  # (C,)
        var = (((h - mean[:, None]) * mask) ** 2).sum((0, 2)) / n
        if self.track_running_stats:
            with torch.no_grad():
                self.num_batches_tracked += 1
                m = self.momentum if self.momentum is not None else 1.0 / float(self.num_batches_tracked)
                self.running_mean.mul_(1 - m).add_(m * mean)
                self.running_var.mul_(1 - m).add_(m * var * n / (n - 1).clamp(min=1))
        out = (h - mean[:, None]) / torch.sqrt(var[:, None] + self.eps)
        if self.affine:
            out = out * self.weight[:, None] + self.bias[:, None]
        return out


class FCNBranch(nn.Module):
    """The fully convolutional branch of LSTM-FCN / MLSTM-FCN (Wang et al. 2017's FCN; Karim et
    al. 2017, 2019): blocks of Conv1d (``filters[k]`` channels, kernel ``kernels[k]``, "same"
    padding), batch norm and ReLU, a squeeze-and-excite gate (Hu et al. 2018, reduction 16) after
    every block but the last when ``squeeze_excite``, then global average pooling over the
    valid steps.

    (B, T, F) and lengths (B,) -> (B, filters[-1]). Steps past each length are zeroed after every
    block and left out of the batch-norm statistics (:class:`MaskedBatchNorm1d`), so padding
    never leaks into the features.
    """

    def __init__(self, input_size: int, filters: tuple[int, ...] = (128, 256, 128),
                 kernels: tuple[int, ...] = (8, 5, 3), squeeze_excite: bool = True) -> None:
        super().__init__()
        if len(filters) != len(kernels) or not filters:
            raise ConfigError(f"filters and kernels must be equally long and non-empty, got {filters!r} and {kernels!r}")
        self.convs, self.norms, self.gates = nn.ModuleList(), nn.ModuleList(), nn.ModuleList()
        c_in = input_size
        for k, (c, w) in enumerate(zip(filters, kernels)):
            self.convs.append(nn.Conv1d(c_in, c, w))  # "same" padding in forward: (w - 1) // 2 left, w // 2 right
            self.norms.append(MaskedBatchNorm1d(c))
            se = squeeze_excite and k < len(filters) - 1
            self.gates.append(nn.Sequential(nn.Linear(c, max(1, c // 16)), nn.ReLU(), nn.Linear(max(1, c // 16), c),
                                            nn.Sigmoid()) if se else nn.Identity())
            c_in = c
        self.output_size = c_in

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        mask = length_mask(lengths, x.shape[1]).unsqueeze(1).to(x.dtype)  # (B, 1, T)
        n = lengths.clamp(min=1).unsqueeze(-1).to(x.dtype)  # (B, 1)
        h = x.transpose(1, 2)  # (B, F, T)
        for conv, norm, gate in zip(self.convs, self.norms, self.gates):
            w = conv.kernel_size[0]
            h = torch.relu(norm(conv(nn.functional.pad(h, ((w - 1) // 2, w // 2))), mask)) * mask  # (B, C, T), zero past each end
            if not isinstance(gate, nn.Identity):
                h = h * gate(h.sum(2) / n).unsqueeze(-1)  # squeeze (masked mean) and excite
        return h.sum(2) / n  # (B, C): global average over the valid steps


class DenseHead(nn.Module):
    """``dense -> ReLU -> dropout -> linear`` (or a single linear layer when hidden == 0)."""

    def __init__(self, in_size: int, hidden: int, out_size: int, dropout: float = 0.0) -> None:
        super().__init__()
        if hidden > 0:
            self.net = nn.Sequential(nn.Linear(in_size, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, out_size))
        else:
            self.net = nn.Sequential(nn.Dropout(dropout), nn.Linear(in_size, out_size))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.net(h)


class CRF(nn.Module):
    """Linear-chain CRF over per-step emission scores (B, T, C).

    score(y) = start[y_0] + sum_t emit[t, y_t] + sum_{t>0} trans[y_{t-1}, y_t] + end[y_{T-1}];
    the loss is the negative log-likelihood ``log Z - score(y)``, with ``log Z`` from the
    forward algorithm; ``decode`` is Viterbi. Steps past ``lengths`` are ignored.
    """

    def __init__(self, num_tags: int) -> None:
        super().__init__()
        self.num_tags = num_tags
        self.start = nn.Parameter(torch.zeros(num_tags))
        self.end = nn.Parameter(torch.zeros(num_tags))
        self.trans = nn.Parameter(torch.zeros(num_tags, num_tags))  # trans[i, j]: tag i -> tag j

    def score(self, emit: torch.Tensor, tags: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Unnormalised score of ``tags`` (B, T); returns (B,)."""
        B, T, _ = emit.shape
        mask = length_mask(lengths, T).to(emit.dtype)  # (B, T)
        tags = tags.clamp(min=0)  # padding (-100) is masked out below
        e = emit.gather(2, tags.unsqueeze(-1)).squeeze(-1)  # (B, T)
        tr = self.trans[tags[:, :-1], tags[:, 1:]]  # (B, T-1)
        last = tags.gather(1, (lengths - 1).unsqueeze(1)).squeeze(1)  # (B,)
        return self.start[tags[:, 0]] + (e * mask).sum(1) + (tr * mask[:, 1:]).sum(1) + self.end[last]

    def log_partition(self, emit: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """log Z (B,) by the forward algorithm."""
        T = emit.shape[1]
        mask = length_mask(lengths, T)
        alpha = self.start + emit[:, 0]  # (B, C)
        for t in range(1, T):
            nxt = torch.logsumexp(alpha.unsqueeze(2) + self.trans + emit[:, t].unsqueeze(1), dim=1)  # (B, C)
            alpha = torch.where(mask[:, t : t + 1], nxt, alpha)
        return torch.logsumexp(alpha + self.end, dim=1)

    def nll(self, emit: torch.Tensor, tags: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Mean negative log-likelihood per sequence."""
        return (self.log_partition(emit, lengths) - self.score(emit, tags, lengths)).mean()

    @torch.no_grad()
    def decode(self, emit: torch.Tensor, lengths: torch.Tensor) -> list[list[int]]:
        """Viterbi: the highest-scoring tag sequence of each batch element."""
        B, T, _ = emit.shape
        mask = length_mask(lengths, T)
        best = self.start + emit[:, 0]  # (B, C)
        back = []
        for t in range(1, T):
            cand = best.unsqueeze(2) + self.trans  # (B, C_prev, C)
            val, arg = cand.max(1)  # (B, C)
            back.append(arg)
            best = torch.where(mask[:, t : t + 1], val + emit[:, t], best)
        best = best + self.end
        paths = []
        for b in range(B):
            n = int(lengths[b])
            tag = int(best[b].argmax())
            path = [tag]
            for t in range(n - 1, 0, -1):
                tag = int(back[t - 1][b, tag])
                path.append(tag)
            paths.append(path[::-1])
        return paths
