"""`buildlab doctor [--fix]`: a working engine with buildx, the pinned base images and a local
image registry."""

from __future__ import annotations

from buildlab.engine import ensure_engine
from buildlab.registry import ensure_registry
from buildlab.standin import ensure_base_images


def doctor(*, fix: bool) -> None:
    ensure_engine(fix=fix)
    ensure_base_images(fix=fix)
    ensure_registry(fix=fix)
