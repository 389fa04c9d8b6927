"""HTTP routes. Pricing lives in invoice_service.models."""

from __future__ import annotations

from fastapi import FastAPI

from invoice_service.models import InvoiceRequest, InvoiceTotals, price


def create_app() -> FastAPI:
    api = FastAPI(title="invoice-service")

    @api.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @api.post("/api/invoices/quote")
    def quote(invoice: InvoiceRequest) -> InvoiceTotals:
        return price(invoice)

    return api


app = create_app()
