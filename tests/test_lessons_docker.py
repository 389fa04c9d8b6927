"""Docker tier: every lesson variant builds, runs, serves and keeps each claim it makes.

Real builds, real containers, real HTTP. Needs an engine (`make doctor`); in CI a skip fails.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from buildlab.course.locks import stale_locks
from buildlab.course.manifest import load_manifest
from buildlab.course.model import Claim, LockFolder, Variant
from buildlab.course.scenarios import scratch_copy
from buildlab.course.tools import TOOLS
from buildlab.engine import builds, containers, labels, private_index, registry
from buildlab.engine.builds import BuildResult
from buildlab.engine.daemon import engine_answers
from buildlab.support.errors import BuildFailed, BuildlabError, CommandFailed, ContainerFailed
from buildlab.support.pins import load_pins
from claims import CLAIM_CHECKS, CONTROL_FAILURES, ClaimContext
from helpers import break_dockerfile, interruptible, labelled

pytestmark = pytest.mark.docker
MANIFEST = load_manifest()
# Cheapest order: all claims of one variant together, so its layers are warm for the next.
CASES = [(v, claim) for v in MANIFEST.all_variants() for claim in v.lesson.claims]


@pytest.fixture(scope="session")
def engine() -> Iterator[None]:
    if not engine_answers():
        pytest.skip("no Docker engine answers: run `make doctor`")
    if not registry.answers():
        pytest.skip(f"no image registry answers at {registry.ADDRESS}: run `make doctor`")
    yield
    labels.cleanup()
    registry.empty()


@pytest.fixture(scope="session")
def built(engine: None) -> dict[str, BuildResult]:
    return {}


@pytest.mark.parametrize(("variant", "claim"), CASES, ids=[f"{v.name}:{c}" for v, c in CASES])
def test_claim(variant: Variant, claim: str, built: dict[str, BuildResult]) -> None:
    try:
        CLAIM_CHECKS[claim](ClaimContext(MANIFEST, variant, built))
    except BuildlabError as exc:  # show the failing build step or the container's logs
        pytest.fail(f"{exc.message}\n{exc.detail}", pytrace=False)


CONTROLS = [claim for claim in MANIFEST.claims.values() if claim.control is not None]


def _check_showing_a_failed_build(claim: str, ctx: ClaimContext) -> None:
    """Run a claim's check; a build that fails fails the test with its failing step's output
    (a BuildFailed is not the check failing, and its detail would not be shown)."""
    try:
        CLAIM_CHECKS[claim](ctx)
    except BuildFailed as exc:
        pytest.fail(f"the control's build failed: {exc.message}\n{exc.detail}", pytrace=False)


@pytest.mark.parametrize("claim", CONTROLS, ids=[claim.id for claim in CONTROLS])
def test_claim_check_fails_on_its_negative_control(
    claim: Claim, built: dict[str, BuildResult], tmp_path: Path
) -> None:
    """The same check, where the claim does not hold (lessons.toml `control`): it must fail.
    This is how we know each claim's test can fail."""
    import shutil

    from claims import BREAKS

    assert claim.control is not None
    lesson = MANIFEST.lesson(claim.control.lesson)
    variant = Variant(lesson, claim.control.tool)
    if claim.control.breaks is not None:
        shutil.copytree(variant.directory, tmp_path / lesson.id / variant.tool)
        variant = Variant(lesson, variant.tool, tmp_path)
        BREAKS[claim.control.breaks](variant.directory / "Dockerfile")
    # The check fails: an assertion, or the container or a command in it failing. A build that
    # fails (BuildFailed) is not the check failing: it means the control itself is broken.
    with pytest.raises((AssertionError, ContainerFailed, CommandFailed)) as failure:
        _check_showing_a_failed_build(claim.id, ClaimContext(MANIFEST, variant, built))
    CONTROL_FAILURES.append(
        f"{claim.id} on {variant.name}"
        + (f" ({claim.control.breaks})" if claim.control.breaks else "")
        + f": {str(failure.value).splitlines()[0][:120]}"
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


@pytest.mark.parametrize(
    "folder",
    [f for f in MANIFEST.lock_folders(MANIFEST.all_variants()) if TOOLS[f.tool].check_in_image],
    ids=lambda f: f.name,
)
def test_lock_is_fresh_by_its_tools_own_check_in_the_image(
    folder: LockFolder, engine: None
) -> None:
    assert stale_locks([folder], in_image=True) == []


def test_image_lock_check_catches_a_stale_lock(tmp_path: Path, engine: None) -> None:
    import shutil

    lesson = MANIFEST.lessons[-1]
    shutil.copytree(lesson.directory, tmp_path / lesson.id)
    variant = Variant(lesson, "uv", tmp_path)
    TOOLS["uv"].add_dependency(variant.directory)
    problems = stale_locks(MANIFEST.lock_folders([variant]), in_image=True)
    assert len(problems) == 1
    assert "uv.lock is stale" in problems[0]


def test_a_failed_build_reports_the_failing_step(engine: None) -> None:
    variant = MANIFEST.all_variants()[-1]
    with scratch_copy(variant) as context:
        break_dockerfile(context / "Dockerfile")
        with pytest.raises(BuildFailed) as failure:
            builds.build(context, labels.image_tag("failing-build"))
    assert "failed step:" in failure.value.detail
    assert "no such package: boom" in failure.value.detail


def test_ctrl_c_removes_containers_and_images(engine: None) -> None:
    session = f"ctrlc{os.getpid()}"
    variant = MANIFEST.all_variants()[-1]
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
    from buildlab.support.errors import ContainerFailed

    variant = MANIFEST.all_variants()[-1]
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
