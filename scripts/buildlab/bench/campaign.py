"""`buildlab measure`: the build-behaviour benchmark (also behind `make demo`).

What it builds (a *subject*): a lesson in one tool, a peer (a public recipe written here) or
a variation of a lesson, each for one app. For each subject, repeated N times on a temporary
copy of its folder: a cold build (builder cache and cache mounts pruned, base images kept), a
no-op rebuild, a rebuild after a code-only change and one after a dependency-file change that
keeps the lock valid. Every image is pushed to the local registry, which gives the compressed
bytes each push uploads. Repetitions run in rounds (every subject once, then again), so a
noisy minute hurts all subjects alike. Every build runs with `--progress=plain`; its log gives
per-step times and CACHED steps. The results file is written after each subject's round, so an
interrupted run keeps what it measured (marked incomplete) and `--resume` goes on from there;
containers, images and temp folders never stay.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from buildlab.bench import store
from buildlab.bench.machine import engine_facts, machine, repository
from buildlab.bench.startup import startup_import_ms
from buildlab.bench.subjects import Subject
from buildlab.course.dockerfile import from_lines
from buildlab.course.model import App, Manifest
from buildlab.course.probe import check_probe, running
from buildlab.course.scenarios import (
    add_after_code,
    make_code_change,
    make_dependency_file_change,
    scratch_copy,
    use_other_app,
    use_peer_dockerfile,
)
from buildlab.course.tools import TOOLS
from buildlab.engine import builds, labels, registry
from buildlab.engine.daemon import require_engine
from buildlab.engine.images import code_bytes, image_facts, uncompressed_size
from buildlab.engine.stand_ins import is_stand_in
from buildlab.support.errors import (
    BuildFailed,
    BuildlabError,
    ContainerFailed,
    PushFailed,
    UsageError,
)
from buildlab.support.pins import load_pins

STEP_LINE = re.compile(r"^#\d+ (\[[^\]]+\] .*)$")


def base_images(dockerfile: Path) -> list[store.BaseImageRecord]:
    """The images a Dockerfile starts from: the final stage's (runtime) first, then the
    others (builder). A FROM naming a stage is no image."""
    lines = from_lines(dockerfile.read_text())
    stages: set[str] = set()
    images: list[str] = []
    for image, alias in lines:
        if image not in stages and image not in images:
            images.append(image)
        stages.add(alias)
    runtime = lines[-1][0]
    ordered = [runtime, *(i for i in images if i != runtime)]
    return [
        {
            "role": "runtime" if name == runtime else "builder",
            "name": name,
            "size_bytes": uncompressed_size(name),
            "origin": "stand-in" if is_stand_in(name) else "real",
        }
        for name in ordered
    ]


def run_record(
    repetition: int, scenario: str, build: builds.BuildResult, pushed_bytes: int
) -> store.RunRecord:
    return {
        "repetition": repetition,
        "scenario": scenario,
        "status": "ok",
        "seconds": round(build.seconds, 2),
        "steps_cached": build.cached_count,
        "steps_total": len(build.build_steps),
        "steps": [
            {"step": s.name, "cached": s.cached, "seconds": s.seconds} for s in build.build_steps
        ],
        "image": image_facts(build.tag),
        "pushed_bytes": pushed_bytes,
    }


def failed_record(repetition: int, scenario: str, error: BuildlabError) -> store.RunRecord:
    return {
        "repetition": repetition,
        "scenario": scenario,
        "status": "failed",
        "error": error.message,
        "log_tail": error.detail,
    }


Progress = Callable[[str, str | None], None]  # (what is being built, current step or None)


@contextmanager
def prepared(subject: Subject) -> Iterator[Path]:
    """A temporary copy of the subject's folder: the peer's Dockerfile, the variation's line
    and the other app swapped in as asked."""
    with scratch_copy(subject.variant) as context:
        if subject.peer is not None:
            use_peer_dockerfile(context, subject.peer)
        if subject.variation is not None:
            add_after_code(context, subject.variation.add_after_code)
        if subject.app != subject.own_app:
            use_other_app(
                context, subject.variant.lesson, subject.tool, subject.own_app, subject.app
            )
        yield context


@dataclass
class Campaign:
    """The state of one measurement run: the results so far and each subject's images."""

    data: store.Results
    commit: str
    built: dict[str, list[str]] = field(default_factory=dict)

    def record(self, subject: Subject, context: Path) -> store.BuildRecord:
        """The subject's record in the results (the record itself: what is added to it is saved)."""
        builds: list[store.BuildRecord] = self.data["builds"]
        for build in builds:
            if (build["kind"], build["subject"], build["tool"], build["app"]) == (
                subject.kind,
                subject.name,
                subject.tool,
                subject.app.name,
            ):
                return build
        build = {
            "kind": subject.kind,
            "subject": subject.name,
            "tool": subject.tool,
            "app": subject.app.name,
            "tool_version": load_pins().tool(TOOLS[subject.tool].package),
            "base_images": base_images(context / "Dockerfile"),
            "commit": self.commit,
            "runs": [],
        }
        self.data["builds"].append(build)
        return build


def measure_round(
    campaign: Campaign,
    subject: Subject,
    repetition: int,
    progress: Progress,
    done: Callable[[int], None],
) -> None:
    """The four scenarios of one subject, once; failures are recorded, never hidden."""
    built = campaign.built.setdefault(subject.label, [])
    slug = re.sub(r"[^a-z0-9]+", "-", subject.label.lower()).strip("-")
    repository = registry.fresh_repository(f"buildlab/measure/{slug}")
    with prepared(subject) as context:
        record = campaign.record(subject, context)
        edits: dict[str, Callable[[], None]] = {
            "cold": lambda: _cold_start(built),
            "noop": lambda: None,
            "code_change": lambda: make_code_change(context, subject.app),
            "dependency_change": lambda: make_dependency_file_change(context, subject.tool),
        }
        for scenario, edit in edits.items():
            label = f"{subject.label} {store.SCENARIOS[scenario]} ({repetition})"
            progress(label, None)
            edit()

            def show_step(line: str, label: str = label) -> None:
                if match := STEP_LINE.match(line):
                    progress(label, match.group(1))

            tag = labels.image_tag(f"measure-{slug}-{repetition}-{scenario}")
            built.append(tag)
            try:
                build = builds.build(
                    context,
                    tag,
                    extra_args=subject.build_args,
                    on_line=show_step,
                    retry_unpack_race=False,
                )
                pushed = repository.push(build.tag).uploaded_bytes
            except (BuildFailed, PushFailed) as error:
                record["runs"].append(failed_record(repetition, scenario, error))
                done(len(edits) - list(edits).index(scenario))  # this one and the rest
                return  # later scenarios need this build: on to the next subject
            record["runs"].append(run_record(repetition, scenario, build, pushed))
            done(1)
            if scenario == "cold":
                add_subject_facts(record, subject, context, build.tag, progress)


def lacks_facts(record: store.BuildRecord, subject: Subject) -> bool:
    return (
        "code_compressed_bytes" not in record
        or "serves" not in record
        or (subject.times_startup and "startup_import_ms" not in record)
    )


def serves(tag: str, app: App) -> bool:
    """Does the image, started as it is, answer the app's health path and then its real
    request with the expected body? (A measured image that does not is a failure.)"""
    try:
        with running(tag, app) as container:
            check_probe(container, app)
    except ContainerFailed:
        return False
    return True


def add_subject_facts(
    record: store.BuildRecord, subject: Subject, context: Path, tag: str, progress: Progress
) -> None:
    """Once per subject: does its image serve the app, the code's compressed size and, where
    timed, start-up imports."""
    if not lacks_facts(record, subject):
        return
    progress(f"{subject.label} serving, code size and start-up", None)
    record["serves"] = serves(tag, subject.app)
    slug = re.sub(r"[^a-z0-9]+", "-", subject.label.lower()).strip("-")
    record["code_compressed_bytes"] = code_bytes(
        context, registry.Repository(registry.unique_name(f"buildlab/code/{slug}"))
    )
    if subject.times_startup:
        record["startup_import_ms"] = startup_import_ms(tag, subject.app)


def complete_facts(campaign: Campaign, subject: Subject, progress: Progress) -> None:
    """A resumed run's subject whose rounds are done but whose facts are missing: build it
    (from the build cache where it can) and add them. A subject that never built has none."""
    with prepared(subject) as context:
        record = campaign.record(subject, context)
        built_once = any(run["status"] == "ok" for run in record["runs"])
        if built_once and lacks_facts(record, subject):
            tag = labels.image_tag(f"facts-{subject.name}-{subject.tool}-{subject.app.name}")
            build = builds.build(context, tag, extra_args=subject.build_args)
            add_subject_facts(record, subject, context, build.tag, progress)


def _cold_start(built: list[str]) -> None:
    """Cold: no build cache, no cache mounts, no earlier image of this subject; bases stay."""
    if built:
        subprocess.run(
            ["docker", "image", "rm", "--force", *built], capture_output=True, check=False
        )
        built.clear()
    builds.prune_build_cache()


def new_results(manifest: Manifest, repetitions: int) -> store.Results:
    return {
        "schema": store.SCHEMA_NAME,
        "schema_version": store.SCHEMA_VERSION,
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "complete": False,
        "repetitions": repetitions,
        "primary_app": manifest.primary_app,
        "scenarios": list(store.SCENARIOS),
        "machine": machine(),
        "engine": engine_facts(),
        "repository": repository(),
        "builds": [],
    }


def rounds_done(data: store.Results, subject: Subject) -> set[int]:
    """The repetitions of a subject already in a results file (a resumed run skips them)."""
    return {
        run["repetition"]
        for build in data["builds"]
        if (build["kind"], build["subject"], build["tool"], build["app"])
        == (subject.kind, subject.name, subject.tool, subject.app.name)
        for run in build["runs"]
    }


def measure(
    manifest: Manifest,
    subjects: list[Subject],
    *,
    repetitions: int,
    output: Path,
    progress: Progress,
    done: Callable[[int], None],
    resume: bool = False,
) -> store.Results:
    """Measure every subject in rounds; the results file is rewritten after each round of each
    subject. `resume`: keep what `output` already holds and measure only what it lacks."""
    registry.require_registry()
    require_engine()
    data = new_results(manifest, repetitions)
    if resume and output.exists():
        data = store.load(output)
        if data["repetitions"] != repetitions:
            raise UsageError(
                f"{output} was measured with --repeat {data['repetitions']}; "
                f"resume it with the same --repeat"
            )
    campaign = Campaign(data, commit=repository()["commit"])
    try:
        for repetition in range(1, repetitions + 1):
            for subject in subjects:
                if repetition in rounds_done(data, subject):
                    done(len(store.SCENARIOS))
                    continue
                measure_round(campaign, subject, repetition, progress, done)
                store.save(data, output)
        for subject in subjects:
            complete_facts(campaign, subject, progress)
        data["complete"] = True
        store.save(data, output)
    finally:
        labels.cleanup()
        registry.empty()
    return data


def failures(data: store.Results) -> list[str]:
    return [
        f"{b['subject']}/{b['tool']} ({b['app']}) {r['scenario']} #{r['repetition']}: {r['error']}"
        for b in data["builds"]
        for r in b["runs"]
        if r["status"] != "ok"
    ] + [
        f"{b['subject']}/{b['tool']} ({b['app']}): its image did not answer the app's request"
        for b in data["builds"]
        if b.get("serves") is False
    ]
