"""Spanish or Valencian? A small word-count guess, good enough to sort a queue (imports no Django).

Citizens write short, often accentless messages; a full language identifier is overkill and
confuses the two. Each language has words the other never uses; the one with more hits wins,
and a tie (or no hit) says "unknown".
"""

import re
import unicodedata

_WORD = re.compile(r"[a-zàèéíïòóúüç·ñ']+")

_VALENCIAN = frozenset(
    [
        "amb",
        "bon",
        "dia",
        "hui",
        "vull",
        "vullc",
        "puc",
        "tinc",
        "teniu",
        "meua",
        "meu",
        "seua",
        "nostra",
        "nostre",
        "els",
        "per",
        "perque",
        "perquè",
        "què",
        "com",
        "quan",
        "on",
        "treball",
        "feina",
        "ajuda",
        "gracies",
        "gràcies",
        "moltes",
        "molt",
        "sóc",
        "soc",
        "estic",
        "estem",
        "aquest",
        "aquesta",
        "aquell",
        "ningu",
        "ningú",
        "res",
        "també",
        "tambe",
        "encara",
        "mai",
        "queixa",
        "reclamació",
        "reclamacio",
        "urgent",
        "avui",
        "ací",
        "aci",
        "allà",
        "alla",
        "cap",
        "fins",
        "demà",
        "dema",
    ]
)
_SPANISH = frozenset(
    [
        "con",
        "buenos",
        "buenas",
        "dias",
        "días",
        "hoy",
        "quiero",
        "puedo",
        "tengo",
        "tienen",
        "mi",
        "mis",
        "nuestra",
        "nuestro",
        "los",
        "las",
        "unos",
        "para",
        "porque",
        "qué",
        "que",
        "cómo",
        "como",
        "cuándo",
        "cuando",
        "dónde",
        "donde",
        "trabajo",
        "empleo",
        "ayuda",
        "gracias",
        "muchas",
        "mucho",
        "soy",
        "estoy",
        "estamos",
        "este",
        "esta",
        "ese",
        "nadie",
        "nada",
        "también",
        "tampoco",
        "todavía",
        "nunca",
        "queja",
        "reclamación",
        "reclamacion",
        "urgente",
        "aquí",
        "aqui",
        "allí",
        "alli",
        "hasta",
        "mañana",
        "manana",
        "el",
        "la",
        "del",
        "y",
    ]
)


def detect_language(text: str) -> str:
    """ "es", "ca" or "" (unknown)."""
    words = _WORD.findall(unicodedata.normalize("NFC", text.lower()))
    valencian = sum(word in _VALENCIAN for word in words)
    spanish = sum(word in _SPANISH for word in words)
    if valencian > spanish:
        return "ca"
    if spanish > valencian:
        return "es"
    return ""
