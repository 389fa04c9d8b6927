"""`buildlab demo`: build every lesson for one tool and print what the course is about.

For each lesson: a cold build (`--no-cache`, base image present), a rebuild after a code-only
change, whether that rebuild re-ran the dependency install, and the image size.
"""

from __future__ import annotations

import os

from buildlab import docker
from buildlab.engine import require_engine, server_version
from buildlab.manifest import Manifest, Variant
from buildlab.pins import load_pins
from buildlab.scenarios import dependency_step, make_code_change, scratch_copy
from buildlab.standin import is_stand_in


def machine_line() -> str:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} CPUs, {memory:.0f} GiB memory, Docker engine {server_version()}"


def demo(manifest: Manifest, tool: str) -> None:
    require_engine()
    rows = []
    bases = set()
    try:
        for lesson in manifest.lessons:
            if tool not in lesson.variants:
                continue
            variant = Variant(lesson, tool)
            app = manifest.apps[lesson.app]
            tag = docker.image_tag(variant.name)
            image = load_pins().image(lesson.base)
            bases.add(f"{image} ({'local stand-in' if is_stand_in(image) else 'real image'})")
            print(f"demo: {variant.name}: cold build ...", flush=True)
            with scratch_copy(variant) as context:
                cold = docker.build(context, tag, extra_args=["--no-cache"])
                make_code_change(context, app)
                print(f"demo: {variant.name}: rebuild after a code change ...", flush=True)
                warm = docker.build(context, tag)
                step = dependency_step(warm, variant)
            rows.append((lesson.id, f"{cold.seconds:.1f}", f"{warm.seconds:.1f}",
                         "cached" if step.cached else "re-ran",
                         f"{docker.image_size(tag) / 1e6:.0f}"))
    finally:
        docker.cleanup()
    headers = ("lesson", "cold build (s)", "code-change rebuild (s)", "dependency install",
               "image size (MB)")
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    print()
    print(f"{tool}: measured just now on this machine ({machine_line()})")
    print(f"base images: {', '.join(sorted(bases))}")
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
