"""The results file that `buildlab measure` writes, and the Markdown rendered from it.

The file format is versioned (SCHEMA_VERSION) and described by docs/results/schema.json; the
committed file docs/results/results.json is the only source of numbers in the docs.
Summaries (median, spread) are computed here from the raw runs, never stored twice.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from buildlab.support.errors import BuildlabError
from buildlab.support.paths import ROOT

SCHEMA_NAME = "buildlab-results"


SCHEMA_VERSION = 2


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


Results = dict[str, Any]  # one parsed results file (shape: docs/results/schema.json)


def load(path: Path) -> Results:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise BuildlabError(f"no results file at {path}: run `make measure`") from exc
    except json.JSONDecodeError as exc:
        raise BuildlabError(f"{path} is not valid JSON ({exc.msg}, line {exc.lineno})") from exc
    if data.get("schema") != SCHEMA_NAME or data.get("schema_version") != SCHEMA_VERSION:
        raise BuildlabError(
            f"{path} is not a {SCHEMA_NAME} v{SCHEMA_VERSION} file "
            f"(found {data.get('schema')} v{data.get('schema_version')})"
        )
    return dict(data)


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
