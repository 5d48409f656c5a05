"""Long work outside consumer callbacks: sending the deliveries."""
