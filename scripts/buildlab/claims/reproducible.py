"""Claims about reproducibility: the same commit gives the same image digest, on any day."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from buildlab.claims.candidate import Candidate
from buildlab.claims.verdict import ensure
from buildlab.course.tools import TOOLS
from buildlab.engine.containers import run_container
from buildlab.engine.oci import differences, manifest_digest
from buildlab.support.pins import load_pins

# lesson 08's README: `--build-arg SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)`; any fixed
# value in the past will do (2023-11-14), far from the day the test runs.
SOURCE_DATE_EPOCH = 1_700_000_000


def oci_digest(ctx: Candidate, dest: Path, *, cache: bool = True) -> str:
    """The OCI digest of the candidate's default target, built the reproducible way (lesson
    08's SOURCE_DATE_EPOCH, timestamps rewritten) into an archive at `dest`."""
    ctx.build(
        ctx.context,
        ctx.tag("oci"),
        extra_args=[
            *([] if cache else ["--no-cache"]),
            "--build-arg",
            f"SOURCE_DATE_EPOCH={SOURCE_DATE_EPOCH}",
            "--output",
            f"type=oci,dest={dest},rewrite-timestamp=true",
        ],
    )
    return manifest_digest(dest)


def _account_days(tag: str) -> dict[str, str]:
    """user -> the day (since 1970) /etc/shadow records as its password's last change."""
    shadow = run_container(tag, ["cat", "/etc/shadow"], user="0").stdout
    return {
        fields[0]: fields[2] for line in shadow.splitlines() if len(fields := line.split(":")) > 2
    }


def _accounts_dated_by_the_clock(ctx: Candidate) -> None:
    """Every account the Dockerfile adds is dated by SOURCE_DATE_EPOCH, not by the day of the
    build: two builds on two days would differ there, whatever the file dates say."""
    built = ctx.build(
        ctx.context,
        ctx.tag("dated"),
        extra_args=["--build-arg", f"SOURCE_DATE_EPOCH={SOURCE_DATE_EPOCH}"],
    )
    base = _account_days(load_pins().image(ctx.lesson.base))
    want = str(SOURCE_DATE_EPOCH // 86400)
    added = {user: day for user, day in _account_days(built.tag).items() if user not in base}
    wrong = {user: day for user, day in added.items() if day != want}
    ensure(
        not wrong,
        "an account is dated by the build machine's clock, not SOURCE_DATE_EPOCH: "
        + ", ".join(
            f"{user} on day {day} (SOURCE_DATE_EPOCH's is {want})" for user, day in wrong.items()
        ),
    )


def reproducible_digest(ctx: Candidate) -> None:
    _accounts_dated_by_the_clock(ctx)  # cheap, and what makes two days' builds differ
    with tempfile.TemporaryDirectory(prefix="buildlab-oci-") as tmp:
        first, second = Path(tmp, "first.tar"), Path(tmp, "second.tar")
        digests = [oci_digest(ctx, path, cache=False) for path in (first, second)]
        ctx.notes.add(f"reproducible-digest {ctx.name}: {digests[0]} and {digests[1]}")
        ensure(
            digests[0] == digests[1],
            f"two clean builds gave two digests: {digests[0][:19]}… and {digests[1][:19]}…",
            "\n".join(differences(first, second)[:20]),
        )


def production_same_as_previous_lesson(ctx: Candidate) -> None:
    ctx.lesson_only("it compares with the previous lesson's image")
    previous = ctx.previous_lesson()
    with tempfile.TemporaryDirectory(prefix="buildlab-oci-") as tmp:
        before, after = Path(tmp, "previous.tar"), Path(tmp, "this.tar")
        # From the build cache: the content is the same either way, and the dates are rewritten.
        digests = [oci_digest(previous, before), oci_digest(ctx, after)]
        ctx.notes.add(
            f"production-same-as-previous-lesson {ctx.name}: {digests[1]}, "
            f"{previous.name}: {digests[0]}"
        )
        if digests[0] == digests[1]:
            return
        # pip-tools keeps the dev lock as a second file, which the dev stage reads from the
        # build context; .dockerignore cannot keep it from one stage only, so the production
        # stage's `COPY . .` takes it too: that file, and nothing else, may differ.
        dev_lock = TOOLS[ctx.tool_name].dev_lock_file
        allowed = {f"/app/{dev_lock}: only in one build"} if dev_lock else set()
        found = [re.sub(r"^layer \d+: ", "", line) for line in differences(before, after)]
        unexpected = [line for line in found if line not in allowed]
        ensure(
            found,
            f"the digests differ ({digests[1][:19]}…, {previous.name}: {digests[0][:19]}…) and "
            "no file, mode, owner, config or annotation does: an unknown difference",
        )
        # The deepest file first: a new file's folders differ too, but say less.
        files = sorted(
            (line for line in unexpected if line.startswith("/")),
            key=lambda line: -line.split(":")[0].count("/"),
        )
        ensure(
            not unexpected,
            f"the image differs from {previous.name}'s in {len(unexpected)} places, e.g. "
            + (files or unexpected or [""])[0][:160],
            "\n".join(unexpected[:20]),
        )
        ctx.notes.add(f"  ({ctx.name} differs only by {sorted(allowed)})")
