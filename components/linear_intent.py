"""The intent classifier: logistic regression on TF-IDF of lemmas and of
character n-grams (scikit-learn), in place of Rasa's DIET.

On this project's ~1,400 short examples it is both more accurate and far
cheaper than DIET: it trains in seconds instead of minutes and classifies a
message in well under a millisecond, with no TensorFlow at run time. How
the settings were chosen: config.yml; the figures: docs/benchmarks.md.

Words are the lemmas of the pipeline's tokens (SpacyTokenizer), so
"sessions" and "session" are one word; character n-grams within words
(char_wb) keep typos close to the right word ("microneedlng").

The message's nearest training examples vote too (neighbour_votes): the
regression, barely regularised, is over-sure of some messages unlike its
examples; where the examples nearest them belong to another intent, the
blend is less sure and more of them get "Did you mean" than a wrong answer.
"""
from __future__ import annotations

import json
import re
from itertools import dropwhile
from typing import Any, Dict, List, Optional, Sequence, Text

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT, TEXT_TOKENS
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from components import MIN_CORRECTED, MIN_MEANT, one_typo_away, unstretched

# The fitted model is kept as data only (JSON and numpy arrays, no pickle),
# so a model file cannot run code. (skops would do that too, but importing
# it scans every loaded module: seconds added to each start-up.)
VOCABULARIES_FILE = "vocabularies.json"
QUESTIONS = "questions"  # the intents of a message that asks several, in order
QUESTION_INTENTS = ("faq_", "clinic_")
REQUESTS = ("book_consultation", "request_callback", "request_human")  # "can someone call me back? ..."
# "cuánto cobran? y me pasan su teléfono", "how much is it? i'd like to book":
# after a question, a request said as a statement is asked too, unless put
# off, refused or only weighed ("i don't want to book yet", "thinking about
# booking"); not before one ("my first appointment is next week, how do i
# prep?" tells, it does not ask)
STATED = REQUESTS + ("clinic_contact",)
WEIGHED = {"thinking", "considering", "maybe", "might", "pensando", "quizas", "quizás", "quiza",
           "quizá"}
PUT_OFF = {"no", "not", "don't", "dont", "never", "yet", "later", "todavia", "todavía", "luego",
           "despues", "después", "nunca", *WEIGHED}
CALLING_THEMSELVES = {"i'll", "ill", "myself", "yo"}  # "yo les marco"
# What a request said as a statement names (stated(); had() for HAD); "come
# in person", "prefiero ir en persona" tell how they will come, not whom;
# "quiero que sea alguien preparado", "it to be someone qualified", who treats
REQUEST_WORDS = re.compile(r"\b(?:book\w*|schedul\w*|appointments?|appt|consult\w*|slot|sign me up|"
                           r"call\w*|ring|phone|number|email|contact|(?<!\bin )person|human|(?<!\bbe )someone|"
                           r"somebody|staff|agend\w*|cita|reserv\w*|apart\w*|espacio|turno|llam\w*|"
                           r"marc\w*|tel[eé]fono|correo|n[uú]mero|whatsapp|cel|(?<!\ben )persona|(?<!\bsea )alguien|"
                           r"humano|habl\w*)\b", re.IGNORECASE)
HAD = re.compile(r"\b(?:ya tengo|i (?:already )?have (?:my|an|a)|i'?ve (?:got|booked)|mi cita es|"
                 r"my appointment is|su cita|her appointment|his appointment)\b", re.IGNORECASE)
# "ayer les dejé mis datos para que me llamaran": a request made before, told
# without asking anything, gets the clinic's contact details, not a new form
ASKED_BEFORE = re.compile(r"\b(?:i left (?:my|you my|u my)|already (?:booked|requested|asked|sent)|"
                          r"ya (?:les? )?(?:ped[ií]|agend[eé]|reserv[eé]|mand[eé])|"
                          r"(?:les? )?dej[eé] (?:mis|mi) (?:datos|n[uú]mero|tel[eé]fono|info))\b",
                          re.IGNORECASE)
ASKS_NOW = re.compile(r"\?|\b(?:want|wanna|would like|like to|please|pls|can|could|quiero|quisiera|"
                      r"porfa|por favor|pueden|puede|podr[ií]an)\b", re.IGNORECASE)
# "what do i do before and after?": both topics (not "before and after photos")
BEFORE_AND_AFTER = re.compile(r"\b(?:before and after|antes y despu[eé]s)\b(?!\s*(?:photo|pic|foto|imag))",
                              re.IGNORECASE)
AROUND_THE_SESSION = ["faq_preparation", "faq_aftercare"]
WEIGHTS_FILE = "weights.npz"
SMALL_TALK = ("affirm", "acknowledge", "deny", "thanks", "greet", "goodbye")
# "Brenda Lugo" read 0.58 as "stop" ("luego"): a full name is no request to end
# the booking at its name step, unless the classifier is sure of it
ENDINGS = ("stop", "deny", "goodbye")
FULL_NAME = re.compile(r"^[A-ZÁÉÍÓÚÑ][a-záéíóúñü'-]+(?:\s+[A-ZÁÉÍÓÚÑ][a-záéíóúñü'-]+){1,3}$")
SURE_ENDING = 0.7
# "I want to change my name" read 0.52 as "stop": a detail to change is no end
# of the booking, nor an erasure request, unless the classifier is sure
CHANGES_A_DETAIL = re.compile(r"\b(?:change|fix|update|correct|cambiar|cambia|cambie|cambio|"
                              r"corregir|corrige)\b.{0,30}\b(?:name|phone|number|email|e-mail|"
                              r"time|day|date|nombre|tel[eé]fono|n[uú]mero|correo|hora|d[ií]a|"
                              r"fecha)\b", re.IGNORECASE)
NOT_A_CHANGE = (*ENDINGS, "delete_my_data")
# "change my name, put my full name" read 0.72 as "delete my data": a change
# is no erasure without an erasure word ("change my number, delete the old one")
ERASING = re.compile(r"\b(?:delete|erase|remove|wipe|borr[a-z]*|elimin[a-z]*)\b", re.IGNORECASE)
# "I typed my phone number in here by accident, can you erase it?" (read 0.7
# as the clinic's contact): the visitor's own detail and an erasure word ask
# to erase it; "delete my number, and what's your email?" asks for the clinic's too
DETAIL = r"(?:phone|number|email|e-mail|name|info|details|data|tel[eé]fono|n[uú]mero|correo|nombre|datos)"
OWN_DETAIL = re.compile(rf"\b(?:my|mi|mis)\s+(?:\w+\s+)?{DETAIL}\b", re.IGNORECASE)
CLINIC_DETAIL = re.compile(rf"\b(?:your|ur|su|sus|tu|tus)\s+(?:\w+\s+)?{DETAIL}\b", re.IGNORECASE)
ERASURE_OR_CONTACT = ("delete_my_data", "clinic_contact")
# A message's opening: its words before the first , . ; ! ("stop, | I'll wait ...")
OPENING_END = re.compile(r"[,.;!]")
MAX_OPENING_WORDS = 4


# Letters Spanish writes alike, as visitors spell them by ear: "komo
# funsiona" is "como funciona", "kien" "quien", "deve" "debe" (words of four
# letters or more: MIN_CORRECTED)
SOUNDS = [(re.compile(pattern), sound) for pattern, sound in [
    (r"qu", "k"), (r"c(?=[ei])", "s"), (r"c(?!h)", "k"), (r"z", "s"), (r"v", "b"),
    (r"ll", "y"), (r"(?<!c)h", ""), (r"(\w)\1", r"\1")]]


def sound(word: str) -> str:
    """How `word` sounds in Spanish: "funsiona" and "funciona" sound alike."""
    for pattern, replacement in SOUNDS:
        word = pattern.sub(replacement, word)
    return word


class Speller:
    """Reads a word never seen in training as the training word one typo
    away from it, the most frequent one if several are ("offten" -> "often"),
    or else as one that sounds the same in Spanish ("funsiona" -> "funciona")."""

    def __init__(self, forms: Dict[str, List]) -> None:
        self.forms = forms  # a word as written in training -> [its lemma, how often]
        self.known = set(forms) | {lemma for lemma, _ in forms.values()}
        self.by_sound: Dict[str, str] = {}  # the most frequent form of each sound
        for form in sorted(forms, key=lambda form: (forms[form][1], form)):
            if len(form) >= MIN_CORRECTED and form.isalpha():
                self.by_sound[sound(form)] = form

    @classmethod
    def learn(cls, messages: List[Message]) -> "Speller":
        forms: Dict[str, List] = {}
        for message in messages:
            for token in message.get(TEXT_TOKENS, []):
                form = unstretched(token.text)
                entry = forms.setdefault(form, [unstretched(token.lemma or token.text), 0])
                entry[1] += 1
        return cls(forms)

    def correct(self, lemma: str) -> str:
        if lemma in self.known or len(lemma) < MIN_CORRECTED or not lemma.isalpha():
            return lemma
        candidates = [form for form in set(one_typo_away(lemma))
                      if form in self.forms and len(form) >= MIN_MEANT]
        if not candidates:
            alike = self.by_sound.get(sound(lemma))
            return self.forms[alike][0] if alike else lemma
        best = max(candidates, key=lambda form: (self.forms[form][1], form))
        return self.forms[best][0]


def lemma_text(message: Message) -> str:
    """The message as its lowercased lemmas, separated by spaces."""
    return lemmas(message.get(TEXT_TOKENS, []))


def lemmas(tokens: List[Token]) -> str:
    return " ".join(unstretched(token.lemma or token.text) for token in tokens)


# Where a message's questions part: after a sentence's end (or an emoji, a
# colon, a dash between spaces: "two things: does it hurt, ...", a number
# of a list: "1) does it hurt 2) how much"), and before a
# comma, "and", "&", "+", "also", "plus" or "but" that start a new question
# ("what's the price and is there any downtime"); in Spanish before "y",
# "e", "pero" or "también" that start one ("es seguro y cuanto cuesta",
# "sirve para el acne y se puede combinar con PRP", "el precio y si duele").
# A Spanish question opens with a question word or one of a few verbs, or
# has an interrogative written with its accent ("microneedling vs laser
# cuál es mejor"); it keeps the order of a statement otherwise.
ASKING = (r"what|whats|what's|wat|wats|how|hows|how's|is|are|r|does|do|can|could|will|would|"
          r"when|where|who|whos|who's|which|should|any")  # "r u open sundays"
ASKING_ES = (r"que|qué|q|k|como|cómo|cuanto|cuánto|cuanta|cuánta|cuantos|cuántos|cuantas|"
             r"cuántas|cuando|cuándo|donde|dónde|quien|quién|quienes|quiénes|cual|cuál|cuales|"
             r"cuáles|(?:en|para|pa|por|a) (?:que|qué|q|k|cu[aá]nt[oa]s?)|(?:a partir de|desde) cu[aá]ndo|(?:en|de|a|para|por|pa) d[oó]nde|cada cu[aá]n(?:to|do)|xq|duele|duelen|sirve|es|"
             r"se puede|puedo|me puedo|(?:lo|la|los|las|se|me) (?:puedo|puede|pueden)|hay|si|"
             r"(?:despues|después|antes|luego) (?:que|qué|como|cómo)|"
             # what the clinic does, asked in a statement's order: "y abren los sábados?"
             r"abren|cierran|atienden|aceptan|tienen|trabajan|cobran|manejan|ofrecen|hacen")
INTERROGATIVE_ES = r"qué|cómo|cuánt[oa]s?|cuándo|dónde|quiénes|quién|cuáles|cuál|¿"
# "..., y la otra cuánto cuesta", "and the other one is"
AND = (r"(?:and|y) (?:the other(?: one)?|la otra|otra)(?: (?:is|es))?|and|n|also|plus|but|"
       r"(?:y|e|pero)(?:\s+(?:tambien|también|ademas|además))?|tambien|también")
# "y si funciona de verdad?": "si" without its accent is "if", not "yes"
IF_QUESTION = re.compile(r"^\W*(?:y|e|pero)\s+si\s+\w+[^?]*\?", re.IGNORECASE)
# "..., mi prima se hizo aquí el microneedling, quería saber cuántas sesiones
# se ocupan": after the story, the question; not a last "... pero quería
# saber", which asks nothing more.
WANTS_TO_KNOW = (r"(?:(?:quer[ií]a|quisiera|quiero|me gustar[ií]a) (?:preguntar|saber)|"
                 r"i (?:was wondering|wanted to (?:ask|know)|want to know|would like to know))"
                 r"(?=\s+\w)")
# "hmm before that, roughly what does it cost?", "y en general es seguro?":
# words that hedge the question they open
HEDGE = (r"roughly|approximately|realistically|honestly|basically|generally|typically|usually|"
         r"in general|overall|en general|honestamente|realmente")
BOUNDARY = re.compile(r"(?:[.?!;]|:(?=\s)|\s[-–—](?=\s)|\s\d[).](?=\s)|[\U0001F300-\U0001FAFF\u2600-\u27BF])+\s*|,?\s*(?=¿)|"
                      r"\b(?:dos|2|two|unas|some|couple(?: of)?) (?:preguntas|questions)\b\W*|"  # "tengo dos preguntas una es si ..."
                      r"(?:,|\s*[+&]|,?\s+"
                      rf"(?:{AND}))\s+(?=(?:(?:{HEDGE})\s+)?(?:{ASKING}|{ASKING_ES}|{WANTS_TO_KNOW})\b(?!['’]t))",
                      re.IGNORECASE)
JOINED_ES = re.compile(r"^,?\s*(?:y|e|pero)\b", re.IGNORECASE)  # "..., y cuánto sale"
QUESTION = re.compile(rf"\?|^\W*(?:(?:{HEDGE}|if not|if so|otherwise|si no|so|and|but|ok|okay|also|plus|like|then|oh|hmm+|um+|well|wait|btw|"
                      r"yeah|sorry|alright|hey|hi|hello|omg|lol|y|pero|oye|oiga|mira|bueno|"
                      r"entonces|tambien|también|ademas|además|te pregunto|una pregunta|anyway|anyways|"
                      # "so my questions are is it painful and ...", "una es si se puede"
                      r"(?:my |the )?(?:first |other )?questions? (?:is|are)|(?:la )?(?:una|otra) es)\W+)*"
                      rf"(?:{ASKING}|{ASKING_ES})\b|(?<!\w)(?:{INTERROGATIVE_ES})(?!\w)"
                      r"|\b(?:vs|versus)\b"  # "microneedling vs laser for wrinkles"
                      r"|\b(?:quer[ií]a|quiero|quisiera|quiere|quieren|me gustar[ií]a)\s+(?:preguntar|saber)\b"
                      # "my husband wants to know if you do hands", "i was wondering if"
                      r"|\b(?:wants?|wanted|wanna|like) to know\b|\bwondering\b|\bme pregunto\b",
                      re.IGNORECASE)


# "ok what about microneedling, what does it treat?": a lead-in names the
# subject of the question after it; it asks nothing of its own.
LEAD_IN = re.compile(r"\W*(?:ok|okay|so|and|but)?\W*(?:what|how) about\s+(?:microneedling|micro[- ]?needling|"
                     r"it|this|that|the treatment|the procedure)\W*$",
                     re.IGNORECASE)

# "When I come in, what do you do first?", "si me quito las cicatrices con
# esto, ¿ya no regresan?", "y cuando se hace, cuánto dura la recuperación?":
# a clause of time or condition (without its own "?") sets the scene for
# the question after it; so do what it is for ("for bumpy texture, is
# there a reason to choose it over laser?") and a time asked about ("ok what
# about after the baby, what's the downtime like?"; not "..., and what about after?").
SUBORDINATE = re.compile(r"\W*(?:(?:(?:so|and|but|ok|okay)\s+)?(?:when|if|once|after|before)\s+"
                         r"(?:i|i'm|im|we|my|something|anything|it|it's|its|you)|"
                         r"(?:(?:so|and|but|ok|okay)\s+)?(?:what|how) about\s+(?:after|before|during)|"
                         r"(?:(?:so|and|but|ok|okay|y|pero|bueno)\s+)?(?:for|para)\s+(?!how|what|which|"
                         r"qu[eé]\b|q\b|cu[aá]nt|cu[aá]l|c[oó]mo)(?=[^?¿,]*,\s*$)|"
                         r"(?:(?:y|pero|bueno|ok)\s+)?(?:si|cuando|una vez que|"
                         r"despu[eé]s de que|antes de que)\s+(?:me|mi|mis|yo|ya|lo|la|invierto|algo|"
                         # "y cuando se hace, ...", not "cuando se ven los resultados y cuánto duran?"
                         r"(?:se|te)(?=\b[^?¿,]*,\s*$)|"
                         # "si llegara a pasar algo raro": a condition in the subjunctive
                         r"\w+(?:ara|iera)))\b[^?¿]*$",
                         re.IGNORECASE)

# "Puedo cualquier día después de las 3", "I can do any morning": when the
# visitor is free, told without a "?", asks nothing
AVAILABLE = re.compile(r"^\W*(?:puedo|podr[ií]a|estoy libre|i can(?: do| come)?|i could(?: do| come)?|"
                       r"i'?m free|i am free)\b[^?]*\b(?:cualquier d[ií]a|todos los d[ií]as|"
                       r"despu[eé]s de las|antes de las|a las|en la (?:ma[ñn]ana|tarde|noche)|"
                       r"por la (?:ma[ñn]ana|tarde|noche)|lunes|martes|mi[eé]rcoles|jueves|viernes|"
                       r"s[aá]bados?|domingos?|any ?(?:day|time)|after \d|before \d|at \d|mornings?|"
                       r"afternoons?|evenings?|weekends?|weekdays?|mondays?|tuesdays?|wednesdays?|"
                       r"thursdays?|fridays?|saturdays?|sundays?)\b[^?]*$", re.IGNORECASE)

# "¿Me dan un estimado? Es para la cara y el cuello", "es que me da miedo":
# without a "?", what it is for, or "the thing is", tells; it asks nothing
# "mi suegra dice que eso es peligroso y que te deja la cara fea, ¿será
# cierto?": what someone says (without its own "?") is told, not asked, and
# so is each "y que ..." going on with it
REPORTED = re.compile(r"^\W*(?:(?:y|pero|porque)\s+)?(?:\w+\s+){0,4}(?:me\s+)?(?:dice|dicen|dijo|dijeron|"
                      r"cuenta|cuentan|cont[oó]|comenta|coment[oó])\s+(?:que|q)\b[^?¿]*$", re.IGNORECASE)
TOLD_ON = re.compile(r"^\W*(?:y\s+)?(?:que|q)\b[^?¿]*$", re.IGNORECASE)
TELLS_WHY = re.compile(r"^\W*(?:(?:y|pero|bueno)\s+)?(?:es|son) (?:para|que)\b[^?]*$", re.IGNORECASE)

# "price, pain, downtime?", "price and hours pls": a short message that lists
# what it asks about, each item a question of its own.
LIST_SEPARATOR = re.compile(r"\s*(?:[,+&/]|\b(?:and|n|y|e)\b)\s*", re.IGNORECASE)
# "will i bruise? like what am i in for": "like", "i mean" go on with the
# question before; "balding - does it help?", "alopecia, sirve?": a question
# of a few words whether it helps asks of the subject just named ("price,
# does it hurt?" asks two things). Each part joins the one before.
SAYS_IT_AGAIN = re.compile(r"^\W*(?:like|i mean|meaning|as in|o sea|osea|es decir|such as|"
                           # "¿hay medicamentos que lo impidan? como los del acné": an example
                           r"por ejemplo|como (?:l[oa]s|el|la) de(?:l)?|como (?:un|una)\b|"
                           # "¿qué tanto se siente? como piquetes o como": "like ... or what"
                           r"como \w+ o (?:como|qu[eé]|algo)\b)\b",
                           re.IGNORECASE)
OF_IT = re.compile(r"\b(?:help|helps|work|works|fix|treat|sirve|sirven|funciona|funcionan|ayuda|"
                   r"trata|tratan|quita|quitan|"
                   r"ayudan|(?:on|for|with|para|con) (?:those|them|that|these|eso|esto|esos|esas))\b",
                   re.IGNORECASE)
MAX_OF_IT_WORDS = 5
# "¿Y las cicatrices queloides? ¿Esas también se tratan?": a question that
# points back at the subject just asked about asks of it too
POINTS_BACK = re.compile(r"^\W*(?:(?:and|y)\s+)?(?:esas?|esos?|eso|estas?|estos?|esto|those|these)\b",
                         re.IGNORECASE)
# "is the vampire facial microneedling with PRP? can you do that": whether
# the clinic does what the part before named asks of that part
DO_YOU_DO_IT = re.compile(r"^\W*(?:(?:and|so|y|e)\s+)?(?:(?:can|do|could|would)\s+(?:you|u|you guys|y'?all)\s+"
                          r"(?:do|offer|provide|perform)\s+(?:that|it|this|those|them)|"
                          r"(?:ustedes\s+)?(?:lo|la|los|las)\s+(?:hacen|ofrecen|manejan)|"
                          r"(?:hacen|ofrecen|manejan)\s+(?:eso|esto))"
                          r"(?:\s+(?:here|there|too|as well|at the clinic|ah[ií]|aqu[ií]|tambi[eé]n))?\W*$",
                          re.IGNORECASE)
# "so you poke holes and that makes collagen? how": a question word alone asks
# of what was said before it
WORD_ALONE = re.compile(r"^\W*(?:how|what|why|c[oó]mo|qu[eé]|q|por\s?qu[eé]|xq)\W*$", re.IGNORECASE)
# "¿La clínica está sobre State Street? ¿Qué número?": the street's number
STREET_NUMBER = re.compile(r"^\W*(?:(?:y|en|and)\s+)?(?:qu[eé]|q|cu[aá]l|what|which)\s+(?:n[uú]mero|number)\W*$",
                           re.IGNORECASE)
STREET = re.compile(r"\b(?:street|st|calle|avenida|ave|blvd|boulevard|direcci[oó]n|address)\b",
                    re.IGNORECASE)
# "my skin looks the same 5 days on. is that normal, ...": a question of a few
# words whether it is normal asks of what was told just before
IS_IT_NORMAL = re.compile(r"^\W*(?:(?:is|was|isn'?t)\s+(?:that|this|it)|"
                          r"(?:y\s+)?(?:eso|esto)?\s*es)\s+(?:normal|ok|okay|expected|usual|com[uú]n)\W*$",
                          re.IGNORECASE)
# "is swelling normal? how long does it last": how long the skin stays so, not
# how long the results last
HOW_LONG_IT = re.compile(r"^\W*(?:(?:and|y|e)\s+)?(?:how long|cu[aá]nto\s+tiempo|"
                         r"cu[aá]ntos\s+d[ií]as|cu[aá]nto(?=\s+(?:dura|tarda)))"
                         r"(?:\s+(?:does|will|would|do|is|it|that|this|they|eso|esto|usually|"
                         r"normally|typically|normalmente))*(?:\s+(?:last|lasts|stay|take|"
                         r"stick around|go on|dura|duran|tarda|tardan))?"
                         # "cuánto dura más o menos", "how long does it last roughly"
                         r"(?:\s+(?:more or less|roughly|about|approx\w*|usually|normally|typically|"
                         r"m[aá]s o menos|aprox\w*|normalmente|por lo general))?\W*$", re.IGNORECASE)
ANNOUNCING = {"things", "qs", "questions", "question", "cosas", "preguntas", "pregunta", "dudas"}
MAX_LIST_WORDS = 8
MAX_NAMED_WORDS = 3
POLITE = {"pls", "plz", "please", "porfa", "porfavor", "thanks", "thx", "gracias", "🙏"}
# "¿cuál es la dirección y el número de teléfono?": the item names three words
ARTICLES = {"the", "a", "an", "your", "el", "la", "los", "las", "un", "una", "su", "sus"}
PREPOSITIONS = {"for", "on", "of", "in", "with", "to", "between", "para", "pa", "por", "en", "de",
                "con", "del", "entre"}
# "microneedling + PRP?": the treatment's name is what the other items are asked of
TREATMENT = re.compile(r"^(?:the |el |la )?(?:micro[- ]?needling|micro[- ]?needle|dermapen|derma pen|"
                       r"microagujas|micropunci[oó]n|collagen induction(?: therapy)?|it|this|eso|esto)$",
                       re.IGNORECASE)
TOGETHER = {"together", "both", "juntos", "juntas", "ambos", "ambas"}
CHOICE = {"or", "o", "u", "vs", "versus"}
# "will my face be red and swollen after": how the skin is, said twice, not two subjects
SKIN_STATES = {"red", "swollen", "puffy", "sore", "itchy", "dry", "flaky", "bruised", "tight",
               "peeling", "raw", "tender", "roja", "rojo", "hinchada", "hinchado", "irritada",
               "irritado", "inflamada", "inflamado", "reseca", "seca", "sensible"}
# the same as stems, with their nouns ("swelling", "hinchazón")
SKIN_STATE = re.compile(r"\b(?:swell\w*|swollen|red|redness|puff\w*|bruis\w*|peel\w*|flak\w*|"
                        r"dry\w*|irritat\w*|sore\w*|tight\w*|hinch\w*|roj[oa]s?|rojez\w*|"
                        r"enrojec\w*|inflam\w*|moret\w*|irrita\w*|rese[cq]\w*)\b", re.IGNORECASE)
NOT = {"no", "not", "nor", "ni"}  # "por qué microneedling y no láser?": one question
# "before that, how long is the downtime?": words that lead in, not subjects
CONNECTIVES = {"before", "after", "so", "ok", "okay", "wait", "hmm", "um", "and", "but", "then",
               "well", "oh", "hey", "hi", "hello", "thanks", "thank", "yes", "yeah", "no", "sorry",
               "lol", "haha", "first", "quick", "btw", "idk", "dunno", "umm", "hm",
               "i", "i'll", "ill", "i'm", "im", "yo", "tengo",  # "i have a | couple questions: ..."
               "antes", "despues", "después", "luego", "espera", "oye", "mira", "bueno",
               "pues", "entonces", "oiga", "jaja", "perdon", "perdón", "hola", "gracias", "si",
               "sí", "y", "e", "pero",
               # "chido, y es seguro?", "great. and the price?": a word of approval
               "chido", "sale", "va", "orale", "órale", "ya", "ah", "vale", "genial", "perfecto",
               "cool", "nice", "great", "awesome", "gotcha", "perfect"}
# "is it painful?? scared lol", "be honest, is it safe?": how the visitor
# feels or asks to be answered, beside a question; no subject of their own
FEELINGS = {"help", "be", "honest", "honestly", "scared", "nervous", "terrified", "lmao", "omg",
            "seriously", "curious", "just", "asking", "plz", "ayuda", "neta", "honesta",
            "honesto", "sinceramente", "miedo", "nerviosa", "nervioso", "porfa"}
SPEAKER = {"i", "i'll", "ill", "i'm", "im", "yo", "tengo"}  # "ill just call": no lead-in, what they do
# "a ver, se puede hacer en las manos?": "let's see", no subject; "antes que
# nada, cuanto cuesta?": "first of all", no question about what comes before
LEAD_PHRASES = {("a", "ver"), ("antes", "que", "nada"), ("antes", "que", "todo"),
                ("primero", "que", "nada"), ("first", "of", "all"), ("first", "things", "first")}


def bare(token: Token) -> str:
    """The token's word, lowered, without the punctuation around it ("antes,")."""
    return bare_word(token.text)


def bare_word(word: str) -> str:
    return word.lower().strip(",.;:!?¿¡")


def said(chunk: List[Token]) -> str:
    """The words of a part, as written."""
    return " ".join(token.text for token in chunk)


def governed(chunk: List[Token]) -> bool:
    """"neck" in "the price for face and neck (together)": one or two words,
    no preposition of their own (unlike "tiempo de recuperación")."""
    words = [bare(token) for token in chunk if bare(token) and bare(token) not in TOGETHER]
    return len(words) <= 2 and not PREPOSITIONS & set(words)


def offers_a_choice(chunk: List[Token]) -> bool:
    """"laser or microneedling": the choices of a question, not a subject."""
    return bool(CHOICE & {bare(token) for token in chunk})


def leads_in(chunk: List[Token]) -> bool:
    """"chido,", "a ver,", "great.": words that lead in to a question, asking nothing."""
    words = [bare(token) for token in chunk if any(c.isalpha() for c in token.text)]
    return bool(words) and (set(words) <= CONNECTIVES or tuple(words) in LEAD_PHRASES)


def names_a_subject(chunk: List[Token]) -> bool:
    """"also price", "side effects +": a few words naming what is asked about,
    not the choices of the question before ("what's better for scars, laser
    or microneedling"), nor words of feeling only ("scared lol", "be honest"),
    nor a thing only weighed ("thinking about booking")."""
    words = [bare(token) for token in chunk if any(c.isalpha() for c in token.text)]
    return (0 < len(words) <= MAX_NAMED_WORDS and words[0] not in CONNECTIVES
            and not set(words) <= FEELINGS | CONNECTIVES | POLITE and not set(words) & WEIGHED
            and not leads_in(chunk)
            and not offers_a_choice(chunk))


def listed(text: str, tokens: List[Token]) -> List[tuple]:
    """The items of a short list of subjects ("price, pain, downtime?"), not
    of what a preposition governs ("the price for face and neck": one), nor
    the choices of a question ("better for scars, laser or microneedling")."""
    if sum(word.isalpha() and word.lower() not in POLITE | ARTICLES
           for word in map(bare_word, text.split())) > MAX_LIST_WORDS:
        return []
    found, start = [], 0
    for boundary in [*LIST_SEPARATOR.finditer(text), None]:
        end, after = (boundary.start(), boundary.end()) if boundary else (len(text), len(text))
        chunk = [token for token in tokens if start <= token.start < end]
        words = found and [token for token in found[-1][1] if bare(token) not in ARTICLES]
        if chunk and found and (
                chunk[0].text.lower() in NOT | SKIN_STATES or offers_a_choice(chunk)
                # "how long does the redness and swelling last": one state of the skin, said twice
                or (SKIN_STATE.fullmatch(bare(chunk[0])) and SKIN_STATE.fullmatch(bare(found[-1][1][-1])))
                or (PREPOSITIONS & {token.text.lower() for token in words[-3:-1]}
                    and governed(chunk))):
            found[-1] = (True, found[-1][1] + chunk)
        elif chunk:
            # "ok entonces cual es su numero | y direccion?": the words after a lead-in
            named = list(dropwhile(lambda token: bare(token) in CONNECTIVES - SPEAKER, chunk))
            found.append((bool(named) and not TREATMENT.match(said(named))
                          and bare(named[0]) not in CONNECTIVES and not leads_in(chunk), chunk))
        start = after
    # "telefono y direccion porfa", "¿cuál es su horario y su correo?", not
    # "tengo acne y me dijeron que sirve": each item names a subject or asks
    if sum(asks for asks, _ in found) < 2 or not all(
            sum(bare(token) not in POLITE | ARTICLES for token in chunk) <= MAX_NAMED_WORDS
            or QUESTION.search(
            text[chunk[0].start:chunk[-1].start + len(chunk[-1].text)]) for _, chunk in found):
        return []
    return found


def parts(text: str, tokens: List[Token]) -> List[tuple]:
    """The message's sentences and clauses: (is a question, tokens) each."""
    found, start, joined, told = [], 0, [], False
    scenes = set()  # where the parts that set a scene start
    for boundary in [*BOUNDARY.finditer(text), None]:
        end, after = (boundary.start(), boundary.end()) if boundary else (len(text), len(text))
        chunk = [token for token in tokens if start <= token.start < end]  # no "and"
        if chunk:
            told = bool(REPORTED.match(text[start:after])
                        or (told and TOLD_ON.match(text[start:after])))
            scene = bool(boundary and (LEAD_IN.match(text[start:end]) or told
                                       or SUBORDINATE.match(text[start:after])))
            asks = (bool(QUESTION.search(text[start:after])) and not scene  # with its "?"
                    and not AVAILABLE.match(text[start:after])
                    and not TELLS_WHY.match(text[start:after]))
            found.append((asks, chunk))
            if scene:
                scenes.add(chunk[0].start)
            joined.append(bool(boundary and not scene and JOINED_ES.search(boundary.group())))
        start = after
    # "es mejor que el láser y cuánto sale?": a clause joined by "y" to a
    # question asks too, though nothing marks it (Spanish asks "es mejor
    # ...?" in the order of a statement; English would say "is it better")
    found = [((asks or (joined[i] and found[i + 1][0])) and not leads_in(chunk), chunk)
             for i, (asks, chunk) in enumerate(found)]
    if len(found) < 2:
        return joined_on(listed(text, tokens)) or found
    found = joined_on(found)
    if any(asks for asks, _ in found):
        # "does it help hair loss? also price": beside a question, a few
        # words name another thing asked about; a scene names none ("for
        # bumpy texture, is it better than laser?")
        found = [(asks or (chunk[0].start not in scenes and names_a_subject(chunk)), chunk)
                 for asks, chunk in found]
    return found


def joined_on(found: List[tuple]) -> List[tuple]:
    """The parts, each that goes with the one before joined to it."""
    kept: List[tuple] = []
    for asks, chunk in found:
        if kept and goes_with(asks, chunk, *kept[-1]):
            kept[-1] = (kept[-1][0] or asks, kept[-1][1] + chunk)
        else:
            kept.append((asks, chunk))
    return kept


# "what about hair loss, can it help with that?": names the subject the next part asks of
WHAT_ABOUT = re.compile(r"^\W*(?:(?:and|so|ok|okay|y|e|pero)\W+)?(?:(?:what|how) about|"
                        r"(?:y\s+)?(?:qu[eé]|q)\s+(?:tal|onda con|hay de))\b", re.IGNORECASE)


def goes_with(asks: bool, chunk: List[Token], asked_before: bool, before: List[Token]) -> bool:
    """A part that says the one before again (SAYS_IT_AGAIN), is a question
    word alone (WORD_ALONE), asks whether the clinic does what the question
    before named (DO_YOU_DO_IT), asks the number of the street it names
    (STREET_NUMBER), asks whether what it told is normal (IS_IT_NORMAL), how
    long a state of the skin it names lasts (HOW_LONG_IT), or, in a few
    words, whether it helps with the subject it names (OF_IT), after a part
    that told it or that a pointing word refers back to (POINTS_BACK)."""
    words = said(chunk)
    told = not asked_before
    about = asked_before and WHAT_ABOUT.match(said(before))
    if about:  # "what about hair loss": it names "hair loss"
        told, before = True, before[len(about.group().split()):]
    return bool(SAYS_IT_AGAIN.match(words) or (told and IS_IT_NORMAL.match(words))
                or WORD_ALONE.match(words) or (asked_before and DO_YOU_DO_IT.match(words))
                or (STREET_NUMBER.match(words) and STREET.search(said(before)))
                or (HOW_LONG_IT.match(words) and SKIN_STATE.search(said(before)))
                or (asks and len(chunk) <= MAX_OF_IT_WORDS and OF_IT.search(words)
                    and not ANNOUNCING & {bare(token) for token in before}
                    and ((told and names_a_subject(before))
                         or (POINTS_BACK.match(words) and names_a_subject(list(dropwhile(
                             lambda token: not token.text.isalpha() or bare(token) in CONNECTIVES,
                             before)))))))


def opening_words(text: str, tokens: List[Token]) -> tuple:
    """The message's first few words and the rest, when a , . ; or ! ends
    them and more words follow ("stop, | I'll wait ..."); else none."""
    end = OPENING_END.search(text)
    if not end:
        return [], []
    opening = [token for token in tokens if token.start < end.start()]
    rest = [token for token in tokens if token.start >= end.end()]
    if 0 < len(opening) <= MAX_OPENING_WORDS and any(token.text.isalpha() for token in rest):
        return opening, rest
    return [], []


def had(chunk: List[Token], ranking: List[Dict[str, Any]]) -> bool:
    """A request the visitor has had already, or someone else's ("ya tengo
    mi cita para el viernes", "me quiere llevar a su cita"): told, not asked."""
    return ranking[0]["name"] in REQUESTS and bool(HAD.search(said(chunk)))


def named(chunk: List[Token], ranking: List[Dict[str, Any]]) -> bool:
    """A request asked in a part of a message names what it asks for ("can
    someone call me?"); "me acuesto?", read as a call-back, does not."""
    return ranking[0]["name"] not in REQUESTS or bool(REQUEST_WORDS.search(said(chunk)))


def stated(chunk: List[Token], ranking: List[Dict[str, Any]]) -> bool:
    """A request said as a statement that names what it asks for ("and i'd
    like to book"; not "I want to make sure I'm in good hands"), not put off,
    not had already ("ya tengo mi cita para el viernes"), not a condition
    ("if I schedule it midweek"), nor a call the visitor will make ("what's
    your number then, ill just call")."""
    words = {bare(token) for token in chunk}
    text = said(chunk)
    return (ranking[0]["name"] in STATED and bool(REQUEST_WORDS.search(text))
            and not words & PUT_OFF and not had(chunk, ranking) and not SUBORDINATE.match(text)
            and not (ranking[0]["name"] == "request_callback" and words & CALLING_THEMSELVES))


def asked_before(text: str) -> bool:
    """A request the visitor made before, told without asking anything now."""
    return bool(ASKED_BEFORE.search(text)) and not ASKS_NOW.search(text)


def merged_into(name: str, names: Sequence[str],
                ranking: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The ranking with the intents `names` made one, `name`, first, with
    their confidences summed."""
    merged = [ranked for ranked in ranking if ranked["name"] in names]
    return [{"name": name, "confidence": sum(ranked["confidence"] for ranked in merged)}] + [
        ranked for ranked in ranking if ranked["name"] not in names]


def fit(features: Any, intents: List[str], C: float) -> LogisticRegression:
    """The regression fitted by newton-cg from a fixed start: the same data
    always gives the same model. It reaches lbfgs's optimum (probabilities
    within 1e-4 on the held-out file) in about a fifth of the iterations,
    and the fitting is most of a retraining's own work. In single precision
    it fits in about three quarters of the time, to the same optimum within
    about 1e-4; stopped at a gradient of 1e-3 (the sum over 7,000 examples,
    times C) three outer steps sooner, within 7e-4, with no decision changed
    on 5,682 read blind messages (docs/benchmarks.md, "Training time")."""
    return LogisticRegression(C=C, solver="newton-cg", tol=1e-3, max_iter=5000).fit(
        features, intents)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearIntentClassifier(GraphComponent, IntentClassifier):
    """Ranks every intent by the probability a logistic regression gives it."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "C": 30.0,  # inverse regularisation strength
            "max_word_ngram": 2,  # words and pairs of words
            "max_char_ngram": 4,  # character 1- to 4-grams within words
            "ranking_length": 10,  # intents kept in the ranking ("Did you mean ...?")
            # A sentence or clause this sure of an intent that is a question
            # (faq_*, clinic_*) is answered on its own: in a long message, or
            # beside another one (each answered, in the order asked).
            "part_threshold": 0.7,
            # A whole message this sure says what its one "¿...?" asks of;
            # the FallbackClassifier's threshold, below which "Did you mean".
            "whole_threshold": 0.5,
            # The probabilities are blended with a vote of the message's
            # nearest training examples (cosine of the same features), which
            # take this share: where the examples most like the message
            # belong to another intent, the classifier is less sure. 0: off.
            "neighbours": 5,
            "neighbour_weight": 0.0,
            # Intents the vote leaves as the classifier ranked them, when
            # first: "out_of_scope" has examples on every subject, so its
            # neighbours are seldom its own.
            "unvoted": ["out_of_scope"],
        }

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 model: Optional[Dict[str, Any]] = None) -> None:
        self.config = {**self.get_default_config(), **config}
        self.model = model  # {"words": vectorizer, "chars": vectorizer, "classifier": ...}
        self.speller = Speller({})
        self._model_storage = model_storage
        self._resource = resource
        # the training examples' features, one column each (so that a message's
        # row of features times it is a row of cosines, sparse times sparse)
        self.examples: Optional[csr_matrix] = None
        self.example_classes = np.zeros(0, dtype=int)  # the index of each one's intent
        self._weights: Optional[tuple] = None  # (the classifier, its coef_.T in C order)

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> LinearIntentClassifier:
        return cls(config, model_storage, resource)

    def features(self, texts: List[str]) -> Any:
        """TF-IDF of words and of characters side by side, each of unit length."""
        return hstack([self.model["words"].transform(texts), self.model["chars"].transform(texts)],
                      format="csr")

    def vectorizers(self, vocabularies: Optional[Dict[str, Dict[str, int]]] = None) -> Dict:
        vocabularies = vocabularies or {}
        return {
            "words": TfidfVectorizer(sublinear_tf=True, vocabulary=vocabularies.get("words"),
                                     ngram_range=(1, self.config["max_word_ngram"])),
            "chars": TfidfVectorizer(sublinear_tf=True, vocabulary=vocabularies.get("chars"),
                                     analyzer="char_wb",
                                     ngram_range=(1, self.config["max_char_ngram"])),
        }

    def train(self, training_data: TrainingData) -> Resource:
        examples = training_data.intent_examples
        texts = [lemma_text(example) for example in examples]
        self.speller = Speller.learn(examples)
        self.model = self.vectorizers()
        # fitted, and kept in the model file, in single precision
        features = hstack([self.model[name].fit_transform(texts) for name in ("words", "chars")],
                          format="csr").astype(np.float32)
        classifier = fit(features, [example.get(INTENT) for example in examples],
                         self.config["C"])
        # used in double precision, as the features a message gets: a product
        # of mixed precisions would copy the coefficients on every message
        classifier.coef_ = classifier.coef_.astype(np.float64)
        classifier.intercept_ = classifier.intercept_.astype(np.float64)
        self.model["classifier"] = classifier
        self.examples = features.T.tocsr().astype(np.float64)
        self.example_classes = np.searchsorted(self.model["classifier"].classes_,
                                               [example.get(INTENT) for example in examples])
        self._persist()
        return self._resource

    def _persist(self) -> None:
        words, chars, classifier = (self.model[name] for name in ("words", "chars", "classifier"))
        with self._model_storage.write_to(self._resource) as directory:
            (directory / VOCABULARIES_FILE).write_text(json.dumps({
                "words": {term: int(index) for term, index in words.vocabulary_.items()},
                "chars": {term: int(index) for term, index in chars.vocabulary_.items()},
                "classes": [str(name) for name in classifier.classes_],
                "forms": self.speller.forms,
            }))
            rows = self.examples.T.tocsr()  # one row per example, as trained
            # In single precision, as fitted: no value changes, and the model
            # packs in 1 s instead of 16 (gzip's level 9, which Rasa packs
            # with, crawls over the zero bytes of doubles made from singles)
            np.savez(directory / WEIGHTS_FILE, words_idf=words.idf_, chars_idf=chars.idf_,
                     coef=classifier.coef_.astype(np.float32), intercept=classifier.intercept_,
                     examples_data=rows.data.astype(np.float32), examples_indices=rows.indices,
                     examples_indptr=rows.indptr, examples_shape=np.array(rows.shape),
                     example_classes=self.example_classes)

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> LinearIntentClassifier:
        component = cls(config, model_storage, resource)
        with model_storage.read_from(resource) as directory:
            vocabularies = json.loads((directory / VOCABULARIES_FILE).read_text())
            with np.load(directory / WEIGHTS_FILE, allow_pickle=False) as weights:
                model = component.vectorizers(vocabularies)
                model["words"].idf_ = weights["words_idf"]
                model["chars"].idf_ = weights["chars_idf"]
                classifier = LogisticRegression()
                classifier.classes_ = np.array(vocabularies["classes"])
                classifier.coef_ = weights["coef"].astype(np.float64)
                classifier.intercept_ = weights["intercept"]
                if "examples_data" in weights.files:  # a model trained before the vote has none
                    component.examples = csr_matrix(
                        (weights["examples_data"].astype(np.float64), weights["examples_indices"],
                         weights["examples_indptr"]), shape=tuple(weights["examples_shape"])).T.tocsr()
                    component.example_classes = weights["example_classes"]
        component.model = {**model, "classifier": classifier}
        component.speller = Speller(vocabularies.get("forms", {}))
        return component

    def spelt(self, tokens: List[Token]) -> str:
        """The tokens' lemmas, typos read as the words meant; a capitalised
        word is left as it is: it may be a name ("Dana" is not "data")."""
        return " ".join(word if token.text.istitle() else self.speller.correct(word)
                        for token in tokens for word in [unstretched(token.lemma or token.text)])

    def probabilities(self, texts: List[str], features: Any = None) -> np.ndarray:
        """What the classifier's predict_proba gives (the softmax of its
        scores: multinomial), without its input checks, which took most of
        a call's time."""
        classifier = self.model["classifier"]
        features = self.features(texts) if features is None else features
        if self._weights is None or self._weights[0] is not classifier:
            # sparse features times the coefficients laid out feature by feature:
            # a hundred times faster than times the transposed view `coef_.T`
            self._weights = (classifier, np.ascontiguousarray(classifier.coef_.T))
        scores = features @ self._weights[1] + classifier.intercept_
        scores = np.exp(scores - scores.max(axis=1, keepdims=True))
        return scores / scores.sum(axis=1, keepdims=True)

    def neighbour_votes(self, texts: List[str], features: Any = None) -> np.ndarray:
        """Each intent's share of the cosine similarity of the message's
        `neighbours` nearest training examples (all intents alike when no
        example shares a feature with it)."""
        features = self.features(texts) if features is None else features
        similarity = (features @ self.examples).toarray()
        count = min(self.config["neighbours"], similarity.shape[1])
        nearest = np.argpartition(-similarity, count - 1, axis=1)[:, :count]
        votes = np.zeros((len(texts), len(self.model["classifier"].classes_)))
        for row, columns in enumerate(nearest):
            np.add.at(votes[row], self.example_classes[columns], similarity[row, columns])
        votes += 1e-9
        return votes / votes.sum(axis=1, keepdims=True)

    def blended(self, texts: List[str]) -> np.ndarray:
        """The classifier's probabilities, blended with the neighbours' vote."""
        features = self.features(texts)
        probabilities = self.probabilities(texts, features)
        weight = self.config["neighbour_weight"]
        if not weight or self.examples is None:
            return probabilities
        blend = (1 - weight) * probabilities + weight * self.neighbour_votes(texts, features)
        unvoted = np.isin(self.model["classifier"].classes_[probabilities.argmax(axis=1)],
                          self.config["unvoted"])
        blend[unvoted] = probabilities[unvoted]
        return blend

    def rankings(self, texts: List[str]) -> List[List[Dict[str, Any]]]:
        classifier = self.model["classifier"]
        rankings = []
        for row in self.blended(texts):
            order = row.argsort()[::-1][: self.config["ranking_length"]]
            rankings.append([{"name": str(classifier.classes_[i]), "confidence": float(row[i])}
                             for i in order])
        return rankings

    def process(self, messages: List[Message]) -> List[Message]:
        if not messages or self.model is None:
            return messages
        for message in messages:
            split = parts(message.get(TEXT) or "", message.get(TEXT_TOKENS, []))
            if len(split) < 2:
                split = []
            # the whole message, its parts, its opening and the rest in one call
            tokens = message.get(TEXT_TOKENS, [])
            opening, rest = opening_words(message.get(TEXT) or "", tokens)
            ranking, *scored = self.rankings([self.spelt(tokens)] + [
                self.spelt(chunk) for _, chunk in split] + [
                self.spelt(words) for words in (opening, rest) if words])
            opened, after = scored[len(split):] or (None, None)
            scored = scored[:len(split)]
            asks_anything = any(question for question, _ in split)
            split = [((question and not had(chunk, part) and named(chunk, part))
                      or ((any(asked for asked, _ in split[:i])
                                    # "my skin felt tight for a few hours after my last
                                    # session. i'd like to book the next one": the message's
                                    # last word is the request, after things told
                                    or (i == len(split) - 1 and not asks_anything))
                                   and stated(chunk, part)
                                   and part[0]["confidence"] >= self.config["part_threshold"]),
                      chunk) for i, ((question, chunk), part) in enumerate(zip(split, scored))]
            asking = [chunk for question, chunk in split if question]
            if len(asking) == 1 and asking[0][0].text.startswith("¿") \
                    and ranking[0]["confidence"] >= self.config["whole_threshold"] \
                    and ranking[0]["name"].startswith(QUESTION_INTENTS):
                # "tengo la piel bien sensible, ¿todavía me lo puedo hacer?": the
                # whole message, sure of itself, says what the lone "¿...?" asks of
                split, scored = [], []
            ranking, questions = self._by_parts(ranking, list(zip(
                [question for question, _ in split], scored)))
            if not questions and ranking[0]["name"] in AROUND_THE_SESSION \
                    and BEFORE_AND_AFTER.search(message.get(TEXT) or ""):
                questions = AROUND_THE_SESSION
            if opened and not questions and not asks_anything:
                ranking = self._opened(ranking, opened, after, message.get(TEXT) or "")
            if ranking[0]["name"] == "affirm" and IF_QUESTION.match(message.get(TEXT) or ""):
                ranking = ranking[1:]  # "y si funciona de verdad?" asks; it says no "sí"
            if ranking[0]["name"] in REQUESTS and asked_before(message.get(TEXT) or ""):
                # every request, and the contact details, get that one reply
                ranking = merged_into("clinic_contact", STATED, ranking)
            text = message.get(TEXT) or ""
            if (ranking[0]["name"] in ENDINGS and ranking[0]["confidence"] < SURE_ENDING
                    and FULL_NAME.match(text.strip())):
                ranking = ranking[1:]
            if CHANGES_A_DETAIL.search(text) and (
                    ranking[0]["name"] in ENDINGS and ranking[0]["confidence"] < SURE_ENDING
                    or ranking[0]["name"] == "delete_my_data" and not ERASING.search(text)):
                ranking = [ranked for ranked in ranking if ranked["name"] not in NOT_A_CHANGE]
            if (ranking[0]["name"] == "clinic_contact" and ERASING.search(text)
                    and OWN_DETAIL.search(text) and not CLINIC_DETAIL.search(text)):
                ranking = merged_into("delete_my_data", ERASURE_OR_CONTACT, ranking)
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
            if len(questions) > 1:
                message.set(QUESTIONS, questions, add_to_output=True)
        return messages

    def _opened(self, ranking: List[Dict[str, Any]], opened: List[Dict[str, Any]],
                after: List[Dict[str, Any]], text: str) -> List[Dict[str, Any]]:
        """The ranking of a message that opens with a few words: a stop is a
        stop, whatever reason follows ("stop, I'll wait until after the baby
        arrives"); small talk before a question asks it ("ah ok, y con eczema
        tampoco?"); a greeting before a request makes it ("hola, quiero
        apartar mi segunda sesion"); of a whole too unsure to answer, a sure
        yes opening it is what it says ("si, mejor que me vean")."""
        sure = self.config["part_threshold"]
        if opened[0]["name"] == "stop" and opened[0]["confidence"] >= sure:
            return opened
        if (opened[0]["name"] == "greet" and after[0]["confidence"] >= sure
                and after[0]["confidence"] > ranking[0]["confidence"]):
            return after
        if (opened[0]["name"] == "affirm" and opened[0]["confidence"] >= sure
                and ranking[0]["confidence"] < self.config["whole_threshold"]):
            return opened
        if (ranking[0]["name"] in SMALL_TALK and text.rstrip().endswith("?")
                and after[0]["name"].startswith(QUESTION_INTENTS)
                and after[0]["confidence"] >= sure):
            return after
        return ranking

    def _by_parts(self, ranking: List[Dict[str, Any]], scored: List[tuple]) -> tuple:
        """The message's intent and questions, from its own ranking and its
        parts' ((is a question, ranking) each). Two or more parts that ask
        different questions, each with confidence: all of them, in order.
        Else, when the whole message is less sure than its best question:
        that one."""
        sure = [part for question, part in scored if question
                and part[0]["confidence"] >= self.config["part_threshold"]
                and part[0]["name"].startswith(QUESTION_INTENTS + REQUESTS)]
        questions = list(dict.fromkeys(part[0]["name"] for part in sure))
        requests = [name for name in questions if name in REQUESTS]
        if len(questions) > 1 and len(requests) <= 1:
            # "how much is it, and can I book?": the answers, then the request's
            # own step (the form or the hand-over), which takes the intent
            questions = [name for name in questions if name not in REQUESTS] + requests
            lead = requests[0] if requests else questions[0]
            first = next(part for part in sure if part[0]["name"] == lead)
            return first, questions
        best = max((part for question, part in scored if question),
                   key=lambda part: part[0]["confidence"], default=None)
        if best and best[0]["name"].startswith(QUESTION_INTENTS + REQUESTS) and (
                best[0]["confidence"] > ranking[0]["confidence"]
                # "ok fine. how do i call you then": the question, not the "ok"
                or (ranking[0]["name"] in SMALL_TALK
                    and best[0]["confidence"] >= self.config["part_threshold"])):
            return best, []
        return ranking, []
