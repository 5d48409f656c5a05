"""Gateway rules: API keys, scopes and rate limits. No I/O."""
