"""Eventide: an event-analytics server with a GraphQL API."""

__version__ = "0.1.0"
