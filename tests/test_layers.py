"""The package's layers are a contract (pyproject.toml, [tool.importlinter]): a module
imports only its own layer or lower ones. `lint-imports` checks it here, and a copy of
the package with one upward import must fail it."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytest.importorskip("importlinter")


def lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    # lint-imports puts its working directory first on sys.path: run in `cwd`, it reads
    # the `model` package there
    cli = Path(sys.executable).with_name("lint-imports")
    return subprocess.run([str(cli), "--no-cache"], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_the_layers_contract_holds():
    out = lint_imports(ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 broken" in out.stdout


def test_a_lower_layer_importing_a_higher_one_fails(tmp_path):
    shutil.copytree(ROOT / "model", tmp_path / "model", ignore=shutil.ignore_patterns("__pycache__", "_priors"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    vocabulary = tmp_path / "model" / "network" / "vocabulary.py"
    vocabulary.write_text(vocabulary.read_text() + "\n\ndef _upward():\n    from ..api import infer\n\n    return infer\n")
    out = lint_imports(tmp_path)
    assert out.returncode != 0
    assert "model.network.vocabulary -> model.api" in out.stdout


def test_the_public_names_stay_where_users_import_them():
    """The move into subpackages changed no public name: the package's names, the two
    modules the contract names (`model.synthetic`, `model.validation`) and the console
    script's entry point."""
    import importlib.metadata

    import model
    from model import BatchResult, Fit, Interview, Network, Result, fit, infer, load_network, write_priors
    from model.synthetic import perturbed_network, redraw_priors, sample_cases
    from model.validation import brier, ece, fit_recalibration, reliability, topk_accuracy, triage_confusion

    assert set(model.__all__) == {"infer", "load_network", "Network", "Result", "BatchResult", "Interview", "fit", "Fit", "write_priors"}
    assert callable(fit) and callable(write_priors) and isinstance(Fit, type)
    assert all(callable(f) for f in (infer, load_network, sample_cases, perturbed_network, redraw_priors, brier, ece,
                                     fit_recalibration, reliability, topk_accuracy, triage_confusion))
    assert all(isinstance(c, type) for c in (BatchResult, Interview, Network, Result))
    script = [e for e in importlib.metadata.entry_points(group="console_scripts") if e.name == "twitchdx"]
    assert script and script[0].value == "model.cli:main" and callable(script[0].load())
