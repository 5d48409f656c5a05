"""Long work outside consumer callbacks: the pollers of DataHub's queues and the sender."""
