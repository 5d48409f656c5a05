"""The simulated DataHub's use cases, one module each: load, decide (domain), save, queue."""
