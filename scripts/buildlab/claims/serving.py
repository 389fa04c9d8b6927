"""Claims about the running server: it serves, as whom, hardened, healthy, and how it stops."""

from __future__ import annotations

import re
import time

from buildlab.claims import limits
from buildlab.claims.candidate import Candidate
from buildlab.claims.load import run_load
from buildlab.claims.verdict import ensure
from buildlab.course.model import App
from buildlab.course.probe import ANY_UID, HARDENED, check_probe, running
from buildlab.engine import containers
from buildlab.support.proc import run

# The UID lesson 07's images run as; a project's may be any UID but root.
LESSON_UID = "10001"


def serves_http(ctx: Candidate) -> None:
    with running(ctx.built().tag, ctx.app) as container:
        check_probe(container, ctx.app)


def _pid1_uid(container: containers.Container) -> str:
    out = run(["docker", "exec", container.id, "grep", "^Uid:", "/proc/1/status"]).stdout
    return out.split()[1]


def runs_as_non_root(ctx: Candidate) -> None:
    """The server (PID 1) and the image's user (what `docker exec` gets) are not root."""
    with running(ctx.built().tag, ctx.app) as container:
        uid = _pid1_uid(container)
        user = run(["docker", "exec", container.id, "id", "-u"]).stdout.strip()
    if ctx.project:
        ensure(uid != "0", "the server (PID 1) runs as root (UID 0): add a USER instruction")
        ensure(user != "0", "the image's user is root: `docker exec` gets UID 0")
    else:
        ensure(uid == LESSON_UID, f"the server (PID 1) runs as UID {uid}, not {LESSON_UID}")
        ensure(user == LESSON_UID, f"the image's user is UID {user}, not {LESSON_UID}")


def healthcheck_reaches_healthy(ctx: Candidate) -> None:
    with running(ctx.built().tag, ctx.app) as container:
        # No Health in the state at all: the image has no HEALTHCHECK, nothing to wait for.
        ensure(containers.state(container).get("Health"), "the image has no HEALTHCHECK")
        deadline = time.monotonic() + limits.HEALTHY_WITHIN_SECONDS
        status = "starting"
        while time.monotonic() < deadline:
            status = containers.state(container)["Health"]["Status"]
            if status in ("healthy", "unhealthy"):
                break
            time.sleep(0.5)
        ensure(
            status == "healthy",
            f"the health status is {status} after {limits.HEALTHY_WITHIN_SECONDS:.0f} s",
            container.logs(),
        )


def stops_gracefully(ctx: Candidate) -> None:
    with running(ctx.built().tag, ctx.app) as container:
        start = time.monotonic()
        run(["docker", "stop", container.id], timeout=60)
        seconds = time.monotonic() - start
        final = containers.state(container)
    ensure(final["ExitCode"] == 0, f"it exited with code {final['ExitCode']} (137 is SIGKILL)")
    ensure(seconds < limits.STOP_SECONDS, f"`docker stop` took {seconds:.1f} s")


def no_request_lost_on_stop(ctx: Candidate) -> None:
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
    wrong = [
        r
        for r in load.requests
        if r.ok and (r.status != 200 or (expect is not None and r.body != expect))
    ]
    ensure(not wrong, f"{len(wrong)} wrong answers under load, e.g. {wrong[:1]}")
    broken = [r for r in load.requests if not r.ok and r.finished < load.stop_started]
    ensure(not broken, f"{len(broken)} requests failed before the stop began", str(broken[:3]))
    margin = load.queue_margin(limits.CONNECT_MARGIN_SECONDS)
    sent_before = [r for r in load.requests if r.started < load.stop_started - margin]
    lost = [r for r in sent_before if not r.ok]
    ensure(sent_before, "no request was sent before the stop")
    ensure(
        not lost,
        f"{len(lost)} of {len(sent_before)} requests sent more than {margin:.3f} s (the longest "
        "response time) before the stop got no answer",
        str(lost[:3]),
    )
    # Answered after the stop began: in the server's hands when SIGTERM came, and finished.
    in_flight = [r for r in load.requests if r.ok and r.started < load.stop_started < r.finished]
    ensure(in_flight, "no request was in flight at the stop: the load did not reach the server")
    ensure(final["ExitCode"] == 0, f"it exited with code {final['ExitCode']} (137 is SIGKILL)")
    ensure(
        load.stop_seconds < limits.DOCKER_STOP_TIMEOUT_SECONDS,
        f"`docker stop` took {load.stop_seconds:.1f} s",
    )
    served = sum(1 for r in load.requests if r.ok)
    refused = sum(1 for r in load.requests if not r.ok)
    ctx.notes.add(
        f"no-request-lost-on-stop {ctx.name}: {served} requests served "
        f"({len(in_flight)} in flight at the stop, all answered), "
        f"{load.served_per_second():.0f} requests/s before it, the longest taking "
        f"{margin:.3f} s; stop took "
        f"{load.stop_seconds:.2f} s, exit 0; {refused} refused after it"
    )


# A server's log line that says something went wrong (gunicorn "[ERROR]", uvicorn "ERROR:").
LOG_PROBLEM = re.compile(r"\[(ERROR|CRITICAL)\]|^(ERROR|CRITICAL):|Traceback", re.MULTILINE)


def serve_and_stop(tag: str, app: App, extra_args: list[str]) -> tuple[str, list[str]]:
    """Serve the app's real request under `extra_args`, then stop it; PID 1's UID, and the
    lines of the log from start to stop that report an error."""
    with running(tag, app, extra_args=extra_args) as container:
        check_probe(container, app)
        uid = _pid1_uid(container)
        run(["docker", "stop", container.id], timeout=60)
        log = container.logs(tail=None)  # from start to stop
    return uid, [line for line in log.splitlines() if LOG_PROBLEM.search(line)]


def _serve_and_stop_cleanly(tag: str, app: App, extra_args: list[str]) -> str:
    """As serve_and_stop, and the log must have no error; returns PID 1's UID."""
    uid, problems = serve_and_stop(tag, app, extra_args)
    ensure(
        not problems,
        f"the server logged errors run with {' '.join(extra_args)}: {problems[:1]}",
        "\n".join(problems),
    )
    return uid


def serves_hardened(ctx: Candidate) -> None:
    _serve_and_stop_cleanly(ctx.built().tag, ctx.app, HARDENED)


def serves_as_any_uid(ctx: Candidate) -> None:
    uid = _serve_and_stop_cleanly(ctx.built().tag, ctx.app, ANY_UID)
    ensure(uid == "123456", f"PID 1 runs as UID {uid}, not the 123456 it was given")
