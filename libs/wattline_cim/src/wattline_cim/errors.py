"""The one exception type of this package."""


class CimError(ValueError):
    """A CIM document is unparseable or invalid; the message is a one-line human reason."""
