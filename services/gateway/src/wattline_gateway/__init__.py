"""The thin public gateway: API keys, routing to services, rate limits, one OpenAPI document."""
