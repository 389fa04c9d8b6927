"""HTTP routes. Working-day logic lives in workdays_service.schedule."""

from __future__ import annotations

from datetime import date

from flask import Flask, jsonify, request
from werkzeug.exceptions import BadRequest

from workdays_service import schedule


def create_app() -> Flask:
    app = Flask(__name__)

    @app.get("/health")
    def health():  # type: ignore[no-untyped-def]
        return jsonify(status="ok")

    @app.get("/api/workdays")
    def workdays():  # type: ignore[no-untyped-def]
        start, end = _date_arg("from"), _date_arg("to")
        try:
            return jsonify(schedule.span(start, end))
        except ValueError as exc:
            raise BadRequest(str(exc)) from exc

    @app.errorhandler(BadRequest)
    def bad_request(error: BadRequest):  # type: ignore[no-untyped-def]
        return jsonify(error=error.description), 400

    return app


def _date_arg(name: str) -> date:
    raw = request.args.get(name)
    if raw is None:
        raise BadRequest(f"missing query parameter {name!r}")
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise BadRequest(f"{name}: not a date (YYYY-MM-DD): {raw!r}") from exc
