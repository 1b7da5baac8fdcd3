"""The ```python snippets of README.md and the docs run on their own.

Each fenced block is executed in a fresh interpreter, in an empty temporary
directory, so a snippet that relies on names defined by an earlier one, or on
files of the repository, fails here. A snippet must also finish without any
warning on stderr (a ConvergenceWarning in a documented example would teach
readers settings that do not converge).

The blocks are started together, one subprocess per core, the first time a
test asks for a result; the individual tests then only inspect the finished
runs. Most of a snippet's time is interpreter and scikit-learn start-up, so
running them side by side keeps the file's wall time well below the sum.
"""

import importlib.util
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path

import pytest

import sknn

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = {
    "readme": ROOT / "README.md",
    "user-guide": ROOT / "docs" / "user_guide.md",
    "docs-index": ROOT / "docs" / "index.md",
    "tabular": ROOT / "docs" / "tabular.md",
}
# docs/api.md is left out: its ```python blocks are call signatures.
# Lower bounds, so that a broken parser (or a fence style it does not know)
# cannot make the suite pass by finding nothing to run.
MIN_BLOCKS = {"readme": 6, "user-guide": 7, "docs-index": 1, "tabular": 1}
TIMEOUT_S = 120

# An opening fence "```python" (optionally indented, optionally with trailing
# words such as "```python title"), everything up to the next closing fence.
_FENCE = re.compile(
    r"^(?P<indent>[ \t]*)```[ \t]*python\b[^\n]*\n(?P<body>.*?)^(?P=indent)```[ \t]*$",
    re.MULTILINE | re.DOTALL,
)


def python_blocks(text):
    """The source of every ```python fenced block in ``text``, in order."""
    blocks = []
    for match in _FENCE.finditer(text):
        indent = match.group("indent")
        lines = match.group("body").splitlines()
        blocks.append(
            "\n".join(
                line[len(indent) :] if line.startswith(indent) else line
                for line in lines
            )
            + "\n"
        )
    return blocks


def _collect():
    cases = []
    for name, path in DOCUMENTS.items():
        for i, source in enumerate(python_blocks(path.read_text(encoding="utf-8"))):
            cases.append((f"{name}-block-{i + 1}", source))
    return cases


CASES = _collect()
CASE_IDS = [case_id for case_id, _ in CASES]


def _run_one(source):
    env = dict(os.environ)
    env["MPLBACKEND"] = "Agg"
    # The snippet imports the same sknn as this test process (an installed
    # copy or the checkout), not whatever its temporary directory would find.
    package_parent = str(Path(sknn.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(
        [package_parent] + [p for p in [env.get("PYTHONPATH")] if p]
    )
    # Python's default warning filters, whatever the calling environment set.
    env.pop("PYTHONWARNINGS", None)
    # The snippets run side by side, one per core: one BLAS thread each, or
    # their thread pools fight over the cores and a one-second fit can take
    # ten times as long. Thread counts do not change what a snippet prints.
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = "1"
    with tempfile.TemporaryDirectory(prefix="sknn-doc-snippet-") as cwd:
        script = Path(cwd) / "snippet.py"
        script.write_text(source, encoding="utf-8")
        command = [sys.executable, str(script)]
        try:
            return subprocess.run(
                command,
                cwd=cwd,
                env=env,
                capture_output=True,
                text=True,
                timeout=TIMEOUT_S,
            )
        except subprocess.TimeoutExpired as exc:
            # Report it as a failed run of this snippet, not as an error that
            # would take every other snippet's result down with it.
            return subprocess.CompletedProcess(
                command,
                returncode=-1,
                stdout=_text(exc.stdout),
                stderr=_text(exc.stderr) + f"\n(timed out after {TIMEOUT_S} s)",
            )


def _text(output):
    if output is None:
        return ""
    return output.decode(errors="replace") if isinstance(output, bytes) else output


CALLBACK_ARGUMENT = "callbacks=[stop_at_95_percent], "


def _extra_runs():
    """Variants of README snippets that some checks compare against."""
    extras = {}
    for case_id, source in CASES:
        if case_id.startswith("readme-") and CALLBACK_ARGUMENT in source:
            extras["readme-callback-removed"] = source.replace(CALLBACK_ARGUMENT, "")
    return extras


@cache
def _results():
    jobs = dict(CASES)
    jobs.update(_extra_runs())
    workers = max(1, min(len(jobs), os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        runs = pool.map(_run_one, list(jobs.values()))
        return dict(zip(jobs, runs))


def _describe(case_id, run):
    return (
        f"{case_id} exited with {run.returncode}\n"
        f"--- stdout ---\n{run.stdout}\n--- stderr ---\n{run.stderr}"
    )


def test_parser_finds_the_snippets():
    for name, minimum in MIN_BLOCKS.items():
        found = [case_id for case_id in CASE_IDS if case_id.startswith(f"{name}-")]
        assert len(found) >= minimum, (name, found)


def test_parser_strips_fences_and_indentation():
    text = (
        "intro\n"
        "```python\nprint(1)\n```\n"
        "```bash\necho no\n```\n"
        "- item\n\n  ```python\n  x = 2\n  print(x)\n  ```\n"
        "```text\nnot python\n```\n"
    )
    assert python_blocks(text) == ["print(1)\n", "x = 2\nprint(x)\n"]


_IMPORT = re.compile(r"^(?:import|from)\s+([A-Za-z_]\w*)", re.MULTILINE)


def _missing_modules(source):
    """Top-level modules the snippet imports that are not installed here
    (PyTorch for the GPU snippets, say): such a snippet is skipped."""
    names = sorted(set(_IMPORT.findall(source)))
    return [name for name in names if importlib.util.find_spec(name) is None]


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_snippet_runs_alone_without_warnings(case_id):
    missing = _missing_modules(dict(CASES)[case_id])
    if missing:
        pytest.skip(f"needs {', '.join(missing)}, not installed")
    run = _results()[case_id]
    assert run.returncode == 0, _describe(case_id, run)
    assert "Warning" not in run.stderr, _describe(case_id, run)


def _block_containing(text):
    matches = [
        case_id
        for case_id, source in CASES
        if case_id.startswith("readme-") and text in source
    ]
    assert len(matches) == 1, (text, matches)
    return matches[0]


def _epochs_and_last_scores(case_id):
    run = _results()[case_id]
    assert run.returncode == 0, _describe(case_id, run)
    epochs = re.search(r"stopped after (\d+) of (\d+) epochs", run.stdout)
    scores = re.search(r"last two epochs: ([0-9.]+) -> ([0-9.]+)", run.stdout)
    assert epochs and scores, _describe(case_id, run)
    return (
        int(epochs.group(1)),
        int(epochs.group(2)),
        float(scores.group(1)),
        float(scores.group(2)),
    )


def test_readme_callback_example_stops_because_of_its_callback():
    # The snippet prints the number of epochs and the validation accuracy of
    # the last two epochs. The callback fires the first time the accuracy
    # reaches its threshold, so the epoch before must be below it and the
    # last one at or above it; and early stopping cannot end a fit on an epoch
    # that improves on every earlier one.
    case_id = _block_containing(CALLBACK_ARGUMENT)
    n_iter, max_iter, before, last = _epochs_and_last_scores(case_id)
    assert n_iter < max_iter
    assert before < 0.95 <= last

    # The same fit without the callback: early stopping alone runs longer, and
    # the README states for how long.
    n_iter_alone, max_iter_alone, _, _ = _epochs_and_last_scores(
        "readme-callback-removed"
    )
    assert n_iter < n_iter_alone < max_iter_alone
    claim = re.search(
        r"Without the callback, early stopping would end this fit\s+after (\d+)"
        r"\s+epochs",
        DOCUMENTS["readme"].read_text(encoding="utf-8"),
    )
    assert claim, "the README no longer says how long the fit runs without it"
    assert int(claim.group(1)) == n_iter_alone
