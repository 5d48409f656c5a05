"""The simulator stands in for DataHub: it talks HTTP, not Kafka."""
