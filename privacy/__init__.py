"""Keeping visitors' personal data out of what the assistant stores."""
