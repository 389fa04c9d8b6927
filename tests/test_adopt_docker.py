"""Docker tier: `buildlab adopt` on a project laid out unlike the lessons, for real.

(On the sample shapes, adopt's guesses are checked in the fast tier, and the Dockerfile it
writes is the one project-shapes-serve builds and serves for each shape.)

It writes lesson 07 into the project, builds it, serves it hardened and as an arbitrary UID,
rebuilds after a code change and pushes to the local registry; a project that had a Dockerfile
gets that one measured beside it. A failing build says its failing step, a server that never
answers shows its log; either leaves nothing behind.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from helpers import labelled, run_cli, single_module_project

pytestmark = pytest.mark.docker


def _adopt(project: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    session = f"adopt{os.getpid()}{project.name}"
    result = run_cli(
        "adopt",
        str(project),
        *flags,
        env={"BUILDLAB_SESSION": session, "TMPDIR": str(project.parent)},
        timeout=1200,
    )
    assert labelled(session) == [], "adopt left containers or images behind"
    leftovers = [p.name for p in project.parent.iterdir() if p.name.startswith("buildlab-")]
    assert leftovers == [], f"adopt left temporary folders: {leftovers}"
    return result


def test_adopt_a_project_with_its_own_dockerfile_side_by_side(tmp_path: Path) -> None:
    """The project also reads a setting when it is imported (as many do: a secret key, a
    database URL): --env gives it to the runs, and it is written nowhere."""
    project = single_module_project(tmp_path / "service")
    with (project / "service.py").open("a") as handle:
        handle.write('\nimport os\n\nGREETING = os.environ["SERVICE_GREETING"]\n')
    result = _adopt(project, "--force", "--env", "SERVICE_GREETING=hello")
    assert result.returncode == 0, result.stderr
    assert "SERVICE_GREETING" not in (project / "Dockerfile").read_text()
    print(result.stdout)
    table = result.stdout[result.stdout.index("| |") :]
    assert "| lesson 07 (written) | your Dockerfile (before) |" in table
    assert "| serves read-only, no capabilities | yes |" in table
    assert "| serves as UID 123456:0, read-only | yes |" in table
    assert "APP=service:app" in result.stdout
    assert "HEALTH_PATH=/healthz" in result.stdout


def test_adopt_a_stale_lock_fails_with_the_tools_message(tmp_path: Path) -> None:
    project = single_module_project(tmp_path / "service")
    (project / "Dockerfile").unlink()
    with (project / "requirements.in").open("a") as handle:
        handle.write("rich\n")  # declared, never locked
    result = _adopt(project)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    print(result.stderr)
    assert result.stderr.startswith("buildlab: the Dockerfile written to")
    assert "failed step:" in result.stderr
    assert "rich" in result.stderr


def test_adopt_a_server_that_never_answers_shows_its_log(tmp_path: Path) -> None:
    project = single_module_project(tmp_path / "service")
    (project / "Dockerfile").unlink()
    result = _adopt(project, "--app", "service:no_such_app")  # builds; the server cannot start
    assert result.returncode != 0
    print(result.stderr)
    assert result.stderr.startswith("buildlab: the image of the Dockerfile written to")
    assert "no_such_app" in result.stderr  # the server's own log says what it could not find


def test_adopt_a_python_the_engine_lacks_is_one_line_naming_the_image(tmp_path: Path) -> None:
    """A minor no registry has (3.99; 3.10 and 3.12 are the same here, but Docker Hub has
    them) and no Debian suite ships (pins.toml [python_minors]): one line, before any build."""
    project = single_module_project(tmp_path / "service")
    (project / "Dockerfile").unlink()
    (project / ".python-version").write_text("3.99\n")
    result = _adopt(project)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("buildlab: the base image python:3.99-")
    assert "is not on this engine and could not be pulled" in lines[0]
    assert "no source for Python 3.99" in lines[0]
    assert "adopt --python" in lines[0]
    assert "building the adopted Dockerfile" not in result.stdout


def test_adopt_relock_compiles_a_lock_without_hashes_again_with_them(tmp_path: Path) -> None:
    """A project whose pip-compile lock has no hashes: adopt refuses it in one line; with
    --relock it runs the lock's own pip-compile command again with --generate-hashes, in the
    image's Python, and the pins stay what they were."""
    from buildlab.course.locks import run_tool
    from buildlab.course.manifest import load_manifest
    from buildlab.course.tools import TOOLS
    from buildlab.support.pins import load_pins

    tool = TOOLS["pip-tools"]
    project = single_module_project(tmp_path / "service")
    (project / "Dockerfile").unlink()
    lock = project / "requirements.txt"
    image = load_pins().image(load_manifest().production_lesson.builder or "python_full")
    # The lock as a project without hashes has it: its own pip-compile wrote it.
    run_tool(
        image, "pip-tools", project, "pip-compile --quiet --strip-extras requirements.in", env={}
    )
    assert "--hash=" not in lock.read_text()
    pins = tool.locked_versions(lock.read_text())
    refused = _adopt(project, "--no-build")
    assert refused.returncode != 0
    assert "add --relock" in refused.stderr, refused.stderr
    result = _adopt(project, "--no-build", "--relock")
    assert result.returncode == 0, result.stderr
    text = lock.read_text()
    assert "--hash=sha256:" in text
    assert "#    pip-compile --generate-hashes --strip-extras requirements.in" in text or (
        "--generate-hashes" in text.split("--hash=")[0]
    ), text[:600]
    assert tool.locked_versions(text) == pins
    assert "adopt --relock: pip-compile" in result.stdout, result.stdout


def test_adopt_names_the_debian_package_of_a_library_the_app_cannot_load(tmp_path: Path) -> None:
    """The uv-runtime-library shape (psycopg2 compiled from source) with RUNTIME_PACKAGES
    emptied: it builds, and the server dies loading libpq.so.5; adopt says, in its first line,
    which Debian package ships it and the flag that installs it. (Guessed from the lock, the
    package is in the block: the fast tier checks adopt writes the Dockerfile that
    project-shapes-serve builds and serves.)"""
    import shutil

    from buildlab.course.manifest import load_manifest
    from buildlab.course.scenarios import shaped_project

    manifest = load_manifest()
    shape = manifest.shapes["uv-runtime-library"]
    project = tmp_path / "dates-db"
    with shaped_project(manifest, shape, manifest.production_lesson.directory / "uv") as shaped:
        shutil.copytree(shaped, project)
    for name in ("Dockerfile", ".dockerignore"):
        (project / name).unlink()
    result = _adopt(project, "--runtime-packages", "")
    assert result.returncode != 0
    first = result.stderr.splitlines()[0]
    print(result.stderr[-1500:])
    assert first == (
        "buildlab: the app could not load libpq.so.5, which Debian's libpq5 ships: adopt again "
        "with --runtime-packages libpq5 --force"
    ), first
    assert "RUNTIME_PACKAGES=" in (project / "Dockerfile").read_text()


def _git_repository(folder: Path) -> Path:
    """The folder as a git repository with one commit (what `trial` clones)."""
    for command in (
        ["git", "init", "--quiet"],
        ["git", "add", "-A"],
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "--quiet", "-m", "one"],
    ):
        subprocess.run(command, cwd=folder, check=True, capture_output=True)
    return folder


def test_trial_adopts_each_listed_repository_in_a_clone_and_tabulates_why(tmp_path: Path) -> None:
    """`trial LIST`: a repository whose app lives in a subfolder (#service) serves; one with
    no lock file gets adopt's one line in the table; the exit says not every one served; the
    repositories themselves are untouched and no clone is left."""
    repositories = tmp_path / "repositories"
    served = repositories / "served"
    single_module_project(served / "service")
    (served / "service" / "Dockerfile").write_text("FROM scratch\n")  # theirs: set aside
    _git_repository(served)
    lockless = repositories / "lockless"
    lockless.mkdir(parents=True)
    (lockless / "app.py").write_text("app = None\n")
    _git_repository(lockless)
    listing = tmp_path / "projects.txt"
    listing.write_text(f"# two projects\n{served}#service --health /healthz\n{lockless}\n")
    session = f"trial{os.getpid()}"
    result = run_cli(
        "trial",
        str(listing),
        env={"BUILDLAB_SESSION": session, "TMPDIR": str(tmp_path)},
        timeout=1200,
    )
    print(result.stdout[-3000:], result.stderr[-2000:])
    assert result.returncode == 1, result.stderr
    trial_table = result.stdout[result.stdout.index("| project | flags |") :]
    rows = [line for line in trial_table.splitlines() if line.startswith("| ")][2:]
    assert rows[0].startswith("| served/service | --health /healthz | pip-tools | yes | "), rows
    assert rows[1].startswith("| lockless | none | ? | no |  | no lock file in lockless "), rows
    assert "lock" in rows[1]
    assert (served / "service" / "Dockerfile").read_text() == "FROM scratch\n"
    assert labelled(session) == [], "trial left containers or images behind"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("buildlab-")] == []


def test_adopt_one_service_of_a_uv_workspace_and_a_django_project(tmp_path: Path) -> None:
    """The two project kinds lesson 07's block alone cannot describe: adopt names a uv
    workspace's member (--package) and puts its library on the path, and writes lesson 11
    for a Django project (settings, STATIC_ROOT); each image is built, served hardened and as
    an arbitrary UID, and rebuilt after a code change."""
    import shutil

    from buildlab.course.manifest import load_manifest
    from buildlab.course.scenarios import shaped_project

    manifest = load_manifest()
    shape = manifest.shapes["uv-workspace"]
    with shaped_project(manifest, shape, manifest.lesson("07").directory / "uv") as shaped:
        workspace = tmp_path / "workspace"
        shutil.copytree(shaped, workspace)
    (workspace / "Dockerfile").unlink()
    (workspace / ".dockerignore").unlink()
    django = tmp_path / "shelf"
    shutil.copytree(manifest.lesson("11").directory / "pipenv", django)
    (django / "Dockerfile").unlink()
    (django / ".dockerignore").unlink()
    for project, flags, table in (
        (workspace, ("--package", "dates-service"), "| lesson 07 (written) |"),
        (django, ("--env", "DJANGO_SECRET_KEY=adopt-test-only"), "| lesson 11 (written) |"),
    ):
        result = _adopt(project, *flags)
        assert result.returncode == 0, result.stderr
        print(result.stdout)
        report = result.stdout[result.stdout.index("| |") :]
        assert table in report
        assert "| serves read-only, no capabilities | yes |" in report
        assert "| serves as UID 123456:0, read-only | yes |" in report
