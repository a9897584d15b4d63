"""ONNX export: the TorchScript twins compute what the layers compute (float64, every variant,
ragged lengths, both directions), and every exported layer and task network gives onnxruntime
outputs as close to a float64 PyTorch run as PyTorch's own float32 run is, at batch 1 and 64,
for lengths other than the traced one; a stream continues across two calls."""

import copy

import numpy as np
import pytest
import torch

from lstmkit.errors import ConfigError, ExportError
from lstmkit.export._twins import twin_of
from lstmkit.export.onnx import export_onnx, onnx_spec
from lstmkit.models.captioner import CaptionerNetwork, CaptionerNetworkConfig
from lstmkit.models.anomaly import AnomalyNetwork, AnomalyNetworkConfig
from lstmkit.models.classifier import ClassifierNetwork, ClassifierNetworkConfig
from lstmkit.models.es_rnn import ESRNNNetwork, ESRNNNetworkConfig
from lstmkit.models.forecaster import ForecasterNetwork, ForecasterNetworkConfig
from lstmkit.models.language_model import LanguageModelNetwork, LanguageModelNetworkConfig
from lstmkit.models.music import MusicNetwork, MusicNetworkConfig
from lstmkit.models.seq2seq import Seq2SeqNetwork, Seq2SeqNetworkConfig
from lstmkit.models.sequence import SequenceNetwork, SequenceNetworkConfig
from lstmkit.models.tagger import TaggerNetwork, TaggerNetworkConfig
from lstmkit.models.transcriber import TranscriberNetwork, TranscriberNetworkConfig
from lstmkit.nn import GRU, LSTM, RNN

ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed (pip install 'lstmkit[export]')")

VARIANTS = {
    "plain": {}, "peephole": {"peephole": True}, "layer_norm": {"layer_norm": True}, "coupled": {"coupled_gates": True},
    "proj": {"proj_size": 3}, "zoneout": {"zoneout": (0.3, 0.1)}, "hard_sigmoid": {"gate_activation": "hard_sigmoid"},
    "dropouts": {"weight_drop": 0.3, "recurrent_dropout": 0.2, "dropout": 0.5},
    "all": {"peephole": True, "layer_norm": True, "proj_size": 3, "coupled_gates": True, "zoneout": 0.2},
}


def layer(kind: str, bidirectional: bool, batch_first: bool = True) -> torch.nn.Module:
    torch.manual_seed(0)
    if kind in ("gru", "rnn"):
        return (GRU if kind == "gru" else RNN)(4, 6, num_layers=2, batch_first=batch_first, bidirectional=bidirectional)
    return LSTM(4, 6, num_layers=2, batch_first=batch_first, bidirectional=bidirectional, **VARIANTS[kind])


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("kind", [*VARIANTS, "gru", "rnn"])
def test_twin_equals_the_layer_in_float64(kind, bidirectional):
    m = layer(kind, bidirectional).double().eval()
    twin = twin_of(m)
    x = torch.randn(5, 7, 4, dtype=torch.float64)
    lengths = torch.tensor([7, 1, 3, 7, 5])
    state = None
    for _ in range(2):  # from zeros, then from the state the first call left (a continued stream)
        with torch.no_grad():
            want, got = m(x, state, lengths=lengths), twin(x, state, lengths)
        w_out, w_state = want
        g_out, g_state = got
        torch.testing.assert_close(g_out, w_out, rtol=0, atol=1e-12)
        for g, w in zip(g_state if isinstance(g_state, tuple) else (g_state,), w_state if isinstance(w_state, tuple) else (w_state,)):
            torch.testing.assert_close(g, w, rtol=0, atol=1e-12)
        state = w_state
    assert float(g_out[1, 1:].abs().max()) == 0.0  # past a row's end the output is zero


def _float64_gap(network: torch.nn.Module, path) -> None:
    """onnxruntime (float32) is as close to a float64 PyTorch run as PyTorch's float32 run is."""
    spec32 = onnx_spec(copy.deepcopy(network).float().eval())
    spec64 = onnx_spec(copy.deepcopy(network).double().eval())
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [n for n, _ in spec32.inputs]
    for B, T, seed in ((1, 6, 10), (64, 9, 11)):
        g = torch.Generator().manual_seed(seed)
        inputs = [make(B, T, g) for _, make in spec32.inputs]
        with torch.no_grad():
            o32 = spec32.module(*inputs)
            o64 = spec64.module(*[t.double() if t.is_floating_point() else t for t in inputs])
        o32 = o32 if isinstance(o32, tuple) else (o32,)
        o64 = o64 if isinstance(o64, tuple) else (o64,)
        got = sess.run(None, {n: t.numpy() for n, t in zip(names, inputs)})
        for name, r, t32, t64 in zip(spec32.outputs, got, o32, o64):
            ref = t64.numpy()
            assert r.shape == ref.shape, name
            torch_err = float(np.abs(t32.numpy() - ref).max())
            ort_err = float(np.abs(r - ref).max())
            assert ort_err <= 10 * torch_err + 1e-6, (name, B, T, ort_err, torch_err)


@pytest.mark.parametrize("kind,bidirectional,batch_first", [
    ("plain", False, True), ("plain", True, False), ("all", True, True), ("zoneout", False, False),
    ("layer_norm", False, True), ("proj", True, True), ("peephole", False, True), ("coupled", False, True),
    ("hard_sigmoid", False, True), ("dropouts", False, True), ("gru", True, True), ("rnn", False, False)])
def test_exported_layer_matches(kind, bidirectional, batch_first, tmp_path):
    m = layer(kind, bidirectional, batch_first)
    report = export_onnx(m, tmp_path / "layer.onnx")
    names = [n for n, _ in report.checks]
    assert names[:3] == ["batch 1, length 7", "batch 64, length 3", "batch 64, length 11"]
    assert any(n.startswith("stream continued across two calls") for n in names) == (not bidirectional)
    assert report.max_abs_error < 1e-4
    _float64_gap(m, tmp_path / "layer.onnx")


NETWORKS = {
    "language_model": lambda: LanguageModelNetwork(LanguageModelNetworkConfig(vocab_size=30, embedding_dim=8,
                                                                              hidden_size=12, layer_norm=True)),
    "anomaly": lambda: AnomalyNetwork(AnomalyNetworkConfig(n_features=2, hidden_size=8, horizon=3, likelihood="gaussian")),
    "anomaly_reconstruction": lambda: AnomalyNetwork(AnomalyNetworkConfig(n_features=2, hidden_size=8,
                                                                          scorer="reconstruction", window=6)),
    "classifier": lambda: ClassifierNetwork(ClassifierNetworkConfig(input_size=3, num_classes=4, hidden_size=8,
                                                                    pooling="attention", num_layers=2)),
    "classifier_lstm_fcn": lambda: ClassifierNetwork(ClassifierNetworkConfig(
        input_size=2, num_classes=3, hidden_size=6, architecture="lstm-fcn", patch_size=3, fcn_filters=(4, 6, 4))),
    "classifier_series_stats": lambda: ClassifierNetwork(ClassifierNetworkConfig(
        input_size=4, num_classes=3, hidden_size=6, architecture="lstm-fcn", patch_size=3, fcn_filters=(4, 6, 4),
        static_size=2)),
    "tagger_tokens": lambda: TaggerNetwork(TaggerNetworkConfig(num_tags=5, vocab_size=20, char_vocab_size=10,
                                                               hidden_size=8, use_crf=True)),
    "tagger_features": lambda: TaggerNetwork(TaggerNetworkConfig(num_tags=5, input_size=3, hidden_size=8)),
    "es_rnn": lambda: ESRNNNetwork(ESRNNNetworkConfig(n_series=3, season_length=4, lookback=6, horizon=4, hidden_size=8)),
    "forecaster": lambda: ForecasterNetwork(ForecasterNetworkConfig(n_features=3, n_future=1, horizon=4, hidden_size=8)),
    "forecaster_autoregressive": lambda: ForecasterNetwork(ForecasterNetworkConfig(
        n_features=1, horizon=4, hidden_size=8, decoder="autoregressive", likelihood="quantile")),
    "music": lambda: MusicNetwork(MusicNetworkConfig(input_size=10, n_pitches=5, hidden_size=8, nade_hidden_size=4)),
    "music_gru": lambda: MusicNetwork(MusicNetworkConfig(input_size=10, n_pitches=5, hidden_size=8, cell="gru",
                                                         output="bernoulli")),
    "sequence": lambda: SequenceNetwork(SequenceNetworkConfig(input_size=2, cell="lstm-ln")),
    "seq2seq": lambda: Seq2SeqNetwork(Seq2SeqNetworkConfig(source_vocab_size=20, target_vocab_size=15, embedding_dim=8,
                                                           hidden_size=8, num_layers=2)),
    "seq2seq_dot": lambda: Seq2SeqNetwork(Seq2SeqNetworkConfig(source_vocab_size=20, target_vocab_size=15,
                                                               embedding_dim=8, hidden_size=8, attention="dot")),
    "captioner": lambda: CaptionerNetwork(CaptionerNetworkConfig(vocab_size=20, image_height=16, image_width=12,
                                                                 conv_channels=4, conv_blocks=2, hidden_size=8)),
    "captioner_video": lambda: CaptionerNetwork(CaptionerNetworkConfig(vocab_size=20, image_height=8, image_width=8,
                                                                       video=True, conv_channels=4, conv_blocks=2,
                                                                       hidden_size=8, attention="none")),
    "transcriber_image": lambda: TranscriberNetwork(TranscriberNetworkConfig(n_symbols=7, input_size=8, conv_channels=3,
                                                                             hidden_size=6, num_layers=2)),
    "transcriber_frames": lambda: TranscriberNetwork(TranscriberNetworkConfig(n_symbols=7, input_kind="sequence",
                                                                              input_size=3, hidden_size=6)),
    "transcriber_frames_stacked": lambda: TranscriberNetwork(TranscriberNetworkConfig(
        n_symbols=7, input_kind="sequence", input_size=3, hidden_size=6, frame_stack=3)),
}
STATEFUL = {"language_model", "anomaly", "music", "music_gru"}


@pytest.mark.parametrize("name", list(NETWORKS))
def test_exported_task_network_matches(name, tmp_path):
    torch.manual_seed(0)
    net = NETWORKS[name]()
    report = export_onnx(net, tmp_path / "net.onnx")
    assert report.max_abs_error < 1e-4
    assert any(n.startswith("stream continued") for n, _ in report.checks) == (name in STATEFUL)
    _float64_gap(net, tmp_path / "net.onnx")


def test_stepping_decoder_is_refused(tmp_path):
    net = Seq2SeqNetwork(Seq2SeqNetworkConfig(source_vocab_size=9, target_vocab_size=9, hidden_size=4, input_feeding=True))
    with pytest.raises(ConfigError, match=r"decoder steps \(input_feeding or coverage\) cannot be exported"):
        export_onnx(net, tmp_path / "s.onnx")


def test_export_errors(tmp_path):
    with pytest.raises(ConfigError, match=r"cannot export a Linear to ONNX"):
        export_onnx(torch.nn.Linear(2, 2), tmp_path / "x.onnx")
    with pytest.raises(ExportError, match=r"differs from PyTorch by .* > tolerance 0 .*the file was not written"):
        export_onnx(LSTM(2, 3), tmp_path / "y.onnx", tolerance=0.0)
    for bad in (-1.0, float("nan"), "0.1"):
        with pytest.raises(ConfigError, match=r"tolerance must be a number >= 0"):
            export_onnx(LSTM(2, 3), tmp_path / "z.onnx", tolerance=bad)
    with pytest.raises(ConfigError, match=r"export: the folder .*missing' does not exist"):
        export_onnx(LSTM(2, 3), tmp_path / "missing" / "z.onnx")
    assert not (tmp_path / "y.onnx").exists() and not list(tmp_path.glob(".*.tmp"))  # no temporary file left


def test_every_task_network_has_an_export_test():
    """A task network added later must get an ONNX signature (onnx_spec) and a case above."""
    import lstmkit.models  # noqa: F401  (imports every task network)
    from lstmkit.models.base import TaskModel

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    tested = {type(make()).__name__ for make in NETWORKS.values()}
    ours = {c.__name__ for c in subclasses(TaskModel) if c.__module__.startswith("lstmkit.")}  # not the tests' own
    assert {"LanguageModelNetwork", "AnomalyNetwork"} <= ours
    missing = sorted(ours - tested)
    assert not missing, f"no ONNX export test for {missing}: add an onnx_spec entry and a NETWORKS case"
