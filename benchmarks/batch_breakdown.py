"""Where one training batch of sknn spends its time, next to the roofline.

For each workload and dtype of ``bench_vs_sklearn.py`` this script times, per
minibatch, in one process:

- ``products``: the matrix products of the GEMM-only roofline;
- ``products + step``: those products followed by one optimizer step over a
  parameter-sized vector, a floor for any trainer doing Adam's arithmetic;
- ``arithmetic floor``: one batch of the gather, the products, sknn's
  compiled element-wise kernels, the L2 penalty and the Adam step with
  nothing between the calls (:func:`arithmetic_floor`; only with Numba);
- ``sknn epoch``: the training loop's own epoch function (gather, forward and
  backward pass, finiteness checks, Adam step), divided by the number of
  batches;
- the pieces of a batch on their own: the row gather, the forward and backward
  pass, the gradient norm, the L2 penalty and the Adam step.

Timings alternate between the candidates in blocks so that drifts in machine
speed hit them alike; each row reports the fastest and the median block.
It measures sknn's internals (it reads private members of the network and
the training loop) and is meant for developers; the user-facing comparison,
through the public estimators only, is ``bench_vs_sklearn.py``.

Usage, from the repository root::

    python benchmarks/batch_breakdown.py [--workloads wide] [--dtypes float32]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib  # noqa: E402
import roofline  # noqa: E402

sys.path.insert(0, str(benchlib.REPO_ROOT))
from sknn._core import _fused, training  # noqa: E402
from sknn._core.activations import LEAKY_RELU_SLOPE  # noqa: E402
from sknn._core.backend import NUMBA, current  # noqa: E402
from sknn._core.losses import _eps  # noqa: E402
from sknn._core.network import Network  # noqa: E402
from sknn._core.optimizers import Adam, L2Gradient, Schedule  # noqa: E402

ALPHA = 1e-4
SHARE_ROWS = ("products + step", "arithmetic floor", "sknn epoch / batches")


def arithmetic_floor(net, params, grad, capacity, adam_step):
    """A function doing one batch of sknn's arithmetic and nothing else.

    ``floor(Xb, Yb)`` runs the forward and backward matrix products of the
    batch with sknn's compiled element-wise kernels after them (bias + ReLU,
    softmax + log-loss + output delta, ReLU derivative + bias gradient), the
    L2 penalty and then ``adam_step(m)``, ``m`` the batch's number of rows.
    That is the work of a batch that scikit-learn's MLP also does, in sknn's
    fastest form; left out are the training loop's Python (bookkeeping,
    dispatch) and its gradient-norm check.  The gradient lands in ``grad``.

    Parameters
    ----------
    net : sknn._core.network.Network
        A ReLU network with log-loss; its compiled kernels must be enabled.
    params, grad : ndarray of shape (n_params,)
    capacity : int
        Largest batch.
    adam_step : callable
        Called with the batch's number of rows after the gradient is complete.

    Returns
    -------
    floor : callable
    """
    fwd = NUMBA.bias_forward["relu"]
    bwd = NUMBA.backward["relu"]
    out = NUMBA.output["log_loss"]
    dt = net.dtype.type
    one, slope, eps = dt(1.0), dt(LEAKY_RELU_SLOPE), dt(_eps(net.dtype))
    ws = net.workspace(capacity)  # buffers of its own, as large as the loop's
    W, b = net.unpack(params)
    gW, gb = net.unpack(grad)
    L = len(W)
    dense = [buf for buf in ws.buffers if hasattr(buf, "Z")]
    Z_bufs = [buf.Z for buf in dense]
    # dZ of dense layer i: written by layer i + 1 as its input gradient, or
    # the output delta for the last one
    D_bufs = [buf.dX for buf in dense[1:]] + [ws.delta]

    def floor(Xb, Yb):
        m = Xb.shape[0]
        Z = [z[:m] for z in Z_bufs]
        D = [d[:m] for d in D_bufs]
        A = [Xb]
        for i in range(L):
            np.matmul(A[i], W[i], out=Z[i])
            if i < L - 1:
                fwd(Z[i], b[i], slope)
            A.append(Z[i])
        inv_m = net.dtype.type(1.0 / m)
        out(Z[-1], b[-1], Yb, ws.no_weights, inv_m, D[-1], gb[-1], eps)
        for i in range(L - 1, -1, -1):
            np.matmul(A[i].T, D[i], out=gW[i])
            if i:
                np.matmul(D[i], W[i].T, out=D[i - 1])
                bwd(A[i], D[i - 1], gb[i - 1], one, slope)
        net.l2_penalty(params)
        adam_step(m)

    return floor


def time_blocks(candidates, blocks, per_block):
    """Run each candidate ``per_block`` times per block, alternating order.

    Returns
    -------
    dict
        Name -> array of seconds per call, one entry per block.
    """
    names = list(candidates)
    for f in candidates.values():  # warm up (and compile)
        f()
    out = {name: [] for name in names}
    for b in range(blocks):
        for name in names if b % 2 else names[::-1]:
            f, reps = candidates[name], per_block[name]
            tic = time.perf_counter()
            for _ in range(reps):
                f()
            out[name].append((time.perf_counter() - tic) / reps)
    return {name: np.array(v) for name, v in out.items()}


def candidates_for(workload, dtype):
    """Callables for one workload in one dtype, and their calls per block."""
    X64, y = benchlib.make_data(workload)
    X = np.ascontiguousarray(X64, dtype=dtype)
    B = workload.batch_size
    units = [workload.n_features, *workload.hidden, workload.n_classes]
    Y = (y[:, None] == np.arange(workload.n_classes)).astype(np.uint8)
    rng = np.random.default_rng(0)

    net = Network(units, "relu", "log_loss", dtype=dtype)
    params = net.init_params(rng)
    grad = np.empty_like(params)
    opt = Adam()
    state = training.TrainState(
        opt_state=opt.init(params), schedule=Schedule("constant", 1e-3)
    )
    config = training.LoopConfig(batch_size=B, max_iter=1, alpha=ALPHA)
    batches = training._Batches(X, Y, None, B, current())
    ws = net.workspace(B)
    checkpoint = training._Checkpoint(current())
    n_batches = -(-X.shape[0] // B)

    # the roofline's products on their own buffers
    products = roofline.batch_products(
        workload.n_features, workload.n_classes, workload.hidden, B, dtype
    )

    # a fixed batch for the pieces; the step uses a tiny rate so that the
    # weights (and the work of the next call) stay as they are
    order = rng.permutation(X.shape[0])
    Xb, Yb = X[order[:B]], Y[order[:B]]
    l2 = L2Gradient(net.l2_coef(ALPHA, B), net.n_coefs, ws.coef_buf)
    step_grad = np.empty_like(params)

    def step():
        step_grad[...] = grad  # Adam clobbers its gradient argument
        opt.step(params, step_grad, state.opt_state, 1e-12, l2=l2)

    def adam_step():  # on ``grad`` as it stands, which Adam clobbers
        opt.step(params, grad, state.opt_state, 1e-12, l2=l2)

    def products_step():
        products()
        adam_step()

    def forward_backward():
        net.loss_grad(params, Xb, Yb, grad, alpha=ALPHA, workspace=ws, l2_grad=False)

    positions = iter(range(0, 10**12, B))

    def gather():
        # the loop's own gather: the first batch of the order starting here
        start = next(positions) % (X.shape[0] - B)
        return next(batches(order[start : start + B]))

    def epoch():
        training._run_epoch(
            net,
            params,
            grad,
            opt,
            state,
            config,
            batches,
            order,
            rng,
            ws,
            checkpoint,
            None,  # no moving average of the weights
            current(),
        )

    forward_backward()  # fills grad for norm and step
    candidates = {
        "products": products,
        "products + step": products_step,
    }
    if _fused.enabled():
        # every gathered batch has B rows, the size ``l2`` was made for
        floor = arithmetic_floor(net, params, grad, B, lambda m: adam_step())
        candidates["arithmetic floor"] = lambda: floor(*gather()[:2])
    candidates.update(
        {
            "sknn epoch / batches": epoch,
            "gather": gather,
            "forward + backward": forward_backward,
            "gradient norm": lambda: float(grad @ grad),
            "L2 penalty": lambda: net.l2_penalty(params),
            "Adam step": step,
        }
    )
    per_block = {name: 20 for name in candidates}
    per_block["sknn epoch / batches"] = 1
    scale = {name: 1.0 for name in candidates}
    scale["sknn epoch / batches"] = 1.0 / n_batches
    return candidates, per_block, scale


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workloads", default="tabular,wide")
    parser.add_argument("--dtypes", default="float64,float32")
    parser.add_argument("--blocks", type=int, default=12)
    args = parser.parse_args(argv)
    table = roofline.WORKLOADS
    print(f"sknn kernels: {_fused.describe()}; times in ms per batch")
    for name in args.workloads.split(","):
        workload = benchlib.Workload.from_table(name, table[name])
        for dtype_name in args.dtypes.split(","):
            cands, per_block, scale = candidates_for(
                workload, benchlib.DTYPES[dtype_name]
            )
            times = time_blocks(cands, args.blocks, per_block)
            ref = np.median(times["products"])
            print(f"\n{name} {dtype_name}")
            print(f"  {'':22s} {'min':>8s} {'median':>8s}  roofline share")
            for key, t in times.items():
                t = t * scale[key] * 1e3
                share = ""
                if key in SHARE_ROWS:
                    share = f"{ref * 1e3 / np.median(t):14.0%}"
                print(f"  {key:22s} {t.min():8.3f} {np.median(t):8.3f}  {share}")


if __name__ == "__main__":
    main()
