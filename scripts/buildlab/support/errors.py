"""Errors the CLI turns into one clear line and an exit code (never a traceback)."""

from __future__ import annotations


class BuildlabError(Exception):
    """A failure with a message meant for a person. exit_code 2 means bad input."""

    exit_code = 1

    def __init__(self, message: str, *, detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


class UsageError(BuildlabError):
    """Unknown lesson, variant, app or a malformed argument."""

    exit_code = 2


class EngineError(BuildlabError):
    """No usable Docker engine, and none can be provided here."""

    exit_code = 3


class BuildFailed(BuildlabError):
    """docker build exited non-zero; detail holds the failing step's log tail, log all of it."""

    exit_code = 4

    def __init__(self, message: str, *, detail: str = "", log: str = "") -> None:
        super().__init__(message, detail=detail)
        self.log = log


class CommandFailed(BuildlabError):
    """A command run in a throw-away container exited non-zero; detail holds its output."""


class ContainerFailed(BuildlabError):
    """The container exited or never answered; detail holds its logs."""

    exit_code = 5


class PushFailed(BuildlabError):
    """docker push to the local registry failed; detail holds its output."""

    exit_code = 6
