"""Portfolio: products, signups, customers, metering points, supply periods, BRS processes."""
