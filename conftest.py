"""Shared fixtures: real PostgreSQL and a real Kafka-protocol broker (see wattline_platform.testing)."""

pytest_plugins = ["wattline_platform.testing"]
