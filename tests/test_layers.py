"""The apps' layers (pyproject.toml, `[tool.importlinter]`) hold, and `lint-imports` fails on a new
import that breaks them, even one inside a function."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(source: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(source)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(REPO / "pyproject.toml")],
        capture_output=True,
        text=True,
        env=env,
        cwd=source,
        timeout=120,
        check=False,
    )


@pytest.fixture
def source_copy(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "src" / "twoway", tmp_path / "twoway")
    return tmp_path


def test_the_tree_keeps_every_contract() -> None:
    result = lint_imports(REPO / "src")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_lower_app_importing_a_higher_one_inside_a_function_breaks_the_layers(
    source_copy: Path,
) -> None:
    errors = source_copy / "twoway" / "core" / "errors.py"
    errors.write_text(
        errors.read_text()
        + "\n\ndef _sneaky() -> None:\n    from twoway.conversations import models  # noqa: F401\n"
    )

    result = lint_imports(source_copy)

    assert result.returncode == 1
    assert "Apps form layers" in result.stdout and "BROKEN" in result.stdout
    assert "twoway.core.errors -> twoway.conversations.models" in result.stdout


def test_an_adapter_importing_the_registry_breaks_the_carrier_contract(
    source_copy: Path,
) -> None:
    adapter = source_copy / "twoway" / "carriers" / "twilio" / "adapter.py"
    adapter.write_text(adapter.read_text() + "\nfrom twoway.carriers import registry  # noqa\n")

    result = lint_imports(source_copy)

    assert result.returncode == 1
    assert "A carrier adapter imports nothing" in result.stdout
    assert "twoway.carriers.twilio.adapter -> twoway.carriers.registry" in result.stdout
