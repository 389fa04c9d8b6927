import pytest

from report_service import create_app, summary


@pytest.fixture()
def client():  # type: ignore[no-untyped-def]
    return create_app().test_client()


def test_health(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/health").get_json() == {"status": "ok"}


def test_march_report(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/report?month=2024-03")
    assert response.get_json() == {
        "month": "2024-03", "orders": 4, "revenue": "391.50", "top_region": "north",
        "regions": {"north": "245.00", "south": "146.50"},
    }


def test_a_month_without_orders(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/report?month=2023-12")
    assert response.get_json() == {"month": "2023-12", "orders": 0, "revenue": "0.00",
                                   "top_region": None, "regions": {}}


def test_bad_month_is_a_400(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/report?month=march")
    assert response.status_code == 400
    assert "2024-03" in response.get_json()["error"]


def test_cents_are_exact() -> None:
    orders = summary.load_orders()
    assert summary.monthly_report(orders, "2024-02")["revenue"] == "99.99"
