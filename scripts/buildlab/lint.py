"""hadolint on lesson Dockerfiles (the repository's documented config), and the GitHub Actions
workflows checked against GitHub's workflow schema (check-jsonschema's vendored copy)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from buildlab.paths import ROOT

CONFIG = ROOT / ".hadolint.yaml"


def hadolint(dockerfile: Path) -> tuple[bool, str]:
    binary = Path(sys.executable).parent / "hadolint"
    result = subprocess.run([str(binary), "--config", str(CONFIG), dockerfile.name],
                            cwd=dockerfile.parent, capture_output=True, text=True, check=False)
    return result.returncode == 0, (result.stdout + result.stderr).strip()


WORKFLOWS = ROOT / ".github" / "workflows"


def workflow_lint() -> tuple[bool, str]:
    binary = Path(sys.executable).parent / "check-jsonschema"
    files = sorted(str(p) for p in WORKFLOWS.glob("*.y*ml"))
    if not files:
        return False, f"no workflow in {WORKFLOWS}"
    result = subprocess.run([str(binary), "--builtin-schema", "vendor.github-workflows", *files],
                            capture_output=True, text=True, check=False)
    return result.returncode == 0, (result.stdout + result.stderr).strip()
