"""Replay the Dockerfile's builder stage on this machine, without Docker.

Reads the stage named `builder` and carries out its instructions as written: ENV (VIRTUAL_ENV
becomes a folder under the work folder), WORKDIR (the work folder's `src`), COPY from the build
context as .dockerignore filters it, and RUN with `sh -c`, as Docker runs the shell form. Any
other instruction, or a form of these it does not know, stops it: the check and the Dockerfile
must not drift apart silently. `--unset NAME` leaves one of the stage's ENV variables unset, e.g.
PIP_NO_CACHE_DIR, which keeps images small but only slows CI down (the same packages install).

    python3 .ci/replay_builder.py [--unset NAME]... DOCKERFILE CONTEXT WORKDIR
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path


class ReplayError(Exception):
    """The Dockerfile has something this replay cannot carry out faithfully."""


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    result: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        keyword, _, rest = line.partition(" ")
        result.append((keyword.upper(), rest.strip()))
    if pending:
        raise ReplayError("the Dockerfile ends in a continuation line")
    return result


def builder_stage(steps: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The instructions of the stage named builder (after its FROM, up to the next FROM)."""
    stage: list[tuple[str, str]] | None = None
    for keyword, rest in steps:
        if keyword == "FROM":
            if stage is not None:
                return stage
            if re.search(r"\bAS\s+builder$", rest, re.IGNORECASE):
                stage = []
        elif stage is not None:
            stage.append((keyword, rest))
    if stage is None:
        raise ReplayError("the Dockerfile has no stage named builder")
    return stage


def expand(value: str, env: dict[str, str]) -> str:
    """Docker's $VAR and ${VAR} substitution in ENV, WORKDIR and COPY."""
    return re.sub(
        r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", lambda match: env.get(match.group(1), ""), value
    )


def _glob_to_regex(pattern: str) -> re.Pattern[str]:
    parts: list[str] = []
    index = 0
    while index < len(pattern):
        if pattern.startswith("**/", index):
            parts.append("(?:.*/)?")
            index += 3
        elif pattern.startswith("**", index):
            parts.append(".*")
            index += 2
        elif pattern[index] == "*":
            parts.append("[^/]*")
            index += 1
        elif pattern[index] == "?":
            parts.append("[^/]")
            index += 1
        else:
            parts.append(re.escape(pattern[index]))
            index += 1
    return re.compile("".join(parts) + "$")


def dockerignore(context: Path) -> list[tuple[bool, re.Pattern[str]]]:
    """(negated, pattern) for each line of .dockerignore, in order."""
    path = context / ".dockerignore"
    rules: list[tuple[bool, re.Pattern[str]]] = []
    if not path.exists():
        return rules
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = line.lstrip("!").strip().strip("/")
        rules.append((negated, _glob_to_regex(pattern)))
    return rules


def ignored(relative: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parent folders wins."""
    parts = relative.split("/")
    prefixes = ["/".join(parts[: count + 1]) for count in range(len(parts))]
    result = False
    for negated, pattern in rules:
        if any(pattern.match(prefix) for prefix in prefixes):
            result = not negated
    return result


def context_files(context: Path) -> list[str]:
    """The files Docker would send as the build context, relative and sorted."""
    rules = dockerignore(context)
    # Negations that reach below a folder's top level stop the walk from skipping folders.
    deep_negation = any(negated and "/" in pattern.pattern for negated, pattern in rules)
    files = []
    for root, dirs, names in os.walk(context):
        # Skip folders that are left out whole (.git, .venv) unless a negation might reach in.
        dirs[:] = sorted(
            name
            for name in dirs
            if deep_negation
            or not ignored((Path(root) / name).relative_to(context).as_posix(), rules)
        )
        for name in names:
            relative = (Path(root) / name).relative_to(context).as_posix()
            if not ignored(relative, rules):
                files.append(relative)
    return sorted(files)


def copy(rest: str, context: Path, files: list[str], workdir: Path, env: dict[str, str]) -> None:
    """COPY src... dest from the build context (no flags: a builder stage copies plain files)."""
    words = [expand(word, env) for word in shlex.split(rest)]
    if len(words) < 2 or any(word.startswith("--") for word in words):
        raise ReplayError(f"COPY {rest}: only the plain form `COPY src... dest` is replayed")
    *sources, dest = words
    target = workdir / dest
    for source in sources:
        source = source.strip("/").removeprefix("./")
        matched = [f for f in files if f == source or f.startswith(source + "/")]
        if not matched:
            raise ReplayError(f"COPY {source}: not in the build context (see .dockerignore)")
        for relative in matched:
            if relative == source:
                into_dir = dest.endswith("/") or len(sources) > 1
                destination = target / Path(relative).name if into_dir else target
            else:
                destination = target / relative[len(source) + 1 :]
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(context / relative, destination)


def replay(dockerfile: Path, context: Path, work: Path, unset: frozenset[str]) -> None:
    """Carry out the builder stage in work/ (the venv in work/venv, the sources in work/src)."""
    stage = builder_stage(instructions(dockerfile.read_text()))
    files = context_files(context)
    env = dict(os.environ)
    workdir = work / "src"
    workdir.mkdir(parents=True)
    for keyword, rest in stage:
        print(f"--> {keyword} {rest}", flush=True)
        if keyword == "ENV":
            for word in shlex.split(rest):
                name, equals, value = word.partition("=")
                if not equals:
                    raise ReplayError(f"ENV {rest}: use the NAME=value form")
                if name in unset:
                    print(f"    (left unset here: {name})", flush=True)
                    env.pop(name, None)
                    continue
                env[name] = str(work / "venv") if name == "VIRTUAL_ENV" else expand(value, env)
        elif keyword == "WORKDIR":
            if expand(rest, env) != "/src":
                raise ReplayError("WORKDIR: the builder stage works in /src only")
        elif keyword == "COPY":
            copy(rest, context, files, workdir, env)
        elif keyword == "RUN":
            if rest.startswith("["):
                raise ReplayError("RUN: only the shell form is replayed")
            subprocess.run(["sh", "-c", rest], cwd=workdir, env=env, check=True)
        else:
            raise ReplayError(f"{keyword}: not replayed; teach .ci/replay_builder.py first")


def main() -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--unset", action="append", default=[], metavar="NAME")
    parser.add_argument("dockerfile", type=Path)
    parser.add_argument("context", type=Path)
    parser.add_argument("work", type=Path)
    args = parser.parse_args()
    try:
        replay(
            args.dockerfile.resolve(),
            args.context.resolve(),
            args.work.resolve(),
            frozenset(args.unset),
        )
    except ReplayError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as error:
        print(f"error: a RUN step failed with exit code {error.returncode}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
