"""Stand-in images only (never in a lesson): give package files PyPI's own cache headers, and
keep Debian's own Python modules off the path, as the official image's Python never sees them.

PyPI serves every file with `Cache-Control: max-age=365000000, immutable, public`, so pip keeps
downloaded wheels in its HTTP cache. The TLS-intercepting proxy of our CI machines drops that
header, and pip then caches nothing: BuildKit cache mounts (lesson 06) would look useless for
pip and pipenv. This puts the header back on responses that arrive without one, as PyPI sends
it. See docs/test-engine.md.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys
from types import ModuleType
from typing import Any

# pip's own, and pipenv's vendored copy (pipenv.patched.pip._vendor...).
TARGET = "pip._vendor.cachecontrol.adapter"
FILE_HOSTS = ("files.pythonhosted.org",)
PYPI_FILE_HEADER = "max-age=365000000, immutable, public"


def _patch(module: ModuleType) -> None:
    adapter = getattr(module, "CacheControlAdapter", None)
    if adapter is None:
        return
    original = adapter.build_response

    def build_response(self: Any, request: Any, response: Any, *args: Any, **kwargs: Any) -> Any:
        host = (request.url or "").split("/")[2:3]
        if host and host[0] in FILE_HOSTS and "cache-control" not in response.headers:
            response.headers["Cache-Control"] = PYPI_FILE_HEADER
        return original(self, request, response, *args, **kwargs)

    adapter.build_response = build_response


class _PatchOnImport(importlib.abc.MetaPathFinder):
    busy = False

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if self.busy or (name != TARGET and not name.endswith("." + TARGET)):
            return None
        self.busy = True  # find the real spec without asking this finder again
        try:
            spec = importlib.util.find_spec(name)
        finally:
            self.busy = False
        if spec is None or spec.loader is None:
            return spec
        spec.loader = _PatchingLoader(spec.loader)
        return spec


class _PatchingLoader(importlib.abc.Loader):
    """Wraps this one module's loader (a zipimporter is shared by every module of its zip)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def create_module(self, spec: Any) -> Any:
        return self.inner.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self.inner.exec_module(module)
        _patch(module)


sys.meta_path.insert(0, _PatchOnImport())


# The official image's Python (built in /usr/local) never sees the modules Debian's own python3
# keeps in /usr/lib/python3/dist-packages (those of mercurial and of GLib's build tools, which
# the full image has). In a stand-in both are one interpreter: that folder leaves its path, so
# pip sees what the official image's pip sees, and never tries to upgrade a Debian package
# (it cannot: uninstall-no-record-file).
DEBIAN_MODULES = "/usr/lib/python3/dist-packages"
sys.path[:] = [entry for entry in sys.path if entry != DEBIAN_MODULES]
