"""DataHub 3 CIM JSON: typed documents, parsing, building and validation."""
