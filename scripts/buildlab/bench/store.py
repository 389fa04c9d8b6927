"""The results file that `buildlab measure` writes, and the Markdown rendered from it.

The file format is versioned (SCHEMA_VERSION) and described by docs/results/schema.json; the
committed file docs/results/results.json is the only source of numbers in the docs.
Summaries (median, spread) are computed here from the raw runs, never stored twice.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NotRequired, TypedDict, cast

from buildlab.engine.images import ImageFacts
from buildlab.support.errors import BuildlabError
from buildlab.support.paths import ROOT

SCHEMA_NAME = "buildlab-results"
# 3: a build record names what it measured `subject` (a lesson id, a peer's name or
# LESSON+VARIATION, as its `kind` says); version 2 called it `lesson`. 4: the code's size is
# `code_compressed_bytes`, a base image's real | stand-in its `origin`. Older files are read
# as the current version (`upgrade`).
SCHEMA_VERSION = 4
RESULTS_DIR = ROOT / "docs" / "results"
COMMITTED_RESULTS = RESULTS_DIR / "results.json"
SCHEMA_FILE = RESULTS_DIR / "schema.json"

# Scenario id -> what the tables call it. Order is the order they run in.
SCENARIOS = {
    "cold": "cold build",
    "noop": "no-op rebuild",
    "code_change": "code change",
    "dependency_change": "dependency-file change",
}


class StepRecord(TypedDict):
    step: str
    cached: bool
    seconds: float | None


ImageRecord = ImageFacts  # uncompressed size (what users see), compressed size, layers


class RunRecord(TypedDict):
    """One build of one scenario: ok (its figures) or failed (its error)."""

    repetition: int
    scenario: str
    status: str  # "ok" or "failed"
    seconds: NotRequired[float]
    steps_cached: NotRequired[int]
    steps_total: NotRequired[int]
    steps: NotRequired[list[StepRecord]]
    image: NotRequired[ImageRecord]
    pushed_bytes: NotRequired[int]
    error: NotRequired[str]
    log_tail: NotRequired[str]


class BaseImageRecord(TypedDict):
    role: str  # runtime | builder
    name: str
    size_bytes: int
    origin: str  # real | stand-in


class BuildRecord(TypedDict):
    """Every run of one subject (kind: lesson, peer or variation) in one tool, for one app."""

    kind: str
    subject: str
    tool: str
    app: str
    tool_version: str
    base_images: list[BaseImageRecord]
    runs: list[RunRecord]
    commit: NotRequired[str]
    serves: NotRequired[bool]
    code_compressed_bytes: NotRequired[int]
    startup_import_ms: NotRequired[dict[str, float]]


class Results(TypedDict):
    """One results file (its shape, for check-jsonschema: docs/results/schema.json)."""

    schema: str
    schema_version: int
    measured_at: str
    complete: bool
    repetitions: int
    primary_app: str
    scenarios: list[str]
    machine: dict[str, Any]
    engine: dict[str, str]
    repository: dict[str, Any]
    builds: list[BuildRecord]


# Each version's renames of a build record's keys, from the version before it: version 3
# named what a build measured `subject` (its `lesson` also held peers' names); version 4 says
# that the code's size is compressed, and calls a base image's real | stand-in its `origin`
# (`kind` is what a subject is).
RENAMED_BUILD_KEYS = {3: {"lesson": "subject"}, 4: {"code_bytes": "code_compressed_bytes"}}
RENAMED_BASE_IMAGE_KEYS = {4: {"kind": "origin"}}


def _renamed(record: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    return {names.get(key, key): value for key, value in record.items()}


def upgrade(data: dict[str, Any]) -> dict[str, Any]:
    """An older file (version 2 on) as the current version: its keys renamed, nothing else."""
    version = data.get("schema_version")
    if not isinstance(version, int) or not 2 <= version < SCHEMA_VERSION:
        return data
    builds = data.get("builds")
    if not isinstance(builds, list):
        raise BuildlabError(f"a {SCHEMA_NAME} v{version} file without its list of builds")
    for step in range(version + 1, SCHEMA_VERSION + 1):
        builds = [_renamed(build, RENAMED_BUILD_KEYS.get(step, {})) for build in builds]
        for build in builds:
            if "base_images" in build:
                build["base_images"] = [
                    _renamed(base, RENAMED_BASE_IMAGE_KEYS.get(step, {}))
                    for base in build["base_images"]
                ]
    return {**data, "schema_version": SCHEMA_VERSION, "builds": builds}


def load(path: Path) -> Results:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise BuildlabError(f"no results file at {path}: run `make measure`") from exc
    except json.JSONDecodeError as exc:
        raise BuildlabError(f"{path} is not valid JSON ({exc.msg}, line {exc.lineno})") from exc
    if data.get("schema") == SCHEMA_NAME:
        data = upgrade(data)
    if data.get("schema") != SCHEMA_NAME or data.get("schema_version") != SCHEMA_VERSION:
        raise BuildlabError(
            f"{path} is not a {SCHEMA_NAME} v{SCHEMA_VERSION} file "
            f"(found {data.get('schema')} v{data.get('schema_version')})"
        )
    return cast(Results, data)


def schema_problems(path: Path) -> str:
    """What check-jsonschema finds wrong with a results file against SCHEMA_FILE ("" if none)."""
    import subprocess
    import sys

    checker = Path(sys.executable).with_name("check-jsonschema")
    result = subprocess.run(
        [str(checker), "--schemafile", str(SCHEMA_FILE), str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    return "" if result.returncode == 0 else (result.stdout + result.stderr).strip()


def save(results: Results, path: Path) -> None:
    """Write atomically (a half-written file never replaces a good one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(results, indent=1, sort_keys=False) + "\n")
    partial.replace(path)
