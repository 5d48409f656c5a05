"""Pure rules of notifications: kinds, preferences, Danish formatting, retry backoff."""
