from fastapi.testclient import TestClient

from invoice_service import create_app

client = TestClient(create_app())

QUOTE = {
    "currency": "EUR",
    "tax_rate": "0.2",
    "items": [
        {"description": "coffee", "quantity": 3, "unit_price": "2.50"},
        {"description": "cake", "quantity": 1, "unit_price": "4.15"},
    ],
}


def test_health() -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_quote_adds_tax_with_cent_rounding() -> None:
    response = client.post("/api/invoices/quote", json=QUOTE)
    assert response.status_code == 200
    assert response.json() == {
        "currency": "EUR",
        "subtotal": "11.65",
        "tax": "2.33",
        "total": "13.98",
    }


def test_validation_rejects_empty_invoice() -> None:
    response = client.post("/api/invoices/quote", json={**QUOTE, "items": []})
    assert response.status_code == 422


def test_validation_rejects_bad_currency() -> None:
    response = client.post("/api/invoices/quote", json={**QUOTE, "currency": "euro"})
    assert response.status_code == 422
