"""lstmkit.nn: the recurrent engine.

Cells (one step) and layers (time, stacking, directions, lengths, state) with torch's
names and numbers, plus gate inspection and streaming. Execution paths live in
:mod:`lstmkit.nn.kernels` and are chosen automatically.
"""

from lstmkit.nn import functional, init
from lstmkit.nn.cells import GRUCell, LSTMCell, RNNCell
from lstmkit.nn.layers import GRU, LSTM, RNN, LSTMGates

__all__ = ["LSTM", "GRU", "RNN", "LSTMCell", "GRUCell", "RNNCell", "LSTMGates", "functional", "init"]
