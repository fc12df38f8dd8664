"""Staff tooling of the microneedling clinic assistant."""
