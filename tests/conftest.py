"""Shared fixtures. In CI (CI=true or BUILDLAB_FORBID_SKIPS=1) every skip becomes a failure."""

from __future__ import annotations

import os
from collections.abc import Generator

import pytest

from buildlab.course.manifest import load_manifest
from buildlab.course.model import Manifest

FORBID_SKIPS = os.environ.get("CI") == "true" or os.environ.get("BUILDLAB_FORBID_SKIPS") == "1"


@pytest.fixture(scope="session")
def manifest() -> Manifest:
    return load_manifest()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if FORBID_SKIPS and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped, and skips are failures in CI: {reason}"
    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """What the claim tests measured on their way (requests served, stop times, digests)."""
    from helpers import CONTROL_FAILURES, FACTS

    if FACTS:
        terminalreporter.section("figures the claim tests measured")
        for line in FACTS:
            terminalreporter.write_line(line)
    if CONTROL_FAILURES:
        terminalreporter.section("negative controls: where each claim's check failed, as it must")
        for line in CONTROL_FAILURES:
            terminalreporter.write_line(line)
