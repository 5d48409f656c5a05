"""SQL of the customer portal: a customer's own metering points, supply periods and contracts.

Everything is found from the customer's id (the portal token's) alone; a supply period that was
rolled back (an erroneous switch) was never the customer's supply and is left out.
"""

from __future__ import annotations

import uuid

import asyncpg


async def customer(conn: asyncpg.Connection, customer_id: uuid.UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT * FROM party WHERE party_id = $1 AND role = 'customer'", customer_id
    )
    return row


async def supply(conn: asyncpg.Connection, customer_id: uuid.UUID) -> list[asyncpg.Record]:
    """The customer's supply periods with their metering point's master data and the DAR id
    of its address (from the signup or the imported row), by GSRN and start."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """SELECT sp.gsrn, sp.start_date, sp.end_date, sp.status,
                  m.grid_area, m.price_area, m.metering_point_type, m.settlement_method,
                  m.resolution,
                  coalesce(s.dar_id, (SELECT r.dar_id FROM imported_row r
                                      WHERE r.supply_period_id = sp.supply_period_id
                                      LIMIT 1)) AS dar_id
           FROM supply_period sp
           LEFT JOIN metering_points m USING (gsrn)
           LEFT JOIN signup s ON s.signup_id = sp.signup_id
           WHERE sp.customer_id = $1 AND sp.status <> 'rolled_back'
             AND (sp.end_date IS NULL OR sp.end_date > sp.start_date)
           ORDER BY sp.gsrn, sp.start_date""",
        customer_id,
    )
    return rows


async def contracts(conn: asyncpg.Connection, customer_id: uuid.UUID) -> list[asyncpg.Record]:
    """The customer's contracts with the product and the price version each signed."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """SELECT c.gsrn, c.start_date, c.end_date, c.billing_frequency, c.payment_model,
                  p.name, p.description, p.green_energy,
                  v.version, v.valid_from, v.price_type, v.margin_dkk_per_kwh,
                  v.fixed_price_dkk_per_kwh, v.subscription_dkk_per_month
           FROM contract c
           JOIN supply_period sp USING (supply_period_id)
           JOIN product p ON p.product_id = c.product_id
           JOIN product_version v
             ON v.product_id = c.product_id AND v.version = c.product_version
           WHERE c.customer_id = $1 AND sp.status <> 'rolled_back'
             AND (c.end_date IS NULL OR c.end_date > c.start_date)
           ORDER BY c.gsrn, c.start_date""",
        customer_id,
    )
    return rows
