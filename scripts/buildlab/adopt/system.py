"""The Debian packages a project's dependencies need beyond the official images: shared
libraries they load when the app runs (the top block's RUNTIME_PACKAGES, installed in the slim
runtime image) and headers a source build needs that the full builder image lacks
(BUILD_PACKAGES). Names are Debian trixie's, the suite of the lessons' images."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class SystemNeeds:
    """What one dependency needs from Debian, and why (the library it loads)."""

    runtime: tuple[str, ...]
    loads: str  # the shared library, as the error names it when it is missing
    build: tuple[str, ...] = ()  # beyond the full image's -dev packages, for its source build


# Dependencies with no wheel that carries its library: each loads one from the system. A wheel
# that bundles it (psycopg2-binary, psycopg-binary, opencv-python-headless) needs nothing.
KNOWN: dict[str, SystemNeeds] = {
    "psycopg2": SystemNeeds(("libpq5",), "libpq.so.5"),
    "psycopg-c": SystemNeeds(("libpq5",), "libpq.so.5"),
    "mysqlclient": SystemNeeds(
        ("libmariadb3",), "libmariadb.so.3", ("default-libmysqlclient-dev", "pkg-config")
    ),
    "python-ldap": SystemNeeds(("libldap2",), "libldap.so.2", ("libldap-dev", "libsasl2-dev")),
    "weasyprint": SystemNeeds(
        ("libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz-subset0"), "libgobject-2.0-0"
    ),
    "cairocffi": SystemNeeds(("libcairo2",), "libcairo.so.2"),
    "python-magic": SystemNeeds(("libmagic1t64",), "libmagic.so.1"),
    "opencv-python": SystemNeeds(("libgl1", "libglib2.0-0t64"), "libGL.so.1"),
    "opencv-contrib-python": SystemNeeds(("libgl1", "libglib2.0-0t64"), "libGL.so.1"),
    "pyzbar": SystemNeeds(("libzbar0t64",), "libzbar.so.0"),
    "pyodbc": SystemNeeds(("libodbc2",), "libodbc.so.2"),
    "pygraphviz": SystemNeeds(("libgvc6",), "libgvc.so.6", ("libgraphviz-dev",)),
    "xmlsec": SystemNeeds(
        ("libxmlsec1t64", "libxmlsec1t64-openssl"),
        "libxmlsec1.so.1",
        ("libxmlsec1-dev", "pkg-config"),
    ),
}
# psycopg 3 without its binary or C build loads libpq itself (ctypes).
PURE_PSYCOPG = ("psycopg", ("psycopg-binary", "psycopg-c"))

# A library's name (no "lib", no ".so…", no version), as errors name it -> the package shipping it.
LIBRARY_PACKAGES = {
    "pq": "libpq5",
    "mariadb": "libmariadb3",
    "ldap": "libldap2",
    "gobject-2.0": "libglib2.0-0t64",
    "glib-2.0": "libglib2.0-0t64",
    "gio-2.0": "libglib2.0-0t64",
    "gthread-2.0": "libglib2.0-0t64",
    "pango-1.0": "libpango-1.0-0",
    "pangoft2-1.0": "libpangoft2-1.0-0",
    "pangocairo-1.0": "libpangocairo-1.0-0",
    "harfbuzz": "libharfbuzz0b",
    "harfbuzz-subset": "libharfbuzz-subset0",
    "fontconfig": "libfontconfig1",
    "cairo": "libcairo2",
    "gdk_pixbuf-2.0": "libgdk-pixbuf-2.0-0",
    "magic": "libmagic1t64",
    "gl": "libgl1",
    "zbar": "libzbar0t64",
    "odbc": "libodbc2",
    "gvc": "libgvc6",
    "xmlsec1": "libxmlsec1t64",
    "sndfile": "libsndfile1",
    "geos_c": "libgeos-c1t64",
}

# How a missing library shows in a log: the dynamic loader's error (any extension module),
# cffi's `cannot load library 'NAME'`, ctypes-based finders' "failed to find libNAME", pyzbar's
# "Unable to find zbar shared library", psycopg 3's "libpq library not found".
MISSING = re.compile(
    r"(lib[\w.+-]+?\.so[\w.]*): cannot open shared object file"
    r"|cannot load library '([^']+)'"
    r"|failed to find (lib\w+)"
    r"|Unable to find (\w+) shared library"
    r"|(lib\w+) library not found"
)


def needs(locked: set[str]) -> dict[str, SystemNeeds]:
    """The locked distributions (normalized names) known to need Debian packages."""
    found = {name: KNOWN[name] for name in sorted(locked) if name in KNOWN}
    pure, bundled = PURE_PSYCOPG
    if pure in locked and not set(bundled) & locked:
        found[pure] = KNOWN["psycopg2"]
    return found


def packages(found: dict[str, SystemNeeds], build: bool) -> tuple[str, str]:
    """The runtime (or build) packages of `needs`' answer, space-separated, and why."""
    names: list[str] = []
    why: list[str] = []
    for name, need in found.items():
        wanted = need.build if build else need.runtime
        if wanted:
            names += [package for package in wanted if package not in names]
            why.append(f"{name} {'is built against' if build else 'loads'} {need.loads}")
    return " ".join(names), ", ".join(why)


def _library_key(name: str) -> str:
    return name.removeprefix("lib").split(".so")[0].lower()


def missing_library(log: str) -> tuple[str, str | None] | None:
    """The shared library a log says could not be loaded, and the Debian package that ships it
    (None when the table does not know it)."""
    match = MISSING.search(log)
    if match is None:
        return None
    library = next(group for group in match.groups() if group)
    key = _library_key(library)
    for known in sorted(LIBRARY_PACKAGES, key=len, reverse=True):
        if key == known or re.fullmatch(re.escape(known) + r"[-.\d]*", key):
            return library, LIBRARY_PACKAGES[known]
    return library, None
