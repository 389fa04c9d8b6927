"""Where a measurement ran: the machine, the engine and the repository's commit."""

from __future__ import annotations

import os
import platform
import re
import subprocess
from pathlib import Path
from typing import Any

from buildlab.engine.daemon import server_version, uses_containerd_store
from buildlab.support.paths import ROOT
from buildlab.support.proc import run


def machine() -> dict[str, Any]:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cpus": os.cpu_count() or 0,
        "memory_gib": round(memory, 1),
        "cpu_model": model,
        "kernel": platform.release(),
        "arch": platform.machine(),
    }


def engine_facts() -> dict[str, str]:
    out = run(["docker", "buildx", "inspect"], check=False).stdout
    found = re.search(r"BuildKit version:\s*(\S+)", out) or re.search(r"Buildkit:\s*(\S+)", out)
    return {
        "docker": server_version(),
        "buildkit": found.group(1) if found else "unknown",
        "image_store": "containerd" if uses_containerd_store() else "classic",
    }


def repository() -> dict[str, Any]:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()

    return {
        "commit": git("rev-parse", "HEAD") or "unknown",
        "dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
    }
