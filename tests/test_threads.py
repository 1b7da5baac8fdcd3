"""The one BLAS thread policy: the stochastic loop, L-BFGS and prediction."""

import threading

import numpy as np
import pytest
from sklearn.datasets import load_iris
from threadpoolctl import threadpool_limits

from sknn import MLPClassifierNN
from sknn._core import threads
from sknn._core.network import Network


def _current(which=0):
    """Thread limit of NumPy's BLAS (``which=0``) or of the others (1)."""
    return max((lib.num_threads for lib in threads._blas_libs()[which]), default=1)


@pytest.fixture
def two_threads():
    """At least two BLAS threads allowed, so that a limit is observable."""
    with threadpool_limits(limits=2, user_api="blas"):
        if _current() < 2:
            pytest.skip("BLAS runs a single thread here")
        yield


def test_blas_threads_grows_with_the_work():
    per = threads.MACS_PER_BLAS_THREAD
    with threadpool_limits(limits=2, user_api="blas"):
        allowed = _current()
        assert threads.blas_threads(0) == (1, allowed)
        assert threads.blas_threads(per - 1) == (1, allowed)
        assert threads.blas_threads(100 * per) == (allowed, allowed)


def test_forward_macs():
    # one multiply-add per weight and row, plus the reading of the weights
    rows = 5 + threads.WEIGHT_READ_ROWS
    assert threads.forward_macs([(4, 3), (3, 2)], 5) == rows * (12 + 6)


def test_numpys_blas_is_told_apart():
    ours, others = threads._blas_libs()
    assert ours
    assert not set(map(id, ours)) & set(map(id, others))


def test_blas_limit_lowers_and_restores(two_threads):
    small = threads.SMALL_MACS
    with threads.blas_limit(small):
        assert _current() == 1
        with threads.blas_limit(10**12):  # nested: keeps the outer limit
            assert _current() == 1
        assert _current() == 1
    assert _current() == 2
    with threads.blas_limit(10**12):  # enough work for every thread
        assert _current() == 2


def test_blas_limit_restores_after_an_error(two_threads):
    with pytest.raises(RuntimeError, match="inside the limit"):
        with threads.blas_limit(threads.SMALL_MACS):
            raise RuntimeError("inside the limit")
    assert _current() == 2


def test_blas_limit_respects_a_users_lower_limit():
    with threadpool_limits(limits=1, user_api="blas"):
        with threads.blas_limit(10**12):
            assert _current() == 1
        assert _current() == 1


class _FakeLib:
    """A BLAS controller that records the thread counts it is set to."""

    def __init__(self, num_threads):
        self.num_threads = num_threads
        self.calls = []
        self.lock = threading.Lock()

    def set_num_threads(self, n):
        with self.lock:
            self.calls.append(n)
            self.num_threads = n


def test_blas_limit_is_thread_safe(monkeypatch):
    # overlapping entries from several threads: the pool is lowered once by
    # the first to enter and restored once by the last to leave (tested on
    # recording controllers: OpenBLAS may ignore a count set from a thread
    # other than the one that set it last, which only changes speed)
    libs = [_FakeLib(4), _FakeLib(4)]
    monkeypatch.setattr(threads, "_blas_libs", lambda: (libs, []))
    inside = threading.Barrier(4, timeout=30)
    leave = threading.Event()
    seen = []

    def work():
        with threads.blas_limit(threads.SMALL_MACS):
            inside.wait()
            leave.wait(timeout=30)
            seen.append([lib.num_threads for lib in libs])

    workers = [threading.Thread(target=work, daemon=True) for _ in range(3)]
    for w in workers:
        w.start()
    try:
        inside.wait()
        assert [lib.num_threads for lib in libs] == [1, 1]
    finally:
        leave.set()
        for w in workers:
            w.join(timeout=30)
    assert seen == [[1, 1]] * 3
    assert [lib.calls for lib in libs] == [[1, 4], [1, 4]]
    assert threads._STATE == {"depth": 0, "saved": None}


def test_other_blas_libraries_run_one_thread_meanwhile(monkeypatch):
    ours, others = [_FakeLib(2)], [_FakeLib(2)]
    monkeypatch.setattr(threads, "_blas_libs", lambda: (ours, others))
    with threads.blas_limit(100 * threads.MACS_PER_BLAS_THREAD):
        assert (ours[0].num_threads, others[0].num_threads) == (2, 1)
    assert (ours[0].num_threads, others[0].num_threads) == (2, 2)
    assert ours[0].calls == [] and others[0].calls == [1, 2]


def test_tiny_work_leaves_the_pools_alone(monkeypatch):
    ours, others = [_FakeLib(2)], [_FakeLib(2)]
    monkeypatch.setattr(threads, "_blas_libs", lambda: (ours, others))
    with threads.blas_limit(threads.SMALL_MACS - 1):
        pass
    assert ours[0].calls == [] and others[0].calls == []


def _threads_seen_by(monkeypatch, method):
    """Record the BLAS thread limit each call of ``Network.method`` runs with."""
    seen = []
    original = getattr(Network, method)

    def spy(self, *args, **kwargs):
        seen.append(_current())
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Network, method, spy)
    return seen


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_small_fits_run_on_one_thread(two_threads, monkeypatch, solver):
    X, y = load_iris(return_X_y=True)
    seen = _threads_seen_by(monkeypatch, "loss_grad")
    MLPClassifierNN(solver=solver, max_iter=3, random_state=0).fit(X, y)
    assert seen and set(seen) == {1}
    assert _current() == 2


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_prediction_sizes_the_pool_by_its_rows(two_threads, monkeypatch):
    X, y = load_iris(return_X_y=True)
    clf = MLPClassifierNN(solver="lbfgs", max_iter=3, random_state=0).fit(X, y)
    seen = _threads_seen_by(monkeypatch, "predict")
    # 4-100-3 has 700 weights: one row is too little work to resize the pool,
    # 1,000 rows are worth one thread, 8,000 rows two
    clf.predict_proba(X[:1])
    clf.predict_proba(np.repeat(X, 7, axis=0)[:1000])
    clf.predict_proba(np.repeat(X, 60, axis=0))
    assert seen == [2, 1, 2]
    assert _current() == 2
