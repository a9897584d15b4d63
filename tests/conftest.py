"""Session-wide test setup.

- One intra-op thread: every model in the suite is tiny, where a second thread only adds
  spin-wait (and CI runs on 2 cores). Results do not depend on this.
- Build (or load) the fused C++ kernel once, in this process, before any test starts a
  subprocess: a subprocess killed on purpose (the SIGKILL resume test) must never be the one
  holding the build lock of a cold cache.
- After collection, the objects that exist then (modules of torch, pandas, music21, ...) are
  moved out of the garbage collector's sight (``gc.freeze``): they live for the whole session, and
  every full collection would otherwise walk them again.
"""

import gc
import warnings

import pytest
import torch


def pytest_configure(config):
    torch.set_num_threads(1)


def pytest_collection_finish(session):
    gc.collect()
    gc.freeze()


@pytest.fixture(scope="session", autouse=True)
def _fused_kernel_built():
    from lstmkit.nn.kernels import fused_cpu

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # tests/nn check the fallback warning itself
        fused_cpu.load()
    yield
