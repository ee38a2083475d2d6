"""The package's shape: one import name, and layers that import downwards only."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYER_FOLDERS = ("flows", "fetch", "feeds", "extract", "nlp", "storage")
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_every_layer_folder_is_installed_as_a_saidwhat_subpackage():
    package_dir = PYPROJECT["tool"]["setuptools"]["package-dir"]
    assert {f"saidwhat.{name}": name for name in LAYER_FOLDERS}.items() <= package_dir.items()
    assert all(
        name == "saidwhat" or name.startswith("saidwhat.") for name in PYPROJECT["tool"]["setuptools"]["packages"]
    )


def _python_files() -> list[Path]:
    folders = [*LAYER_FOLDERS, "saidwhat", "tests", "bench"]
    return [path for folder in folders for path in (ROOT / folder).rglob("*.py") if "__pycache__" not in path.parts]


def test_no_module_imports_a_layer_by_its_bare_folder_name():
    bare = set(LAYER_FOLDERS)
    offenders = []
    for path in _python_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            offenders += [f"{path.relative_to(ROOT)}:{node.lineno} {n}" for n in names if n.split(".")[0] in bare]
    assert not offenders, "import these as saidwhat.<layer>: " + ", ".join(offenders)


def _installed_shape(target: Path) -> Path:
    """The package laid out as pip installs it (the layer folders inside saidwhat/), code only."""
    ignore = shutil.ignore_patterns("__pycache__", "corpus", "*.pyc")
    package = target / "saidwhat"
    shutil.copytree(ROOT / "saidwhat", package, ignore=ignore)
    for name in LAYER_FOLDERS:
        shutil.copytree(ROOT / name, package / name, ignore=ignore)
    return target


def test_import_layer_contracts_hold(tmp_path):
    lint_imports = Path(sys.executable).with_name("lint-imports")
    if not lint_imports.exists():
        pytest.skip("import-linter is not installed: pip install -e '.[dev]'")
    tree = _installed_shape(tmp_path / "tree")
    result = subprocess.run(
        [str(lint_imports), str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
