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

import json
import os
import platform
import re
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from buildlab.bench import results
from buildlab.course.manifest import App, Manifest, Peer, Variant, Variation
from buildlab.course.probe import check_probe, running
from buildlab.course.scenarios import (
    add_after_code,
    make_code_change,
    make_dependency_file_change,
    scratch_copy,
    use_other_app,
    use_peer_dockerfile,
)
from buildlab.engine import docker, private_index, registry
from buildlab.engine.daemon import require_engine, server_version, uses_containerd_store
from buildlab.engine.stand_ins import is_stand_in
from buildlab.support.errors import (
    BuildFailed,
    BuildlabError,
    ContainerFailed,
    PushFailed,
    UsageError,
)
from buildlab.support.paths import ROOT
from buildlab.support.pins import load_pins
from buildlab.support.proc import run

STEP_LINE = re.compile(r"^#\d+ (\[[^\]]+\] .*)$")
# Imports timed per start-up mode (each in a fresh interpreter, after one warm-up import).
IMPORT_SAMPLES = 5


@dataclass(frozen=True)
class Subject:
    """One thing to measure: a lesson in one tool, a peer or a variation, built for one app.

    `variant` is the lesson folder whose scratch copy is the build context (a peer uses the
    folder of the first production lesson in its tool: the same app files and lock)."""

    kind: str  # "lesson", "peer" or "variation"
    name: str  # lesson id, peer name, or "LESSON+VARIATION"
    variant: Variant
    app: App
    own_app: App  # the app the lesson folder holds
    peer: Peer | None = None
    variation: Variation | None = None

    @property
    def tool(self) -> str:
        return self.variant.tool

    @property
    def label(self) -> str:
        suffix = "" if self.app == self.own_app else f" ({self.app.name} app)"
        return f"{self.name}/{self.tool}{suffix}"

    @property
    def build_args(self) -> list[str]:
        """What its builds need: lesson 10's private index secret."""
        return private_index.build_args(self.variant.lesson.private_index)

    @property
    def times_startup(self) -> bool:
        """Start-up imports are timed for the images people copy: production lessons, peers
        and variations."""
        return self.kind != "lesson" or self.variant.lesson.production


def select_subjects(
    manifest: Manifest,
    *,
    lessons: list[str] | None,
    tools: list[str] | None,
    apps: list[str] | None,
    peers: list[str] | None,
    own_apps: bool = False,
) -> list[Subject]:
    """Lessons x tools x apps, then peers and variations, from the manifest.

    own_apps: each lesson with its own app only (none of its `measure_apps`), the peers with
    the primary app (what `make demo` measures when no APP is given).

    No lesson and no peer named: everything. Naming lessons leaves peers out unless named
    (a lesson's variations come with it); naming peers leaves lessons out unless named.
    A lesson that builds the previous lesson's image unchanged is not measured again.
    Unknown names, or naming such a lesson, are a UsageError (exit 2)."""
    for name in apps or []:
        manifest.app(name)
    for name in peers or []:
        manifest.peer(name)
    everything = not lessons and not peers

    def wanted(app: App) -> bool:
        return not apps or app.name in apps

    for name in lessons or []:
        lesson = manifest.lesson(name)
        if lesson.same_image_as_previous:
            raise UsageError(
                f"{lesson.id} builds the previous lesson's image, digest for digest: "
                "measure that lesson instead"
            )
    out: list[Subject] = []
    if everything or lessons:
        for variant in manifest.select(lessons, tools):
            if variant.lesson.same_image_as_previous:
                continue
            own = manifest.apps[variant.lesson.app]
            others = [] if own_apps else [manifest.apps[n] for n in variant.lesson.measure_apps]
            for app in [own, *others]:
                if wanted(app):
                    out.append(Subject("lesson", variant.lesson.id, variant, app, own))
    production = manifest.production_lesson
    own = manifest.apps[production.app]
    for peer in manifest.peers.values():
        if (everything or peer.name in (peers or [])) and (not tools or peer.tool in tools):
            out += [
                Subject("peer", peer.name, Variant(production, peer.tool), app, own, peer=peer)
                for app in (manifest.apps[n] for n in manifest.peer_apps)
                if wanted(app) and (not own_apps or app.name == manifest.primary_app)
            ]
    chosen = {manifest.lesson(name).id for name in lessons or []}
    for variation in manifest.variations.values():
        lesson = manifest.lesson(variation.lesson)
        if everything or lesson.id in chosen:
            app = manifest.apps[lesson.app]
            out += [
                Subject(
                    "variation",
                    f"{lesson.id}+{variation.name}",
                    Variant(lesson, tool),
                    app,
                    app,
                    variation=variation,
                )
                for tool in variation.tools
                if (not tools or tool in tools) and wanted(app)
            ]
    if not out:
        raise UsageError("nothing to measure: nothing selected builds that app with that tool")
    return out


def machine() -> dict[str, Any]:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cpus": os.cpu_count() or 0,
        "memory_gib": round(memory, 1),
        "cpu_model": model,
        "kernel": platform.release(),
        "arch": platform.machine(),
    }


def engine_facts() -> dict[str, str]:
    out = run(["docker", "buildx", "inspect"], check=False).stdout
    found = re.search(r"BuildKit version:\s*(\S+)", out) or re.search(r"Buildkit:\s*(\S+)", out)
    return {
        "docker": server_version(),
        "buildkit": found.group(1) if found else "unknown",
        "image_store": "containerd" if uses_containerd_store() else "classic",
    }


def repository() -> dict[str, Any]:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()

    return {
        "commit": git("rev-parse", "HEAD") or "unknown",
        "dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
    }


def uncompressed_size(tag: str) -> int:
    """The sum of the image's layers: what `docker images` calls the size on the classic store
    (the containerd store's own figure adds the compressed blobs it also keeps)."""
    return sum(size for _, size in docker.history(tag))


def image_facts(tag: str) -> dict[str, int]:
    """Uncompressed size, compressed size (what a pull transfers) and the layer count."""
    return {
        "size_bytes": uncompressed_size(tag),
        "compressed_bytes": docker.image_size(tag),
        "layers": len(docker.layer_digests(tag)),
    }


FROM_LINE = re.compile(r"^FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?", re.I | re.M)
ARG_DEFAULT = re.compile(r"^ARG\s+(\w+)=(\S+)", re.M)


def from_lines(text: str) -> list[tuple[str, str]]:
    """(image, stage alias) of every FROM line, in order; `${ARG}` takes the ARG's default."""
    defaults = dict(ARG_DEFAULT.findall(text))
    return [
        (re.sub(r"\$\{(\w+)\}", lambda m: defaults.get(m.group(1), m.group(0)), image), alias)
        for image, alias in FROM_LINE.findall(text)
    ]


def base_images(dockerfile: Path) -> list[dict[str, Any]]:
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
            "kind": "stand-in" if is_stand_in(name) else "real",
        }
        for name in ordered
    ]


def run_record(
    repetition: int, scenario: str, build: docker.BuildResult, pushed_bytes: int
) -> dict[str, Any]:
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


def failed_record(repetition: int, scenario: str, error: BuildlabError) -> dict[str, Any]:
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
            use_other_app(context, subject.variant, subject.own_app, subject.app)
        yield context


CODE_ONLY_DOCKERFILE = "FROM scratch\nCOPY . /\n"


def code_bytes(context: Path, repository: registry.Repository) -> int:
    """The compressed size of the build context alone, as Docker sends and packs it: an image
    of nothing but `COPY . /` (the context's .dockerignore applies), pushed. The Dockerfile
    lives outside the context, in a folder removed even on Ctrl-C."""
    tag = docker.image_tag(f"code-only-{repository.name}")
    with tempfile.TemporaryDirectory(prefix="buildlab-code-") as folder:
        dockerfile = Path(folder, "Dockerfile")
        dockerfile.write_text(CODE_ONLY_DOCKERFILE)
        docker.build(context, tag, extra_args=["--file", str(dockerfile)])
    return sum(layer.size for layer in repository.push(tag).layers)


IMPORT_TIMER = """
import statistics, subprocess, sys
code = "import time; t = time.perf_counter(); import {package}; print(time.perf_counter() - t)"
subprocess.run([sys.executable, "-c", code], capture_output=True, check=True)
times = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              check=True).stdout) for _ in range({samples})]
print(round(statistics.median(times) * 1000, 1))
"""
# PYTHONPYCACHEPREFIX moves where Python reads and writes byte-code: a writable tmpfs folder
# (filled by the warm-up import) gives every module byte-code; a missing one on a read-only
# file system gives none.
# PYTHONDONTWRITEBYTECODE is emptied for the warm-up to write there (`docker init` sets it).
STARTUP_MODES = {
    "as_built": [],
    "all_bytecode": [
        "--env",
        "PYTHONPYCACHEPREFIX=/tmp/pycache",
        "--env",
        "PYTHONDONTWRITEBYTECODE=",
    ],
    "no_bytecode": ["--env", "PYTHONPYCACHEPREFIX=/nonexistent/pycache"],
}


# The interpreter the server runs on: the one named in the shebang of the CMD's program
# (a venv's gunicorn names the venv's python), or `python` for a program that is no script.
WITH_SERVER_PYTHON = (
    'interpreter=$(head -n 1 "$(command -v "$0")" 2>/dev/null | sed -n "s/^#!//p"); '
    'exec ${interpreter:-python} -c "$1"'
)


def startup_import_ms(tag: str, app: App) -> dict[str, float]:
    """Median milliseconds to import the app in a fresh interpreter of the image, run as in
    production (read-only root, tmpfs /tmp): with the byte-code the image has, with byte-code
    for every module, and with none."""
    cmd = json.loads(
        run(["docker", "image", "inspect", "--format", "{{json .Config.Cmd}}", tag]).stdout
        or "null"
    ) or ["python"]
    out = {}
    script = IMPORT_TIMER.format(package=app.package, samples=IMPORT_SAMPLES)
    for mode, env in STARTUP_MODES.items():
        args = [
            "docker",
            "run",
            "--rm",
            *docker.labels(),
            "--read-only",
            "--tmpfs",
            "/tmp",
            *env,
            "--entrypoint",
            "sh",
            tag,
            "-c",
            WITH_SERVER_PYTHON,
            cmd[0],
            script,
        ]
        result = run(args, check=False, timeout=600)
        if result.returncode != 0:
            raise BuildlabError(
                f"timing imports of {app.package} failed in {tag}",
                detail=(result.stdout + result.stderr)[-2000:],
            )
        out[mode] = float(result.stdout.strip().splitlines()[-1])
    return out


@dataclass
class Campaign:
    """The state of one measurement run: the results so far and each subject's images."""

    data: results.Results
    commit: str
    built: dict[str, list[str]] = field(default_factory=dict)

    def record(self, subject: Subject, context: Path) -> dict[str, Any]:
        """The subject's record in the results (the record itself: what is added to it is saved)."""
        builds: list[dict[str, Any]] = self.data["builds"]
        for build in builds:
            if (build["kind"], build["lesson"], build["tool"], build["app"]) == (
                subject.kind,
                subject.name,
                subject.tool,
                subject.app.name,
            ):
                return build
        build = {
            "kind": subject.kind,
            "lesson": subject.name,
            "tool": subject.tool,
            "app": subject.app.name,
            "tool_version": load_pins().tool(subject.tool),
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
            label = f"{subject.label} {results.SCENARIOS[scenario]} ({repetition})"
            progress(label, None)
            edit()

            def show_step(line: str, label: str = label) -> None:
                if match := STEP_LINE.match(line):
                    progress(label, match.group(1))

            tag = docker.image_tag(f"measure-{slug}-{repetition}-{scenario}")
            built.append(tag)
            try:
                build = docker.build(
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


def lacks_facts(record: dict[str, Any], subject: Subject) -> bool:
    return (
        "code_bytes" not in record
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
    record: dict[str, Any], subject: Subject, context: Path, tag: str, progress: Progress
) -> None:
    """Once per subject: does its image serve the app, the code's compressed size and, where
    timed, start-up imports."""
    if not lacks_facts(record, subject):
        return
    progress(f"{subject.label} serving, code size and start-up", None)
    record["serves"] = serves(tag, subject.app)
    slug = re.sub(r"[^a-z0-9]+", "-", subject.label.lower()).strip("-")
    record["code_bytes"] = code_bytes(
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
            tag = docker.image_tag(f"facts-{subject.name}-{subject.tool}-{subject.app.name}")
            build = docker.build(context, tag, extra_args=subject.build_args)
            add_subject_facts(record, subject, context, build.tag, progress)


def _cold_start(built: list[str]) -> None:
    """Cold: no build cache, no cache mounts, no earlier image of this subject; bases stay."""
    if built:
        subprocess.run(
            ["docker", "image", "rm", "--force", *built], capture_output=True, check=False
        )
        built.clear()
    docker.prune_build_cache()


def new_results(manifest: Manifest, repetitions: int) -> results.Results:
    return {
        "schema": results.SCHEMA_NAME,
        "schema_version": results.SCHEMA_VERSION,
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "complete": False,
        "repetitions": repetitions,
        "primary_app": manifest.primary_app,
        "scenarios": list(results.SCENARIOS),
        "machine": machine(),
        "engine": engine_facts(),
        "repository": repository(),
        "builds": [],
    }


def rounds_done(data: results.Results, subject: Subject) -> set[int]:
    """The repetitions of a subject already in a results file (a resumed run skips them)."""
    return {
        run["repetition"]
        for build in data["builds"]
        if (build["kind"], build["lesson"], build["tool"], build["app"])
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
) -> results.Results:
    """Measure every subject in rounds; the results file is rewritten after each round of each
    subject. `resume`: keep what `output` already holds and measure only what it lacks."""
    registry.require_registry()
    require_engine()
    data = new_results(manifest, repetitions)
    if resume and output.exists():
        data = results.load(output)
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
                    done(len(results.SCENARIOS))
                    continue
                measure_round(campaign, subject, repetition, progress, done)
                results.save(data, output)
        for subject in subjects:
            complete_facts(campaign, subject, progress)
        data["complete"] = True
        results.save(data, output)
    finally:
        docker.cleanup()
        registry.empty()
    return data


def failures(data: results.Results) -> list[str]:
    return [
        f"{b['lesson']}/{b['tool']} ({b['app']}) {r['scenario']} #{r['repetition']}: {r['error']}"
        for b in data["builds"]
        for r in b["runs"]
        if r["status"] != "ok"
    ] + [
        f"{b['lesson']}/{b['tool']} ({b['app']}): its image did not answer the app's request"
        for b in data["builds"]
        if b.get("serves") is False
    ]


__all__ = ["Subject", "failures", "measure", "select_subjects"]
