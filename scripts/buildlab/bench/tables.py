"""Markdown from a results file: where it was measured, and the tables the docs show."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from buildlab.bench.figures import added_to_base, find, image, size_of, summary
from buildlab.bench.store import SCENARIOS, BuildRecord, Results


def megabytes(size: int | None) -> str:
    return "–" if size is None else f"{size / 1e6:.0f}"


def markdown_table(headers: list[str], rows: Iterable[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def machine_line(results: Results) -> str:
    """Short: date, CPUs, Docker and the kind of base images (chart captions)."""
    machine, engine = results["machine"], results["engine"]
    kinds = sorted({base["origin"] for build in results["builds"] for base in build["base_images"]})
    bases = " and ".join(
        {"stand-in": "local stand-in base images", "real": "real Docker Hub base images"}[k]
        for k in kinds
    )
    return (
        f"Measured {results['measured_at'][:10]} on {machine['cpus']} CPUs "
        f"({machine['cpu_model']}), {machine['memory_gib']:.0f} GiB, Docker "
        f"{engine['docker']}, {bases}"
    )


def later_commits(results: Results) -> dict[str, list[str]]:
    """The commits a resumed run measured some subjects at, other than the run's own: each
    with those subjects, in the results' order."""
    run = results["repository"]["commit"]
    later: dict[str, list[str]] = {}
    for build in results["builds"]:
        commit = build.get("commit", run)
        if commit != run and build["subject"] not in later.setdefault(commit, []):
            later[commit].append(build["subject"])
    return later


def commits(results: Results) -> str:
    """At which commit the run measured, and which subjects a resumed run measured later."""
    run = results["repository"]["commit"]
    text = f"Measured at commit {run[:7]}" + (
        " (with uncommitted changes)" if results["repository"]["dirty"] else ""
    )
    for commit, names in later_commits(results).items():
        text += f"; {', '.join(names)} measured again at commit {commit[:7]}"
    return text + "."


def serving(results: Results) -> str:
    """Whether every measured image served its app (measure starts each subject's once)."""
    label = "{lesson}/{tool} ({app})".format_map
    failed = [label(b) for b in results["builds"] if b.get("serves") is False]
    unchecked = Counter(b["subject"] for b in results["builds"] if "serves" not in b)
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
        base["origin"] == "stand-in" for build in results["builds"] for base in build["base_images"]
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


def mb_text(size: float | None, digits: int = 0) -> str:
    return "–" if size is None else f"{size / 1e6:.{digits}f}"


def kb_text(size: float | None) -> str:
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
        if build["kind"] != kind or (lesson is not None and build["subject"] != lesson):
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
            kb_text(code.pushed_median),
            mb_text(summary(build, "dependency_change").pushed_median, 1),
        ]
        rows.append(row if lesson is not None else [build["subject"], *row])
    if not rows:
        return "Not measured yet: run `make measure`.\n"
    return markdown_table(headers, rows)


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
                row.append(kb_text(summary(build, "code_change").pushed_median))
            else:
                median = summary(build, metric).median
                row.append("failed" if median is None else f"{median:.1f}")
        rows.append(row)
    return markdown_table(["lesson", *tools], rows)


def startup_text(build: BuildRecord | None) -> str:
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
        and ((b["kind"] == "lesson" and b["subject"] == lesson) or b["kind"] == "peer")
    ]
    for build in builds:
        name = (
            f"lesson {lesson[:2]}"
            if build["kind"] == "lesson"
            else titles.get(build["subject"], build["subject"])
        )
        rows.append(
            [
                name,
                build["tool"],
                megabytes(size_of(build)),
                summary(build, "cold").text(),
                summary(build, "code_change").text(),
                summary(build, "dependency_change").text(),
                kb_text(summary(build, "code_change").pushed_median),
                startup_text(build),
            ]
        )
    if not rows:
        return "Not measured yet: run `make measure`.\n"
    return markdown_table(headers, rows)
