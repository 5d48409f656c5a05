"""The datahub service layer: one module per use case, each one transaction (state + outbox).

``inbound``: keep a message DataHub sent with its events (or its dead-letter reason);
``polling``: keep one message of a queue and dequeue it; ``parsing``: where a message is
parsed (a thread, a process pool); ``requests``: record a request
to DataHub as a sealed document, send what is pending; ``calls``: call DataHub until it
answers; ``leases``: one replica at a time runs a job.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from wattline_platform.pii import PiiCipher

from wattline_datahub.adapters.datahub_client import DataHubClient
from wattline_datahub.handlers.parsing import Parse, in_thread
from wattline_datahub.settings import DatahubService, DatahubSettings


@dataclass
class Datahub:
    """What every use case works with: the service (database, outbox), its settings, the
    DataHub client, the cipher that seals personal data at rest (None: no PII key, so a
    request carrying a sealed customer id fails and documents are kept unsealed) and where
    received messages are parsed (a thread unless a process pool is given)."""

    service: DatahubService
    settings: DatahubSettings
    client: DataHubClient
    cipher: PiiCipher | None = None
    parse: Parse = field(default=in_thread)
