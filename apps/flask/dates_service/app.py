"""HTTP routes. Calendar logic lives in dates_service.calendar."""

from __future__ import annotations

from flask import Flask, jsonify, request
from werkzeug.exceptions import BadRequest

from dates_service import calendar


def create_app() -> Flask:
    app = Flask(__name__)

    @app.get("/health")
    def health():  # type: ignore[no-untyped-def]
        return jsonify(status="ok")

    @app.get("/api/age")
    def age():  # type: ignore[no-untyped-def]
        born = _date_arg("birthdate")
        on = _date_arg("on", required=False)
        return jsonify(calendar.age(born, on))

    @app.get("/api/add")
    def add():  # type: ignore[no-untyped-def]
        start = _date_arg("date")
        try:
            months = int(request.args.get("months", "0"))
            days = int(request.args.get("days", "0"))
        except ValueError as exc:
            raise BadRequest("months and days must be integers") from exc
        return jsonify(date=calendar.add(start, months=months, days=days).isoformat())

    @app.errorhandler(BadRequest)
    def bad_request(error: BadRequest):  # type: ignore[no-untyped-def]
        return jsonify(error=error.description), 400

    return app


def _date_arg(name: str, *, required: bool = True) -> calendar.date | None:
    raw = request.args.get(name)
    if raw is None:
        if required:
            raise BadRequest(f"missing query parameter {name!r}")
        return None
    try:
        return calendar.parse_date(raw)
    except ValueError as exc:
        raise BadRequest(f"{name}: {exc}") from exc
