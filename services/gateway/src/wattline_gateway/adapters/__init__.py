"""Gateway adapters: API key storage."""
