"""workdays-service: a small Flask API on top of a private package (lesson 10's app)."""

from workdays_service.app import create_app

app = create_app()

__all__ = ["app", "create_app"]
