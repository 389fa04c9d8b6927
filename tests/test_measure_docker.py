"""Docker tier: `buildlab measure` end to end on a small selection, its failure handling and
Ctrl-C. Runs after test_lessons_docker.py on purpose: a cold build prunes the build cache.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from buildlab.bench import figures, store, tables
from buildlab.bench.campaign import measure
from buildlab.bench.charts import CHARTS, drawn_from, fingerprint
from buildlab.bench.subjects import Subject
from buildlab.claims import limits
from buildlab.course.manifest import load_manifest
from buildlab.course.model import Variant
from buildlab.engine import labels
from buildlab.engine.daemon import engine_answers
from helpers import break_dockerfile, interruptible, run_cli

pytestmark = pytest.mark.docker
MANIFEST = load_manifest()
# CI's selection: the naive lesson, dependencies first, cache mounts; one tool, one run.
SELECTION = ["01", "02", "06"]
TOOL = "uv"


@pytest.fixture(scope="module")
def engine() -> None:
    if not engine_answers():
        pytest.skip("no Docker engine answers: run `make doctor`")


@pytest.fixture(scope="module")
def small_run(
    engine: None, tmp_path_factory: pytest.TempPathFactory
) -> tuple[subprocess.CompletedProcess[str], Path]:
    output = tmp_path_factory.mktemp("measure") / "results.json"
    args = [
        "measure",
        "--tool",
        TOOL,
        "--app",
        MANIFEST.primary_app,
        "--repeat",
        "1",
        "--output",
        str(output),
    ]
    for lesson in SELECTION:
        args += ["--lesson", lesson]
    return run_cli(*args, timeout=1800), output


def _run(data: store.Results, lesson: str, scenario: str) -> store.RunRecord:
    build = figures.find(data, MANIFEST.lesson(lesson).id, TOOL)
    assert build is not None, f"{lesson} not in the results"
    (run,) = [r for r in build["runs"] if r["scenario"] == scenario]
    assert run["status"] == "ok", run
    return run


def _install_step(run: store.RunRecord, lesson: str) -> store.StepRecord:
    from buildlab.course.tools import TOOLS

    needle = TOOLS[TOOL].install_pattern
    return next(s for s in run["steps"] if re.search(needle, s["step"]))


def test_measure_writes_results_table_and_charts(small_run: tuple[Any, Path]) -> None:
    result, output = small_run
    assert result.returncode == 0, result.stderr[-3000:]
    data = store.load(output)
    assert data["complete"]
    assert len(data["builds"]) == len(SELECTION)
    assert store.schema_problems(output) == ""
    assert tables.builds_table(data) in result.stdout  # the printed table is the docs' table
    for name in CHARTS:
        assert drawn_from(output.parent / name) == fingerprint(data), name


def test_measure_shows_what_each_lesson_promises(small_run: tuple[Any, Path]) -> None:
    """The claims the numbers illustrate, read from the measurement itself."""
    _, output = small_run
    data = store.load(output)
    for lesson in SELECTION:
        noop = _run(data, lesson, "noop")
        assert noop["steps_cached"] == noop["steps_total"], f"{lesson}: no-op rebuild ran steps"
        cold = _run(data, lesson, "cold")
        assert not _install_step(cold, lesson)["cached"], f"{lesson}: cold build used a cache"
    assert not _install_step(_run(data, "01", "code_change"), "01")["cached"]
    assert _install_step(_run(data, "02", "code_change"), "02")["cached"]
    assert _install_step(_run(data, "06", "code_change"), "06")["cached"]
    assert not _install_step(_run(data, "06", "dependency_change"), "06")["cached"]
    sizes = {lesson: _run(data, lesson, "cold")["image"]["size_bytes"] for lesson in SELECTION}
    assert sizes["06"] < sizes["02"], sizes  # slim runtime stage against the full image
    # What a push uploads after a code change: a reinstalled environment in 01, the code in 06.
    pushed = {lesson: _run(data, lesson, "code_change")["pushed_bytes"] for lesson in SELECTION}
    assert pushed["06"] * 100 < pushed["01"], pushed
    # A no-op rebuild uploads no layer: only BuildKit's new provenance and the manifests.
    assert _run(data, "06", "noop")["pushed_bytes"] < limits.PUSH_OVERHEAD_BYTES


def test_a_failed_build_is_recorded_and_the_run_goes_on(engine: None, tmp_path: Path) -> None:
    import shutil

    targets = []
    for lesson in (MANIFEST.lesson("01-naive"), MANIFEST.lesson("02-dependencies-first")):
        shutil.copytree(lesson.directory / TOOL, tmp_path / lesson.id / TOOL)
        break_dockerfile(tmp_path / lesson.id / TOOL / "Dockerfile")
        app = MANIFEST.apps[lesson.app]
        targets.append(Subject("lesson", lesson.id, Variant(lesson, TOOL, tmp_path), app, app))
    output = tmp_path / "results.json"
    steps: list[int] = []
    data = measure(
        MANIFEST,
        targets,
        repetitions=1,
        output=output,
        progress=lambda label, step: None,
        done=steps.append,
    )
    assert sum(steps) == len(targets) * len(store.SCENARIOS)  # the bar still reaches the end
    assert len(data["builds"]) == 2
    assert data["complete"]
    for build in data["builds"]:
        (run,) = build["runs"]
        assert run["status"] == "failed", run
        assert "boom" in run["log_tail"], run
    assert json.loads(output.read_text()) == data


def test_ctrl_c_leaves_no_container_image_or_temp_folder(engine: None, tmp_path: Path) -> None:
    session = "ctrlc" + str(os.getpid())
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "BUILDLAB_SESSION": session, "TMPDIR": str(scratch)}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "buildlab",
            "measure",
            "--lesson",
            "01",
            "--tool",
            TOOL,
            "--repeat",
            "1",
            "--output",
            str(tmp_path / "r.json"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        start_new_session=True,
        preexec_fn=interruptible,
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 300
    for line in process.stdout:  # interrupt while the code-change build runs
        if "code change" in line or time.monotonic() > deadline:
            break
    time.sleep(1.5)
    os.killpg(process.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole group
    rest = process.communicate(timeout=120)[0]
    assert process.returncode == 130, rest
    assert "interrupted" in rest, rest
    assert "Traceback" not in rest, rest
    for kind in (["ps", "--all"], ["images"]):
        left = subprocess.run(
            ["docker", *kind, "--quiet", "--filter", f"label={labels.SESSION_LABEL}={session}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        assert left == [], f"docker {kind[0]} left behind: {left}"
    assert list(scratch.iterdir()) == [], "temporary folders left behind"
