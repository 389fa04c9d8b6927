"""The results file that `buildlab measure` writes, and the Markdown rendered from it.

The file format is versioned (SCHEMA_VERSION) and described by docs/results/schema.json; the
committed file docs/results/results.json is the only source of numbers in the docs.
Summaries (median, spread) are computed here from the raw runs, never stored twice.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from buildlab.errors import BuildlabError
from buildlab.paths import ROOT

SCHEMA_NAME = "buildlab-results"
SCHEMA_VERSION = 1
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
        raise BuildlabError(f"{path} is not a {SCHEMA_NAME} v{SCHEMA_VERSION} file "
                            f"(found {data.get('schema')} v{data.get('schema_version')})")
    return dict(data)


def schema_problems(path: Path) -> str:
    """What check-jsonschema finds wrong with a results file against SCHEMA_FILE ("" if none)."""
    import subprocess
    import sys

    checker = Path(sys.executable).with_name("check-jsonschema")
    result = subprocess.run([str(checker), "--schemafile", str(SCHEMA_FILE), str(path)],
                            capture_output=True, text=True, check=False)
    return "" if result.returncode == 0 else (result.stdout + result.stderr).strip()


def save(results: Results, path: Path) -> None:
    """Write atomically (a half-written file never replaces a good one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(results, indent=1, sort_keys=False) + "\n")
    partial.replace(path)


@dataclass(frozen=True)
class Summary:
    """The runs of one scenario of one build target."""

    seconds: list[float]
    failed: int
    steps_cached: int | None
    steps_total: int | None

    @property
    def median(self) -> float | None:
        return statistics.median(self.seconds) if self.seconds else None

    def text(self) -> str:
        """"12.3" for one run, "12.3 (11.8–13.0)" for several, failures said, never hidden."""
        if not self.seconds:
            return "failed" if self.failed else "–"
        median = f"{self.median:.1f}"
        notes = []
        if len(self.seconds) > 1:
            notes.append(f"{min(self.seconds):.1f}–{max(self.seconds):.1f}")
        if self.failed:
            notes.append(f"{self.failed} failed")
        return f"{median} ({'; '.join(notes)})" if notes else median


def summary(build: dict[str, Any], scenario: str) -> Summary:
    runs = [r for r in build["runs"] if r["scenario"] == scenario]
    ok = [r for r in runs if r["status"] == "ok"]
    cached = [(r["steps_cached"], r["steps_total"]) for r in ok]
    most_common = statistics.mode(cached) if cached else (None, None)
    return Summary([r["seconds"] for r in ok], len(runs) - len(ok), *most_common)


def image(build: dict[str, Any]) -> dict[str, int] | None:
    """The image of the last successful run (identical across runs of one build target)."""
    for run in reversed(build["runs"]):
        if run["status"] == "ok":
            return dict(run["image"])
    return None


def size_of(build: dict[str, Any]) -> int | None:
    img = image(build)
    return None if img is None else img["size_bytes"]


def added_to_base(build: dict[str, Any]) -> int | None:
    """Image size minus its runtime base image: what the lesson's own layers weigh."""
    size = size_of(build)
    runtime = [b for b in build["base_images"] if b["role"] == "runtime"]
    return None if size is None or not runtime else size - runtime[0]["size_bytes"]


def megabytes(size: int | None) -> str:
    return "–" if size is None else f"{size / 1e6:.0f}"


def find(results: Results, lesson: str, tool: str, app: str | None = None) -> dict[str, Any] | None:
    for build in results["builds"]:
        if build["lesson"] == lesson and build["tool"] == tool and app in (None, build["app"]):
            return dict(build)
    return None


def _table(headers: list[str], rows: Iterable[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def machine_line(results: Results) -> str:
    """Short: date, CPUs, Docker and the kind of base images (chart captions)."""
    machine, engine = results["machine"], results["engine"]
    kinds = sorted({base["kind"] for build in results["builds"] for base in build["base_images"]})
    bases = " and ".join({"stand-in": "local stand-in base images",
                          "real": "real Docker Hub base images"}[k] for k in kinds)
    return (f"Measured {results['measured_at'][:10]} on {machine['cpus']} CPUs "
            f"({machine['cpu_model']}), {machine['memory_gib']:.0f} GiB, Docker "
            f"{engine['docker']}, {bases}")


def provenance(results: Results) -> str:
    """One paragraph: when, on what machine and engine, against which base images."""
    engine = results["engine"]
    repetitions = results["repetitions"]
    spread = ("median of 1 run" if repetitions == 1
              else f"median of {repetitions} runs, (min–max) in brackets")
    stand_in = any(base["kind"] == "stand-in" for build in results["builds"]
                   for base in build["base_images"])
    return (f"{machine_line(results)}; {engine['image_store']} image store, BuildKit "
            f"{engine['buildkit']}; `buildlab measure`. Times in seconds, {spread}. Sizes in MB, "
            f"uncompressed (as `docker images` shows on the classic store)."
            + (" Stand-in bases differ in size from the real ones: see docs/test-engine.md."
               if stand_in else ""))


def builds_table(results: Results, lesson: str | None = None) -> str:
    """One row per build target (of one lesson, or all with a lesson column)."""
    headers = ["tool", "image (MB)", "on top of the base (MB)", "layers", *SCENARIOS.values(),
               "steps cached after a code change"]
    if lesson is None:
        headers.insert(0, "lesson")
    rows = []
    for build in results["builds"]:
        if lesson is not None and build["lesson"] != lesson:
            continue
        name = build["tool"] if build["app"] == results["primary_app"] else \
            f"{build['tool']} ({build['app']} app)"
        img = image(build)
        code = summary(build, "code_change")
        cached = "–" if code.steps_cached is None else f"{code.steps_cached}/{code.steps_total}"
        row = [name, megabytes(size_of(build)), megabytes(added_to_base(build)),
               "–" if img is None else str(img["layers"]),
               *(summary(build, s).text() for s in SCENARIOS), cached]
        rows.append(row if lesson is not None else [build["lesson"], *row])
    if not rows:
        return "Not measured yet: run `make measure`.\n"
    return _table(headers, rows)


def pivot_table(results: Results, lessons: list[str], tools: list[str], metric: str) -> str:
    """Lessons down, tools across: `size` (MB) or a scenario's median seconds."""
    rows = []
    for lesson in lessons:
        row = [lesson]
        for tool in tools:
            build = find(results, lesson, tool, results["primary_app"])
            if build is None:
                row.append("–")
            elif metric == "size":
                row.append(megabytes(size_of(build)))
            else:
                median = summary(build, metric).median
                row.append("failed" if median is None else f"{median:.1f}")
        rows.append(row)
    return _table(["lesson", *tools], rows)


@dataclass(frozen=True)
class Target:
    tool: str
    says: str
    value: float | None
    limit: float | None  # None: a figure that explains a target, not a target
    unit: str

    @property
    def met(self) -> bool | None:
        if self.value is None or self.limit is None:
            return None
        return self.value <= self.limit


def targets(results: Results, tools: list[str]) -> list[Target]:
    """The course's performance targets (issue: lesson 07 against lesson 01, per tool)."""

    def build(lesson: str, tool: str) -> dict[str, Any] | None:
        return find(results, lesson, tool, results["primary_app"])

    def ratio(a: float | None, b: float | None) -> float | None:
        return None if a is None or not b else a / b

    out = []
    for tool in tools:
        first, prod, cache = build("01-naive", tool), build("07-production", tool), \
            build("06-cache-mounts", tool)
        if first is None or prod is None:
            continue
        out.append(Target(tool, "07 image size / 01 image size",
                          ratio(size_of(prod), size_of(first)), 0.15, "×"))
        out.append(Target(tool, "the same, each minus its base image",
                          ratio(added_to_base(prod), added_to_base(first)), None, "×"))
        code_prod = summary(prod, "code_change").median
        out.append(Target(tool, "07 code-change rebuild / 01 code-change rebuild",
                          ratio(code_prod, summary(first, "code_change").median), 0.1, "×"))
        out.append(Target(tool, "07 code-change rebuild", code_prod, 2.0, "s"))
        if cache is not None:
            out.append(Target(tool, "06 dependency-file change / 06 cold build",
                              ratio(summary(cache, "dependency_change").median,
                                    summary(cache, "cold").median), 0.5, "×"))
        if tool == "uv":
            out.append(Target(tool, "07 cold build (base images present)",
                              summary(prod, "cold").median, 20.0, "s"))
    return out


def targets_table(results: Results, tools: list[str]) -> str:
    rows = []
    for target in targets(results, tools):
        value = "–" if target.value is None else \
            (f"{target.value:.3f}" if target.unit == "×" else f"{target.value:.1f} s")
        if target.limit is None:
            rows.append([target.tool, target.says, value, "(context)", ""])
            continue
        limit = f"≤ {target.limit:g}" + (" s" if target.unit == "s" else "")
        verdict = {True: "met", False: "**missed**", None: "not measured"}[target.met]
        rows.append([target.tool, target.says, value, limit, verdict])
    if not rows:
        return "Not measured yet: run `make measure`.\n"
    return _table(["tool", "what", "measured", "target", ""], rows)
