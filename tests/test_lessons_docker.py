"""Docker tier: every lesson variant builds, runs, serves and keeps each claim it makes.

Real builds, real containers, real HTTP. Needs an engine (`make doctor`); in CI a skip fails.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from buildlab.claims.breaks import BREAKS
from buildlab.claims.candidate import Candidate
from buildlab.claims.catalog import PRUNES_BUILD_CACHE, run_claim
from buildlab.claims.verdict import FAILED, Verdict
from buildlab.course.locks import stale_locks
from buildlab.course.manifest import load_manifest
from buildlab.course.model import Claim, Lesson, LockFolder, Shape, Variant
from buildlab.course.scenarios import scratch_copy
from buildlab.course.tools import TOOLS
from buildlab.engine import builds, containers, labels, private_index, registry
from buildlab.engine.builds import BuildResult
from buildlab.engine.daemon import engine_answers
from buildlab.learn.exercise import lay_out
from buildlab.support.errors import BuildFailed, ContainerFailed
from buildlab.support.pins import load_pins
from helpers import CONTROL_FAILURES, FACTS, break_dockerfile, interruptible, labelled

pytestmark = pytest.mark.docker
MANIFEST = load_manifest()
# Claims that prune the builder's cache run last (test_claim_that_prunes_the_builder_cache):
# every build after a prune starts cold.
PRUNING = PRUNES_BUILD_CACHE
# Cheapest order: all claims of one variant together, so its layers are warm for the next.
CASES = [
    (v, claim) for v in MANIFEST.all_variants() for claim in v.lesson.claims if claim not in PRUNING
]
PRUNING_CASES = [
    (v, claim) for v in MANIFEST.all_variants() for claim in v.lesson.claims if claim in PRUNING
]


@pytest.fixture(scope="session")
def engine() -> Iterator[None]:
    if not engine_answers():
        pytest.skip("no Docker engine answers: run `make doctor`")
    if not registry.answers():
        pytest.skip(f"no image registry answers at {registry.ADDRESS}: run `make doctor`")
    yield
    labels.cleanup()
    if "PYTEST_XDIST_WORKER" not in os.environ:  # the other worker may still push
        registry.empty()


@pytest.fixture(scope="session")
def built(engine: None) -> dict[str, BuildResult]:
    return {}


def _fail_with(verdict: Verdict, what: str) -> None:
    pytest.fail(f"{what}: {verdict.outcome}: {verdict.reason}\n{verdict.detail}", pytrace=False)


@pytest.mark.parametrize(("variant", "claim"), CASES, ids=[f"{v.name}:{c}" for v, c in CASES])
def test_claim(variant: Variant, claim: str, built: dict[str, BuildResult]) -> None:
    verdict = run_claim(claim, Candidate.of_variant(MANIFEST, variant, built))
    FACTS.extend(verdict.facts)
    if not verdict.held:
        _fail_with(verdict, f"{claim} does not hold for {variant.name}")


CONTROLS = [
    claim
    for claim in MANIFEST.claims.values()
    if claim.control is not None and claim.id not in PRUNING
]
PRUNING_CONTROLS = [
    claim for claim in MANIFEST.claims.values() if claim.control is not None and claim.id in PRUNING
]


def _broken(claim: Claim, tmp_path: Path, built: dict[str, BuildResult]) -> Candidate:
    """The control's lesson folder, copied, with its break applied."""
    assert claim.control is not None
    lesson = MANIFEST.lesson(claim.control.lesson)
    shutil.copytree(
        lesson.directory / claim.control.tool, tmp_path / lesson.id / claim.control.tool
    )
    variant = Variant(lesson, claim.control.tool, tmp_path)
    candidate = Candidate.of_variant(MANIFEST, variant, built)
    candidate.name = f"control-{claim.id}"
    if claim.control.breaks is not None:
        broken = BREAKS[claim.control.breaks]
        if broken.edit is not None:
            broken.edit(variant.directory / "Dockerfile")
        candidate.options = dict(broken.options)
    return candidate


@pytest.mark.parametrize("claim", CONTROLS, ids=[claim.id for claim in CONTROLS])
def test_claim_fails_on_its_negative_control_for_its_reason(
    claim: Claim, built: dict[str, BuildResult], tmp_path: Path
) -> None:
    """The same check, where the claim does not hold (lessons.toml `control`): it must fail,
    and for the reason the control names. This is how we know each claim's check can fail."""
    assert claim.control is not None
    candidate = _broken(claim, tmp_path, built)
    verdict = run_claim(claim.id, candidate)
    if verdict.outcome != FAILED:  # held, or the control's own build broke
        _fail_with(verdict, f"the control of {claim.id} ({candidate.name}) did not fail")
    assert re.search(claim.control.fails_with, verdict.reason), (
        f"{claim.id} failed on its control, but not for its reason "
        f"({claim.control.fails_with!r}): {verdict.reason}"
    )
    CONTROL_FAILURES.append(f"{claim.id} on {candidate.name}: {verdict.reason[:140]}")


EXERCISES = [
    (lesson, tool)
    for lesson in MANIFEST.lessons
    if MANIFEST.previous(lesson) is not None
    for tool in lesson.tools
]


@pytest.mark.parametrize(
    ("lesson", "tool"), EXERCISES, ids=[f"{lesson.id}/{tool}" for lesson, tool in EXERCISES]
)
def test_exercise_fails_before_it_is_solved(
    lesson: Lesson, tool: str, built: dict[str, BuildResult], tmp_path: Path
) -> None:
    """The exercise's starting point (the previous lesson's Dockerfile on this lesson's
    context) fails the claims lessons.toml names, each for its reason; solved, it is the
    lesson's folder, whose claims test_claim proves. Where a tool starts solved, the claims
    hold already, as lessons.toml says why."""
    lay_out(MANIFEST, lesson, tool, tmp_path / lesson.id / tool)
    candidate = Candidate.of_variant(MANIFEST, Variant(lesson, tool, tmp_path), built)
    candidate.name = f"exercise-{lesson.id}-{tool}"
    solved = dict(lesson.starts_solved)
    entries = [u for u in lesson.unsolved if tool in solved or not u.tools or tool in u.tools]
    assert entries, f"{lesson.id}: no claim its {tool} exercise must fail, and no starts_solved"
    for entry in entries:
        verdict = run_claim(entry.claim, candidate)
        if tool in solved:
            if not verdict.held:
                _fail_with(verdict, f"{lesson.id}/{tool} should start solved ({solved[tool]})")
            continue
        if verdict.outcome != FAILED:
            _fail_with(verdict, f"{lesson.id}/{tool}'s exercise did not fail {entry.claim}")
        assert re.search(entry.fails_with, verdict.reason), (
            f"{lesson.id}/{tool}'s exercise failed {entry.claim}, but not for its reason "
            f"({entry.fails_with!r}): {verdict.reason}"
        )
        CONTROL_FAILURES.append(
            f"{entry.claim} on exercise {lesson.id}/{tool}: {verdict.reason[:100]}"
        )


@pytest.mark.parametrize("key", sorted(load_pins().images))
def test_base_image_has_every_package_of_the_official_image(key: str, engine: None) -> None:
    """A stand-in (or the real image) has every Debian package docker-library/repo-info lists
    for the official image of its tag (stand_in_packages/); what it has beyond them is
    documented in docs/test-engine.md."""
    from buildlab.engine.stand_ins import official_packages

    tag = load_pins().image(key)
    listing = containers.run_container(
        tag, ["dpkg-query", "--show", "--showformat", "${Package}\\n"]
    )
    missing = sorted(set(official_packages(tag)) - set(listing.stdout.split()))
    assert not missing, f"{tag} lacks {len(missing)} packages of the official image: {missing}"


IN_IMAGE_LOCKS = [
    f for f in MANIFEST.lock_folders(MANIFEST.all_variants()) if TOOLS[f.tool].check_in_image
]


@pytest.fixture(scope="session")
def in_image_lock_problems(engine: None) -> list[str]:
    """Every in-image lock check at once: folders with identical files share one check."""
    return stale_locks(IN_IMAGE_LOCKS, in_image=True)


@pytest.mark.parametrize("folder", IN_IMAGE_LOCKS, ids=lambda f: f.name)
def test_lock_is_fresh_by_its_tools_own_check_in_the_image(
    folder: LockFolder, in_image_lock_problems: list[str]
) -> None:
    assert [p for p in in_image_lock_problems if p.startswith(f"{folder.name}:")] == []


def test_image_lock_check_catches_a_stale_lock(tmp_path: Path, engine: None) -> None:
    import shutil

    lesson = MANIFEST.lesson("07-production")
    shutil.copytree(lesson.directory, tmp_path / lesson.id)
    variant = Variant(lesson, "uv", tmp_path)
    TOOLS["uv"].add_dependency(variant.directory)
    problems = stale_locks(MANIFEST.lock_folders([variant]), in_image=True)
    assert len(problems) == 1
    assert "uv.lock is stale" in problems[0]


def test_a_failed_build_reports_the_failing_step(engine: None) -> None:
    variant = MANIFEST.variant("07-production", "uv")
    with scratch_copy(variant) as context:
        break_dockerfile(context / "Dockerfile")
        with pytest.raises(BuildFailed) as failure:
            builds.build(context, labels.image_tag("failing-build"))
    assert "failed step:" in failure.value.detail
    assert "no such package: boom" in failure.value.detail


def test_a_dev_stage_that_does_not_build_is_one_error_not_a_wait(engine: None) -> None:
    """compose watch prints a failed build and keeps waiting for an edit: the dev loop says
    the stage did not build at once, never "never served" after its 600 s time-out."""
    from buildlab.engine import compose
    from buildlab.support.errors import BuildlabError

    variant = MANIFEST.variant("09-development-loop", "uv")
    with scratch_copy(variant) as context:
        break_dockerfile(context / "Dockerfile")
        with (
            pytest.raises(BuildlabError) as failure,
            compose.watching(context, MANIFEST.apps[variant.lesson.app].health_path),
        ):
            pass
    assert failure.value.message.endswith("the dev stage did not build"), failure.value.message
    assert "no such package: boom" in failure.value.detail


def test_ctrl_c_removes_containers_and_images(engine: None) -> None:
    session = f"ctrlc{os.getpid()}"
    variant = MANIFEST.variant("07-production", "uv")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "buildlab",
            "run",
            variant.lesson.id,
            variant.tool,
            "--keep-running",
        ],
        env={**os.environ, "BUILDLAB_SESSION": session},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=interruptible,
    )
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 600
        line = ""
        while "serving on" not in line and time.monotonic() < deadline:
            line = process.stdout.readline()
            assert line or process.poll() is None, process.stderr.read() if process.stderr else ""
        assert labelled(session), "nothing was running before Ctrl-C"
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 130
    finally:
        if process.poll() is None:
            process.kill()
    assert labelled(session) == []


def test_building_without_the_secret_fails_clearly_and_leaves_nothing(engine: None) -> None:
    from helpers import run_cli

    session = f"nosecret{os.getpid()}"
    lesson = next(lesson for lesson in MANIFEST.lessons if lesson.private_index)
    result = run_cli(
        "build", lesson.id, "uv", "--no-secret", env={"BUILDLAB_SESSION": session}, timeout=600
    )
    assert result.returncode == BuildFailed.exit_code, result.stderr
    assert result.stderr.startswith("buildlab: docker build failed for "), result.stderr
    assert "secret netrc: not found" in result.stderr
    assert "Traceback" not in result.stderr
    assert labelled(session) == []


def test_a_port_that_never_opens_fails_with_the_container_logs(engine: None) -> None:
    from buildlab.course.probe import running

    variant = MANIFEST.variant("10-private-packages", "uv")  # its build needs the secret too
    app = MANIFEST.apps[variant.lesson.app]
    with scratch_copy(variant) as context:
        dockerfile = context / "Dockerfile"
        dockerfile.write_text(
            dockerfile.read_text()
            + (
                '\nCMD ["python", "-c", "print(\'listening nowhere\', flush=True); '
                'import time; time.sleep(60)"]\n'
            )
        )
        tag = builds.build(
            context,
            labels.image_tag("never-opens"),
            extra_args=private_index.build_args(variant.lesson.private_index),
        ).tag
    with pytest.raises(ContainerFailed) as failure:
        with running(tag, app, timeout=3):
            pass
    assert "did not answer 200 within 3 s" in failure.value.message
    assert "listening nowhere" in failure.value.detail


# Last in this module: they prune the builder's cache (test_measure_docker.py, after it, starts
# cold anyway).


@pytest.mark.parametrize(
    ("variant", "claim"), PRUNING_CASES, ids=[f"{v.name}:{c}" for v, c in PRUNING_CASES]
)
def test_claim_that_prunes_the_builder_cache(
    variant: Variant, claim: str, built: dict[str, BuildResult]
) -> None:
    test_claim(variant, claim, built)


@pytest.mark.parametrize("claim", PRUNING_CONTROLS, ids=[claim.id for claim in PRUNING_CONTROLS])
def test_pruning_claim_fails_on_its_negative_control_for_its_reason(
    claim: Claim, built: dict[str, BuildResult], tmp_path: Path
) -> None:
    test_claim_fails_on_its_negative_control_for_its_reason(claim, built, tmp_path)


def test_pip_tools_does_not_see_a_removed_dependency(built: dict[str, BuildResult]) -> None:
    """What stale-lock-fails-build says of pip-tools, kept true: a dependency removed from
    pyproject.toml, requirements.txt not compiled again, and lesson 07 builds anyway (pip's
    offline check asks only whether what the manifest declares is installed). If this fails,
    pip-tools learned to see it: set its `sees_a_removed_dependency` and update the claim."""
    from buildlab.claims.locking import removable_dependency

    tool = TOOLS["pip-tools"]
    assert not tool.sees_a_removed_dependency
    candidate = Candidate.of_variant(
        MANIFEST, MANIFEST.variant("07-production", "pip-tools"), built
    )
    with candidate.scratch() as context:
        tool.remove_dependency(context, removable_dependency(tool, context))
        candidate.build(context, None)  # it builds: no image needed


def test_a_layered_lock_installed_alone_lacks_the_apps_dependencies(
    built: dict[str, BuildResult],
) -> None:
    """The negative control of the pip-tools-layered-locks shape, which project-shapes-serve
    builds and serves with both layers: prod.txt alone (prod.in says `-c base.txt`, so it lists
    only the server) builds, and the app dies without Flask. This is what lesson 07 did before
    LOCK named several locks, and what adopt chose before it read the `-c` lines."""
    from buildlab.claims.serving import serve_and_stop
    from buildlab.course.probe import HARDENED
    from buildlab.course.scenarios import shape_app, shaped_project

    shape = MANIFEST.shapes["pip-tools-layered-locks"]
    assert len(dict(shape.top_block)["LOCK"].split()) == 2
    alone = dataclasses.replace(
        shape,
        top_block=(("LOCK", "requirements/prod.txt"), ("LOCK_SOURCE", "requirements/prod.in")),
    )
    candidate = Candidate.of_variant(
        MANIFEST, MANIFEST.variant("07-production", "pip-tools"), built
    )
    with shaped_project(MANIFEST, alone, candidate.context) as project:
        tag = candidate.build(project, candidate.tag("layered-alone")).tag
    with pytest.raises(ContainerFailed, match="exited before it served") as failure:
        serve_and_stop(tag, shape_app(MANIFEST, alone), HARDENED)
    assert "No module named 'flask'" in failure.value.detail, failure.value.detail[-2000:]
    CONTROL_FAILURES.append("pip-tools-layered-locks with prod.txt alone: No module named 'flask'")


def _shape_with_dies(
    shape: Shape, tool: str, value: tuple[str, str], built: dict[str, BuildResult]
) -> str:
    """A shape built by lesson 07 of its tool with one top-block value changed, served: it must
    exit before it serves; returns the container's log."""
    from buildlab.claims.serving import serve_and_stop
    from buildlab.course.probe import HARDENED
    from buildlab.course.scenarios import shape_app, shaped_project

    changed = dataclasses.replace(shape, top_block=(*shape.top_block, value))
    candidate = Candidate.of_variant(MANIFEST, MANIFEST.variant("07-production", tool), built)
    with shaped_project(MANIFEST, changed, candidate.context) as project:
        tag = candidate.build(project, candidate.tag(f"{shape.name}-control")).tag
    with pytest.raises(ContainerFailed, match="exited before it served") as failure:
        serve_and_stop(tag, shape_app(MANIFEST, changed), HARDENED)
    return failure.value.detail


def test_a_runtime_library_left_out_stops_the_server(built: dict[str, BuildResult]) -> None:
    """The negative control of the uv-runtime-library shape, which project-shapes-serve builds
    and serves with RUNTIME_PACKAGES = "libpq5": left empty, psycopg2 still compiles in the full
    builder image (it has libpq's headers), and the slim runtime's server dies on import."""
    shape = MANIFEST.shapes["uv-runtime-library"]
    assert dict(shape.top_block)["RUNTIME_PACKAGES"] == "libpq5"
    log = _shape_with_dies(shape, "uv", ("RUNTIME_PACKAGES", ""), built)
    assert "libpq.so.5: cannot open shared object file" in log, log[-2000:]
    CONTROL_FAILURES.append("uv-runtime-library without libpq5: libpq.so.5 cannot be opened")


def test_gunicorn_older_than_25_1_refuses_the_control_socket_flag(
    built: dict[str, BuildResult],
) -> None:
    """The negative control of the poetry-old-gunicorn shape, which project-shapes-serve builds
    and serves with a SERVER that leaves --no-control-socket out: with lesson 07's default
    SERVER, gunicorn 23.0 stops at its command line."""
    from buildlab.course import topblock

    shape = MANIFEST.shapes["poetry-old-gunicorn"]
    assert "--no-control-socket" not in dict(shape.top_block)["SERVER"]
    dockerfile = MANIFEST.variant("07-production", "poetry").directory / "Dockerfile"
    default = topblock.values(dockerfile.read_text())["SERVER"]
    assert "--no-control-socket" in default
    log = _shape_with_dies(shape, "poetry", ("SERVER", default), built)
    assert "unrecognized arguments: --no-control-socket" in log, log[-2000:]
    CONTROL_FAILURES.append("poetry-old-gunicorn with --no-control-socket: gunicorn 23 refuses it")


MONOREPOS = [shape for shape in MANIFEST.shapes.values() if shape.code_changes]


@pytest.mark.parametrize("shape", MONOREPOS, ids=[shape.name for shape in MONOREPOS])
def test_a_monorepo_whose_install_sees_the_code_reinstalls_for_the_other_service(
    shape: Shape, tmp_path: Path, built: dict[str, BuildResult]
) -> None:
    """The negative control of project-shapes-serve's monorepo checks: the naive Dockerfile
    that copies the whole repository into the builder before it installs (what uv#6867's
    users do to give uv every member) re-runs the install when the other service changes."""
    from buildlab.claims.shapes import shape_serves
    from buildlab.claims.verdict import ClaimFailed

    lesson = MANIFEST.lesson("07-production")
    shutil.copytree(lesson.directory / shape.tool, tmp_path / lesson.id / shape.tool)
    variant = Variant(lesson, shape.tool, tmp_path)
    dockerfile = variant.directory / "Dockerfile"
    text = dockerfile.read_text()
    install = "\nRUN --mount=type=cache,target=/root/.cache"  # the builder's install step
    assert text.count(install) == 1, dockerfile
    dockerfile.write_text(text.replace(install, "\nCOPY . ." + install))
    candidate = Candidate.of_variant(MANIFEST, variant, built)
    other, path = shape.code_changes[0]
    assert other == "the other service"
    with pytest.raises(ClaimFailed, match=rf"a change to {other} \({path}\)'s code ran again"):
        shape_serves(candidate, shape)
    CONTROL_FAILURES.append(
        f"{shape.name}, the whole repository in the install step: {other} re-ran it"
    )
