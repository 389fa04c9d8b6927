"""One Docker check per claim id in lessons.toml. Each builds and runs for real and can fail.

tests/test_repository.py fails when this registry and the manifest's claims disagree.
"""

from __future__ import annotations

import gzip
import json
import re
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import limits
from buildlab.claims.load import run_load
from buildlab.course.model import App, Manifest, Shape, Variant
from buildlab.course.probe import ANY_UID, HARDENED, check_probe, running
from buildlab.course.scenarios import (
    add_after_code,
    add_stray_files,
    dependency_step,
    make_code_change,
    make_dependency_file_change,
    make_install_log_verbose,
    scratch_copy,
    shape_app,
    shaped_project,
    use_other_app,
)
from buildlab.course.tools import TOOLS, normalize
from buildlab.engine import builds, compose, containers, images, labels, private_index, registry
from buildlab.engine.builds import BuildResult
from buildlab.engine.images import code_bytes
from buildlab.support.errors import BuildFailed, BuildlabError
from buildlab.support.pins import load_pins
from buildlab.support.proc import run, tail

COMPILERS = ("gcc", "cc", "c++", "g++", "clang", "make")
# Installed distributions of the image's Python (the venv's, when it is first on PATH).
LIST_DISTRIBUTIONS = (
    "import importlib.metadata as m, json; print(json.dumps(sorted("
    "[d.metadata['Name'], d.version] for d in m.distributions())))"
)


# Figures a claim measured on its way (requests served, stop time): printed at the end of the
# test run by conftest.py, never compared with a threshold.
FACTS: list[str] = []
# How each negative control failed (printed beside FACTS).
CONTROL_FAILURES: list[str] = []


@dataclass
class ClaimContext:
    manifest: Manifest
    variant: Variant
    built_images: dict[str, BuildResult] = field(default_factory=dict)

    @property
    def app(self) -> App:
        return self.manifest.apps[self.variant.lesson.app]

    @property
    def tool(self) -> str:
        return self.variant.tool

    def built(self, variant: Variant | None = None) -> BuildResult:
        """A variant's image (this one by default), built once per test session (per folder:
        a negative control's broken copy is another image)."""
        variant = variant or self.variant
        key = str(variant.directory)
        if key not in self.built_images:
            self.built_images[key] = builds.build(
                variant.directory,
                labels.image_tag(variant.name),
                extra_args=private_index.build_args(variant.lesson.private_index),
            )
        return self.built_images[key]

    @property
    def build_args(self) -> list[str]:
        """What every build of this lesson needs: the private index's secret, for lesson 10."""
        return private_index.build_args(self.variant.lesson.private_index)

    def build(self, context: Path, tag: str, *, extra_args: list[str] | None = None) -> BuildResult:
        """A build of (a copy of) this lesson, with what its builds need."""
        return builds.build(context, tag, extra_args=[*self.build_args, *(extra_args or [])])

    def tag(self, suffix: str) -> str:
        return labels.image_tag(f"{self.variant.name}-{suffix}")


def serves_http(ctx: ClaimContext) -> None:
    with running(ctx.built().tag, ctx.app) as container:
        check_probe(container, ctx.app)


def _rebuild_after_code_change(ctx: ClaimContext) -> BuildResult:
    """Build a scratch copy (warm), change code only, rebuild; return the second build."""
    tag = ctx.tag("code-change")
    with scratch_copy(ctx.variant) as context:
        ctx.build(context, tag)
        make_code_change(context, ctx.app)
        after = ctx.build(context, tag)
    code_copy = [s for s in after.instructions if s.instruction.startswith("COPY . .")]
    assert code_copy, "the build has no `COPY . .`"
    assert not code_copy[0].cached, "the code change did not reach the build"
    return after


def code_change_reinstalls_dependencies(ctx: ClaimContext) -> None:
    step = dependency_step(_rebuild_after_code_change(ctx), ctx.variant)
    assert not step.cached, f"expected {step.instruction!r} to re-run, but it was CACHED"


def code_change_keeps_dependencies_cached(ctx: ClaimContext) -> None:
    step = dependency_step(_rebuild_after_code_change(ctx), ctx.variant)
    assert step.cached, f"{step.instruction!r} re-ran after a code-only change"


def code_change_ships_only_code(ctx: ClaimContext) -> None:
    name = re.sub(r"[^a-z0-9]+", "-", ctx.variant.name)
    repository = registry.Repository(registry.unique_name(f"buildlab/claims/{name}"))
    with scratch_copy(ctx.variant) as context:
        before = ctx.build(context, ctx.tag("ships-code-1"))
        repository.push(before.tag)
        code = code_bytes(context, registry.Repository(registry.unique_name("buildlab/code")))
        make_code_change(context, ctx.app)
        after = ctx.build(context, ctx.tag("ships-code-2"))
        pushed = repository.push(after.tag)
    reran = [
        s.instruction for s in after.build_steps if s.instruction.startswith("RUN") and not s.cached
    ]
    assert not reran, f"a code-only change ran again: {reran}"
    old, new = images.layer_digests(before.tag), images.layer_digests(after.tag)
    assert len(old) == len(new), f"{len(old)} layers before the change, {len(new)} after"
    changed = sum(a != b for a, b in zip(old, new, strict=True))
    assert old[:-1] == new[:-1], f"layers other than the last changed: {changed} of {len(new)}"
    assert old[-1] != new[-1], "the code's layer did not change"
    assert pushed.uploaded_bytes <= code + limits.PUSH_OVERHEAD_BYTES, (
        f"the push uploaded {pushed.uploaded_bytes} bytes; the code is {code} bytes compressed "
        f"(+ {limits.PUSH_OVERHEAD_BYTES} allowed for manifests, config and provenance)"
    )
    FACTS.append(
        f"code-change-ships-only-code {ctx.variant.name}: the push after a code change "
        f"uploaded {pushed.uploaded_bytes} bytes (code: {code} bytes compressed)"
    )


def _build_must_fail(
    context: Path, tag: str, why: str, *, extra_args: list[str] | None = None
) -> BuildFailed:
    """The failure of a build that must fail (an AssertionError saying `why` if it succeeds)."""
    try:
        builds.build(context, tag, extra_args=extra_args)
    except BuildFailed as failure:
        return failure
    raise AssertionError(why)


def stale_lock_fails_build(ctx: ClaimContext) -> None:
    tool = TOOLS[ctx.tool]
    with scratch_copy(ctx.variant) as context:
        TOOLS[ctx.tool].add_dependency(context)
        failure = _build_must_fail(
            context, ctx.tag("stale-lock"), f"a stale {tool.lock_file} built without an error"
        )
        assert re.search(tool.stale_lock_message, failure.detail), failure.detail
        if ctx.tool == "pipenv":  # --deploy alone would lock anew when there is no lock at all
            (context / tool.manifest_files[0]).write_text(
                (ctx.variant.directory / tool.manifest_files[0]).read_text()
            )
            (context / tool.lock_file).unlink()
            failure = _build_must_fail(
                context, ctx.tag("no-lock"), "a build without Pipfile.lock succeeded"
            )
            assert "Pipfile.lock" in failure.detail, failure.detail
            assert "not found" in failure.detail, failure.detail


def _installed(tag: str) -> dict[str, str]:
    out = containers.run_container(tag, ["python", "-c", LIST_DISTRIBUTIONS]).stdout
    return {normalize(name): version for name, version in json.loads(out)}


def locked_installs_are_identical(ctx: ClaimContext) -> None:
    installs = []
    for attempt in ("first", "second"):
        result = ctx.build(
            ctx.variant.directory, ctx.tag(f"clean-{attempt}"), extra_args=["--no-cache"]
        )
        installs.append(_installed(result.tag))
    assert installs[0] == installs[1], f"two clean builds differ: {installs}"
    locked = TOOLS[ctx.tool].locked_versions(
        (ctx.variant.directory / TOOLS[ctx.tool].lock_file).read_text()
    )
    assert locked, "the lock lists no packages"
    # A package locked for another platform only (colorama: Windows) is rightly not installed.
    skipped = TOOLS[ctx.tool].conditional_packages(
        (ctx.variant.directory / TOOLS[ctx.tool].lock_file).read_text()
    )
    wrong = {
        name: (version, installs[0].get(name))
        for name, version in locked.items()
        if installs[0].get(name) != version and name not in skipped
    }
    assert not wrong, f"installed versions differ from the lock (lock, image): {wrong}"


def smaller_than_previous_lesson(ctx: ClaimContext) -> None:
    lessons = ctx.manifest.lessons
    previous = lessons[lessons.index(ctx.variant.lesson) - 1]
    before = images.compressed_size(ctx.built(Variant(previous, ctx.tool)).tag)
    after = images.compressed_size(ctx.built().tag)
    assert after < before, f"{ctx.variant.name}: {after} bytes, {previous.id}: {before} bytes"


LEAN_CHECK = """
import importlib.util, os, sys
found = []
if importlib.util.find_spec("pytest"):
    found.append("pytest is installed")
for path in sys.argv[1:]:
    if os.path.exists(path):
        found.append(path)
for top in ("/root/.cache",):
    for folder, _, files in os.walk(top):
        found += [os.path.join(folder, f) for f in files][:5]
print("\\n".join(found))
"""


def lean_image(ctx: ClaimContext) -> None:
    """Built from a copy of the folder that holds what a developer's folder does: .env, tests,
    .git, stray byte-code inside the package."""
    with scratch_copy(ctx.variant) as context:
        stray = add_stray_files(context, ctx.app)
        tag = ctx.build(context, ctx.tag("lean")).tag
    out = containers.run_container(tag, ["python", "-c", LEAN_CHECK, *stray], user="0").stdout
    assert out.strip() == "", f"found in the image:\n{out}"


def no_build_tools_in_runtime(ctx: ClaimContext) -> None:
    names = (*TOOLS[ctx.tool].executables, *COMPILERS)
    script = f"for c in {' '.join(names)}; do command -v $c; done; true"
    out = containers.run_container(ctx.built().tag, ["sh", "-c", script]).stdout
    assert out.strip() == "", f"found in the final image:\n{out}"


INSTALLER_CHECK = """
import importlib.util, os, sys
found = [name for name in ("pip", "setuptools", "wheel") if importlib.util.find_spec(name)]
bin_dir = os.path.dirname(sys.executable)
found += [os.path.join(bin_dir, f) for f in os.listdir(bin_dir)
          if f.startswith(("pip", "easy_install", "wheel"))]
print(sys.prefix, *found)
"""


def no_installer_in_runtime(ctx: ClaimContext) -> None:
    tag = ctx.built().tag
    prefix, *found = containers.run_container(tag, ["python", "-c", INSTALLER_CHECK]).stdout.split()
    assert prefix == "/app/.venv", f"`python` is {prefix}'s, not the virtual environment's"
    assert not found, f"installers in the runtime's virtual environment: {found}"
    result = containers.run_container(tag, ["python", "-m", "pip", "--version"], check=False)
    assert result.returncode != 0, f"`python -m pip` works: {result.stdout}"


def runtime_is_base_plus_app(ctx: ClaimContext) -> None:
    from buildlab.support.pins import load_pins

    tag = ctx.built().tag
    base_tag = load_pins().image(ctx.variant.lesson.base)
    base = images.layer_digests(base_tag)
    assert images.layer_digests(tag)[: len(base)] == base, "the base image's layers changed"
    rows = images.history(tag)
    added = [
        (by, size) for by, size in rows[: len(rows) - len(images.history(base_tag))] if size > 0
    ]
    layers = [by for by, _ in reversed(added) if not by.startswith("WORKDIR /app")]
    assert [re.sub(r" # buildkit$", "", by) for by in layers] == [
        "COPY /app/.venv /app/.venv",
        "COPY . .",
    ], f"layers on top of the base: {layers}"


def dependency_change_uses_cache_mount(ctx: ClaimContext) -> None:
    tool = TOOLS[ctx.tool]
    with scratch_copy(ctx.variant) as context:
        make_install_log_verbose(context, ctx.variant)  # the default log hides the source
        ctx.build(context, ctx.tag("deps"))
        make_dependency_file_change(context, ctx.tool)
        result = ctx.build(context, ctx.tag("deps"))
    step = dependency_step(result, ctx.variant)
    assert not step.cached, "the dependency-file change did not re-run the install"
    downloaded = [line for line in step.output if re.search(tool.downloaded, line)]
    assert not downloaded, "packages came from the network:\n" + "\n".join(downloaded[:10])
    assert any(re.search(tool.from_cache, line) for line in step.output), (
        "the install step's log shows no package installed:\n" + "\n".join(step.output[-30:])
    )


def cache_mount_not_in_image(ctx: ClaimContext) -> None:
    """The stage that installs (the builder where there is one) has no cache in its layers."""
    dockerfile = (ctx.variant.directory / "Dockerfile").read_text()
    target = ["--target", "builder"] if re.search(r"^FROM .* AS builder$", dockerfile, re.M) else []
    installed = ctx.build(ctx.variant.directory, ctx.tag("builder"), extra_args=target)
    script = "find /root/.cache -type f 2>/dev/null | head -5; true"
    out = containers.run_container(installed.tag, ["sh", "-c", script], user="0").stdout
    assert out.strip() == "", f"cache files in the installing stage's layers:\n{out}"


def runs_as_non_root(ctx: ClaimContext) -> None:
    with running(ctx.built().tag, ctx.app) as container:
        out = run(
            ["docker", "exec", container.id, "sh", "-c", "id -u; grep '^Uid:' /proc/1/status"]
        ).stdout.split()
    assert out[0] == "10001", out
    assert out[1:3] == ["Uid:", "10001"], f"PID 1 runs as {out[1:]}"


def healthcheck_reaches_healthy(ctx: ClaimContext) -> None:
    with running(ctx.built().tag, ctx.app) as container:
        # No Health in the state at all: the image has no HEALTHCHECK, nothing to wait for.
        assert containers.state(container).get("Health"), "the image has no HEALTHCHECK"
        deadline = time.monotonic() + limits.HEALTHY_WITHIN_SECONDS
        status = "starting"
        while time.monotonic() < deadline:
            status = containers.state(container)["Health"]["Status"]
            if status in ("healthy", "unhealthy"):
                break
            time.sleep(0.5)
        assert status == "healthy", f"health status {status}: {container.logs()}"


def stops_gracefully(ctx: ClaimContext) -> None:
    with running(ctx.built().tag, ctx.app) as container:
        start = time.monotonic()
        run(["docker", "stop", container.id], timeout=60)
        seconds = time.monotonic() - start
        final = containers.state(container)
    assert final["ExitCode"] == 0, f"exit code {final['ExitCode']} (137 is SIGKILL)"
    assert seconds < limits.STOP_SECONDS, f"docker stop took {seconds:.1f} s"


def no_request_lost_on_stop(ctx: ClaimContext) -> None:
    with running(ctx.built().tag, ctx.app) as container:
        load = run_load(
            container.port,
            ctx.app.probe,
            lambda: run(["docker", "stop", container.id], timeout=60),
            clients=limits.LOAD_CLIENTS,
            seconds=limits.LOAD_SECONDS,
            stop_after=limits.STOP_AFTER_SECONDS,
        )
        final = containers.state(container)
    expect = ctx.app.probe.expect
    wrong = [r for r in load.requests if r.ok and (r.status != 200 or r.body != expect)]
    assert not wrong, f"{len(wrong)} wrong answers, e.g. {wrong[0]}"
    sent_before = [
        r for r in load.requests if r.started < load.stop_started - limits.CONNECT_MARGIN_SECONDS
    ]
    lost = [r for r in sent_before if not r.ok]
    assert sent_before, "no request was sent before the stop"
    assert not lost, (
        f"{len(lost)} of {len(sent_before)} requests sent before the stop got no answer: {lost[:3]}"
    )
    # Answered after the stop began: in the server's hands when SIGTERM came, and finished.
    in_flight = [r for r in load.requests if r.ok and r.started < load.stop_started < r.finished]
    assert in_flight, "no request was in flight at the stop: the load did not reach the server"
    assert final["ExitCode"] == 0, f"exit code {final['ExitCode']} (137 is SIGKILL)"
    assert load.stop_seconds < limits.DOCKER_STOP_TIMEOUT_SECONDS, (
        f"docker stop took {load.stop_seconds:.1f} s"
    )
    served = sum(1 for r in load.requests if r.ok)
    refused = sum(1 for r in load.requests if not r.ok)
    FACTS.append(
        f"no-request-lost-on-stop {ctx.variant.name}: {served} requests served "
        f"({len(in_flight)} in flight at the stop, all answered), "
        f"{load.served_per_second():.0f} requests/s before it; stop took "
        f"{load.stop_seconds:.2f} s, exit 0; {refused} refused after it"
    )


# A server's log line that says something went wrong (gunicorn "[ERROR]", uvicorn "ERROR:").
LOG_PROBLEM = re.compile(r"\[(ERROR|CRITICAL)\]|^(ERROR|CRITICAL):|Traceback", re.MULTILINE)


def _serve_and_stop(tag: str, app: App, extra_args: list[str]) -> tuple[str, list[str]]:
    """Serve the app's real request under `extra_args`, then stop it; PID 1's UID, and the
    lines of the log from start to stop that report an error."""
    with running(tag, app, extra_args=extra_args) as container:
        check_probe(container, app)
        uid = run(["docker", "exec", container.id, "grep", "^Uid:", "/proc/1/status"]).stdout
        run(["docker", "stop", container.id], timeout=60)
        log = container.logs(tail=None)  # from start to stop
    return uid.split()[1], [line for line in log.splitlines() if LOG_PROBLEM.search(line)]


def _serve_and_stop_cleanly(tag: str, app: App, extra_args: list[str]) -> str:
    """As _serve_and_stop, and the log must have no error; returns PID 1's UID."""
    uid, problems = _serve_and_stop(tag, app, extra_args)
    assert not problems, f"the server logged errors with {' '.join(extra_args)}:\n" + "\n".join(
        problems
    )
    return uid


def serves_hardened(ctx: ClaimContext) -> None:
    _serve_and_stop_cleanly(ctx.built().tag, ctx.app, HARDENED)


def serves_as_any_uid(ctx: ClaimContext) -> None:
    uid = _serve_and_stop_cleanly(ctx.built().tag, ctx.app, ANY_UID)
    assert uid == "123456", f"PID 1 runs as UID {uid}"


def no_setuid_files(ctx: ClaimContext) -> None:
    out = containers.run_container(
        ctx.built().tag, ["find", "/", "-xdev", "-perm", "/6000", "-type", "f"], user="0"
    ).stdout
    assert out.strip() == "", f"setuid/setgid files:\n{out}"


BYTECODE_CHECK = """
import importlib.util, os, sys
missing, timestamped, total = [], [], 0
for folder, _, files in os.walk(sys.prefix):
    for name in files:
        if name.endswith(".py"):
            total += 1
            source = os.path.join(folder, name)
            cached = importlib.util.cache_from_source(source)
            if not os.path.exists(cached):
                missing.append(source)
            else:
                with open(cached, "rb") as handle:
                    flags = int.from_bytes(handle.read(8)[4:8], "little")
                if flags != 0b11:  # hash-based and checked (PEP 552)
                    timestamped.append(source)
print(total, len(missing), len(timestamped), *(missing + timestamped)[:10])
"""


def bytecode_precompiled(ctx: ClaimContext) -> None:
    total, missing, timestamped, *examples = containers.run_container(
        ctx.built().tag, ["python", "-c", BYTECODE_CHECK]
    ).stdout.split()
    assert int(total) > limits.MIN_DEPENDENCY_MODULES, f"only {total} modules in the venv"
    assert missing == "0", f"{missing} of {total} modules have no byte-code: {examples}"
    assert timestamped == "0", (
        f"{timestamped} of {total} modules have byte-code that is not checked by hash: {examples}"
    )


def _served_by(ctx: ClaimContext, what: str, tag: str, app: App, how: list[str]) -> None:
    """It serves (the claim); errors in its log are recorded as a figure, not asserted: the
    clean log is serves-hardened's and serves-as-any-uid's promise, for the lesson's own app."""
    _, problems = _serve_and_stop(tag, app, how)
    if problems:
        FACTS.append(
            f"project-shapes-serve {ctx.variant.name}: {what} with {' '.join(how)} logged: "
            + " | ".join(problems)[:300]
        )


def _shape_serves(ctx: ClaimContext, shape: Shape) -> None:
    app = shape_app(ctx.manifest, shape)
    tag = ctx.tag(f"shape-{shape.name}")
    with shaped_project(ctx.manifest, shape, ctx.variant.directory) as project:
        try:
            ctx.build(project, tag)
        except BuildFailed as exc:
            raise AssertionError(f"shape {shape.name} does not build: {exc.detail}") from exc
        for how in (HARDENED, ANY_UID):
            _served_by(ctx, f"shape {shape.name}", tag, app, how)
        make_code_change(project, app)
        after = ctx.build(project, tag)
    reran = [step.instruction for step in after.build_steps if not step.cached]
    runs = [step for step in reran if step.startswith("RUN")]
    assert not runs, f"shape {shape.name}: a code-only change ran again: {runs}"
    assert any(step.startswith("COPY . .") for step in reran), "the code change did not reach it"


def project_shapes_serve(ctx: ClaimContext) -> None:
    shapes, others = (
        ctx.manifest.test_shapes(ctx.variant),
        ctx.manifest.test_apps(ctx.variant.lesson),
    )
    assert shapes or others, f"{ctx.variant.lesson.id} lists no test_shapes or test_apps"
    for shape in shapes:  # first: they are quick, and where the negative control fails
        _shape_serves(ctx, shape)
    for other in others:
        with scratch_copy(ctx.variant) as context:
            use_other_app(context, ctx.variant, ctx.app, other)
            tag = ctx.build(context, ctx.tag(other.name)).tag
        _served_by(ctx, f"app {other.name}", tag, other, HARDENED)


def cache_export_survives_prune(ctx: ClaimContext) -> None:
    with tempfile.TemporaryDirectory(prefix="buildlab-cache-") as cache:
        ctx.build(
            ctx.variant.directory,
            ctx.tag("export"),
            extra_args=["--cache-to", f"type=local,dest={cache},mode=max"],
        )
        builds.prune_build_cache()
        cold = ctx.build(
            ctx.variant.directory,
            ctx.tag("export"),
            extra_args=["--cache-from", f"type=local,src={cache}"],
        )
    step = dependency_step(cold, ctx.variant)
    assert step.cached, f"{step.instruction!r} re-ran although the cache was imported"


def _secrets(password: str) -> list[bytes]:
    """The password as it would show: plain (a netrc file, a URL) and inside the Basic
    authorization header a tool sends."""
    return [password.encode(), private_index.basic_auth(password).split()[1].encode()]


def private_index_needs_the_secret(ctx: ClaimContext) -> None:
    """Each build changes a dependency file first, so the install step runs: a cached step
    needs no secret (BuildKit keeps secrets out of the cache key). The wrong password meets
    empty cache mounts."""
    password = private_index.token()
    wrong = f"not-{password}"
    address = f"{private_index.HOST}:{private_index.PORT}"
    with scratch_copy(ctx.variant) as context, tempfile.TemporaryDirectory() as tmp:
        make_dependency_file_change(context, ctx.tool)
        missing = _build_must_fail(
            context,
            ctx.tag("no-secret"),
            "it built without the index's credentials",
            extra_args=private_index.build_args(True, secret=False),
        )
        assert f"secret {private_index.SECRET_ID}: not found" in missing.detail, missing.detail
        netrc = Path(tmp, "netrc")
        netrc.write_text(private_index.netrc_text(wrong))
        # uv takes a file it fetched lately from its cache without asking the index (the
        # index sends Last-Modified and no Cache-Control: HTTP's heuristic freshness), so a
        # wrong password would go unnoticed: the password must be what is tested.
        builds.prune_cache_mounts()
        refused = _build_must_fail(
            context,
            ctx.tag("wrong-secret"),
            "it built with a wrong password",
            extra_args=private_index.build_args(True, netrc=netrc),
        )
    for pattern in TOOLS[ctx.tool].refused:
        assert re.search(pattern.format(index=re.escape(address)), refused.log), refused.detail
    for log in (missing.log, refused.log, ctx.built().log):
        for secret in (*_secrets(password), *_secrets(wrong)):
            assert secret.decode() not in log, "a password is in the build's output"
    FACTS.append(f"private-index-needs-the-secret {ctx.variant.name}: {_refusal(refused.log)}")


def _refusal(log: str) -> str:
    """The line of a failed build's output that says why (for the test's figures)."""
    lines = [line for line in log.splitlines() if re.search(r"error|denied|refused", line, re.I)]
    return (lines[0] if lines else "?").split(" ", 2)[-1][:150]


def _holding(blob: bytes, needles: list[bytes]) -> bool:
    """A blob, gzip-compressed or not, holds one of the needles."""
    if blob[:2] == b"\x1f\x8b":
        blob = gzip.decompress(blob)
    return any(needle in blob for needle in needles)


def _blobs(folder: Path) -> list[Path]:
    return [path for path in sorted(folder.rglob("*")) if path.is_file()]


def _made_by_the_build(cache: Path) -> tuple[list[Path], int]:
    """An exported cache's files but the base images' layers (byte for byte the pinned
    images', made before any password existed: scanning them would only cost time); and how
    many layers were left out."""
    base = {diff for image in load_pins().images.values() for diff in images.layer_digests(image)}
    blob = cache / "blobs" / "sha256"
    left_out = set()
    for entry in json.loads((cache / "index.json").read_text())["manifests"]:
        for layer in json.loads((blob / entry["digest"][7:]).read_text()).get("manifests", []):
            if layer.get("annotations", {}).get("containerd.io/uncompressed") in base:
                left_out.add(layer["digest"][7:])
    return [path for path in _blobs(cache) if path.name not in left_out], len(left_out)


def credentials_leave_no_trace(ctx: ClaimContext) -> None:
    needles = _secrets(private_index.token())
    built = ctx.built()
    leaks: list[str] = []
    with tempfile.TemporaryDirectory(prefix="buildlab-leaks-") as tmp:
        image, cache = Path(tmp, "image"), Path(tmp, "cache")
        image.mkdir()
        run(["docker", "save", "--output", str(image / "image.tar"), built.tag], timeout=600)
        run(["tar", "-xf", str(image / "image.tar"), "-C", str(image)])
        ctx.build(
            ctx.variant.directory,
            ctx.tag("leaks"),
            extra_args=["--cache-to", f"type=local,dest={cache},mode=max"],
        )
        exported, base_layers = _made_by_the_build(cache)
        places = {"image": _blobs(image), "exported cache": exported}
        for where, files in places.items():
            leaks += [f"{where}: {p.name}" for p in files if _holding(p.read_bytes(), needles)]
        described = run(["docker", "image", "inspect", built.tag]).stdout
        described += "\n".join(created for created, _ in images.history(built.tag))
        if _holding(described.encode(), needles):
            leaks.append("the image's config or history")
        folder = _blobs(ctx.variant.directory)  # the build context: locks and manifests
        leaks += [f"lesson folder: {p.name}" for p in folder if _holding(p.read_bytes(), needles)]
        counts = {where: len(files) for where, files in places.items()}
    assert not leaks, f"the index's password is in: {', '.join(leaks)}"
    FACTS.append(
        f"credentials-leave-no-trace {ctx.variant.name}: password absent from "
        f"{counts['image']} files of `docker save`, {counts['exported cache']} of the exported "
        f"cache (not its {base_layers} base image layers), the config and history, and "
        f"{len(folder)} files of the folder"
    )


def _stand_in_for_pypi(context: Path, tool: str, url: str) -> None:
    """Make the index at `url` the one each tool uses for every name not tied to another:
    what PyPI is, in the lesson's manifests."""
    manifest = context / TOOLS[tool].manifest_files[0]
    text = manifest.read_text()
    if tool == "pipenv":
        text = text.replace('url = "https://pypi.org/simple"', f'url = "{url}"', 1)
    elif tool == "poetry":
        text += f'\n[[tool.poetry.source]]\nname = "public"\nurl = "{url}"\npriority = "primary"\n'
    elif tool == "uv":
        text += f'\n[[tool.uv.index]]\nname = "public"\nurl = "{url}"\ndefault = true\n'
    else:  # pip-tools: the company's one index, passing unknown names on to `url`
        text = text.replace(private_index.URL, url, 1)
    assert text != manifest.read_text(), f"{manifest} has no index to replace"
    manifest.write_text(text)


def private_name_only_from_private_index(ctx: ClaimContext) -> None:
    """acme-holidays 99.0 on a 'public' index (on localhost: no credentials go there), which
    passes every other name on to PyPI; each tool locks the lesson's manifest again with that
    index in PyPI's place. pip-tools' single index is a second server of the private packages
    whose fallback is the public one."""
    from buildlab.course.locks import relock
    from buildlab.course.model import LockFolder

    pypi = load_pins().engine["index_url"]
    genuine = private_index.PACKAGES / "acme_holidays-1.0.0-py3-none-any.whl"  # what it serves
    single = ctx.tool == "pip-tools"
    with tempfile.TemporaryDirectory(prefix="buildlab-confusion-") as tmp:
        squatter = private_index.build_wheel(Path(tmp, "public"), version="99.0.0")
        with (
            private_index.extra_index(
                squatter.parent, host="localhost", fallback=pypi, auth=False
            ) as public,
            (  # pip-tools' one index: the private packages, other names passed to `public`
                private_index.extra_index(
                    private_index.PACKAGES, host=private_index.HOST, fallback=public.url, auth=True
                )
                if single
                else nullcontext()
            ) as relay,
            scratch_copy(ctx.variant) as context,
        ):
            _stand_in_for_pypi(context, ctx.tool, relay.url if relay else public.url)
            folder = LockFolder(
                ctx.variant.name,
                ctx.tool,
                context,
                ctx.variant.lesson.base,
                True,
                private_index=True,
            )
            relock([folder], upgrade=True, say=lambda _: None)
            lock = (context / TOOLS[ctx.tool].lock_file).read_text()
            version = (
                TOOLS[ctx.tool]
                .locked_versions((context / TOOLS[ctx.tool].lock_file).read_text())
                .get(private_index.PACKAGE_NAME)
            )
        assert version == "1.0.0", f"acme-holidays {version} locked, from the public index"
        assert private_index.sha256(genuine) in lock, "the lock has another acme-holidays file"
        assert private_index.sha256(squatter) not in lock, "the lock has the squatter's file"
    FACTS.append(
        f"private-name-only-from-private-index {ctx.variant.name}: locked acme-holidays "
        f"{version} (the public index offered 99.0.0)"
    )


def _oci_digest(variant: Variant, dest: Path, *, cache: bool = True) -> str:
    """The OCI digest of a variant's default target, built the reproducible way (lesson 08's
    SOURCE_DATE_EPOCH, timestamps rewritten) into an archive at `dest`."""
    from buildlab.engine.oci import manifest_digest

    builds.build(
        variant.directory,
        labels.image_tag(f"{variant.name}-oci"),
        extra_args=[
            *([] if cache else ["--no-cache"]),
            "--build-arg",
            "SOURCE_DATE_EPOCH=1700000000",
            "--output",
            f"type=oci,dest={dest},rewrite-timestamp=true",
        ],
    )
    return manifest_digest(dest)


def reproducible_digest(ctx: ClaimContext) -> None:
    from buildlab.engine.oci import differences

    with tempfile.TemporaryDirectory(prefix="buildlab-oci-") as tmp:
        first, second = Path(tmp, "first.tar"), Path(tmp, "second.tar")
        digests = [_oci_digest(ctx.variant, path, cache=False) for path in (first, second)]
        FACTS.append(f"reproducible-digest {ctx.variant.name}: {digests[0]} and {digests[1]}")
        assert digests[0] == digests[1], f"digests differ: {digests}\n" + "\n".join(
            differences(first, second)[:20]
        )


def production_same_as_previous_lesson(ctx: ClaimContext) -> None:
    from buildlab.engine.oci import differences

    lessons = ctx.manifest.lessons
    previous = Variant(lessons[lessons.index(ctx.variant.lesson) - 1], ctx.tool)
    with tempfile.TemporaryDirectory(prefix="buildlab-oci-") as tmp:
        before, after = Path(tmp, "previous.tar"), Path(tmp, "this.tar")
        # From the build cache: the content is the same either way, and the dates are rewritten.
        digests = [_oci_digest(previous, before), _oci_digest(ctx.variant, after)]
        FACTS.append(
            f"production-same-as-previous-lesson {ctx.variant.name}: {digests[1]}, "
            f"{previous.name}: {digests[0]}"
        )
        if digests[0] == digests[1]:
            return
        # pip-tools keeps the dev lock as a second file, which the dev stage reads from the
        # build context; .dockerignore cannot keep it from one stage only, so the production
        # stage's `COPY . .` takes it too: that file, and nothing else, may differ.
        dev_lock = TOOLS[ctx.tool].dev_lock_file
        allowed = {f"/app/{dev_lock}: only in one build"} if dev_lock else set()
        unexpected = [
            line
            for line in differences(before, after)
            if re.sub(r"^layer \d+: ", "", line) not in allowed
        ]
        assert not unexpected, f"digests differ: {digests}\n" + "\n".join(unexpected[:20])
        FACTS.append(f"  ({ctx.variant.name} differs only by {sorted(allowed)})")


# ---------------------------------------------------------------------------------------------
# The development loop (lesson 09): the lesson folder's compose.yaml under `docker compose
# watch`, in a scratch copy the checks edit.


def _in_container(dev: compose.Watched, path: str) -> bool:
    return dev.exec("test", "-e", path, check=False).returncode == 0


def _write_module(folder: Path, app: App, name: str, text: str) -> str:
    """A new module in the app's package; returns its import name."""
    (folder / app.package / f"{name}.py").write_text(text)
    return f"{app.package}.{name}"


def dev_edit_served_without_rebuild(ctx: ClaimContext) -> None:
    app = ctx.app
    with scratch_copy(ctx.variant) as folder, compose.watching(folder, app.health_path) as dev:
        image = dev.image_id()
        token = secrets.token_hex(4)
        # A new module first, and only once it is in the container the edit that imports it:
        # a reload between the two would import a module that is not there yet.
        module = _write_module(folder, app, "dev_token", f'TOKEN = "{token}"\n')
        compose.wait_until(
            lambda: _in_container(dev, f"/app/{app.package}/dev_token.py"),
            timeout=limits.DEV_SYNC_WITHIN_SECONDS,
            what="the new module was never copied into the container",
            detail=dev.watch_log,
        )
        with (folder / app.code_file).open("a") as handle:
            handle.write(
                f"\n\nfrom {module} import TOKEN as _DEV_TOKEN\n\n"
                "print(f'dev edit {_DEV_TOKEN} loaded', flush=True)\n"
            )
        seconds = compose.wait_until(
            lambda: f"dev edit {token} loaded" in dev.logs(),
            timeout=limits.DEV_EDIT_WITHIN_SECONDS,
            what="the edited code never ran in the server",
            detail=lambda: tail(dev.logs()) + "\n" + tail(dev.watch_log()),
        )
        status, body = containers.http(app.probe.method, dev.url(app.probe.path), app.probe.body)
        assert (status, body) == (200, app.probe.expect), (status, body)
        assert dev.image_id() == image, "the image was built again for a code edit"
    FACTS.append(
        f"dev-edit-served-without-rebuild {ctx.variant.name}: the edit ran in the server "
        f"{seconds:.1f} s after it was saved; same image"
    )


def dev_dependency_change_rebuilds(ctx: ClaimContext) -> None:
    app, lesson = ctx.app, ctx.variant.lesson
    module = lesson.added_dependency.replace("-", "_")
    imports = ("python", "-c", f"import {module}")
    with scratch_copy(ctx.variant) as folder, compose.watching(folder, app.health_path) as dev:
        image = dev.image_id()
        assert dev.exec(*imports, check=False).returncode != 0, f"{module} is there already"
        started = time.monotonic()
        for source in sorted(ctx.manifest.added_dependency_dir(ctx.variant).iterdir()):
            shutil.copy2(source, folder / source.name)
        compose.wait_until(
            lambda: "Rebuilding" in dev.watch_log() or "rebuild" in dev.watch_log().lower(),
            timeout=limits.DEV_REBUILD_NOTICED_SECONDS,
            what="compose did not start a rebuild after the lock changed",
            detail=lambda: tail(dev.watch_log()),
        )

        def replaced() -> bool:
            try:
                return dev.image_id() != image and compose.serving(dev, app.health_path)
            except BuildlabError:  # between the old container and the new one
                return False

        compose.wait_until(
            replaced,
            timeout=limits.DEV_REBUILD_WITHIN_SECONDS,
            what="the container was never replaced by one of a rebuilt image",
            detail=lambda: tail(dev.watch_log()),
        )
        seconds = time.monotonic() - started
        found = dev.exec(*imports, check=False)
        assert found.returncode == 0, f"{module} does not import after the rebuild: {found.stderr}"
    FACTS.append(
        f"dev-dependency-change-rebuilds {ctx.variant.name}: {lesson.added_dependency} "
        f"imports in a new container {seconds:.0f} s after the lock changed"
    )


def dev_tests_run_in_container(ctx: ClaimContext) -> None:
    with scratch_copy(ctx.variant) as folder, compose.watching(folder, ctx.app.health_path) as dev:
        result = dev.compose("run", "--rm", "--no-deps", compose.SERVICE, "pytest", check=False)
    assert result.returncode == 0, tail(result.stdout + result.stderr)
    assert re.search(r"\b\d+ passed\b", result.stdout), tail(result.stdout)


def dev_runs_as_non_root(ctx: ClaimContext) -> None:
    app = ctx.app
    with scratch_copy(ctx.variant) as folder:
        host_venv = folder / ".venv"  # what a developer's machine has beside the code
        (host_venv / "bin").mkdir(parents=True)
        (host_venv / "bin" / "python").write_text("#!/bin/sh\nexit 99  # the host's\n")
        with compose.watching(folder, app.health_path) as dev:
            pid1 = dev.exec("grep", "^Uid:", "/proc/1/status").stdout.split()[1]
            assert pid1 == "10001", f"the dev server runs as UID {pid1}"
            module = _write_module(folder, app, "dev_synced", "VALUE = 42\n")
            (host_venv / "touched").write_text("an edit in the host's .venv\n")
            compose.wait_until(
                lambda: _in_container(dev, f"/app/{app.package}/dev_synced.py"),
                timeout=limits.DEV_SYNC_WITHIN_SECONDS,
                what="the new module was never copied into the container",
                detail=dev.watch_log,
            )
            value = dev.exec("python", "-c", f"import {module}; print({module}.VALUE)")
            assert value.stdout.strip() == "42", value.stdout
            assert not _in_container(dev, "/app/.venv/touched"), "the host's .venv was copied in"
            assert dev.exec("python", "-c", "import flask", check=False).returncode == 0


def _break_cmd(dockerfile: Path, cmd: str) -> None:
    text = dockerfile.read_text()
    lines = [line for line in text.splitlines() if line.startswith("CMD ")]
    assert len(lines) == 1, f"{dockerfile} needs exactly one CMD"
    dockerfile.write_text(text.replace(lines[0], cmd))


def _shell_form(dockerfile: Path) -> None:
    """The same command in shell form: /bin/sh becomes PID 1 and never passes SIGTERM on."""
    (line,) = [line for line in dockerfile.read_text().splitlines() if line.startswith("CMD ")]
    _break_cmd(dockerfile, "CMD " + " ".join(json.loads(line[len("CMD ") :])))


def _replace_once(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{path} has no {old!r}"
    path.write_text(text.replace(old, new, 1))


def _drop_lines(path: Path, pattern: str) -> None:
    lines = path.read_text().splitlines(keepends=True)
    kept = [line for line in lines if not re.search(pattern, line)]
    assert len(kept) < len(lines), f"{path}: no line matches {pattern!r}"
    path.write_text("".join(kept))


def _no_pythonpath(dockerfile: Path) -> None:
    """The project's code not on the path: a src/ layout's package cannot be imported."""
    text = dockerfile.read_text()
    assert 'PYTHONPATH="/app/${SOURCE_ROOT}"' in text, f"{dockerfile} sets no PYTHONPATH"
    dockerfile.write_text(text.replace('PYTHONPATH="/app/${SOURCE_ROOT}"', 'PYTHONPATH=""'))


def _netrc_in_image(dockerfile: Path) -> None:
    """The mistake the lesson warns about: the credentials file in the build context, copied
    into the builder stage instead of mounted: it is in that stage's layer, which the exported
    cache carries, and `COPY . .` takes it into the final image too."""
    (dockerfile.parent / "netrc").write_text(private_index.netrc_text(private_index.token()))
    mount = "    --mount=type=secret,id=netrc,target=/root/.netrc,required \\\n"
    _replace_once(dockerfile, mount, "")
    _replace_once(
        dockerfile,
        "\nRUN --mount=type=cache",
        "\nCOPY netrc /root/.netrc\nRUN --mount=type=cache",
    )


def _no_index_pin(dockerfile: Path) -> None:
    """The private name no longer tied to the private index (uv: its [tool.uv.sources] line)."""
    _drop_lines(dockerfile.parent / "pyproject.toml", r"^acme-holidays = \{ index =")


# Named breaks for negative controls (lessons.toml `control.break`): each edits a Dockerfile.
BREAKS: dict[str, Callable[[Path], None]] = {
    # A server that never listens: it exits at once (one that sleeps would cost the check's
    # full wait, a minute, for the same failure).
    "cmd-never-listens": lambda dockerfile: _break_cmd(
        dockerfile, 'CMD ["python", "-c", "raise SystemExit(\'this server never listens\')"]'
    ),
    "shell-form-cmd": _shell_form,
    "no-pythonpath": _no_pythonpath,
    # A step that writes the clock into the image: no SOURCE_DATE_EPOCH can make two builds
    # of it agree (file dates are rewritten, contents are not).
    "clock-in-image": lambda dockerfile: add_after_code(
        dockerfile.parent, "RUN date +%s%N > /etc/build-clock"
    ),
    # Lesson 09's development loop: the server does not reload; compose does not rebuild for
    # a dependency change; the tests are not mounted; the dev stage runs as root.
    "no-reload": lambda dockerfile: _replace_once(
        dockerfile, "exec $SERVER --reload", "exec $SERVER"
    ),
    "no-rebuild-rule": lambda dockerfile: _drop_lines(
        dockerfile.parent / "compose.yaml", r"^\s*- action: rebuild$|^\s*path: (?!\.$)"
    ),
    "tests-not-mounted": lambda dockerfile: _drop_lines(
        dockerfile.parent / "compose.yaml", r"^\s*volumes:$|^\s*- \./tests:"
    ),
    "dev-as-root": lambda dockerfile: _replace_once(dockerfile, "USER 10001\n", ""),
    # Lesson 10: the netrc file copied into the builder; the private name tied to no index.
    "netrc-in-image": _netrc_in_image,
    "no-index-pin": _no_index_pin,
}


CLAIM_CHECKS: dict[str, Callable[[ClaimContext], None]] = {
    "serves-http": serves_http,
    "code-change-reinstalls-dependencies": code_change_reinstalls_dependencies,
    "code-change-keeps-dependencies-cached": code_change_keeps_dependencies_cached,
    "code-change-ships-only-code": code_change_ships_only_code,
    "stale-lock-fails-build": stale_lock_fails_build,
    "locked-installs-are-identical": locked_installs_are_identical,
    "smaller-than-previous-lesson": smaller_than_previous_lesson,
    "lean-image": lean_image,
    "no-build-tools-in-runtime": no_build_tools_in_runtime,
    "no-installer-in-runtime": no_installer_in_runtime,
    "runtime-is-base-plus-app": runtime_is_base_plus_app,
    "dependency-change-uses-cache-mount": dependency_change_uses_cache_mount,
    "cache-mount-not-in-image": cache_mount_not_in_image,
    "runs-as-non-root": runs_as_non_root,
    "healthcheck-reaches-healthy": healthcheck_reaches_healthy,
    "stops-gracefully": stops_gracefully,
    "no-request-lost-on-stop": no_request_lost_on_stop,
    "serves-hardened": serves_hardened,
    "serves-as-any-uid": serves_as_any_uid,
    "no-setuid-files": no_setuid_files,
    "bytecode-precompiled": bytecode_precompiled,
    "project-shapes-serve": project_shapes_serve,
    "cache-export-survives-prune": cache_export_survives_prune,
    "reproducible-digest": reproducible_digest,
    "production-same-as-previous-lesson": production_same_as_previous_lesson,
    "dev-edit-served-without-rebuild": dev_edit_served_without_rebuild,
    "dev-dependency-change-rebuilds": dev_dependency_change_rebuilds,
    "dev-tests-run-in-container": dev_tests_run_in_container,
    "dev-runs-as-non-root": dev_runs_as_non_root,
    "private-index-needs-the-secret": private_index_needs_the_secret,
    "credentials-leave-no-trace": credentials_leave_no_trace,
    "private-name-only-from-private-index": private_name_only_from_private_index,
}
