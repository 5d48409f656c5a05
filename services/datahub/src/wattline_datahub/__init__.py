"""DataHub 3 integration: OAuth2 client, queue polling, CIM JSON, outbound BRS requests."""
