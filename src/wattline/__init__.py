"""The `wattline` command: run the system on the embedded stack and operate it."""
