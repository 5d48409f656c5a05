"""Settlement domain: pure rules, no I/O."""
