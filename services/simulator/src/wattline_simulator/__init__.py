"""A DataHub 3 simulator that speaks the B2B protocol, for local runs and tests."""
