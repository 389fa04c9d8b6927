"""dates-service: a small Flask API for calendar arithmetic (the course's primary app)."""

from dates_service.app import create_app

app = create_app()

__all__ = ["app", "create_app"]
