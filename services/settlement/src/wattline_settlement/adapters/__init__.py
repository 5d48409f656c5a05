"""Settlement adapters: SQL repositories."""
