"""Intent names that more than one part of the assistant acts on: the NLU
components or channels that set them, and the actions that answer them.
One home, so a rename cannot leave one part behind (tests/test_data.py
checks that the domain knows each)."""

URGENT_EMERGENCY = "urgent_emergency"  # set by the red-flag gate (components/red_flags.py)
URGENT_CLINIC = "urgent_clinic"
URGENT_INTENTS = frozenset({URGENT_EMERGENCY, URGENT_CLINIC})
# Rasa's name for "not understood" (its DEFAULT_NLU_FALLBACK_INTENT_NAME),
# given by the FallbackClassifier and by components/unknown_words.py.
FALLBACK_INTENT = "nlu_fallback"
OTHER_LANGUAGE_INTENT = "other_language"  # components/unknown_words.py
ATTACHMENT_INTENT = "sent_attachment"  # a photo or file, from the Messenger/WhatsApp connectors
BOOKING_INTENT = "book_consultation"
