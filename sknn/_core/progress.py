"""What a stochastic fit prints: scikit-learn's verbose lines and a progress bar.

Both are called by the training loop at the end of every epoch and know
nothing about the numerics.  :func:`print_epoch` and :func:`print_plateau`
write the lines scikit-learn's MLP prints with ``verbose`` (the same wording,
so logs and tests that read them keep working); :class:`ProgressBar` is sknn's
``progress_bar=True``: a tqdm bar in a terminal or a notebook, and a plain line
every few epochs in a stream that is neither (a CI log, a file), where
carriage-return redraws would pile up.
"""

from __future__ import annotations

import math
import sys
import time

__all__ = ["ProgressBar", "print_epoch", "print_plateau"]


def print_epoch(record):
    """scikit-learn's verbose lines for one epoch record."""
    print(f"Iteration {record['epoch']}, loss = {record['train_loss']:.8f}")
    if record["val_score"] is not None:
        print(f"Validation score: {record['val_score']:f}")


def print_plateau(message, action):
    """scikit-learn's verbose line when ``n_iter_no_change`` is exceeded.

    ``action`` is what happens next: ``"Stopping."``, ``"Learning rate too
    small. Stopping."`` or ``"Setting learning rate to ..."``.
    """
    print(f"{message} {action}")


def _in_notebook():
    """Whether tqdm.auto would draw a notebook widget (IPython kernel)."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return False
    mro = getattr(tqdm, "__mro__", ())
    return any(cls.__module__ == "tqdm.notebook" for cls in mro)


def _format_seconds(seconds):
    seconds = int(round(seconds))
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{seconds:02d}"
    return f"{minutes:02d}:{seconds:02d}"


class ProgressBar:
    """Epoch progress of one fit: epoch, loss, validation score and ETA.

    Parameters
    ----------
    total : int
        Epochs the fit may run (``max_iter``, or 1 for ``partial_fit``).
    stream : file-like, default=sys.stderr
        Where to write.  A terminal or a Jupyter notebook gets a tqdm bar
        (``tqdm.auto``) when tqdm is installed; any other stream gets a plain
        line every ``ceil(total / 10)`` epochs and at the last one.
    """

    N_LINES = 10

    def __init__(self, total, stream=None):
        self.total = max(int(total), 1)
        self.stream = sys.stderr if stream is None else stream
        self.every = math.ceil(self.total / self.N_LINES)
        self.start = time.perf_counter()
        self.bar = None
        self.pending = None
        interactive = _in_notebook() or _isatty(self.stream)
        if interactive:
            try:
                from tqdm.auto import tqdm
            except ImportError:
                pass
            else:
                self.bar = tqdm(total=self.total, unit="epoch", file=self.stream)

    def update(self, record):
        """Show the state after the epoch of ``record`` (an epoch record)."""
        done = record["epoch"]
        fields = {"loss": f"{record['train_loss']:.6f}"}
        if record["val_score"] is not None:
            fields["val_score"] = f"{record['val_score']:.6f}"
        if self.bar is not None:
            self.bar.update(max(done - self.bar.n, 0))
            self.bar.set_postfix(fields, refresh=True)
            return
        self.pending = (done, fields)
        if done % self.every == 0 or done == self.total:
            self._write_line()

    def _write_line(self):
        done, fields = self.pending
        self.pending = None
        elapsed = time.perf_counter() - self.start
        eta = elapsed / done * (self.total - done) if done else 0.0
        text = " ".join(f"{k}={v}" for k, v in fields.items())
        self.stream.write(
            f"epoch {done}/{self.total} {text} elapsed={_format_seconds(elapsed)} "
            f"eta={_format_seconds(eta)}\n"
        )
        self.stream.flush()

    def close(self):
        """End the bar; in plain mode, write the last epoch if not yet shown."""
        if self.bar is not None:
            self.bar.close()
        elif self.pending is not None:
            self._write_line()


def _isatty(stream):
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # closed or not a real file
        return False
