"""hadolint on lesson Dockerfiles (the repository's documented config), and the GitHub Actions
workflows and Dependabot config checked against their schemas (check-jsonschema's vendored
copies)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from buildlab.support.paths import ROOT

CONFIG = ROOT / ".hadolint.yaml"


def hadolint(dockerfile: Path) -> tuple[bool, str]:
    binary = Path(sys.executable).parent / "hadolint"
    result = subprocess.run(
        [str(binary), "--config", str(CONFIG), dockerfile.name],
        cwd=dockerfile.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    return result.returncode == 0, (result.stdout + result.stderr).strip()


WORKFLOWS = ROOT / ".github" / "workflows"
DEPENDABOT = ROOT / ".github" / "dependabot.yml"


def workflow_lint() -> tuple[bool, str]:
    """The workflows and the Dependabot config, each against its schema."""
    binary = Path(sys.executable).parent / "check-jsonschema"
    files = sorted(str(p) for p in WORKFLOWS.glob("*.y*ml"))
    if not files:
        return False, f"no workflow in {WORKFLOWS}"
    outputs, ok = [], True
    for schema, paths in (
        ("vendor.github-workflows", files),
        ("vendor.dependabot", [str(DEPENDABOT)]),
    ):
        result = subprocess.run(
            [str(binary), "--builtin-schema", schema, *paths],
            capture_output=True,
            text=True,
            check=False,
        )
        ok = ok and result.returncode == 0
        outputs.append((result.stdout + result.stderr).strip())
    return ok, "\n".join(outputs)
