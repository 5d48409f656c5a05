"""Portfolio adapters: SQL repositories."""
