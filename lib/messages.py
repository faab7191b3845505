"""Messages for people that arise where Django is not imported, translated where they are shown.

``lib`` says what went wrong in English, with the detail that makes it actionable (an address, a
selector, a limit). The page that shows it is in Spanish, Valencian or English, and a message
stored by the worker is read later by someone whose language the worker could not know. So a
message keeps its English text, which is the msgid of the catalogues (``gettext_noop`` marks it for
``makemessages``), apart from its values; ``translated`` puts the two together in any language.

    Message(gettext_noop("The address “%(url)s” names no server."), {"url": url})
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

Value = str | int


def gettext_noop(text: str) -> str:
    """Marks ``text`` as a msgid for ``makemessages`` (which looks for calls of this name) and
    returns it unchanged: it is translated when shown, not here."""
    return text


@dataclass(frozen=True, slots=True)
class Message:
    text: str  # the English text and msgid, with %(name)s where each value goes
    values: Mapping[str, Value] = field(default_factory=lambda: MappingProxyType({}))

    def __str__(self) -> str:
        return self.translated(str)

    def translated(self, gettext: Callable[[str], str]) -> str:
        """The message in the language ``gettext`` translates to (Django's, at the caller)."""
        text = gettext(self.text)
        if not self.values:
            return text
        try:
            return text % self.values
        except (KeyError, TypeError, ValueError):  # a translation that lost a placeholder
            return self.text % self.values

    def shortened(self, limit: int) -> Message:
        """The same message with each text value cut to ``limit`` characters (for storing a value that
        came from outside: an address, a library's error)."""
        values = {
            name: value[:limit] if isinstance(value, str) else value for name, value in self.values.items()
        }
        return Message(self.text, values)

    def as_json(self) -> dict:
        return {"text": self.text, "values": dict(self.values)}

    @classmethod
    def from_json(cls, data: object) -> Message | None:
        """The message ``as_json`` stored, or None for anything else (an empty field included)."""
        if not isinstance(data, dict) or not isinstance(data.get("text"), str) or not data["text"]:
            return None
        values = data.get("values")
        if not isinstance(values, dict):
            values = {}
        kept = {str(name): value for name, value in values.items() if isinstance(value, (str, int))}
        return cls(data["text"], kept)
