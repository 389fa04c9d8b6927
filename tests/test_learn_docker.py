"""Docker tier: `buildlab check` as a learner runs it, on an unsolved and a solved exercise, a
Dockerfile that does not build, a project's own Dockerfile, and Ctrl-C; `progress` after."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from buildlab.course.manifest import load_manifest
from buildlab.learn.exercise import LEARNER_FILES
from helpers import FACTS, interruptible, labelled, run_cli, single_module_project

pytestmark = pytest.mark.docker
MANIFEST = load_manifest()


def _cli(session: str, exercises: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"BUILDLAB_SESSION": session, "BUILDLAB_EXERCISES": str(exercises)}
    return run_cli(*args, env=env, timeout=1200)


def test_check_fails_an_unsolved_exercise_and_passes_it_solved(tmp_path: Path) -> None:
    session = f"learn{os.getpid()}"
    lesson = MANIFEST.lesson("02")
    folder = tmp_path / lesson.id / "uv"
    assert _cli(session, tmp_path, "exercise", "02", "uv").returncode == 0
    assert _cli(session, tmp_path, "exercise", "03", "uv").returncode == 0

    unsolved = _cli(session, tmp_path, "check", "02", "uv")
    FACTS.append("buildlab check 02 uv, unsolved:\n" + unsolved.stdout.rstrip())
    assert unsolved.returncode == 1, unsolved.stdout + unsolved.stderr
    assert "  ok    serves-http" in unsolved.stdout
    assert "  FAIL  code-change-keeps-dependencies-cached: 'RUN uv sync' re-ran" in unsolved.stdout
    assert f"hint: {MANIFEST.claims['code-change-keeps-dependencies-cached'].hint}" in (
        unsolved.stdout
    )
    assert "check: 1 of 2 claims hold; 1 fail: code-change-keeps-dependencies-cached" in (
        unsolved.stdout
    )

    for name in LEARNER_FILES:  # the learner solves it: the lesson's own files
        if (lesson.directory / "uv" / name).is_file():
            shutil.copy2(lesson.directory / "uv" / name, folder / name)
    solved = _cli(session, tmp_path, "check", "02", "uv")
    FACTS.append("buildlab check 02 uv, solved:\n" + solved.stdout.rstrip())
    assert solved.returncode == 0, solved.stdout + solved.stderr
    assert "check: 2 of 2 claims hold: every claim holds" in solved.stdout

    progress = _cli(session, tmp_path, "progress")
    FACTS.append("buildlab progress:\n" + progress.stdout.rstrip())
    rows = {line.split(" | ")[0].strip("| "): line for line in progress.stdout.splitlines()}
    assert "done" in rows["02-dependencies-first"]
    assert "not checked" in rows["03-locked-and-hashed"]
    assert labelled(session) == []


def test_a_dockerfile_that_does_not_build_shows_its_failing_step(tmp_path: Path) -> None:
    session = f"learnbad{os.getpid()}"
    assert _cli(session, tmp_path, "exercise", "04", "pipenv").returncode == 0
    dockerfile = tmp_path / "04-lean-single-stage" / "pipenv" / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text() + "\nRUN pipenv install --no-such-flag\n")
    result = _cli(session, tmp_path, "check", "04", "pipenv")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "check: the Dockerfile does not build" in result.stdout
    assert "failed step:" in result.stdout
    assert "no-such-flag" in result.stdout
    assert "check: 0 of 4 claims hold" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    assert labelled(session) == []


def test_check_runs_lesson_07s_claims_on_a_projects_own_dockerfile(tmp_path: Path) -> None:
    """The project adopt writes lesson 07 into: every claim that applies to a project holds,
    and the ones that need our lesson folders say so."""
    session = f"learnproject{os.getpid()}"
    project = single_module_project(tmp_path / "service")
    env = {"BUILDLAB_SESSION": session}
    written = run_cli("adopt", str(project), "--no-build", "--force", env=env)
    assert written.returncode == 0, written.stderr
    result = run_cli("check", "--lesson", "07", str(project), env=env, timeout=1800)
    FACTS.append("buildlab check --lesson 07 PROJECT:\n" + result.stdout.rstrip())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "  n/a   project-shapes-serve" in result.stdout
    assert "  ok    no-request-lost-on-stop" in result.stdout
    assert "  n/a   version-bump-keeps-dependencies-cached" in result.stdout
    assert "(2 do not apply): every claim holds" in result.stdout
    assert labelled(session) == []


def test_ctrl_c_during_a_check_leaves_nothing(tmp_path: Path) -> None:
    session = f"learnctrlc{os.getpid()}"
    scratch = tmp_path / "tmp"  # the check's own temporary folders go here, nowhere else
    scratch.mkdir()
    assert _cli(session, tmp_path, "exercise", "07", "uv").returncode == 0
    process = subprocess.Popen(
        [sys.executable, "-m", "buildlab", "check", "07", "uv"],
        env={
            **os.environ,
            "BUILDLAB_SESSION": session,
            "BUILDLAB_EXERCISES": str(tmp_path),
            "TMPDIR": str(scratch),
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=interruptible,
    )
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 600
        line = ""
        while "  ok  " not in line and "  FAIL" not in line and time.monotonic() < deadline:
            line = process.stdout.readline()
            assert line or process.poll() is None, process.stderr.read() if process.stderr else ""
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=120) == 130
    finally:
        if process.poll() is None:
            process.kill()
    assert labelled(session) == []
    left = sorted(str(path.relative_to(scratch)) for path in scratch.rglob("*"))
    assert left == [], f"the check left temporary files behind: {left[:20]}"
