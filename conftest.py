"""Shared fixtures: real PostgreSQL and a Kafka-protocol broker (wattline_platform.testing)."""

pytest_plugins = ["wattline_platform.testing"]
