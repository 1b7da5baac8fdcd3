"""The early stop against full runs: the curves that chose ``n_iter_no_change``.

For every dataset of ``tabular_data.py`` and each fold of ``tabular.py``'s
3-fold cross-validation, this script fits the tabular model with its defaults
but every network running all its epochs (``n_iter_no_change=None``), and
prints one JSON line per fit: the training rows, the fit seconds, and each
network's validation loss at every epoch (one curve per cross-fitted member,
from ``history_``).  ``--summary FILE`` reads such lines back and prints, for
several ``k``, how many networks ``n_iter_no_change=k`` would stop before
their best epoch (a network stopped after its best epoch gives the same
model: training is the same up to the stop, and the best epoch's weights are
kept) and the share of the fit time it would save (each network's share of
its fit, in proportion to the epochs cut).  Run it as::

    for k in 0 1; do env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \\
        OPENBLAS_NUM_THREADS=1 python benchmarks/tabular_stop.py --part $k/2 \\
        > /tmp/stop$k.jsonl & done; wait
    cat /tmp/stop0.jsonl /tmp/stop1.jsonl > /tmp/stop.jsonl
    python benchmarks/tabular_stop.py --summary /tmp/stop.jsonl

The scores with a stop come from ``tabular.py --set n_iter_no_change=k``.
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib  # noqa: E402
import tabular  # noqa: E402
import tabular_data  # noqa: E402

PATIENCES = (20, 15, 12, 10, 8, 6)


def curves(names):
    """Fit every fold of ``names`` with all epochs run; one JSON line each."""
    for name in names:
        ds = tabular_data.DATASETS[name]
        X, y = ds.load()
        for seed, (tr, _) in enumerate(tabular._folds(ds.task, X, y)):
            model = tabular.make_model(
                "tabular", ds.task, seed, {"n_iter_no_change": None}, False
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                start = time.perf_counter()
                model.fit(X.iloc[tr], y.iloc[tr])
                seconds = time.perf_counter() - start
            by_member = {}
            for record in model.history_:
                by_member.setdefault(record.get("member", 0), []).append(
                    record["val_loss"]
                )
            line = {"name": name, "fold": seed, "rows": len(tr), "fit_s": seconds}
            print(json.dumps({**line, "curves": list(by_member.values())}), flush=True)


def stop_epoch(curve, patience):
    """The epoch (1-based) after which ``n_iter_no_change=patience`` stops:
    the first at which more than ``patience`` epochs in a row have not
    lowered the loss (the whole curve when none does)."""
    best, stalled = float("inf"), 0
    for epoch, loss in enumerate(curve, 1):
        stalled = 0 if loss < best else stalled + 1
        best = min(best, loss)
        if stalled > patience:
            return epoch
    return len(curve)


def summary(lines):
    """Networks stopped before their best epoch, and the fit time saved."""
    fits = [json.loads(line) for line in lines if line.strip()]
    total = sum(f["fit_s"] for f in fits)
    n_networks = sum(len(f["curves"]) for f in fits)
    out = [
        f"{len(fits)} fits, {n_networks} networks, {total:.1f} s",
        "",
        "| n_iter_no_change | networks stopped before their best epoch "
        "| fit time saved |",
        "| ---: | ---: | ---: |",
    ]
    for patience in PATIENCES:
        cut, saved = 0, 0.0
        for fit in fits:
            share = fit["fit_s"] / len(fit["curves"])
            for curve in fit["curves"]:
                stop = stop_epoch(curve, patience)
                best = min(range(len(curve)), key=curve.__getitem__) + 1
                cut += best > stop
                saved += share * (1.0 - stop / len(curve))
        out.append(f"| {patience} | {cut} / {n_networks} | {saved / total:.1%} |")
    return "\n".join(out)


def main(argv=None):
    return benchlib.sweep_main(__doc__, curves, summary, tabular_data.DATASETS, argv)


if __name__ == "__main__":
    sys.exit(main())
