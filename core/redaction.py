"""Phone numbers and email addresses, found in free text and masked.

Rules, applied in this order:
  1. email addresses (something@domain.tld)            -> [email]
  2. phone numbers phonenumbers finds (any format, the
     clinic's region for numbers without a country code) -> [phone]
  3. any other run of 7 or more digits, with spaces,
     dashes, dots or brackets between them               -> [phone]
The clinic's own published phone and email are kept.
"""
import re
from typing import Iterable

import phonenumbers

EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
DIGIT_RUN = re.compile(r"\+?\d(?:[\s().-]*\d){6,}")


def redact(text: str, region: str, keep: Iterable[str] = ()) -> str:
    kept = {value.lower() for value in keep}
    digits_kept = {re.sub(r"\D", "", value) for value in keep if re.search(r"\d", value)}

    def mask(label: str, found: str) -> str:
        if found.lower() in kept or re.sub(r"\D", "", found) in digits_kept - {""}:
            return found
        return label

    text = EMAIL.sub(lambda match: mask("[email]", match.group()), text)
    for match in reversed(list(phonenumbers.PhoneNumberMatcher(
            text, region, leniency=phonenumbers.Leniency.POSSIBLE))):
        text = text[:match.start] + mask("[phone]", match.raw_string) + text[match.end:]
    return DIGIT_RUN.sub(lambda match: mask("[phone]", match.group()), text)
