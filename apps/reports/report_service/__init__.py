"""report-service: monthly sales reports with pandas and pyarrow (the course's heavy app)."""

from report_service.app import create_app

app = create_app()

__all__ = ["app", "create_app"]
