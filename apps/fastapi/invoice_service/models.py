"""Request and response models: pydantic does the validation."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from pydantic import BaseModel, Field

CENT = Decimal("0.01")


class Item(BaseModel):
    description: str = Field(min_length=1, max_length=200)
    quantity: int = Field(gt=0, le=10_000)
    unit_price: Decimal = Field(ge=0, max_digits=12, decimal_places=2)


class InvoiceRequest(BaseModel):
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    tax_rate: Decimal = Field(ge=0, le=1, description="0.2 means 20 %")
    items: list[Item] = Field(min_length=1)


class InvoiceTotals(BaseModel):
    currency: str
    subtotal: Decimal
    tax: Decimal
    total: Decimal


def price(invoice: InvoiceRequest) -> InvoiceTotals:
    subtotal = sum((item.unit_price * item.quantity for item in invoice.items), Decimal(0))
    tax = (subtotal * invoice.tax_rate).quantize(CENT, rounding=ROUND_HALF_UP)
    return InvoiceTotals(
        currency=invoice.currency,
        subtotal=subtotal.quantize(CENT),
        tax=tax,
        total=(subtotal + tax).quantize(CENT),
    )
