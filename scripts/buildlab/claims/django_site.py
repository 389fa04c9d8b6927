"""Claims of a Django project's image (lesson 11): static files collected at build time, no
secret anywhere in the build, and migrations as a one-off job of the same image."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from buildlab.claims.candidate import Candidate
from buildlab.claims.verdict import ensure
from buildlab.course.probe import HARDENED, running
from buildlab.course.scenarios import make_code_change
from buildlab.engine import containers, images, labels
from buildlab.support.proc import run

# The page that links the stylesheet, and how a collected (hashed) name looks in it.
PAGE = "/"
HASHED_STATIC = re.compile(r'(?:href|src)="(/static/([^"]+?)\.([0-9a-f]{12})(\.[a-z0-9]+))"')
# What the app takes at run time: its key, and where SQLite's file is (the image's /data).
SECRET_NAME = "DJANGO_SECRET_KEY"
DATA_DIR = "/data"
DATABASE_ENV = ["--env", f"DJANGO_DATABASE_PATH={DATA_DIR}/shelf.sqlite3"]
# The stage that collects the static files (lesson 11's Dockerfiles).
STATIC_STAGE = "static"
# How long an image started without its key may take to stop (gunicorn halts at once).
KEYLESS_EXIT_SECONDS = 30
# What the data migration writes, and the endpoint that reads it.
BOOKS_PATH = "/api/books"
MIGRATED_BOOKS = {
    "books": [{"title": "The Mythical Man-Month", "author": "Fred Brooks", "year": 1975}]
}


def _get(container: containers.Container, path: str) -> tuple[int, bytes, str]:
    """Status, raw body and content type of one GET (containers.http parses JSON)."""
    try:
        with urllib.request.urlopen(container.url(path), timeout=5) as response:
            return response.status, response.read(), response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers.get("Content-Type", "")


def _source_of(context: Path, name: str) -> Path | None:
    """The file `collectstatic` found for a static name ("shelf/shelf.css"): under a `static`
    folder of the code."""
    found = [p for p in context.rglob(f"static/{name}") if p.is_file()]
    return found[0] if found else None


def static_collected_at_build(ctx: Candidate) -> None:
    ctx.lesson_only("it reads the sample app's page and its stylesheet")
    tag = ctx.built().tag
    with running(tag, ctx.app, extra_args=HARDENED) as container:
        status, page, _ = _get(container, PAGE)
        linked = HASHED_STATIC.search(page.decode(errors="replace"))
        ensure(
            status == 200 and linked is not None,
            f"no static files in the image: {PAGE} answered HTTP {status}"
            + ("" if status != 200 else " with no link to a hashed static name"),
            container.logs(),
        )
        assert linked is not None
        url, name, suffix = linked.group(1), linked.group(2), linked.group(4)
        served_status, served, kind = _get(container, url)
    source = _source_of(ctx.context, name + suffix)
    ensure(source is not None, f"{url}: no static/{name}{suffix} in the code to compare with")
    assert source is not None
    ensure(
        served_status == 200 and served == source.read_bytes(),
        f"{url} answered HTTP {served_status} ({kind}), not the bytes of {source.name}",
    )
    with ctx.scratch() as context:
        make_code_change(context, ctx.app)
        before = ctx.build(context, ctx.tag("static-1"))
        make_code_change(context, ctx.app)
        after = ctx.build(context, ctx.tag("static-2"))
    old, new = images.layer_digests(before.tag), images.layer_digests(after.tag)
    changed = [i for i, (a, b) in enumerate(zip(old[:-1], new[:-1], strict=False)) if a != b]
    ensure(
        len(old) == len(new) and not changed,
        f"a code-only change changed {len(changed)} layers besides the code's "
        f"({len(old)} layers before, {len(new)} after): the static files' layer must not change",
    )
    reran = [
        s.instruction for s in after.build_steps if s.instruction.startswith("RUN") and not s.cached
    ]
    ctx.notes.add(
        f"static-collected-at-build {ctx.name}: {url} served from the image; a code change "
        f"re-ran {len(reran)} RUN step(s) ({'; '.join(r[:50] for r in reran)}) and left every "
        "layer but the code's byte-identical"
    )


def _secret_mentions(tag: str) -> list[str]:
    """Where the image's configuration or history names a secret key."""
    config = json.loads(
        run(["docker", "image", "inspect", "--format", "{{json .Config}}", tag]).stdout
    )
    found = [f"env {e.split('=', 1)[0]}" for e in config.get("Env") or [] if "SECRET_KEY" in e]
    found += [
        f"history: {created[:80]}" for created, _ in images.history(tag) if "SECRET_KEY" in created
    ]
    return found


def no_secret_at_build(ctx: Candidate) -> None:
    ctx.lesson_only("it builds the lesson's static stage and starts the sample app")
    found = [f"image {m}" for m in _secret_mentions(ctx.built().tag)]
    # The stage that collects static files, where a Dockerfile has one (lesson 07's has none).
    if re.search(rf"^FROM\s+\S+\s+AS\s+{STATIC_STAGE}\s*$", _dockerfile(ctx), re.M | re.I):
        stage = ctx.build(
            ctx.context, ctx.tag("static-stage"), extra_args=["--target", STATIC_STAGE]
        )
        found += [f"{STATIC_STAGE} stage {m}" for m in _secret_mentions(stage.tag)]
    ensure(not found, f"a SECRET_KEY is in the build: {'; '.join(found)}")
    # Without the key the image's own CMD must stop before it serves, naming the variable.
    args = ["docker", "run", "--detach", *labels.label_args(), "--read-only", "--tmpfs", "/tmp"]
    container = containers.Container(run([*args, ctx.built().tag]).stdout.strip(), 0)
    try:
        deadline = time.monotonic() + KEYLESS_EXIT_SECONDS
        while containers.state(container)["Running"] and time.monotonic() < deadline:
            time.sleep(0.5)
        final, output = containers.state(container), container.logs(tail=None)
    finally:
        container.remove()
    ensure(
        not final["Running"],
        f"started without {SECRET_NAME}, the server still ran after {KEYLESS_EXIT_SECONDS} s",
        output[-2000:],
    )
    ensure(
        final["ExitCode"] != 0 and SECRET_NAME in output,
        f"started without {SECRET_NAME}, the server exited {final['ExitCode']}"
        + ("" if SECRET_NAME in output else f" and its log never names {SECRET_NAME}"),
        output[-2000:],
    )


def _dockerfile(ctx: Candidate) -> str:
    path = ctx.context / "Dockerfile"
    return path.read_text() if path.is_file() else ""


@contextmanager
def _volume(name: str) -> Iterator[str]:
    """A labelled, empty volume, removed afterwards (labels.cleanup removes it after a crash)."""
    volume = run(["docker", "volume", "create", *labels.label_args(), labels.volume_name(name)])
    name = volume.stdout.strip()
    try:
        yield name
    finally:
        run(["docker", "volume", "rm", "--force", name], check=False)


def _books(ctx: Candidate, tag: str, volume: str) -> tuple[int, object, str]:
    mount = ["--volume", f"{volume}:{DATA_DIR}", *DATABASE_ENV]
    with running(tag, ctx.app, extra_args=[*HARDENED, *mount]) as container:
        status, body = containers.http("GET", container.url(BOOKS_PATH))
        return status, body, container.logs()


def _migration_job(tag: str, *mount: str) -> tuple[int, str]:
    """`django-admin migrate` as a one-off container of the image, read-only but for `mount`:
    its exit code and its whole output."""
    job = containers.run_container(
        tag,
        ["django-admin", "migrate", "--noinput"],
        check=False,
        timeout=120,
        extra_args=["--read-only", *mount, *DATABASE_ENV],
    )
    return job.returncode, (job.stdout + job.stderr).strip()


def migrate_is_a_one_off_job(ctx: Candidate) -> None:
    ctx.lesson_only("it reads the sample app's migrated data")
    tag = ctx.built().tag
    with _volume(f"{ctx.name}-data") as volume:
        status, body, log = _books(ctx, tag, volume)
        ensure(
            status != 200,
            f"the server migrated the database at start: {BOOKS_PATH} answered {body!r} "
            "before any migration job ran",
            log,
        )
        code, output = _migration_job(tag, "--volume", f"{volume}:{DATA_DIR}")
        last = output.splitlines()[-1] if output else "no output"
        ensure(code == 0, f"the migration job failed (exit {code}): {last}", output[-3000:])
        status, body, log = _books(ctx, tag, volume)
    ensure(
        status == 200 and body == MIGRATED_BOOKS,
        f"after the migration job {BOOKS_PATH} answered HTTP {status} {body!r}",
        log,
    )
    # With no database to write (no volume: /data is the read-only image's), the job stops at
    # once, and its last line says so.
    code, output = _migration_job(tag)
    said = output.splitlines()
    ensure(
        code != 0 and bool(said) and "unable to open database file" in said[-1],
        f"the migration job with no database volume exited {code}, saying: "
        f"{said[-1] if said else 'nothing'}",
    )
    ctx.notes.add(
        f"migrate-is-a-one-off-job {ctx.name}: `django-admin migrate` ran as a job: {last}"
    )
