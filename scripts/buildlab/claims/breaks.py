"""Named breaks for negative controls (lessons.toml `control.break`): each makes one thing wrong
in a copy of a lesson folder (its Dockerfile, or a file beside it), or in how the claim runs, so
that the claim's check is shown to fail for the reason it names."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from buildlab.course.scenarios import add_after_code
from buildlab.engine import private_index
from buildlab.support.errors import BuildlabError


def _applies(condition: bool, problem: str) -> None:
    """A break that finds nothing to change is the control's own fault: say so."""
    if not condition:
        raise BuildlabError(f"the negative control's break does not apply: {problem}")


def _break_cmd(dockerfile: Path, cmd: str) -> None:
    text = dockerfile.read_text()
    lines = [line for line in text.splitlines() if line.startswith("CMD ")]
    _applies(len(lines) == 1, f"{dockerfile} needs exactly one CMD")
    dockerfile.write_text(text.replace(lines[0], cmd))


def _shell_form(dockerfile: Path) -> None:
    """The same command in shell form: /bin/sh becomes PID 1 and never passes SIGTERM on."""
    (line,) = [line for line in dockerfile.read_text().splitlines() if line.startswith("CMD ")]
    _break_cmd(dockerfile, "CMD " + " ".join(json.loads(line[len("CMD ") :])))


def _replace_once(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    _applies(old in text, f"{path} has no {old!r}")
    path.write_text(text.replace(old, new, 1))


def _drop_lines(path: Path, pattern: str) -> None:
    lines = path.read_text().splitlines(keepends=True)
    kept = [line for line in lines if not re.search(pattern, line)]
    _applies(len(kept) < len(lines), f"{path}: no line matches {pattern!r}")
    path.write_text("".join(kept))


def _no_pythonpath(dockerfile: Path) -> None:
    """The project's code not on the path: a src/ layout's package cannot be imported."""
    text = dockerfile.read_text()
    _applies('PYTHONPATH="/app/${SOURCE_ROOT}"' in text, f"{dockerfile} sets no PYTHONPATH")
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


def _no_static_stage(dockerfile: Path) -> None:
    """Lesson 11 without its static stage's output: nothing collected reaches the image."""
    _drop_lines(dockerfile, r"^COPY --from=static ")


def _dummy_secret_at_build(dockerfile: Path) -> None:
    """The usual fix for a `collectstatic` that asks for a key: a dummy one in the build,
    which stays in the stage's history (and in any exported cache) for good."""
    _replace_once(
        dockerfile,
        "FROM builder AS static\n",
        "FROM builder AS static\nENV DJANGO_SECRET_KEY=dummy\n",
    )


def _migrate_in_cmd(dockerfile: Path) -> None:
    """Migrations in the CMD: every replica runs them at start, racing each other."""
    _replace_once(
        dockerfile,
        'CMD ["sh", "-c", "exec $SERVER \\"$APP\\""]',
        'CMD ["sh", "-c", "django-admin migrate --noinput && exec $SERVER \\"$APP\\""]',
    )


def _no_index_pin(dockerfile: Path) -> None:
    """The private name no longer tied to the private index (uv: its [tool.uv.sources] line)."""
    _drop_lines(dockerfile.parent / "pyproject.toml", r"^acme-holidays = \{ index =")


# Named breaks for negative controls (lessons.toml `control.break`): each edits a Dockerfile.
EDITS: dict[str, Callable[[Path], None]] = {
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
    # Lesson 11: no static files in the image; a dummy key in the build; migrate in the CMD.
    "no-static-stage": _no_static_stage,
    "dummy-secret-at-build": _dummy_secret_at_build,
    "migrate-in-cmd": _migrate_in_cmd,
}


def _project_in_environment(dockerfile: Path) -> None:
    """The code copied into the builder and installed into the environment (`pip install .`):
    an edit re-runs the install and changes the environment's layer, so a push uploads all of
    it again. (pip-tools' Dockerfile: pip builds the project afresh every time.)"""
    install = "\nRUN --mount=type=cache,target=/root/.cache/pip"
    _replace_once(dockerfile, install, "\nCOPY . ." + install)
    locked = "--no-compile -r /dev/stdin \\\n"  # the locks' install, not the check after it
    _replace_once(
        dockerfile, locked, locked + " && pip --python .venv/bin/python install --no-deps . \\\n"
    )


def _install_beside_the_lock(dockerfile: Path) -> None:
    """One more install on top of the lock's, last: an older python-dateutil than uv.lock pins."""
    with dockerfile.open("a") as handle:
        handle.write('RUN uv pip install "python-dateutil==2.8.2"\n')


@dataclass(frozen=True)
class Break:
    """What a negative control changes: the folder (`edit`, given the Dockerfile's path) and
    how the claim runs (`options`, read by the claim)."""

    edit: Callable[[Path], None] | None = None
    options: dict[str, str] = field(default_factory=dict)


EDITS["project-in-environment"] = _project_in_environment
EDITS["install-beside-the-lock"] = _install_beside_the_lock
BREAKS: dict[str, Break] = {name: Break(edit) for name, edit in EDITS.items()}
# Lesson 08's cache exported, the builder pruned, and nothing imported: the prune must make the
# install run again, or the claim's build proves nothing about the import.
BREAKS["no-cache-import"] = Break(options={"cache_import": "no"})
