"""Eventide's Python SDK: track events, and they reach the server once each.

from eventide_sdk import Client

client = Client("https://eventide.example.com/graphql", "evt_...", project="1")
client.identify("user-42")
client.track("signup", {"plan": "pro"})
"""

from eventide_sdk._delivery import Backoff, Stats
from eventide_sdk._uuid7 import uuid7
from eventide_sdk.async_client import AsyncClient
from eventide_sdk.client import Client

__all__ = ["AsyncClient", "Backoff", "Client", "Stats", "uuid7"]
