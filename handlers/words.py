"""The words people may type, in every language the bot speaks: subcommands, help and the
caption's keywords. English first; each word is read case-insensitively, with or without
accents (`ubicacion` is `ubicación`, `ещё` is `еще`).

Whatever language a word is typed in, it means the same thing for everyone: these words are
input, not replies, so they do not depend on the reader's locale. README's vocabulary table
lists them; a test keeps the two in step. A word may be a phrase (`dejar de vigilar`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping

Vocabulary = Mapping[str, Mapping[str, tuple[str, ...]]]  # meaning -> language -> words

LANGUAGES = ("en", "es", "pt", "ru")

# `/license <sub>`: a channel's licence watches.
WATCH_WORDS: Vocabulary = {
    "watch": {
        "en": ("watch",),
        "es": ("vigilar", "seguir"),
        "pt": ("monitorar", "acompanhar", "vigiar"),
        "ru": ("следить", "отслеживать"),
    },
    "unwatch": {
        "en": ("unwatch",),
        "es": ("dejar de vigilar", "dejar de seguir", "dejar"),
        "pt": ("parar de monitorar", "deixar de monitorar", "parar", "deixar"),
        "ru": ("не следить", "перестать следить", "перестать", "отписаться"),
    },
    "watching": {
        "en": ("watching",),
        "es": ("vigilando", "lista"),
        "pt": ("monitorando", "lista"),
        "ru": ("список", "слежу"),
    },
}

# `/altegio <sub>`: the person's own Altegio account.
ACCOUNT_WORDS: Vocabulary = {
    "login": {
        "en": ("login", "log in"),
        "es": ("iniciar sesión", "iniciar", "entrar", "conectar"),
        "pt": ("entrar", "conectar"),
        "ru": ("войти", "вход"),
    },
    "logout": {
        "en": ("logout", "log out"),
        "es": ("cerrar sesión", "salir", "desconectar"),
        "pt": ("sair", "desconectar"),
        "ru": ("выйти", "выход"),
    },
    "whoami": {
        "en": ("whoami", "who am i"),
        "es": ("quién soy",),
        "pt": ("quem sou eu", "quem sou"),
        "ru": ("кто я",),
    },
}

# Help, as the first word of any command (or the whole of `/phone`'s text).
HELP_WORDS: Vocabulary = {
    "help": {
        "en": ("help", "-h", "--help", "?"),
        "es": ("ayuda",),
        "pt": ("ajuda",),
        "ru": ("помощь", "справка"),
    },
}

# A photo's caption: who or what the photo is for, and where. Russian words come in the forms a
# caption uses ("фото мастера 17 в филиале 4523464"). A space in a word may also be typed as
# `_` or `-`, or left out (`team_member`, `teammember`).
CAPTION_WORDS: Vocabulary = {
    "master": {
        "en": ("master", "team member", "staff"),
        "es": ("maestro", "maestra", "profesional", "especialista", "empleado", "empleada"),
        "pt": (
            "profissional",
            "especialista",
            "funcionário",
            "funcionária",
            "colaborador",
            "colaboradora",
        ),
        "ru": (
            "мастер",
            "мастера",
            "мастеру",
            "сотрудник",
            "сотрудника",
            "сотруднику",
            "специалист",
            "специалиста",
            "специалисту",
        ),
    },
    "service": {
        "en": ("service",),
        "es": ("servicio",),
        "pt": ("serviço",),
        "ru": ("услуга", "услуги", "услугу"),
    },
    "location": {
        "en": ("location", "company"),
        "es": ("sucursal", "ubicación", "local", "empresa"),
        "pt": ("unidade", "local", "filial", "empresa"),
        "ru": ("филиал", "филиала", "филиале", "локация", "локации", "компания", "компании"),
    },
}

# Between a caption keyword and its value, besides `:`, `=`, `#` and `№`: `master id 17`.
CAPTION_ID_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("id", "no."),
    "es": ("id", "nº", "n.º", "n°", "núm.", "número"),
    "pt": ("id", "nº", "n.º", "n°", "número"),
    "ru": ("id", "номер"),
}


def fold(text: str) -> str:
    """`text` as words are compared: case and accents dropped, one character for one.

    The result is exactly as long as `text` (after NFC), so a position found in it is the same
    position in the text the person typed: `É` becomes `e`, `й` becomes `и`, `ß` stays.
    """
    return "".join(_fold_char(c) for c in unicodedata.normalize("NFC", text))


def _fold_char(char: str) -> str:
    base = "".join(c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c))
    if len(base) != 1:
        base = char  # a lone combining mark, or a character that is more than a letter and marks
    lowered = base.lower()
    return lowered if len(lowered) == 1 else base


def all_words(vocabulary: Vocabulary, meaning: str) -> tuple[str, ...]:
    """Every word for `meaning`, in every language, English first, without repeats."""
    seen: dict[str, None] = {}
    for language in LANGUAGES:
        for word in vocabulary[meaning].get(language, ()):
            seen.setdefault(word, None)
    return tuple(seen)
