"""The results file that `buildlab measure` writes, and the Markdown rendered from it.

The file format is versioned (SCHEMA_VERSION) and described by docs/results/schema.json; the
committed file docs/results/results.json is the only source of numbers in the docs.
Summaries (median, spread) are computed here from the raw runs, never stored twice.
"""

from __future__ import annotations

import json
import re
import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Summary:
    """The runs of one scenario of one subject (a lesson in one tool, or a peer, for one app)."""

    seconds: list[float]
    failed: int
    steps_cached: int | None
    steps_total: int | None
    pushed_bytes: tuple[int, ...] = ()

    @property
    def pushed_median(self) -> float | None:
        return statistics.median(self.pushed_bytes) if self.pushed_bytes else None

    @property
    def median(self) -> float | None:
        return statistics.median(self.seconds) if self.seconds else None

    def text(self) -> str:
        """ "12.3" for one run, "12.3 (11.8–13.0)" for several, failures said, never hidden."""
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
    steps_cached, steps_total = statistics.mode(cached) if cached else (None, None)
    return Summary(
        [r["seconds"] for r in ok],
        len(runs) - len(ok),
        steps_cached,
        steps_total,
        tuple(r["pushed_bytes"] for r in ok),
    )


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


def find(
    results: Results, lesson: str, tool: str | None, app: str | None = None, kind: str = "lesson"
) -> dict[str, Any] | None:
    """The build record of a lesson (or a peer: kind="peer") in a tool, for an app."""
    for build in results["builds"]:
        if (
            (build["kind"], build["lesson"]) == (kind, lesson)
            and tool in (None, build["tool"])
            and app in (None, build["app"])
        ):
            return dict(build)
    return None


def peers_of(results: Results, app: str) -> list[dict[str, Any]]:
    return [dict(b) for b in results["builds"] if b["kind"] == "peer" and b["app"] == app]


def _table(headers: list[str], rows: Iterable[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def machine_line(results: Results) -> str:
    """Short: date, CPUs, Docker and the kind of base images (chart captions)."""
    machine, engine = results["machine"], results["engine"]
    kinds = sorted({base["kind"] for build in results["builds"] for base in build["base_images"]})
    bases = " and ".join(
        {"stand-in": "local stand-in base images", "real": "real Docker Hub base images"}[k]
        for k in kinds
    )
    return (
        f"Measured {results['measured_at'][:10]} on {machine['cpus']} CPUs "
        f"({machine['cpu_model']}), {machine['memory_gib']:.0f} GiB, Docker "
        f"{engine['docker']}, {bases}"
    )


def commits(results: Results) -> str:
    """At which commit the run measured, and which subjects a resumed run measured later."""
    run = results["repository"]["commit"]
    later: dict[str, list[str]] = {}
    for build in results["builds"]:
        commit = build.get("commit", run)
        if commit != run and build["lesson"] not in later.setdefault(commit, []):
            later[commit].append(build["lesson"])
    text = f"Measured at commit {run[:7]}" + (
        " (with uncommitted changes)" if results["repository"]["dirty"] else ""
    )
    for commit, names in later.items():
        text += f"; {', '.join(names)} measured again at commit {commit[:7]}"
    return text + "."


def serving(results: Results) -> str:
    """Whether every measured image served its app (measure starts each subject's once)."""
    label = "{lesson}/{tool} ({app})".format_map
    failed = [label(b) for b in results["builds"] if b.get("serves") is False]
    unchecked = Counter(b["lesson"] for b in results["builds"] if "serves" not in b)
    if failed:
        return f"These images did not answer their app's request: {', '.join(failed)}."
    if unchecked:
        lessons = ", ".join(f"{lesson} ({count})" for lesson, count in unchecked.items())
        return (
            "Each measured image was started once and answered its app's real request; not "
            f"checked (measured before `buildlab measure` started images): {lessons}."
        )
    return "Every measured image was started once and answered its app's real request."


def provenance(results: Results) -> str:
    """One paragraph: when, on what machine and engine, against which base images."""
    engine = results["engine"]
    repetitions = results["repetitions"]
    spread = (
        "median of 1 run"
        if repetitions == 1
        else f"median of {repetitions} runs, (min–max) in brackets"
    )
    stand_in = any(
        base["kind"] == "stand-in" for build in results["builds"] for base in build["base_images"]
    )
    return (
        f"{machine_line(results)}; {engine['image_store']} image store, BuildKit "
        f"{engine['buildkit']}; `buildlab measure`. Times in seconds, {spread}. Sizes in MB, "
        f"uncompressed (as `docker images` shows on the classic store). {commits(results)} "
        f"{serving(results)}"
        + (
            " Stand-in bases differ in size from the real ones: see docs/test-engine.md."
            if stand_in
            else ""
        )
    )


def _mb(size: float | None, digits: int = 0) -> str:
    return "–" if size is None else f"{size / 1e6:.{digits}f}"


def _kb(size: float | None) -> str:
    return "–" if size is None else f"{size / 1e3:.0f}"


def builds_table(results: Results, lesson: str | None = None, kind: str = "lesson") -> str:
    """One row per subject (of one lesson, or all with a name column)."""
    headers = [
        "tool",
        "image (MB)",
        "on top of the base (MB)",
        "layers",
        *SCENARIOS.values(),
        "steps cached after a code change",
        "push after a code change (KB)",
        "push after a dependency change (MB)",
    ]
    if lesson is None:
        headers.insert(0, kind)
    rows = []
    for build in results["builds"]:
        if build["kind"] != kind or (lesson is not None and build["lesson"] != lesson):
            continue
        name = (
            build["tool"]
            if build["app"] == results["primary_app"]
            else f"{build['tool']} ({build['app']} app)"
        )
        img = image(build)
        code = summary(build, "code_change")
        cached = "–" if code.steps_cached is None else f"{code.steps_cached}/{code.steps_total}"
        row = [
            name,
            megabytes(size_of(build)),
            megabytes(added_to_base(build)),
            "–" if img is None else str(img["layers"]),
            *(summary(build, s).text() for s in SCENARIOS),
            cached,
            _kb(code.pushed_median),
            _mb(summary(build, "dependency_change").pushed_median, 1),
        ]
        rows.append(row if lesson is not None else [build["lesson"], *row])
    if not rows:
        return "Not measured yet: run `make measure`.\n"
    return _table(headers, rows)


def pivot_table(
    results: Results, lessons: list[tuple[str, str]], tools: list[str], metric: str
) -> str:
    """Lessons (each with its own app) down, tools across: `size` (MB), `pushed` (KB a push
    uploads after a code change) or a scenario's median seconds."""
    rows = []
    for lesson, app in lessons:
        row = [lesson if app == results["primary_app"] else f"{lesson} ({app} app)"]
        for tool in tools:
            build = find(results, lesson, tool, app)
            if build is None:
                row.append("–")
            elif metric == "size":
                row.append(megabytes(size_of(build)))
            elif metric == "pushed":
                row.append(_kb(summary(build, "code_change").pushed_median))
            else:
                median = summary(build, metric).median
                row.append("failed" if median is None else f"{median:.1f}")
        rows.append(row)
    return _table(["lesson", *tools], rows)


def startup_text(build: dict[str, Any] | None) -> str:
    found = None if build is None else build.get("startup_import_ms")
    if not found:
        return "–"
    return f"{found['as_built']:.0f} / {found['no_bytecode']:.0f}"


def peers_table(results: Results, lesson: str, app: str, titles: dict[str, str]) -> str:
    """A lesson in each tool against every peer, for one app: the side-by-side comparison."""
    headers = [
        "Dockerfile",
        "tool",
        "image (MB)",
        "cold build",
        "code change",
        "dependency-file change",
        "push after a code change (KB)",
        "app import at start-up, as built / no byte-code (ms)",
    ]
    rows = []
    builds = [
        b
        for b in results["builds"]
        if b["app"] == app
        and ((b["kind"] == "lesson" and b["lesson"] == lesson) or b["kind"] == "peer")
    ]
    for build in builds:
        name = (
            f"lesson {lesson[:2]}"
            if build["kind"] == "lesson"
            else titles.get(build["lesson"], build["lesson"])
        )
        rows.append(
            [
                name,
                build["tool"],
                megabytes(size_of(build)),
                summary(build, "cold").text(),
                summary(build, "code_change").text(),
                summary(build, "dependency_change").text(),
                _kb(summary(build, "code_change").pushed_median),
                startup_text(build),
            ]
        )
    if not rows:
        return "Not measured yet: run `make measure`.\n"
    return _table(headers, rows)


@dataclass(frozen=True)
class TargetResult:
    """One performance target evaluated for one tool (and one peer, for pairwise ones).
    `evidence`: what each side measured and, for times, the steps its median run ran."""

    tool: str
    says: str
    value: float | None
    limit: float
    unit: str  # "×", "s" or "MB"
    evidence: str = ""
    peer: str = ""  # pairwise targets: the peer this ratio is against

    @property
    def met(self) -> bool | None:
        return None if self.value is None else self.value <= self.limit


def _metric(build: dict[str, Any] | None, metric: str) -> float | None:
    if build is None:
        return None
    if metric == "size":
        size = size_of(build)
        return None if size is None else float(size)
    return summary(build, metric).median


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else a / b


def _per_repetition(build: dict[str, Any], scenario: str) -> dict[int, float]:
    return {
        r["repetition"]: r["seconds"]
        for r in build["runs"]
        if r["scenario"] == scenario and r["status"] == "ok"
    }


def _name(build: dict[str, Any]) -> str:
    return f"lesson {build['lesson'][:2]}" if build["kind"] == "lesson" else build["lesson"]


def median_run(build: dict[str, Any], scenario: str) -> dict[str, Any] | None:
    """The successful run of a scenario whose time is the median (the lower middle one)."""
    runs = sorted(
        (r for r in build["runs"] if r["scenario"] == scenario and r["status"] == "ok"),
        key=lambda r: r["seconds"],
    )
    return runs[(len(runs) - 1) // 2] if runs else None


def side_evidence(build: dict[str, Any] | None, metric: str) -> str:
    """One side of a target, for a reader: its size, or its median run and the steps that run
    actually ran (not cached), each with its time."""
    if build is None:
        return "not measured"
    if metric == "size":
        added = added_to_base(build)
        extra = "" if added is None else f", {added / 1e6:.2f} MB over its base image"
        return f"{_name(build)}: {_mb(size_of(build), 2)} MB{extra}"
    run = median_run(build, metric)
    if run is None:
        return f"{_name(build)}: no successful run"
    ran = [step for step in run["steps"] if not step["cached"]]
    in_steps = sum(step["seconds"] or 0 for step in ran)
    listed = "; ".join(f"`{short_step(s['step'])}` {s['seconds'] or 0:.1f} s" for s in ran)
    return (
        f"{_name(build)}: {run['seconds']:.2f} s: {listed or 'no step ran'}; "
        f"outside any step (context, cache checks, export) {run['seconds'] - in_steps:.1f} s"
    )


def short_step(step: str) -> str:
    """A build step as a reader recognises it: its stage and instruction, without mount
    options, cut at 50 characters."""
    text = " ".join(re.sub(r"--mount=\S+", "", step).split())
    return text if len(text) <= 50 else text[:49] + "…"


def evaluate_targets(
    results: Results, specs: Iterable[Any], tools: list[str]
) -> list[TargetResult]:
    """Every target of the manifest, for every tool it applies to (see lessons.toml)."""
    out = []
    for spec in specs:
        for tool in spec.tools or tools:
            of = find(results, spec.of.lesson, tool, spec.of.app)
            value: float | None
            mine = side_evidence(of, spec.of.metric)
            if spec.kind == "ratio":
                to = find(results, spec.to.lesson, tool, spec.to.app)
                value = _ratio(_metric(of, spec.of.metric), _metric(to, spec.to.metric))
                evidence = f"{mine} · {side_evidence(to, spec.to.metric)}"
                out.append(TargetResult(tool, spec.says, value, spec.limit, "×", evidence))
            elif spec.kind == "value":
                out.append(
                    TargetResult(
                        tool, spec.says, _metric(of, spec.of.metric), spec.limit, "s", mine
                    )
                )
            elif spec.kind == "pushed":
                pushed = None if of is None else summary(of, spec.of.metric).pushed_median
                code = None if of is None else of.get("code_bytes")
                value = None if pushed is None or code is None else (pushed - code) / 1e6
                out.append(TargetResult(tool, spec.says, value, spec.limit, "MB"))
            elif spec.kind == "size":
                sized = [p for p in peers_of(results, spec.of.app) if size_of(p) is not None]
                smallest = min(sized, key=lambda p: size_of(p) or 0, default=None)
                value = _ratio(_metric(of, "size"), _metric(smallest, "size"))
                evidence = f"{mine} · {side_evidence(smallest, 'size')}"
                out.append(TargetResult(tool, spec.says, value, spec.limit, "×", evidence))
            elif spec.kind == "pairwise":
                for peer in peers_of(results, spec.to.app):
                    ours = {} if of is None else _per_repetition(of, spec.of.metric)
                    theirs = _per_repetition(peer, spec.to.metric)
                    ratios = [ours[r] / theirs[r] for r in ours if theirs.get(r)]
                    value = statistics.median(ratios) if ratios else None
                    evidence = f"{mine} · {side_evidence(peer, spec.to.metric)}"
                    out.append(
                        TargetResult(
                            tool,
                            f"{spec.says}: {peer['lesson']}",
                            value,
                            spec.limit,
                            "×",
                            evidence,
                            peer["lesson"],
                        )
                    )
    return out


def missed_targets_text(results: Results, specs: Iterable[Any], tools: list[str]) -> str:
    """Every missed target: the manifest's reason (`why_missed`) and, per tool, what each side
    measured, with the steps its median run ran."""
    parts = []
    for spec in specs:
        missed = [t for t in evaluate_targets(results, [spec], tools) if t.met is False]
        if not missed:
            continue
        parts += [f"**{spec.says}** (target ≤ {spec.limit:g})", ""]
        if spec.why_missed:
            parts += [spec.why_missed, ""]
        for target in missed:
            who = target.tool + (f" against {target.peer}" if target.peer else "")
            parts.append(f"- {who}: {target.evidence}")
        parts.append("")
    return "\n".join(parts) if parts else "Every measured target was met.\n"


def targets_table(results: Results, specs: Iterable[Any], tools: list[str]) -> str:
    """One row per target (and peer), one column per tool: the measured value, and whether
    it met the target."""
    cells: dict[str, dict[str, str]] = {}
    limits: dict[str, str] = {}
    for target in evaluate_targets(results, specs, tools):
        if target.value is None:
            value = "not measured"
        else:
            number = (
                f"{target.value:.3f}" if target.unit == "×" else f"{target.value:.2f} {target.unit}"
            )
            value = f"{number} met" if target.met else f"{number} **missed**"
        cells.setdefault(target.says, {})[target.tool] = value
        limits[target.says] = f"≤ {target.limit:g}" + (
            "" if target.unit == "×" else f" {target.unit}"
        )
    if not cells:
        return "Not measured yet: run `make measure`.\n"
    rows = [
        [says, limits[says], *(by_tool.get(tool, "–") for tool in tools)]
        for says, by_tool in cells.items()
    ]
    return _table(["what", "target", *tools], rows)
