"""Settlement's service layer, one module per use case: load (adapters) -> decide (domain) ->
save + outbox, one transaction. Event handlers run inside the consumer's transaction (the
inbox already recorded); the API's writes open their own."""
