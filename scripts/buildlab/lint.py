"""hadolint on lesson Dockerfiles, with the repository's documented config."""

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
