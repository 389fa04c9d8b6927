"""A bounded HTTP load from loopback, with a stop in the middle: what `docker stop` does to the
requests of a busy server (lesson 07's no-request-lost-on-stop claim).

Each client sends the app's probe request on a new connection, again and again, until the
load's own deadline: it stops by itself, whatever the server does.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from buildlab.course.model import Probe


@dataclass(frozen=True)
class Request:
    started: float  # time.monotonic() before connecting
    finished: float
    status: int | None  # None: no response (refused, reset, closed)
    body: Any  # the parsed JSON body, or the raw text when it is not JSON
    error: str | None  # the client's exception, when there is no complete response

    @property
    def ok(self) -> bool:
        return self.status is not None and self.error is None


@dataclass(frozen=True)
class LoadRun:
    requests: list[Request]
    stop_started: float  # when `stop` was called (SIGTERM follows at once)
    stop_finished: float

    @property
    def stop_seconds(self) -> float:
        return self.stop_finished - self.stop_started

    def queue_margin(self, floor: float) -> float:
        """The longest response time of the requests answered before the stop (at least
        `floor`): a request sent less than this before the stop may still have been waiting in
        the listen queue, unseen by the server, when SIGTERM closed the listener."""
        return max([floor, *(r.finished - r.started for r in self.answered_before_stop())])

    def answered_before_stop(self) -> list[Request]:
        return [r for r in self.requests if r.ok and r.finished <= self.stop_started]

    def served_per_second(self) -> float:
        served = self.answered_before_stop()
        first = min((r.started for r in self.requests), default=self.stop_started)
        return len(served) / max(self.stop_started - first, 1e-9)


def _one(port: int, probe: Probe, timeout: float) -> tuple[int | None, Any, str | None]:
    data = None if probe.body is None else json.dumps(probe.body).encode()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(
            probe.method, probe.path, body=data, headers={"Content-Type": "application/json"}
        )
        response = connection.getresponse()
        raw = response.read()
    except (OSError, http.client.HTTPException) as exc:
        return None, None, f"{type(exc).__name__}: {exc}"
    finally:
        connection.close()
    try:
        return response.status, json.loads(raw), None
    except ValueError:
        return response.status, raw.decode(errors="replace"), None


def run_load(
    port: int,
    probe: Probe,
    stop: Callable[[], object],
    *,
    clients: int,
    seconds: float,
    stop_after: float,
    timeout: float = 15,
) -> LoadRun:
    """`clients` threads send `probe` for `seconds`; `stop` is called `stop_after` seconds in."""
    requests: list[Request] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client() -> None:
        while time.monotonic() < deadline:
            started = time.monotonic()
            status, body, error = _one(port, probe, timeout)
            with lock:
                requests.append(Request(started, time.monotonic(), status, body, error))
            if error is not None:
                time.sleep(0.01)  # refused: do not spin

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    time.sleep(stop_after)
    stop_started = time.monotonic()
    stop()
    stop_finished = time.monotonic()
    for thread in threads:
        thread.join(timeout=seconds + timeout + 5)
    with lock:
        return LoadRun(sorted(requests, key=lambda r: r.started), stop_started, stop_finished)
