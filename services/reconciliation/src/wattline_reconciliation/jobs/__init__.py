"""Long work outside consumer callbacks."""
