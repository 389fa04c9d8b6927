"""Fast tier: `buildlab exercise`, `check` and `progress` on bad input and on the folders they
make (the Docker tier runs a real check: test_learn_docker.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from buildlab.course.manifest import load_manifest
from helpers import run_cli

MANIFEST = load_manifest()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["check", "99", "uv"], "unknown lesson '99'"),
        (["check", "02", "npm"], "unknown tool 'npm' for 02-dependencies-first"),
        (["check", "02"], "check takes LESSON TOOL [PATH], or --lesson 07 PROJECT"),
        (["check", "02", "uv", "{tmp}/nowhere"], "no folder at {tmp}/nowhere"),
        (
            ["check", "02", "uv", "{tmp}"],
            "has no Dockerfile: the check builds the one in that folder",
        ),
        (["check", "--lesson", "05", "{tmp}"], "a project is checked against lesson 07's"),
        (["check", "--lesson", "07", "{tmp}", "{tmp}"], "check --lesson LESSON takes one PROJECT"),
        (["check", "02", "uv", "--port", "9000"], "go with --lesson"),
        (["check", "--lesson", "07", "{tmp}"], "has no Dockerfile (`buildlab adopt` writes"),
        (["exercise", "02", "npm"], "unknown tool 'npm'"),
        (["exercise", "42", "uv"], "unknown lesson '42'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], expected: str, tmp_path: Path) -> None:
    given = [arg.format(tmp=tmp_path) for arg in args]
    result = run_cli(*given, env={"BUILDLAB_EXERCISES": str(tmp_path / "exercises")})
    assert result.returncode == 2, result.stdout + result.stderr
    assert expected.format(tmp=tmp_path) in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr


def test_an_exercise_starts_from_the_previous_lesson_and_keeps_the_learners_work(
    tmp_path: Path,
) -> None:
    env = {"BUILDLAB_EXERCISES": str(tmp_path)}
    lesson = MANIFEST.lesson("05")
    folder = tmp_path / lesson.id / "uv"
    made = run_cli("exercise", "05", "uv", env=env)
    assert made.returncode == 0, made.stderr
    assert f"made {folder}" in made.stdout
    assert "Your turn:" in made.stdout
    assert "scripts/cli check 05 uv" in made.stdout
    before = MANIFEST.lesson("04").directory / "uv"
    for name in ("Dockerfile", ".dockerignore"):
        assert (folder / name).read_text() == (before / name).read_text()
    assert (folder / "uv.lock").read_text() == (lesson.directory / "uv" / "uv.lock").read_text()
    (folder / "Dockerfile").write_text("# my work\n")
    again = run_cli("exercise", "05", "uv", env=env)
    assert again.returncode == 0
    assert "your work is kept" in again.stdout
    assert (folder / "Dockerfile").read_text() == "# my work\n"
    forced = run_cli("exercise", "05", "uv", "--force", env=env)
    assert forced.returncode == 0
    assert (folder / "Dockerfile").read_text() == (before / "Dockerfile").read_text()


def test_the_first_lesson_starts_from_an_empty_dockerfile(tmp_path: Path) -> None:
    result = run_cli("exercise", "01", "pipenv", env={"BUILDLAB_EXERCISES": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "01-naive" / "pipenv" / "Dockerfile").read_text()
    assert all(line.startswith("#") for line in text.splitlines())


def test_progress_reads_each_folder_and_its_last_check(tmp_path: Path) -> None:
    import json

    from buildlab.learn.check import CHECK_FILE, files_digest

    env = {"BUILDLAB_EXERCISES": str(tmp_path)}
    for lesson, tool in (("02", "uv"), ("03", "uv"), ("05", "poetry")):
        assert run_cli("exercise", lesson, tool, env=env).returncode == 0
    done = tmp_path / "02-dependencies-first" / "uv"
    failing = tmp_path / "05-multi-stage" / "poetry"
    for folder, held, failed in (
        (done, ["serves-http", "code-change-keeps-dependencies-cached"], []),
        (failing, ["serves-http"], ["runtime-is-base-plus-app", "lean-image"]),
    ):
        result = {
            "lesson": folder.parent.name,
            "tool": folder.name,
            "checked_at": "2026-12-02T10:00:00",
            "files_digest": files_digest(folder),
            "held": held,
            "failed": failed,
        }
        (folder / CHECK_FILE).write_text(json.dumps(result))
    (failing / "Dockerfile").write_text("# edited after the check\n")
    table = run_cli("progress", env=env)
    assert table.returncode == 0, table.stderr
    rows = {line.split(" | ")[0].strip("| "): line for line in table.stdout.splitlines()}
    assert "done" in rows["02-dependencies-first"].split(" | ")[4]
    assert rows["03-locked-and-hashed"].split(" | ")[4].strip(" |") == "not checked"
    assert "failing 2 of 3 (edited since)" in rows["05-multi-stage"].split(" | ")[3]
    assert rows["01-naive"].count("not started") == 4
    assert "progress: 1 of" in table.stdout


def test_a_malformed_env_is_one_line(tmp_path: Path) -> None:
    result = run_cli("adopt", str(tmp_path), "--env", "no-equals-sign", "--no-build")
    assert result.returncode == 2
    assert result.stderr.strip() == "buildlab: --env no-equals-sign: give NAME=VALUE"


def test_a_lesson_with_no_claims_to_check_is_one_line(tmp_path: Path) -> None:
    """lessons.toml accepts `claims = []`; checking such a lesson is one clear error before
    anything is built."""
    import dataclasses

    from buildlab.learn.check import check_exercise
    from buildlab.support.errors import UsageError

    lesson = dataclasses.replace(MANIFEST.lesson("02-dependencies-first"), claims=())
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    with pytest.raises(UsageError) as failure:
        check_exercise(MANIFEST, lesson, "uv", tmp_path, say=lambda _: None)
    assert failure.value.message == "02-dependencies-first makes no claims to check"


def test_an_exercise_that_starts_solved_says_so_and_why() -> None:
    """Poetry's lesson 02 already keeps lesson 03's promises (lessons.toml `starts_solved`):
    the task and the lesson page say so, with the reason, instead of a check that passes
    unexplained."""
    from buildlab.learn.exercise import exercise_folder, task_text
    from buildlab.pages.lesson_pages import your_turn_block

    lesson = MANIFEST.lesson("03-locked-and-hashed")
    why = dict(lesson.starts_solved)["poetry"]
    task = task_text(MANIFEST, lesson, "poetry", exercise_folder(lesson, "poetry"))
    assert f"Already solved in poetry: {why}" in task
    assert "Already solved" not in task_text(MANIFEST, lesson, "uv", exercise_folder(lesson, "uv"))
    assert f"In poetry the exercise starts solved, and its check passes at once: {why}" in (
        your_turn_block(MANIFEST, lesson)
    )
