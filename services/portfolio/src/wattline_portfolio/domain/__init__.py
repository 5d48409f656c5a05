"""Portfolio domain: pure rules, no I/O."""
