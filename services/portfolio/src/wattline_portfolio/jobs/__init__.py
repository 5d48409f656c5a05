"""Long work outside consumer callbacks and requests."""
