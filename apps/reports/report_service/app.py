"""HTTP routes. The numbers come from report_service.summary."""

from __future__ import annotations

from flask import Flask, jsonify, request
from werkzeug.exceptions import BadRequest

from report_service import summary


def create_app() -> Flask:
    app = Flask(__name__)
    orders = summary.load_orders()

    @app.get("/health")
    def health():  # type: ignore[no-untyped-def]
        return jsonify(status="ok")

    @app.get("/api/report")
    def report():  # type: ignore[no-untyped-def]
        month = request.args.get("month", "")
        try:
            return jsonify(summary.monthly_report(orders, month))
        except ValueError as exc:
            raise BadRequest(str(exc)) from exc

    @app.errorhandler(BadRequest)
    def bad_request(error: BadRequest):  # type: ignore[no-untyped-def]
        return jsonify(error=error.description), 400

    return app
