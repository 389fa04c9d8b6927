"""`buildlab measure`: the build-behaviour benchmark (also behind `make demo`).

For each selected lesson x tool x app, on a temporary copy of the variant folder, repeated N
times: a cold build (builder cache and cache mounts pruned, base images kept), a no-op
rebuild, a rebuild after a code-only change and one after a dependency-file change that keeps
the lock valid. Every build runs with `--progress=plain`; its log gives per-step times and
CACHED steps. The results file is written after every build target, so an interrupted run
keeps what it measured (marked incomplete); containers, images and temp folders never stay.
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from buildlab import docker, results
from buildlab.engine import require_engine, server_version, uses_containerd_store
from buildlab.errors import BuildFailed, UsageError
from buildlab.manifest import App, Manifest, Variant
from buildlab.paths import ROOT
from buildlab.pins import load_pins
from buildlab.proc import run
from buildlab.scenarios import (make_code_change, make_dependency_file_change, scratch_copy,
                                use_second_app)
from buildlab.standin import is_stand_in

STEP_LINE = re.compile(r"^#\d+ (\[[^\]]+\] .*)$")


@dataclass(frozen=True)
class Target:
    """One thing to measure: a lesson variant, built for one app."""

    variant: Variant
    app: App
    own_app: App  # the app the lesson folder holds

    @property
    def primary(self) -> bool:
        return self.app == self.own_app

    @property
    def name(self) -> str:
        suffix = "" if self.primary else f" ({self.app.name} app)"
        return f"{self.variant.name}{suffix}"


def select_targets(manifest: Manifest, lessons: list[str] | None, tools: list[str] | None,
                   apps: list[str] | None) -> list[Target]:
    """Lessons x variants x apps from the manifest; unknown names are a UsageError (exit 2).

    Every lesson is built for its own app; a second app is built where the manifest says it
    is (`also_builds`, lesson 07, the copy-paste reference)."""
    for name in apps or []:
        if name not in manifest.apps:
            raise UsageError(f"unknown app {name!r}; valid apps: {', '.join(manifest.apps)}")
    out = []
    for variant in manifest.select(lessons, tools):
        own = manifest.apps[variant.lesson.app]
        candidates = [own, *manifest.second_apps(variant.lesson)]
        out += [Target(variant, app, own) for app in candidates if not apps or app.name in apps]
    if not out:
        raise UsageError("nothing to measure: no lesson builds that app with that variant")
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
    return {"cpus": os.cpu_count() or 0, "memory_gib": round(memory, 1), "cpu_model": model,
            "kernel": platform.release(), "arch": platform.machine()}


def engine() -> dict[str, str]:
    out = run(["docker", "buildx", "inspect"], check=False).stdout
    found = re.search(r"BuildKit version:\s*(\S+)", out) or re.search(r"Buildkit:\s*(\S+)", out)
    return {"docker": server_version(), "buildkit": found.group(1) if found else "unknown",
            "image_store": "containerd" if uses_containerd_store() else "classic"}


def repository() -> dict[str, Any]:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                              check=False).stdout.strip()

    return {"commit": git("rev-parse", "HEAD") or "unknown",
            "dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}


def uncompressed_size(tag: str) -> int:
    """The sum of the image's layers: what `docker images` calls the size on the classic store
    (the containerd store's own figure adds the compressed blobs it also keeps)."""
    return sum(size for _, size in docker.history(tag))


def image_facts(tag: str) -> dict[str, int]:
    """Uncompressed size, compressed size (what a pull transfers) and the layer count."""
    return {"size_bytes": uncompressed_size(tag), "compressed_bytes": docker.image_size(tag),
            "layers": len(docker.layer_digests(tag))}


def base_images(variant: Variant) -> list[dict[str, Any]]:
    """The runtime base (the final stage's FROM) first, then the builder's if it differs."""
    pins = load_pins()
    roles = {"runtime": variant.lesson.base, "builder": variant.lesson.builder}
    out = []
    for role, key in roles.items():
        if key is None or (role == "builder" and key == variant.lesson.base):
            continue
        name = pins.image(key)
        out.append({"role": role, "name": name, "size_bytes": uncompressed_size(name),
                    "kind": "stand-in" if is_stand_in(name) else "real"})
    return out


def run_record(repetition: int, scenario: str, build: docker.BuildResult) -> dict[str, Any]:
    return {
        "repetition": repetition, "scenario": scenario, "status": "ok",
        "seconds": round(build.seconds, 2),
        "steps_cached": build.cached_count, "steps_total": len(build.build_steps),
        "steps": [{"step": s.name, "cached": s.cached, "seconds": s.seconds}
                  for s in build.build_steps],
        "image": image_facts(build.tag),
    }


def failed_record(repetition: int, scenario: str, error: BuildFailed) -> dict[str, Any]:
    return {"repetition": repetition, "scenario": scenario, "status": "failed",
            "error": error.message, "log_tail": error.detail}


Progress = Callable[[str, str | None], None]  # (what is being built, current step or None)


@contextmanager
def prepared(target: Target) -> Iterator[Path]:
    """A temporary copy of the variant folder (the second app swapped in if asked)."""
    with scratch_copy(target.variant) as context:
        if not target.primary:
            use_second_app(context, target.variant.tool, first=target.own_app,
                           second=target.app)
        yield context


def measure_target(target: Target, repetitions: int, progress: Progress,
                   done: Callable[[int], None]) -> dict[str, Any]:
    variant = target.variant
    record: dict[str, Any] = {
        "lesson": variant.lesson.id, "tool": variant.tool, "app": target.app.name,
        "tool_version": load_pins().tool(variant.tool), "base_images": base_images(variant),
        "runs": [],
    }
    # A new tag per build. With one tag re-pointed at each new image, 2 of 432 builds failed
    # while exporting ("parent snapshot ... does not exist", a containerd-store race seen by
    # others too). Old images of the target go at the next cold start.
    built: list[str] = []
    for repetition in range(1, repetitions + 1):
        with prepared(target) as context:
            edits: dict[str, Callable[[], None]] = {
                "cold": lambda: _cold_start(built),
                "noop": lambda: None,
                "code_change": lambda: make_code_change(context, target.app),
                "dependency_change": lambda: make_dependency_file_change(context, variant.tool),
            }
            for scenario, edit in edits.items():
                label = f"{target.name} {results.SCENARIOS[scenario]} ({repetition}/{repetitions})"
                progress(label, None)
                edit()

                def show_step(line: str, label: str = label) -> None:
                    if match := STEP_LINE.match(line):
                        progress(label, match.group(1))

                tag = docker.image_tag(f"measure-{variant.name}-{target.app.name}-"
                                       f"{repetition}-{scenario}")
                built.append(tag)
                try:
                    build = docker.build(context, tag, on_line=show_step)
                except BuildFailed as error:
                    record["runs"].append(failed_record(repetition, scenario, error))
                    done(len(edits) - list(edits).index(scenario))  # this one and the rest
                    break  # later scenarios need this build: on to the next repetition
                record["runs"].append(run_record(repetition, scenario, build))
                done(1)
    return record


def _cold_start(built: list[str]) -> None:
    """Cold: no build cache, no cache mounts, no earlier image of this target; bases stay."""
    if built:
        subprocess.run(["docker", "image", "rm", "--force", *built], capture_output=True,
                       check=False)
        built.clear()
    docker.prune_build_cache()


def new_results(manifest: Manifest, repetitions: int) -> results.Results:
    return {
        "schema": results.SCHEMA_NAME, "schema_version": results.SCHEMA_VERSION,
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "complete": False, "repetitions": repetitions, "primary_app": manifest.primary_app,
        "scenarios": list(results.SCENARIOS), "machine": machine(), "engine": engine(),
        "repository": repository(), "builds": [],
    }


def measure(manifest: Manifest, targets: list[Target], *, repetitions: int, output: Path,
            progress: Progress, done: Callable[[int], None]) -> results.Results:
    """Measure every target; the results file is rewritten after each one."""
    require_engine()
    data = new_results(manifest, repetitions)
    try:
        for target in targets:
            data["builds"].append(measure_target(target, repetitions, progress, done))
            results.save(data, output)
        data["complete"] = True
        results.save(data, output)
    finally:
        docker.cleanup()
    return data


def failures(data: results.Results) -> list[str]:
    return [f"{b['lesson']}/{b['tool']} ({b['app']}) {r['scenario']} #{r['repetition']}: "
            f"{r['error']}" for b in data["builds"] for r in b["runs"] if r["status"] != "ok"]
