"""Custom components of the Rasa NLU pipeline (named in config.yml)."""
