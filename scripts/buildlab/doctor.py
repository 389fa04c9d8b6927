"""`buildlab doctor [--fix]`: what the Docker tier needs: a working engine with buildx, the
pinned base images, a local image registry, Docker Compose (lesson 09's development loop) and
a private package index (lesson 10); and a headless Chromium for the docs site."""

from __future__ import annotations

from buildlab.browser import ensure_browser
from buildlab.compose import ensure_compose
from buildlab.engine import ensure_engine
from buildlab.private_index import ensure_private_index
from buildlab.registry import ensure_registry
from buildlab.standin import ensure_base_images


def doctor(*, fix: bool) -> None:
    ensure_engine(fix=fix)
    ensure_base_images(fix=fix)
    ensure_registry(fix=fix)
    ensure_compose(fix=fix)
    ensure_private_index(fix=fix)
    ensure_browser(fix=fix)
