"""The gateway consumes no events: it only routes HTTP."""
