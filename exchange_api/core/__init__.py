"""Configuration, database and request-security plumbing of the exchange service."""
