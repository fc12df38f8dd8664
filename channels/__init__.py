"""The channels visitors talk through (named in credentials.yml)."""
