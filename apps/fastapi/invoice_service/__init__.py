"""invoice-service: a small FastAPI API that prices invoices (the course's second app)."""

from invoice_service.app import app, create_app

__all__ = ["app", "create_app"]
