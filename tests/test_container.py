"""Facts about the image and the compose example that no linter checks (Docker does not run here).

.ci/check-image lints the Dockerfile and replays its builder stage; these tests read the final
stage, the build context .dockerignore leaves, compose.yaml and .env.example.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from bot.settings import Settings
from storage.crypto import decode_key

ROOT = Path(__file__).resolve().parents[1]


def _replay_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("replay_builder", ROOT / ".ci/replay_builder.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


replay = _replay_module()


def stages() -> list[list[tuple[str, str]]]:
    """The Dockerfile's stages, each a list of (INSTRUCTION, arguments), FROM first."""
    result: list[list[tuple[str, str]]] = []
    for keyword, rest in replay.instructions((ROOT / "Dockerfile").read_text()):
        if keyword == "FROM":
            result.append([])
        if result:
            result[-1].append((keyword, rest))
    return result


def final_stage() -> dict[str, list[str]]:
    """The last stage's instructions by keyword."""
    by_keyword: dict[str, list[str]] = {}
    for keyword, rest in stages()[-1]:
        by_keyword.setdefault(keyword, []).append(rest)
    return by_keyword


def env_of(stage: list[tuple[str, str]]) -> dict[str, str]:
    """The ENV values a stage sets."""
    env: dict[str, str] = {}
    for keyword, rest in stage:
        if keyword == "ENV":
            env.update(word.split("=", 1) for word in shlex.split(rest))
    return env


def test_the_image_is_built_in_two_stages_on_the_same_python() -> None:
    builder, final = stages()
    assert re.fullmatch(r"\$\{PYTHON_IMAGE\} AS builder", builder[0][1])
    assert final[0][1] == "${PYTHON_IMAGE}"
    # Wheels only: nothing is compiled, so the builder needs no compiler either.
    assert env_of(builder)["PIP_ONLY_BINARY"] == ":all:"


def test_the_final_stage_holds_the_venv_and_no_build_tools() -> None:
    final = final_stage()
    builder_venv = env_of(stages()[0])["VIRTUAL_ENV"]
    assert final["COPY"] == [f"--from=builder {builder_venv} {builder_venv}"]
    run = " ".join(final.get("RUN", []))
    for tool in ("apk", "gcc", "build-essential", "pip install", "make "):
        assert tool not in run
    # The only package the final stage adds is a font (for the PDF export).
    installed = re.findall(r"apt-get install (?:-\S+ )*((?:[^-&\s]\S* ?)+)", run)
    assert installed == ["fonts-droid-fallback=1:6.0.1r16-1.1 "]


def test_the_bot_runs_unprivileged_with_its_data_in_a_volume() -> None:
    final = final_stage()
    (user,) = final["USER"]
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and int(uid) >= 1000, "a numeric non-root user"
    assert gid.isdigit() and int(gid) != 0
    assert final["VOLUME"] == ['["/data"]']
    assert env_of(stages()[-1])["DATA_DIR"] == "/data"
    # The user owns the volume's folder (a new named volume takes its ownership from the image).
    assert "chown bot:bot /data" in " ".join(final["RUN"])
    assert f"--uid {uid}" in " ".join(final["RUN"])


def test_health_stop_and_start_commands() -> None:
    final = final_stage()
    (healthcheck,) = final["HEALTHCHECK"]
    options, _, command = healthcheck.partition(" CMD ")
    assert json.loads(command) == ["python", "-m", "bot", "health"]
    assert "--start-period=" in options and "--timeout=" in options
    assert final["STOPSIGNAL"] == ["SIGTERM"]
    # The exec form: python is PID 1 and gets SIGTERM itself, not through a shell.
    assert [json.loads(cmd) for cmd in final["CMD"]] == [["python", "-m", "bot"]]
    assert final["EXPOSE"] == [str(Settings.model_fields["webhook_port"].default)]


def test_the_build_context_leaves_out_secrets_data_and_everything_not_copied(
    tmp_path: Path,
) -> None:
    shutil.copy(ROOT / ".dockerignore", tmp_path / ".dockerignore")
    wanted = {
        "pyproject.toml",
        "README.md",
        "bot/__main__.py",
        "conversations/content/start.toml",
        "storage/migrations/versions/0001_initial_schema.py",
    }
    unwanted = {
        ".env",
        ".env.production",
        "data/bot.sqlite3",
        "data/encryption.key",
        ".git/config",
        ".venv/bin/python",
        "tests/conftest.py",
        "bot/__pycache__/app.cpython-311.pyc",
        "storage/__pycache__/crypto.cpython-311.pyc",
    }
    for name in wanted | unwanted:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    assert set(replay.context_files(tmp_path)) == wanted


def compose() -> dict[str, Any]:
    """compose.yaml, parsed."""
    data: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return data


def test_compose_runs_the_bot_on_a_healthy_postgres_with_secrets_from_env_file() -> None:
    services = compose()["services"]
    postgres, bot = services["postgres"], services["bot"]
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert any(volume.endswith(":/var/lib/postgresql/data") for volume in postgres["volumes"])
    assert bot["build"] == "."
    assert bot["env_file"] == ".env"
    assert bot["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert bot["restart"] == "unless-stopped"
    assert any(volume.endswith(":/data") for volume in bot["volumes"])
    url = bot["environment"]["DATABASE_URL"]
    assert url.startswith("postgresql+asyncpg://") and "@postgres:5432/" in url
    # Longer than the 10 s the bot needs after SIGTERM, so it is not killed mid-update.
    assert int(bot["stop_grace_period"].removesuffix("s")) > 10


def test_compose_holds_no_secret_and_each_instance_has_its_own_data_volume() -> None:
    services = compose()["services"]
    for service in services.values():
        for name, value in (service.get("environment") or {}).items():
            if any(word in name for word in ("PASSWORD", "KEY", "TOKEN", "SECRET")):
                assert re.fullmatch(r"\$\{\w+:\?[^}]+\}", value), f"{name} comes from .env"
    assert services["bot-standby"]["profiles"] == ["standby"]
    assert services["bot-standby"]["depends_on"] == services["bot"]["depends_on"]
    assert services["bot-standby"]["volumes"] != services["bot"]["volumes"]


def env_example() -> dict[str, str]:
    """The variables .env.example names, commented out or not, with their values."""
    variables = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        match = re.fullmatch(r"#? ?([A-Z][A-Z0-9_]*)=(.*)", line.strip())
        if match:
            variables[match.group(1)] = match.group(2)
    return variables


def test_env_example_names_every_variable_compose_needs_and_leaves_secrets_blank() -> None:
    variables = env_example()
    needed = set(re.findall(r"\$\{(\w+)", (ROOT / "compose.yaml").read_text()))
    assert needed <= variables.keys()
    for name in ("TELEGRAM_BOT_TOKEN", "ENCRYPTION_KEY", "POSTGRES_PASSWORD", "WEBHOOK_SECRET"):
        assert variables[name] == "", f"{name} has no value in the example"
    # Every bot setting it names is one the bot reads (POSTGRES_PASSWORD is compose's).
    settings = {name.upper() for name in Settings.model_fields}
    assert variables.keys() - {"POSTGRES_PASSWORD"} <= settings
    assert {"WEBHOOK_URL", "WEBHOOK_SECRET"} <= variables.keys()


def test_the_key_command_in_env_example_makes_a_key_the_bot_accepts() -> None:
    text = (ROOT / ".env.example").read_text()
    (command,) = re.findall(r'python3 -c "(import base64[^"]+)"', text)
    result = subprocess.run(
        [sys.executable, "-c", command], capture_output=True, text=True, check=True
    )
    assert len(decode_key(result.stdout.strip())) == 32


@pytest.mark.parametrize("ignore_file", [".gitignore", ".dockerignore"])
def test_the_env_file_is_never_committed_or_sent_to_the_build(ignore_file: str) -> None:
    assert ".env" in (ROOT / ignore_file).read_text().splitlines()
