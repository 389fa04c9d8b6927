"""Sales figures: the orders file read by pyarrow, summed with pandas and NumPy (no Flask)."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.csv

ORDERS_FILE = Path(__file__).with_name("orders.csv")
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def load_orders(path: Path = ORDERS_FILE) -> pd.DataFrame:
    """One row per order; amounts in cents (integers), so sums are exact."""
    table = pyarrow.csv.read_csv(path)
    orders = table.to_pandas(types_mapper=pd.ArrowDtype)
    orders["month"] = orders["date"].astype(str).str.slice(0, 7)
    orders["cents"] = np.rint(orders["amount"].astype("float64") * 100).astype("int64")
    return orders


def _money(cents: int) -> str:
    return str(Decimal(int(cents)).scaleb(-2).quantize(Decimal("0.01")))


def monthly_report(orders: pd.DataFrame, month: str) -> dict[str, object]:
    """Orders, revenue and revenue per region of one month ("2024-03")."""
    if not MONTH.match(month):
        raise ValueError(f"month must look like 2024-03, not {month!r}")
    chosen = orders[orders["month"] == month]
    by_region = chosen.groupby("region", sort=True)["cents"].sum()
    return {
        "month": month,
        "orders": len(chosen),
        "revenue": _money(int(chosen["cents"].sum())),
        "top_region": str(by_region.idxmax()) if len(by_region) else None,
        "regions": {str(region): _money(int(cents)) for region, cents in by_region.items()},
    }
