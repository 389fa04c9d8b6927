"""Claims about what the final image holds, and what it does not."""

from __future__ import annotations

import re

from buildlab.claims import limits
from buildlab.claims.candidate import Candidate
from buildlab.claims.verdict import ensure
from buildlab.course.scenarios import add_stray_files
from buildlab.engine import images
from buildlab.engine.containers import run_container
from buildlab.support.pins import load_pins

COMPILERS = ("gcc", "cc", "c++", "g++", "clang", "make")


def smaller_than_previous_lesson(ctx: Candidate) -> None:
    ctx.lesson_only("it compares with the previous lesson's image")
    previous = ctx.previous_lesson()
    before = images.uncompressed_size(previous.built().tag)
    after = images.uncompressed_size(ctx.built().tag)
    ensure(
        after <= before * (1 - limits.SMALLER_BY_AT_LEAST),
        f"the image is {after / 1e6:.0f} MB, not a tenth smaller than {previous.lesson.id}'s "
        f"{before / 1e6:.0f} MB",
    )


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


def lean_image(ctx: Candidate) -> None:
    """Built from a copy of the folder that holds what a developer's folder does: .env, tests,
    .git, stray byte-code inside the package."""
    with ctx.scratch() as context:
        stray = [f"{ctx.workdir.rstrip('/')}/{path}" for path in add_stray_files(context, ctx.app)]
        tag = ctx.build(context, ctx.tag("lean")).tag
    out = run_container(tag, ["python", "-c", LEAN_CHECK, *stray], user="0").stdout
    found = out.strip().splitlines()
    ensure(not found, f"in the image: {', '.join(found[:6])}", out)


def no_build_tools_in_runtime(ctx: Candidate) -> None:
    names = (*ctx.tool.executables, *COMPILERS)
    script = f"for c in {' '.join(names)}; do command -v $c; done; true"
    found = run_container(ctx.built().tag, ["sh", "-c", script]).stdout.split()
    ensure(not found, f"in the final image: {', '.join(found)}")


INSTALLER_CHECK = """
import importlib.util, os, sys
found = [name for name in ("pip", "setuptools", "wheel") if importlib.util.find_spec(name)]
bin_dir = os.path.dirname(sys.executable)
found += [os.path.join(bin_dir, f) for f in os.listdir(bin_dir)
          if f.startswith(("pip", "easy_install", "wheel"))]
print(sys.prefix, sys.prefix != sys.base_prefix, *found)
"""


def no_installer_in_runtime(ctx: Candidate) -> None:
    tag = ctx.built().tag
    prefix, venv, *found = run_container(tag, ["python", "-c", INSTALLER_CHECK]).stdout.split()
    ensure(not found, f"installers in the Python the image runs ({prefix}): {', '.join(found)}")
    result = run_container(tag, ["python", "-m", "pip", "--version"], check=False)
    ensure(result.returncode != 0, f"`python -m pip` works: {result.stdout.strip()}")
    ensure(venv == "True", f"`python` is the image's own ({prefix}), not a virtual environment's")
    if not ctx.project:  # the lessons' environment, where the builder made it
        ensure(prefix == "/app/.venv", f"`python` is {prefix}'s, not /app/.venv's")


def runtime_is_base_plus_app(ctx: Candidate) -> None:
    ctx.lesson_only("it compares with the lesson's pinned base image")
    tag = ctx.built().tag
    base_tag = load_pins().image(ctx.lesson.base)
    base = images.layer_digests(base_tag)
    ensure(images.layer_digests(tag)[: len(base)] == base, "the base image's layers changed")
    rows = images.history(tag)
    added = [
        (by, size) for by, size in rows[: len(rows) - len(images.history(base_tag))] if size > 0
    ]
    layers = [
        re.sub(r" # buildkit$", "", by)
        for by, _ in reversed(added)
        if not by.startswith("WORKDIR /app")
    ]
    ensure(
        layers == ["COPY /app/.venv /app/.venv", "COPY . ."],
        f"{len(layers)} layers on top of the base, not the environment then the code: "
        + " | ".join(layer[:60] for layer in layers),
    )


def no_setuid_files(ctx: Candidate) -> None:
    out = run_container(
        ctx.built().tag, ["find", "/", "-xdev", "-perm", "/6000", "-type", "f"], user="0"
    ).stdout
    found = out.split()
    ensure(not found, f"{len(found)} setuid or setgid files, e.g. {', '.join(found[:3])}", out)


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


def bytecode_precompiled(ctx: Candidate) -> None:
    total, missing, timestamped, *examples = run_container(
        ctx.built().tag, ["python", "-c", BYTECODE_CHECK]
    ).stdout.split()
    ensure(int(total) > limits.MIN_DEPENDENCY_MODULES, f"only {total} modules in the environment")
    ensure(missing == "0", f"{missing} of {total} modules have no byte-code", " ".join(examples))
    ensure(
        timestamped == "0",
        f"{timestamped} of {total} modules have byte-code that is not checked by hash",
        " ".join(examples),
    )
