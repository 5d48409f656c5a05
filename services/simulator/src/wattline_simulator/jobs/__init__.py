"""Long work of the simulator: catching the daily generation up with the clock."""
