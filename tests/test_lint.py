"""ruff, mypy and import-linter, run by the suite so the README's one test command covers them."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "command",
    [
        ["-m", "ruff", "check", "."],
        ["-m", "ruff", "format", "--check", "."],
        ["-m", "mypy"],
        # import-linter's command has no `python -m` entry; its click command is run directly.
        ["-c", "import importlinter.cli as c; c.lint_imports_command()"],
    ],
    ids=["ruff-check", "ruff-format", "mypy", "import-linter"],
)
def test_tool_passes(command: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, *command],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_bot_module_has_a_layer() -> None:
    """A new module in bot/ must be placed in the layers contract, or nothing checks it."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    layers = next(c for c in config["contracts"] if c["type"] == "layers")["layers"]
    named = {name.strip() for layer in layers for name in layer.replace("|", ":").split(":")}
    modules = {
        f"bot.{path.stem}" for path in (ROOT / "bot").glob("*.py") if path.stem != "__init__"
    }
    assert modules - named == set()
