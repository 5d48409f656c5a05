"""Settlement: metering data, prices, charges, the settlement engine and corrections."""
