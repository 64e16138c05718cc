"""`latest_date_sql`: one query for a service's latest effective date among its records."""

from __future__ import annotations

from shared.effective import latest_date_sql


def test_every_column_of_every_table_counts_once() -> None:
    sql = latest_date_sql({"deliveries_view": ("delivered_on",), "families": ("enrolled_on", "exited_on")})

    assert sql == (
        "select greatest((select max(delivered_on) from deliveries_view),"
        " (select max(enrolled_on) from families), (select max(exited_on) from families))"
    )
