"""The languages the assistant serves, and telling them apart by small words.

English and Spanish. A message's small words (spaCy's stop words of one
language that are not words of the other, and a few chat words such as
"gracias" or "thanks") say which of the two it is in, when they are mostly
of one: the NLU's language tagger (components/language.py) starts from
them, and the channels use them to label their own buttons in the language
of the reply they go with.
"""
import importlib.util
import re
import runpy
import unicodedata
from pathlib import Path
from typing import Optional, Set, Tuple


def _stop_words(language: str) -> Set[str]:
    """spaCy's stop words of a language, read from its list's file: the action
    server and the channels need only the lists, and importing spaCy would
    add some 400 MB to their memory (measured by `make bench`)."""
    spacy = Path(importlib.util.find_spec("spacy").submodule_search_locations[0])
    return set(runpy.run_path(str(spacy / "lang" / language / "stop_words.py"))["STOP_WORDS"])


ENGLISH_STOP_WORDS, SPANISH_STOP_WORDS = _stop_words("en"), _stop_words("es")

ENGLISH, SPANISH = "en", "es"
ENTITY = "language"  # the NLU entity, and the slot, that carry a message's language
WORD = re.compile(r"[^\W\d_]+")


def fold(text: str) -> str:
    """Lower case without accents: "Hinchazón" and "hinchazon" are one word."""
    decomposed = unicodedata.normalize("NFD", text.lower())
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")


# Spanish stop words that are also English words, or too short to tell ("y"
# is "yes" in an English chat); and
# those English speakers type alone, as slang ("yo", "ya", "sus", "nada",
# "ha ha") or as names at the booking form's name step ("Mia", "Al", "Les",
# "Ella", "Del", "Su", "Tu"): one of them must not turn an English
# conversation Spanish.
NOT_SPANISH_TELLS = {"a", "e", "o", "u", "he", "me", "no", "once", "tan", "son", "sea", "van",
                     "dan", "era", "fin", "usa", "usan", "usar", "usas", "uso", "solo", "dice",
                     "dado", "ante", "gran", "modo", "pais", "sin", "ti", "te", "da", "dar",
                     "yo", "ya", "ha", "han", "sus", "nada", "total", "final", "mayor", "primer",
                     "mia", "al", "del", "les", "su", "tu", "dos", "ella", "tal", "dia", "os",
                     "ver", "uno", "parte", "este", "mas", "y"}
SPANISH_TELLS = {fold(word) for word in SPANISH_STOP_WORDS} - set(ENGLISH_STOP_WORDS) \
    - NOT_SPANISH_TELLS
ENGLISH_TELLS = set(ENGLISH_STOP_WORDS) - {fold(word) for word in SPANISH_STOP_WORDS}
# Chat words no stop-word list has: a reply of one of them says its language.
# ("dale" and "sale" are English names and words too: "Dana Dale", "on sale".)
SPANISH_TELLS |= {"gracias", "hola", "si", "adios", "claro", "bueno", "buenas", "buenos",
                  "vale", "orale", "quiero", "tengo", "puedo", "cuanto",
                  "necesito", "ahorita", "perfecto", "listo", "porfa", "favor", "cita", "grax",
                  "grasias", "xfa", "digo", "osea", "chao", "chau", "ola", "holi", "holis",
                  "xq", "pq", "porfis", "oiga", "oye", "saludos", "cuidese", "cuidate",
                  "agendame", "komo", "kiero", "ke", "quiubo", "quiubole", "jaja", "jajaja",
                  "jajajaja", "jeje", "jejeje",  # English laughs "haha"
                  "tal", "klk", "qlq"}  # "q tal", "klk" (qué lo que)
# ("bye" is not one: Spanish speakers sign off with it too.)
# ("pls" is not one: "direccion pls", "numero pls" are Spanish speakers'.)
ENGLISH_TELLS |= {"yes", "yeah", "yep", "thanks", "thank", "hi", "hello", "hey",
                  "please", "thx", "sure", "okay", "want", "need", "hurt", "cost"}


STRETCHED = re.compile(r"([^\W\d_])\1{2,}")  # a letter thrice: "holaaa", "hiii", "jjjjj"


# "¿hablan español?", "hola, do you speak spanish": a question about the
# language itself, opening the message, answered in Spanish
# (actions/actions.py); not "¿sabe de un mecánico que hable español?"
ASKS_FOR_SPANISH = re.compile(r"^\W*(?:(?:hola|hi|hello|hey|buen[oa]s(?: tardes| noches| d[ií]as)?)\W+)?"
                              r"(?:do you |can you |can i |can we |you |ustedes |usted |t[uú] |se |puedo |podemos )?"
                              r"(?:habl[a-z]*|speak[a-z]*)\b[^.?!]{0,25}\b(?:espa[ñn]ol|spanish)\b",
                              re.IGNORECASE)


def tell_counts(text: str) -> Tuple[int, int]:
    """How many of the text's words are small words of Spanish, and of English."""
    words = WORD.findall(STRETCHED.sub(r"\1", fold(text)))
    return (sum(word in SPANISH_TELLS for word in words),
            sum(word in ENGLISH_TELLS for word in words))


def tells(text: str) -> Optional[str]:
    """"es" or "en" when the text's small words are mostly of one language."""
    spanish, english = tell_counts(text)
    return SPANISH if spanish > english else ENGLISH if english > spanish else None
