"""Base images: use the real Docker Hub image, or build a labelled local stand-in.

On machines with no registry, a stand-in with the exact pinned tag is built from Debian
packages (debootstrap of the same suite), with pip under /usr/local as in the official image.
A real image is never replaced. See docs/test-engine.md for what differs and why.
"""

from __future__ import annotations

import hashlib
import json
import lzma
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from buildlab.support.errors import EngineError
from buildlab.support.paths import STATE_DIR
from buildlab.support.pins import Pins, load_pins
from buildlab.support.proc import run, tail

STAND_IN_LABEL = "buildlab.stand-in"
RECIPE_LABEL = "buildlab.stand-in.recipe"
RECIPE_VERSION = "4"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
LOCAL_CA_DIR = Path("/usr/local/share/ca-certificates")
# On the stand-in's PYTHONPATH: the Poetry mirror plugin. sitecustomize.py (PyPI's cache
# headers for pip) goes into the standard library's folder. See docs/test-engine.md.
SITE_DIR = "/opt/buildlab-stand-in"
SITECUSTOMIZE = Path(__file__).parent / "stand_in_site" / "sitecustomize.py"

# What the official slim image adds to debian:trixie-slim (ca-certificates, netbase, tzdata)
# and what debian:trixie-slim has that debootstrap's minbase lacks (adduser), so that a
# Dockerfile written for the real image (one that runs `adduser`) builds on the stand-in.
SLIM_PACKAGES = (
    "python3",
    "python3-venv",
    "ca-certificates",
    "python-is-python3",
    "adduser",
    "netbase",
    "tzdata",
)
# Like the official full image (buildpack-deps): compilers, VCS, download tools, -dev headers.
FULL_EXTRA_PACKAGES = (
    "build-essential",
    "git",
    "curl",
    "wget",
    "openssh-client",
    "procps",
    "python3-dev",
    "libssl-dev",
    "libffi-dev",
    "zlib1g-dev",
    "libbz2-dev",
    "liblzma-dev",
    "libsqlite3-dev",
    "libreadline-dev",
    "libncurses-dev",
    "libxml2-dev",
    "libxslt1-dev",
    "libyaml-dev",
    "libjpeg-dev",
    "libpq-dev",
)


@dataclass(frozen=True)
class Recipe:
    key: str
    tag: str
    packages: tuple[str, ...]
    suite: str  # the Debian suite debootstrap installs (its python3 is the tag's minor)

    def digest(self, pins: Pins) -> str:
        certs = sorted((p.name, p.read_bytes()) for p in LOCAL_CA_DIR.glob("*.crt"))
        blob = json.dumps(
            [
                RECIPE_VERSION,
                SITECUSTOMIZE.read_text(),
                self.packages,
                self.suite,
                pins.tools["pip"],
                pins.engine,
                [(name, hashlib.sha256(data).hexdigest()) for name, data in certs],
            ]
        )
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


OFFICIAL_PACKAGES_DIR = Path(__file__).parent / "stand_in_packages"


def official_packages_file(tag: str) -> Path:
    """The committed list of an official image's Debian packages (from repo-info)."""
    return OFFICIAL_PACKAGES_DIR / (tag.replace(":", "-") + ".txt")


def official_packages(tag: str) -> tuple[str, ...]:
    path = official_packages_file(tag)
    if not path.exists():
        raise EngineError(f"no list of {tag}'s Debian packages: {path} is missing")
    lines = (line.strip() for line in path.read_text().splitlines())
    return tuple(line for line in lines if line and not line.startswith("#"))


def recipes(pins: Pins) -> list[Recipe]:
    """Each pinned image's stand-in: our packages (Debian's Python instead of a source build,
    the tools a full image has) and every package the official image has."""
    found = []
    for key, tag in pins.images.items():
        ours = SLIM_PACKAGES if "slim" in key else SLIM_PACKAGES + FULL_EXTRA_PACKAGES
        packages = tuple(sorted(set(ours) | set(official_packages(tag))))
        found.append(Recipe(key=key, tag=tag, packages=packages, suite=pins.debian_suite))
    return found


def minor_tag(tag: str, minor: str) -> str:
    """A pinned tag with another minor: python:3.13-slim-trixie -> python:3.14-slim-trixie."""
    name, _, rest = tag.partition(":")
    return f"{name}:{minor}-{rest.split('-', 1)[1]}"


def minor_recipes(pins: Pins, minor: str) -> list[Recipe]:
    """The stand-ins of another minor's tags, installed from the suite whose python3 is that
    minor: our packages (each must be in the suite) and the official *slim* image's, those the
    suite has (the official images of every minor on one release list the same). The full
    one is the slim one plus compilers and the usual -dev headers, not all of buildpack-deps:
    a run needs it only as a builder, and the whole list doubled the time doctor takes."""
    suite = pins.python_minors[minor]
    names = suite_package_names(suite)
    slim = next(tag for key, tag in pins.images.items() if "slim" in key)
    found = []
    for key, tag in pins.images.items():
        ours = SLIM_PACKAGES if "slim" in key else SLIM_PACKAGES + FULL_EXTRA_PACKAGES
        if absent := [name for name in ours if name not in names]:
            raise EngineError(
                f"Debian {suite} has no {', '.join(absent)}: the stand-in of "
                f"Python {minor} cannot be built from it (pins.toml python_minors)"
            )
        official = [name for name in official_packages(slim) if name in names]
        packages = tuple(sorted(set(ours) | set(official)))
        found.append(Recipe(f"{key}-{minor}", minor_tag(tag, minor), packages, suite))
    return found


def suite_package_names(suite: str) -> set[str]:
    """Every binary package name a Debian suite has (its amd64 Packages index, kept a day)."""
    index = STATE_DIR / "stand-ins" / f"Packages-{suite}.xz"
    if not index.exists() or time.time() - index.stat().st_mtime > 86400:
        index.parent.mkdir(parents=True, exist_ok=True)
        url = f"{DEBIAN_MIRROR}/dists/{suite}/main/binary-amd64/Packages.xz"
        partial = index.with_suffix(".part")
        run(["curl", "--fail", "--silent", "--show-error", "-o", str(partial), url], timeout=600)
        partial.replace(index)
    text = lzma.decompress(index.read_bytes()).decode(errors="replace")
    return {line[9:].strip() for line in text.splitlines() if line.startswith("Package: ")}


def ensure_python(minor: str, *, fix: bool = True, say: Callable[[str], None] = print) -> None:
    """Both base images of a Python minor (python:3.N-trixie and -slim-trixie): present, pulled,
    or built as stand-ins from the Debian suite pins.toml names for it; one line when none of
    those can be had."""
    pins = load_pins()
    build_stand_ins(_missing(_recipes_of(pins, minor), pins, fix=fix, say=say), pins, say)


def _recipes_of(pins: Pins, minor: str) -> list[Recipe]:
    """The stand-in recipes a minor's images would come from: none when real images are there,
    the pinned ones for their own minor, its suite's for a minor pins.toml names; a minor with
    no source must be present or pullable, else one line says so."""
    tags = [minor_tag(tag, minor) for tag in pins.images.values()]
    if all(_is_real(tag) for tag in tags):
        return []
    if minor == own_minor(pins):
        return recipes(pins)
    if minor in pins.python_minors:
        return minor_recipes(pins, minor)
    lacking = [tag for tag in tags if image_labels(tag) is None and not _pull(tag)]
    if lacking:
        sources = {**pins.python_minors, own_minor(pins): pins.debian_suite}
        ships = ", ".join(f"{m} ({suite})" for m, suite in sorted(sources.items()))
        raise EngineError(
            f"the base image {lacking[0]} is not on this engine and could not be pulled, "
            f"and the test engine has no source for Python {minor} (Debian suites ship "
            f"{ships}: docs/test-engine.md): pull it where a registry answers, or pick "
            "another Python (adopt --python)"
        )
    return []


def tag_minor(tag: str) -> str:
    """The Python minor of a python image's tag: python:3.13-slim-trixie -> 3.13."""
    return tag.partition(":")[2].split("-")[0]


def own_minor(pins: Pins) -> str:
    """The pinned images' Python minor ("3.13")."""
    return tag_minor(next(iter(pins.images.values())))


def _is_real(tag: str) -> bool:
    labels = image_labels(tag)
    return labels is not None and labels.get(STAND_IN_LABEL) != "true"


def image_labels(tag: str) -> dict[str, str] | None:
    """The image's labels, or None when no image has that tag."""
    result = subprocess.run(
        ["docker", "image", "inspect", "--format", "{{json .Config.Labels}}", tag],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        return None
    return json.loads(result.stdout or "null") or {}


def is_stand_in(tag: str) -> bool:
    labels = image_labels(tag)
    return bool(labels and labels.get(STAND_IN_LABEL) == "true")


def ensure_base_images(
    *, fix: bool, minors: tuple[str, ...] = (), say: Callable[[str], None] = print
) -> None:
    """The pinned images and those of `minors` (other Pythons a run needs, each from its
    Debian suite): every missing one built at once."""
    pins = load_pins()
    wanted = recipes(pins) + [r for minor in minors for r in _recipes_of(pins, minor)]
    unique = list(dict.fromkeys(wanted))  # the pinned minor's recipes, asked for twice
    build_stand_ins(_missing(unique, pins, fix=fix, say=say), pins, say)


def _missing(
    wanted: list[Recipe], pins: Pins, *, fix: bool, say: Callable[[str], None]
) -> list[Recipe]:
    """The recipes whose image is neither real, nor an up-to-date stand-in, nor pullable."""
    missing = []
    for recipe in wanted:
        labels = image_labels(recipe.tag)
        if labels is not None and labels.get(STAND_IN_LABEL) != "true":
            say(f"base image: {recipe.tag} (real image)")
            continue
        if labels is not None and labels.get(RECIPE_LABEL) == recipe.digest(pins):
            say(f"base image: {recipe.tag} (local stand-in, up to date)")
            continue
        if labels is None and _pull(recipe.tag):
            say(f"base image: {recipe.tag} (pulled)")
            continue
        if not fix:
            raise EngineError(
                f"Base image {recipe.tag} is missing and cannot be pulled: run `make doctor`."
            )
        missing.append(recipe)
    return missing


def build_stand_ins(missing: list[Recipe], pins: Pins, say: Callable[[str], None]) -> None:
    """Every missing stand-in at once: debootstrap spends much of its time waiting on the
    mirror and on one dpkg at a time, so a second build costs little beside the first."""
    if not missing:
        return
    if os.geteuid() != 0:
        tags = ", ".join(recipe.tag for recipe in missing)
        raise EngineError(
            f"Base image(s) {tags} cannot be pulled and building a stand-in needs root."
        )
    _ensure_debootstrap()
    _download_wheel("pip", pins.tools["pip"], STATE_DIR / "stand-ins" / "wheels")  # shared, once
    with ThreadPoolExecutor(max_workers=len(missing)) as pool:
        for done in [pool.submit(build_stand_in, recipe, pins, say) for recipe in missing]:
            done.result()  # the first failure, raised here


def _pull(tag: str) -> bool:
    try:
        result = subprocess.run(
            ["docker", "pull", "--quiet", tag], capture_output=True, timeout=600, check=False
        )
    except subprocess.TimeoutExpired:
        return False
    return result.returncode == 0


def build_stand_in(recipe: Recipe, pins: Pins, say: Callable[[str], None]) -> None:
    if os.geteuid() != 0:
        raise EngineError(
            f"Base image {recipe.tag} cannot be pulled and building a stand-in needs root."
        )
    _ensure_debootstrap()
    work = STATE_DIR / "stand-ins"
    rootfs = work / recipe.key
    debs = work / "debs" / recipe.key  # one download cache per build: they run side by side
    shutil.rmtree(rootfs, ignore_errors=True)
    debs.mkdir(parents=True, exist_ok=True)
    say(f"base image: building stand-in {recipe.tag} with debootstrap {recipe.suite} ...")
    run(
        [
            "debootstrap",
            "--variant=minbase",
            f"--include={','.join(recipe.packages)}",
            f"--cache-dir={debs.resolve()}",
            recipe.suite,
            str(rootfs),
            DEBIAN_MIRROR,
            *_script(recipe.suite),
        ],
        timeout=1800,
    )
    _trust_local_cas(rootfs)
    _install_pip(rootfs, pins, work)
    _install_poetry_mirror_plugin(rootfs, pins)
    _install_sitecustomize(rootfs)
    _clean(rootfs)
    python_version = run(
        [
            "chroot",
            str(rootfs),
            "python3",
            "-c",
            "import platform; print(platform.python_version())",
        ]
    ).stdout.strip()
    minor = tag_minor(recipe.tag)
    if not python_version.startswith(f"{minor}."):
        shutil.rmtree(rootfs, ignore_errors=True)
        raise EngineError(
            f"Debian {recipe.suite}'s python3 is {python_version}, not {minor}: the stand-in of "
            f"{recipe.tag} cannot come from it (pins.toml python_minors names another suite)"
        )
    _import(rootfs, recipe, pins, python_version)
    shutil.rmtree(rootfs, ignore_errors=True)
    say(f"base image: {recipe.tag} stand-in ready (Python {python_version})")


def _script(suite: str) -> list[str]:
    """debootstrap's script for a suite newer than the host's debootstrap knows (forky): sid's,
    as Debian's own newer releases of debootstrap link them."""
    scripts = Path("/usr/share/debootstrap/scripts")
    return [] if (scripts / suite).exists() else [str(scripts / "sid")]


def _ensure_debootstrap() -> None:
    if shutil.which("debootstrap"):
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run(["apt-get", "update", "-qq"], env=env, timeout=600)
    run(["apt-get", "install", "-y", "-qq", "debootstrap"], env=env, timeout=600)


def _trust_local_cas(rootfs: Path) -> None:
    """Trust this machine's TLS-intercepting proxy inside the stand-in, as the host does."""
    target = rootfs / LOCAL_CA_DIR.relative_to("/")
    target.mkdir(parents=True, exist_ok=True)
    for cert in LOCAL_CA_DIR.glob("*.crt"):
        shutil.copy2(cert, target / cert.name)
    run(["chroot", str(rootfs), "update-ca-certificates", "--fresh"])


def _install_pip(rootfs: Path, pins: Pins, work: Path) -> None:
    """pip under /usr/local, as the official image has it (not Debian's python3-pip)."""
    wheels = work / "wheels"
    wheel = _download_wheel("pip", pins.tools["pip"], wheels)
    for marker in rootfs.glob("usr/lib/python3*/EXTERNALLY-MANAGED"):
        marker.unlink()
    shutil.copy2(wheel, rootfs / "tmp" / wheel.name)
    inside = f"/tmp/{wheel.name}"
    run(
        [
            "chroot",
            str(rootfs),
            "python3",
            f"{inside}/pip",
            "install",
            "--no-index",
            "--no-cache-dir",
            "--root-user-action=ignore",
            "--disable-pip-version-check",
            inside,
        ]
    )


def _install_poetry_mirror_plugin(rootfs: Path, pins: Pins) -> None:
    """Poetry's main-index client asks for JSON only; the proxy here serves HTML only."""
    name = "poetry-plugin-pypi-mirror"
    target = rootfs / SITE_DIR.lstrip("/")
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-compile",
            "--target",
            str(target),
            f"{name}=={pins.engine[name]}",
        ],
        timeout=600,
    )
    # It is on every Python's path, and `pip check` (lesson 03) would report "requires poetry,
    # which is not installed" wherever Poetry is not: drop its requirements from the metadata.
    for metadata in target.glob("*.dist-info/METADATA"):
        lines = metadata.read_text().splitlines(keepends=True)
        metadata.write_text(
            "".join(line for line in lines if not line.startswith("Requires-Dist:"))
        )


def _install_sitecustomize(rootfs: Path) -> None:
    """In the standard library's folder: every Python loads it, venvs and `-I` runs included
    (pipenv runs pip in a way that drops PYTHONPATH)."""
    for stdlib in rootfs.glob("usr/lib/python3.[0-9]*"):
        target = stdlib / "sitecustomize.py"
        if target.is_symlink() or target.exists():
            target.unlink()
        shutil.copy2(SITECUSTOMIZE, target)


def _download_wheel(name: str, version: str, dest: Path) -> Path:
    pattern = f"{name.replace('-', '_')}-{version}-*.whl"
    if found := next(dest.glob(pattern), None):
        return found  # downloaded before both stand-in builds started
    dest.mkdir(parents=True, exist_ok=True)
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
            "--dest",
            str(dest),
            f"{name}=={version}",
        ],
        timeout=600,
    )
    return next(dest.glob(pattern))


def _clean(rootfs: Path) -> None:
    for pattern in ("var/cache/apt/archives/*.deb", "var/lib/apt/lists/*", "tmp/*"):
        for path in rootfs.glob(pattern):
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()


def _import(rootfs: Path, recipe: Recipe, pins: Pins, python_version: str) -> None:
    bundle = "/etc/ssl/certs/ca-certificates.crt"
    changes = [
        "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "ENV LANG=C.UTF-8",
        f"ENV PYTHON_VERSION={python_version}",
        f"ENV SSL_CERT_FILE={bundle}",
        f"ENV REQUESTS_CA_BUNDLE={bundle}",
        "ENV UV_SYSTEM_CERTS=1",
        f"ENV PYTHONPATH={SITE_DIR}",
        f"ENV POETRY_PYPI_MIRROR_URL={pins.engine['index_url']}",
        f'LABEL {STAND_IN_LABEL}="true" {RECIPE_LABEL}="{recipe.digest(pins)}" '
        f'buildlab.stand-in.suite="{recipe.suite}"',
        'CMD ["python3"]',
    ]
    args = ["docker", "import"]
    for change in changes:
        args += ["--change", change]
    args += ["-", recipe.tag]
    tar = subprocess.Popen(
        ["tar", "--numeric-owner", "-C", str(rootfs), "-cf", "-", "."], stdout=subprocess.PIPE
    )
    result = subprocess.run(args, stdin=tar.stdout, capture_output=True, text=True, check=False)
    assert tar.stdout is not None
    tar.stdout.close()
    if tar.wait() != 0 or result.returncode != 0:
        raise EngineError(
            f"docker import of stand-in {recipe.tag} failed", detail=tail(result.stderr)
        )
