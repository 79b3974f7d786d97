"""The layers of docs/architecture.md hold: import-linter's contracts (pyproject.toml) pass on the
code, and they do fail when a change brings a cycle in."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.engine_independent  # the PostgreSQL pass leaves it out (tests/conftest.py)

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("common", "models", "kb", "triage", "application", "console", "api", "cli")


def lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    """lint-imports on the packages under ``cwd`` (they come first on the path), without a cache."""
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run([sys.executable, "-c", "from importlinter.cli import lint_imports_command; "
                           "lint_imports_command()", "--no-cache"],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_the_import_contracts_hold():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 3 kept, 0 broken." in result.stdout


@pytest.fixture
def copy_of_the_code(tmp_path):
    for name in PACKAGES:
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def _add_import(path: Path, line: str) -> None:
    path.write_text(path.read_text() + f"\n\ndef _new_dependency():\n    {line}  # noqa\n")


def test_a_lower_layer_importing_a_higher_one_breaks_the_layers(copy_of_the_code):
    # kb reading triage's tables: the kb <-> triage circle this contract was written to end
    _add_import(copy_of_the_code / "kb" / "service.py", "from triage.tables import Ticket")
    result = lint_imports(copy_of_the_code)
    assert result.returncode == 1
    assert "One direction: entry points over the application" in result.stdout
    assert "kb.service -> triage.tables" in result.stdout


def test_a_cycle_between_modules_of_one_package_is_refused(copy_of_the_code):
    # the encoder backends once imported each other; the shared part now imports neither
    _add_import(copy_of_the_code / "models" / "encoder_spec.py", "import models.onnx_encoder")
    result = lint_imports(copy_of_the_code)
    assert result.returncode == 1
    assert "No cycles are allowed in models" in result.stdout


def test_domain_code_never_imports_flask(copy_of_the_code):
    _add_import(copy_of_the_code / "triage" / "engine.py", "import flask")
    result = lint_imports(copy_of_the_code)
    assert result.returncode == 1
    assert "HTTP only in the entry points" in result.stdout and "BROKEN" in result.stdout
