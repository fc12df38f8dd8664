"""The clinic's business, in plain Python: no Rasa here.

    knowledge   the FAQ topics and the clinic profile (knowledge/), validated
    booking     reading a visitor's booking answers (name, contact, time)
    store       the booking requests in their database
    notify      emailing the clinic about new requests
    redaction   masking phone numbers and emails in text
    erasure     forgetting a visitor: their bookings and conversations
    intents     the intent names several parts act on
    paths       where the project's files are

The Rasa glue imports these: actions/ (the action server), stores/ (the
Rasa server's tracker and lock stores), channels/ and components/. Nothing
here imports them, nor Rasa: pyproject.toml's [tool.importlinter] contracts
say so and tests/test_layers.py checks them.
"""
