"""Exact analytics over both tiers: daily active users, top events, retention, listing."""
