"""Reading and checking what a visitor gives in the booking conversation.

Plain functions with no Rasa in them: each takes the visitor's text and
returns the value to store, or raises `Invalid` with the name of the
response that asks again (`utter_invalid_<slot>...` in domain.yml).
"""
from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import Optional
from zoneinfo import ZoneInfo

import parsedatetime
import phonenumbers
from email_validator import EmailNotValidError, validate_email

from core.knowledge import DAY_NAMES, WEEKDAYS, Clinic
from core.language import fold

MAX_NAME = 80
MAX_TREATMENT = 200
# English, then Spanish (compared without accents: "sé" is "se")
SKIP_WORDS = {"skip", "/deny", "no", "nope", "not sure", "don't know", "dont know", "nothing", "n/a", "-",
              "omitir", "saltar", "no se", "no estoy segura", "no estoy seguro", "nada", "ninguno"}
QUESTION_WORDS = {"what", "how", "does", "do", "is", "are", "can", "could", "will", "would",
                  "when", "why", "which", "who", "where", "should", "any", "whats", "what's",
                  "where's", "wheres", "how's", "hows", "who's", "when's",
                  "que", "como", "cuanto", "cuanta", "cuantos", "cuantas", "cuando", "donde",
                  "cual", "cuales", "quien", "puedo", "puede", "duele", "hay", "r"}  # "r u a bot"
FILLERS = {"wait", "ok", "okay", "oh", "um", "hmm", "hang", "on", "actually", "first", "before",
           "that", "hold", "sorry", "quick", "question", "btw", "also", "and", "but", "so",
           "espera", "espere", "oye", "oiga", "perdon", "una", "pregunta", "antes", "y", "pero",
           "ah", "bueno", "pues", "oigan", "disculpe", "tell", "me", "dime", "digame",
           "diganme", "explicame", "cuentame", "quiero", "quisiera", "queria", "saber"}
# parsedatetime's day parts, moved into a clinic's day ("morning" is 06:00 there).
DAY_PARTS = {"morning": 9, "afternoon": 14, "evening": 17}
CALENDAR = parsedatetime.Calendar(version=parsedatetime.VERSION_CONTEXT_STYLE)


class Invalid(ValueError):
    """The answer cannot be used; `response` asks again and says why."""

    def __init__(self, response: str) -> None:
        super().__init__(response)
        self.response = response


# "before i give my name where r u guys located": a question inside a sentence
INVERTED = re.compile(r"\b(?:where|what|when|which|how)\s+(?:r|are|do|does|is|can|will)\s+"
                      r"(?:u|you|ya|y'?all|your|it|the|they)\b")
# "espera, antes dime si duele", "tell me if it hurts": a question asked indirectly
INDIRECT = re.compile(r"\b(?:dime|digame|diganme|cuentame|saber|tell me|know|wondering|wonder)\s+"
                      r"(?:si|if|whether)\b")


# "el jueves temprano, como a las 9": "como" is "about", not "cómo"
ABOUT_A_TIME = re.compile(r"^como (?:a las|a la|a eso de|las|al|entre|por la|en la)\b")


def looks_like_question(text: str) -> bool:
    """Ends with "?", or a part of it starts with a question word, perhaps
    after a filler ("wait, how long is the recovery", "ok and does it hurt")."""
    if "?" in text or "¿" in text:
        return True
    for part in re.split(r"[,.;:!]|\b(?:and|but|so|also|then|y|pero|entonces)\b", fold(text)):
        words = [word for word in part.split() if word not in FILLERS]
        if words and words[0] in QUESTION_WORDS and not ABOUT_A_TIME.match(" ".join(words)):
            return True
    return bool(re.search(r"\bhow (?:much|long|many|soon|often)\b", text.lower())
                or INVERTED.search(fold(text)) or INDIRECT.search(fold(text)))


def last_sentence(text: str) -> str:
    """The text's last sentence with words in it ("" if none)."""
    sentences = [sentence for sentence in SENTENCE.findall(text) if sentence.strip(" .?!")]
    return sentences[-1] if sentences else ""


def ends_asking(text: str) -> bool:
    """Whether the last sentence is a question: "ahorita no tengo brote, eso
    importa?" asks, "mmm guardar mis datos? no, mejor no" answers."""
    last = last_sentence(text)
    return bool(last) and looks_like_question(last)


# "acne scars. sorry my Spanish is not great, can we do this in English?",
# "my face please, sorry I prefer English": the sentence or clause asking for
# the other language is no part of the answer
LANGUAGE_REQUEST = re.compile(r"\b(?:in english|en ingl[eé]s|in spanish|en espa[ñn]ol|"
                              r"prefer (?:english|spanish)|prefiero (?:ingl[eé]s|espa[ñn]ol)|"
                              r"english (?:please|pls)|espa[ñn]ol (?:por favor|porfa)|"
                              r"(?:back|switch|go back) to (?:english|spanish)|"
                              r"(?:volvamos|regresemos|sigamos|cambiemos|mejor) (?:al|en|a) (?:ingl[eé]s|espa[ñn]ol))\b",
                              re.IGNORECASE)
SENTENCE = re.compile(r"[^.?!¿¡]+[.?!]*")
CLAUSE = re.compile(r"[^,;]+")
APOLOGY = re.compile(r"^\W*(?:sorry|perd[oó]n|disculpa|disculpe|lo siento)\b", re.IGNORECASE)
# "can we do this in English? it's easier for me": why, said beside the request
REASON = re.compile(r"\b(?:easier|m[aá]s f[aá]cil|my (?:english|spanish)|mi (?:ingl[eé]s|espa[ñn]ol)|"
                    r"i don'?t (?:speak|read|understand|write)|no (?:hablo|leo|entiendo|escribo))\b",
                    re.IGNORECASE)


def without_language_request(text: str) -> Optional[str]:
    """The rest of a message that asks to go on in English or Spanish (""
    when that is all it says), or None when it asks no such thing."""
    sentences = [sentence.strip() for sentence in SENTENCE.findall(text) if sentence.strip()]
    if not any(LANGUAGE_REQUEST.search(sentence) for sentence in sentences):
        return None
    kept = [sentence if not (LANGUAGE_REQUEST.search(sentence) or REASON.search(sentence)) else
            " ".join(clause.strip() for clause in CLAUSE.findall(sentence)
                     if not (LANGUAGE_REQUEST.search(clause) or REASON.search(clause)
                             or APOLOGY.search(clause)))
            for sentence in sentences]
    return " ".join(part for part in kept if part).strip(" ,;:-")


# "go ahead and store them" says what to go ahead with: a yes, not "carry on"
RESUME = re.compile(r"\b(?:continue|carry on|go on|keep going|proceed|resume|go ahead(?! and)|next|"
                    r"where were we|back to (?:it|the booking)|"
                    r"sigamos|seguimos|sigue|siga|continuar|continua|continue|continuemos|continuamos|"
                    r"adelante|donde ibamos)\b", re.IGNORECASE)


# "why do you need my phone?", "¿para qué quieren guardar mis datos?": a
# question about the consent asked, not an erasure request nor a refusal
WHY_DETAILS = re.compile(r"^\W*(?:why|what for|para que|pa que|por que)\W*$|"
                         r"\b(?:why|what for|what (?:do|will|would) you (?:do|use)|how (?:do|will|would) you use|"
                         r"para que|pa que|por que|que (?:hacen|haran|van a hacer) con|"
                         r"como (?:usan|usaran|van a usar))\b.*\b(?:data|details|info|information|number|phone|"
                         r"email|contact|store|keep|save|datos|informacion|numero|telefono|cel|correo|"
                         r"guardar|guardan|guarden|almacenar)\b")


def asks_why_details(text: str) -> bool:
    """"why do you need my number?": the visitor asks what their details are for."""
    return looks_like_question(text) and bool(WHY_DETAILS.search(fold(text)))


REFUSAL = re.compile(r"^\W*(?:no|nope|nah|not really|mejor no)\b|\b(?:don'?t|do not) want\b|"
                     r"\brather not\b|\bprefer not\b|\bprefiero que no\b|\bno quiero\b",
                     re.IGNORECASE)


AGREEMENT = re.compile(r"^\W*(?:(?:bueno|pues|ah|oh)\W+)?(?:yes|yeah|yep|yup|ye|yea|yeh|yah|sure|ok|okay|of course|confirm|confirmed|correct|"
                       r"that's (?:fine|ok|okay|right|correct)|thats (?:fine|ok|right)|fine|"
                       r"si|claro|dale|de acuerdo|esta bien|va|sale|correcto|por supuesto|acepto|"
                       r"okey|listo|perfecto|envielo|enviela|mandela|mandelo)\b"
                       r"(?!\s*,?\s*(?:but|pero)\b)", re.IGNORECASE)
YES = re.compile(r"^\W*(?:yes|yeah|yep|yup|ye|yea|yeh|yah|si|claro|of course|por supuesto|de acuerdo)\b",
                 re.IGNORECASE)
FIRST_CLAUSE = re.compile(r"[,.;!?]")
CHANGE = re.compile(r"\b(?:change|wrong|fix|correction|update|typo|mistake|not right|incorrect|"
                    r"cambiar|cambia|cambie|cambio|corregir|corrija|corrige|esta mal|equivocad[oa]|"
                    r"error)\b", re.IGNORECASE)


def agrees(text: str) -> bool:
    """"yes you can keep my details", "confirm": a yes that is neither a
    question nor a "yes, but"."""
    return (bool(AGREEMENT.search(fold(text))) and not looks_like_question(text)
            and not asks_to_change(text) and not asks_to_resume(text))


def says_yes(text: str) -> bool:
    """"yes, go ahead", "sí, sigue": a yes word opens the message ("ok" is none)."""
    return bool(YES.search(fold(text)))


def says_yes_first(text: str) -> bool:
    """"yes, that's fine. can we continue in English?": a plain yes, then a
    request that is no question about the treatment ("ok, let's carry on"
    is no yes)."""
    first = FIRST_CLAUSE.split(text)[0]
    return bool(YES.search(fold(first))) and agrees(first)


def asks_to_change(text: str) -> bool:
    """"oops the email is wrong, can i change it?": a correction at the read-back."""
    return bool(CHANGE.search(fold(text)))


MAX_REFUSAL_WORDS = 3  # "..., no, mejor no"; not "... no puedo faltar al trabajo"


def refuses(text: str) -> bool:
    """"nope, i don't want you keeping my details": a no to the consent
    question, opening the message or as its short last sentence ("mmm
    guardar mis datos? no, mejor no", not "..., no puedo faltar al trabajo")."""
    last = last_sentence(fold(text))
    return bool(REFUSAL.search(fold(text)) or (
        len(last.split()) <= MAX_REFUSAL_WORDS and REFUSAL.search(last)))


def asks_to_resume(text: str) -> bool:
    """"ok, let's carry on": back to the step, not an answer to it (a name
    such as "Kim Keep" is no "keep going")."""
    return bool(RESUME.search(fold(text)))


# "ok, it's Natalie Brooks", "my email is ...", "ok, skip": the answer after its lead-in.
LEAD_IN = re.compile(r"^(?:\s*(?:ok|okay|sure|yes|yeah|yep|well|um|oh|alright|"
                     r"s[ií]|claro|bueno|pues|okey)\b[\s,.!:;-]*)*"
                     r"(?:(?:my (?:full )?(?:name|email|e-mail|phone|number|phone number|cell)"
                     r"(?: is|'s)?|name(?: is|'s)|it's|it is|its|i'?m|i am|this is|call me|"
                     r"you can reach me (?:at|on)|me llamo|mi nombre es|soy|"
                     r"mi (?:cel|celular|tel[eé]fono|n[uú]mero|correo|email|e-mail)(?: es)?)"
                     r"\b[\s,:;-]*)?", re.IGNORECASE)


def without_lead_in(text: str) -> str:
    return LEAD_IN.sub("", " ".join(text.split()), count=1) or text.strip()


# "not sure yet, skip", "sáltate eso", "I'd rather say at the consultation"
SKIPPING = re.compile(r"\b(?:skip|omitir|omite|omitelo|saltar|saltalo|saltate|saltatelo|brincalo|"
                      r"(?:decir|dire|digo|decirlo|lo digo|lo dire|tell you|say|decide)\b.*\b"
                      r"(?:consulta|consultation|cita|appointment|visit|alla|there))\b")


def skips(text: str) -> bool:
    """"skip", "ok, skip", "not sure", "not sure yet, skip": no treatment area given."""
    cleaned = fold(without_lead_in(text)).strip(".!")
    return not cleaned or cleaned in SKIP_WORDS or bool(SKIPPING.search(cleaned))


# "ok good. my face please": a yes that goes on to name what to treat
AREA_WORDS = re.compile(r"\b(?:face|neck|hands?|chest|d[eé]colletage|forehead|cheeks?|chin|jaw(?:line)?|"
                        r"nose|lips?|eyes?|scars?|lines|wrinkles|pores|acne|marks|spots|stretch|"
                        r"pigmentation|texture|belly|stomach|thighs|arms|back|scalp|hair|"
                        r"cara|cuello|manos?|pecho|escote|frente|mejillas?|cachetes?|barbilla|nariz|"
                        r"labios?|ojos?|ojeras|cicatri[cz](?:es)?|l[ií]neas|arrugas|poros|acn[eé]|"
                        r"marcas|manchas|estr[ií]as|textura|panza|abdomen|piernas|brazos|espalda|"
                        r"cuero cabelludo|cabello|pelo)\b", re.IGNORECASE)


def names_an_area(text: str) -> bool:
    return bool(AREA_WORDS.search(text))


def treatment_area(text: str) -> str:
    cleaned = without_lead_in(text)
    if skips(text):
        return "not specified"
    if len(cleaned) > MAX_TREATMENT:
        raise Invalid("utter_invalid_treatment_area")
    return cleaned


ASIDE = re.compile(r"\s*\([^()]*\)\s*")  # "Jared Hatch (her dad)": the name is outside


def name(text: str) -> str:
    # "ok igual quiero la consulta, me llamo Daniela Reyes", "ok whatever. Lindsey Park"
    said = NAME_SAID.search(text) or name_last(text)
    text = said.group("name") if said else text
    cleaned = without_lead_in(ASIDE.sub(" ", text).strip() or text).rstrip(" .!")
    if not cleaned or len(cleaned) > MAX_NAME or len(cleaned.split()) > 6:
        raise Invalid("utter_invalid_name")
    if not re.fullmatch(r"[^\W\d_]+(?:[ '’.-][^\W\d_]*)*", cleaned):
        raise Invalid("utter_invalid_name")  # digits, emoji or symbols are not a name
    return cleaned


# Words a request, a question or small talk starts with: "Call Me Back" and
# "Thank You" are no names, "Sadie Call" and "Ty Nguyen" are.
NOT_A_FIRST_NAME = {
    "book", "call", "ring", "phone", "please", "talk", "speak", "can", "could", "i", "i'd", "id",
    "yes", "no", "ok", "okay", "need", "want", "get", "make", "thank", "thanks", "hello", "hi",
    "hey", "good", "great", "sure", "not", "never", "stop", "cancel", "wait", "hold", "what",
    "where", "when", "how", "who", "why", "which", "is", "are", "do", "does", "will", "would",
    "my", "the", "a", "an", "it", "that", "this", "just", "carry", "go", "continue",
    # and alone at the name step ("Sadie" is a name, "Skip" or "Gracias" none)
    "skip", "yeah", "yep", "yup", "nope", "nah", "bye", "later", "fine", "cool", "perfect",
    "hola", "buenas", "buenos", "gracias", "si", "sí", "vale", "listo", "dale", "claro", "sale",
    "bueno", "perfecto", "cancelar", "cancela", "espera", "omitir", "saltar", "sigue", "sigamos",
    "continua", "continúa", "adelante", "perdon", "perdón", "nada", "adios", "adiós", "luego",
    "english", "spanish", "español", "espanol", "ingles", "inglés"}
# Words above that are first names too, before a surname: "Dale Peterson",
# "Will Anderson" (not "Dale, gracias" nor "Will do")
NAMES_TOO = {"dale", "will"}


NAME_LEAD_IN = re.compile(r"^\W*(?:(?:ok|okay|yes|sure|si|sí|claro|bueno|pues)\W+)*"
                          r"(?:my (?:full )?name is|my name's|me llamo|mi nombre es|soy)"
                          r"\s+[^\W\d_]", re.IGNORECASE)
# ... or after something else said first: "ok, i still want it, my name is Dana Cole"
NAME_SAID = re.compile(r"[,.;:!]\s*(?:my (?:full )?name is|my name's|me llamo|mi nombre es)\s+"
                       r"(?P<name>[^\W\d_][^,.;!?]*?)\W*$", re.IGNORECASE)

# "ok whatever. Lindsey Park": a full name, alone, after a few words said first
NAME_LAST = re.compile(r"\W*(?:[^\W\d_]+[\s,]+){0,2}[^\W\d_]+[.;!]+\s*(?P<name>[A-Z][^\W\d_]*"
                       r"(?:['’-][^\W\d_]+)*(?:\s+[A-Z][^\W\d_]*(?:['’-][^\W\d_]+)*){1,3})[.!]*")


def name_last(text: str) -> Optional[re.Match]:
    said = NAME_LAST.fullmatch(text)
    return said if said and said.group("name").split()[0].lower() not in NOT_A_FIRST_NAME else None


# "ok its Brianna": one capitalised word after "it's", "I'm", "this is"
ONE_NAME_SAID = re.compile(r"\W*(?i:(?:ok|okay|sure|yes|yeah|oh|well|si|sí|bueno)\W+)*"
                           r"(?i:it'?s|it is|i'?m|i am|this is)\s+"
                           r"[A-Z][^\W\d_]*(?:['’-][^\W\d_]+)*\W*")


def looks_like_a_name(text: str) -> bool:
    """"Sadie", "Ty Nguyen": one to four capitalised words, read as a
    name at the name step even when they also sound like a request or a
    thank-you; and "my name is ...", "me llamo ...", whatever the NLU made
    of them."""
    if (NAME_LEAD_IN.search(text) or NAME_SAID.search(text) or name_last(text)
            or ONE_NAME_SAID.fullmatch(text)) and not looks_like_question(text):
        return True
    words = without_lead_in(ASIDE.sub(" ", text)).rstrip(" .!").split()  # "ok its Nia Johnson (her mom)"
    alone = len(text.split()) == 1  # "Sadie"; not the "Back" of "Call Me Back"
    if not 2 - alone <= len(words) <= 4:
        return False
    first = words[0].lower()
    first_name = first not in NOT_A_FIRST_NAME or (
        first in NAMES_TOO and len(words) > 1 and words[1].lower() not in NOT_A_FIRST_NAME)
    return first_name and all(re.fullmatch(r"[A-Z][^\W\d_]*(?:['’-][^\W\d_]+)*", word)
                              for word in words)


@dataclass(frozen=True)
class Contact:
    value: str  # E.164 phone number or normalised email address
    kind: str  # "phone" | "email"


EMAIL = re.compile(r"[^\s,;:<>()]+@[^\s,;:<>()]+")


def contact(text: str, region: str) -> Contact:
    """A phone number or an email address, alone or in a sentence ("801 555
    0190 es el de mi nieta", "sure, it's dana@example.com thanks")."""
    cleaned = without_lead_in(text)
    if len(cleaned) > 254:
        raise Invalid("utter_invalid_contact")
    emails = EMAIL.findall(cleaned)
    if len(emails) == 1:
        cleaned = emails[0].rstrip(".!?")
    else:
        found = [match.number for match in phonenumbers.PhoneNumberMatcher(cleaned, region)]
        if len(found) == 1 and phonenumbers.is_valid_number(found[0]):
            return Contact(phonenumbers.format_number(found[0], phonenumbers.PhoneNumberFormat.E164),
                           "phone")
    if "@" in cleaned:
        try:
            email = validate_email(cleaned, check_deliverability=False)
        except EmailNotValidError:
            raise Invalid("utter_invalid_contact") from None
        return Contact(email.normalized, "email")
    try:
        number = phonenumbers.parse(cleaned, region)
    except phonenumbers.NumberParseException:
        raise Invalid("utter_invalid_contact") from None
    if not phonenumbers.is_valid_number(number):
        raise Invalid("utter_invalid_contact")
    return Contact(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), "phone")


@dataclass(frozen=True)
class Preferred:
    when: datetime.datetime  # in the clinic's time zone
    has_time: bool

    def text(self, language: str = "en") -> str:
        """"Tuesday 8 December 2026 at 2:00 PM"; "martes 8 de diciembre de 2026 a las 14:00"."""
        if language == "es":
            day = (f"{DAY_NAMES['es'][WEEKDAYS[self.when.weekday()]]} {self.when.day} de "
                   f"{MONTHS_ES[self.when.month - 1]} de {self.when.year}")
            return f"{day} a las {self.when:%H:%M}" if self.has_time else f"{day}, a cualquier hora"
        day = self.when.strftime("%A %-d %B %Y")
        return f"{day} at {self.when.strftime('%-I:%M %p')}" if self.has_time else f"{day}, any time"


MONTHS_ES = ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
             "septiembre", "octubre", "noviembre", "diciembre")
# Spanish days and times, said in the English that parsedatetime reads
# ("el próximo martes por la tarde": "next tuesday afternoon"), on text
# lowered and without accents. dateparser, which reads Spanish itself, read
# few of the ways visitors write a day (docs/evaluation.md, "Spanish dates").
MONTH_NUMBER = "|".join(fold(month) for month in MONTHS_ES)
SPANISH_DATES = [
    (re.compile(r"\bpasado\s+manana\b"), "in 2 days"),
    (re.compile(r"\b(?:por|en|de|a)\s+la\s+manana\b"), "morning"),
    (re.compile(r"\b(?:por|en|de|a)\s+la\s+tarde\b"), "afternoon"),
    (re.compile(r"\b(?:por|en|de|a)\s+la\s+noche\b"), "evening"),
    (re.compile(r"\bmanana\b"), "tomorrow"),
    (re.compile(r"\bhoy\b"), "today"),
    (re.compile(r"\b(?:antier|anteayer|antes\s+de\s+ayer)\b"), "2 days ago"),
    (re.compile(r"\bayer\b"), "yesterday"),
    (re.compile(r"\b(?:el|la)\s+(\w+)\s+pasad[oa]\b"), r"last \1"),  # "el lunes pasado"
    (re.compile(r"\b(?:el|la)\s+(?:proxim[oa]|siguiente)\s+(\w+)"), r"next \1"),
    (re.compile(r"\b(?:proxim[oa]|siguiente)\s+(\w+)"), r"next \1"),
    (re.compile(r"\b(?:el|la)\s+(\w+)\s+que\s+viene\b"), r"next \1"),
    (re.compile(r"\b(\w+)\s+que\s+viene\b"), r"next \1"),
    (re.compile(rf"\b(\d{{1,2}})\s+de\s+({MONTH_NUMBER})\b"), r"\2 \1"),
    (re.compile(r"\ba\s+las?\s+(?=\d)"), "at "),
    (re.compile(r"\bmediodia\b"), "noon"),
    (re.compile(r"\b(?:el|los|la|de|del|al)\b"), " "),
] + [(re.compile(rf"\b{fold(spanish)}\b"), english)
     for english, spanish in DAY_NAMES["es"].items()] \
  + [(re.compile(rf"\b{fold(month)}\b"), english) for month, english in zip(MONTHS_ES, (
      "january", "february", "march", "april", "may", "june", "july", "august",
      "september", "october", "november", "december"))]


def in_english(text: str) -> str:
    """A day and time written in Spanish, in the English parsedatetime reads;
    English text has none of the Spanish words and comes out as it went in."""
    folded = fold(text)
    for pattern, replacement in SPANISH_DATES:
        folded = pattern.sub(replacement, folded)
    return " ".join(folded.split())


# "10 in the morning", "morning at 10", "around 3": parsedatetime reads the
# day part and drops the hour, or reads "3" as 3 am. Said as a clock time.
HOUR = r"(\d{1,2}(?::\d{2})?)"
CLOCK_TIMES = [
    # chat spellings of "tomorrow"
    (re.compile(r"\b(?:tmrw|tmr|tmrrw|tmw|2moro|2morrow|2mrw|tomoro|tomorow|tommorow|tommorrow)\b"),
     "tomorrow"),
    # parsedatetime reads "day after tomorrow" as tomorrow
    (re.compile(r"\b(?:the\s+)?day\s+after\s+tomorrow\b"), "in 2 days"),
    (re.compile(rf"\b(?:around|about|roughly|at)?\s*{HOUR}\s*(?:o'?clock\s*)?(?:in the|this|tomorrow)?\s*morning\b"), r" at \1am"),
    (re.compile(rf"\b(?:around|about|roughly|at)?\s*{HOUR}\s*(?:o'?clock\s*)?(?:in the|this|tomorrow)?\s*(?:afternoon|evening)\b"), r" at \1pm"),
    (re.compile(rf"\bmorning\s+(?:at|around|about)\s+{HOUR}(?!\s*[ap]\.?m)"), r"at \1am"),
    (re.compile(rf"\b(?:afternoon|evening)\s+(?:at|around|about)\s+{HOUR}(?!\s*[ap]\.?m)"), r"at \1pm"),
    (re.compile(r"\b(?:around|about|roughly)\s+(?=\d)"), "at "),
    # a bare hour in a clinic's day: "at 10" is the morning, "at 3" the afternoon
    (re.compile(r"\bat\s+((?:[1-7]|12)(?::\d{2})?)(?![\d:]|\s*[ap]\.?m)"), r"at \1pm"),
    (re.compile(r"\bat\s+((?:8|9|10|11)(?::\d{2})?)(?![\d:]|\s*[ap]\.?m)"), r"at \1am"),
]


# "el 20 del próximo mes", "the 20th of next month": parsedatetime reads the
# first of next month; said with the month's name, it reads the day
NEXT_MONTH = re.compile(r"\b(?:the\s+)?(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?next\s+(?:month|mes)\b|"
                        r"\bnext\s+(?:month|mes)\s+(?:on\s+)?(?:the\s+)?(\d{1,2})(?:st|nd|rd|th)?\b")


# "january 15", "december 20th": a day of the month, no hour ("january 15
# morning" is no 3 pm); said with its ordinal, parsedatetime reads it so
MONTH_DAY = re.compile(r"\b((?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
                       r"\s+\d{1,2})(?:st|nd|rd|th)?\b")
# "this thursday", said on a Saturday: the coming one (parsedatetime reads
# the one of this week, gone)
THIS_WEEKDAY = re.compile(r"\bthis\s+(?:mon|tues?|wed|thu|thurs|fri|sat|sun)[a-z]*\b")
WEEK = datetime.timedelta(days=7)
YEAR = re.compile(r"\b20\d\d\b")
RECENTLY_PAST = datetime.timedelta(days=60)


NO_HOUR = re.compile(rf"{MONTH_DAY.pattern}|\bin \d+ days?\b")  # numbers that are no hour


def days_of_month(text: str, now: datetime.datetime) -> str:
    month = datetime.date(now.year + now.month // 12, now.month % 12 + 1, 1).strftime("%B").lower()
    text = NEXT_MONTH.sub(lambda found: f"{month} {found.group(1) or found.group(2)}", text)
    return MONTH_DAY.sub(r"\1th", text)


def clock_times(text: str) -> str:
    for pattern, replacement in CLOCK_TIMES:
        text = pattern.sub(replacement, text)
    return " ".join(text.split())


def preferred_time(text: str, clinic: Clinic, now: Optional[datetime.datetime] = None) -> Preferred:
    """A future day (and time), when the clinic is open if its hours are confirmed."""
    zone = ZoneInfo(clinic.timezone)
    now = now or datetime.datetime.now(zone)
    cleaned = " ".join(text.split())[:100].lower()
    if not cleaned:
        raise Invalid("utter_invalid_preferred_time")
    english = days_of_month(in_english(cleaned), now)
    parsed, context = CALENDAR.parseDT(clock_times(english), sourceTime=now.replace(tzinfo=None))
    if not context.hasDate and not context.hasTime:
        raise Invalid("utter_invalid_preferred_time")
    for part, hour in DAY_PARTS.items():
        if part in english and not re.search(r"\d", NO_HOUR.sub("", english)):
            parsed = parsed.replace(hour=hour, minute=0)
    when = parsed.replace(tzinfo=zone)
    has_time = context.hasTime
    if when.date() < now.date() and THIS_WEEKDAY.search(english):
        when += WEEK
    if when.year > now.year and MONTH_DAY.search(english) and not YEAR.search(english) and \
            now - RECENTLY_PAST <= when.replace(year=now.year) < now:
        # "dec 1" said on 5 December: a slip for a day to come, not next year's
        raise Invalid("utter_invalid_preferred_time_past")
    if (when if has_time else when.replace(hour=23, minute=59)) <= now:
        raise Invalid("utter_invalid_preferred_time_past")
    if clinic.opening_hours.confirmed:
        # Placeholder hours are not the clinic's: the assistant tells
        # visitors the hours are not published, so it refuses no day by them.
        hours = clinic.opening_hours.open_on(when)
        if hours is None:
            raise Invalid("utter_invalid_preferred_time_closed")
        if has_time and not hours[0] <= when.time() < hours[1]:
            raise Invalid("utter_invalid_preferred_time_closed")
    return Preferred(when, has_time)
