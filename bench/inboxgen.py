"""A generated inbox with the shape of three years at a regional employment service's desk.

Contacts, their identities on each network, conversations and messages are written straight into
the real tables with PostgreSQL's COPY, so a million messages load in a couple of minutes:

- conversations start over ``Scale.days`` (more of them lately, as the desk grew), each on one of
  eight channels with the kinds that network has (comments, mentions, private messages); a handful of
  messages each on average, a few long ones;
- most conversations are closed; those active in the last month are often open, waiting or snoozed,
  and a few older ones were forgotten open: a few thousand need a reply at full scale;
- citizens write in Spanish (most), Valencian or only an emoji; the words come from a vocabulary
  with a long tail (common: "cita", "curso", "prestación"; rare: "apicultura", "Morella"), so
  full-text search meets the selectivity it meets at a real desk; our answers are stock replies;
- every column the ingest service keeps is filled the way it keeps it (last message times,
  ``needs_reply``, the oldest unanswered message, priority from the seeded priority words, the
  preview and language of the citizen's latest words), so the pages read consistent rows.

Secondary indexes (those that back no constraint) are dropped before the COPY and created again
after it with their own definitions, the full-text GIN index of inbox migration 0007 among them (the
COPY fills the stored ``search_vector`` column, which PostgreSQL computes from the text, and the
index is built over it afterwards). Foreign keys are not checked
row by row during the COPY when the role may skip them (a superuser): the generator only writes
ids it created.
"""

from __future__ import annotations

import bisect
import itertools
import json
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connection, transaction

from inbox.models import Conversation, ConversationStatus, PriorityWord, Tag
from inbox.priority import priority_of
from networks.base import InboundKind
from networks.models import Channel, Network

SEED = 20261128
# The Facebook Page the webhook deliveries of the benchmark are for.
PAGE_ID = "104857321234567"
COPY_CHUNK_ROWS = 20_000
INBOX_TABLES = (
    "inbox_contact",
    "inbox_identity",
    "inbox_conversation",
    "inbox_message",
    "inbox_conversation_tags",
)


@dataclass(frozen=True)
class Scale:
    messages: int
    conversations: int
    contacts: int
    days: int = 3 * 365


FULL_SCALE = Scale(messages=1_000_000, conversations=200_000, contacts=150_000)


@dataclass(frozen=True)
class Loaded:
    contacts: int
    identities: int
    conversations: int
    messages: int
    needs_reply: int
    seconds: float


# --- Channels and kinds ---------------------------------------------------------------------------

# (network, account id, name, share of the conversations, kinds with their weights)
CHANNELS = [
    (
        Network.FACEBOOK,
        PAGE_ID,
        "Empleo Comunitat Valenciana",
        30,
        {"public_comment": 7, "private_message": 3},
    ),
    (
        Network.INSTAGRAM,
        "17841405822304914",
        "empleo_cv",
        22,
        {"public_comment": 5, "private_message": 4, "mention": 1},
    ),
    (
        Network.X,
        "1460000000000000001",
        "@EmpleoCV",
        18,
        {"public_comment": 4, "mention": 4, "private_message": 2},
    ),
    (Network.LINKEDIN, "urn:li:organization:90000001", "Empleo CV", 8, {"public_comment": 1}),
    (Network.YOUTUBE, "UCempleocv000000000000", "Empleo CV", 6, {"public_comment": 1}),
    (Network.MASTODON, "109000000000000001", "@empleo@social.gva", 5, {"mention": 3, "private_message": 1}),
    (
        Network.BLUESKY,
        "did:plc:empleocv0000000000000",
        "empleocv.bsky.social",
        7,
        {"mention": 3, "public_comment": 3, "private_message": 1},
    ),
    (Network.FACEBOOK, "104857321230000", "Formación Labora", 4, {"public_comment": 3, "private_message": 1}),
]
TAGS = [
    "cita previa",
    "cursos",
    "prestación",
    "ofertas",
    "certificados",
    "queja",
    "empresas",
    "garantía juvenil",
    "feria",
    "web caída",
    "becas",
    "prácticas",
]


# --- Words ------------------------------------------------------------------------------------------


def _zipf(values: Sequence[str]) -> tuple[Sequence[str], list[float]]:
    """Values with cumulative weights 1/rank: the first is common, the last rare."""
    return values, list(itertools.accumulate(1 / rank for rank in range(1, len(values) + 1)))


COURSES = {
    "es": _zipf(
        [
            "ofimática",
            "inglés",
            "atención sociosanitaria",
            "hostelería",
            "carretillero",
            "soldadura",
            "electricidad",
            "cocina",
            "logística",
            "programación",
            "contabilidad",
            "peluquería",
            "jardinería",
            "fontanería",
            "marketing digital",
            "energías renovables",
            "mecánica",
            "panadería",
            "cantería",
            "restauración de muebles",
            "apicultura",
            "luthería",
        ]
    ),
    "ca": _zipf(
        [
            "ofimàtica",
            "anglés",
            "atenció sociosanitària",
            "hostaleria",
            "carretoner",
            "soldadura",
            "electricitat",
            "cuina",
            "logística",
            "programació",
            "comptabilitat",
            "perruqueria",
            "jardineria",
            "fontaneria",
            "màrqueting digital",
            "energies renovables",
            "mecànica",
            "forn i pastisseria",
            "pedra en sec",
            "restauració de mobles",
            "apicultura",
            "lutieria",
        ]
    ),
}
TOWNS = {
    "es": _zipf(
        [
            "València",
            "Alicante",
            "Castellón",
            "Elche",
            "Torrent",
            "Gandia",
            "Sagunto",
            "Alzira",
            "Benidorm",
            "Orihuela",
            "Dénia",
            "Xàtiva",
            "Alcoi",
            "Ontinyent",
            "Vila-real",
            "Llíria",
            "Requena",
            "Vinaròs",
            "Utiel",
            "Morella",
        ]
    ),
    "ca": _zipf(
        [
            "València",
            "Alacant",
            "Castelló",
            "Elx",
            "Torrent",
            "Gandia",
            "Sagunt",
            "Alzira",
            "Benidorm",
            "Oriola",
            "Dénia",
            "Xàtiva",
            "Alcoi",
            "Ontinyent",
            "Vila-real",
            "Llíria",
            "Requena",
            "Vinaròs",
            "Utiel",
            "Morella",
        ]
    ),
}
TRADES = {
    "es": _zipf(
        [
            "camareros",
            "dependientes",
            "limpieza",
            "conductores",
            "cocineros",
            "mozos de almacén",
            "auxiliares administrativos",
            "cuidadores",
            "electricistas",
            "enfermeras",
            "soldadores",
            "programadores",
            "albañiles",
            "pintores",
            "socorristas",
            "fruteros",
            "pescadores",
        ]
    ),
    "ca": _zipf(
        [
            "cambrers",
            "dependents",
            "neteja",
            "conductors",
            "cuiners",
            "mossos de magatzem",
            "auxiliars administratius",
            "cuidadors",
            "electricistes",
            "infermeres",
            "soldadors",
            "programadors",
            "paletes",
            "pintors",
            "socorristes",
            "fruiters",
            "pescadors",
        ]
    ),
}
PROCEDURES = {
    "es": _zipf(
        [
            "la renovación de la demanda",
            "mi solicitud de subsidio",
            "el certificado de inscripción",
            "la garantía juvenil",
            "el alta en la bolsa de trabajo",
            "la acreditación de competencias",
            "el informe de periodos de inscripción",
            "la reclamación previa",
        ]
    ),
    "ca": _zipf(
        [
            "la renovació de la demanda",
            "la meua sol·licitud de subsidi",
            "el certificat d'inscripció",
            "la garantia juvenil",
            "l'alta en la borsa de treball",
            "l'acreditació de competències",
            "l'informe de períodes d'inscripció",
            "la reclamació prèvia",
        ]
    ),
}
# Citizens' questions; {course}, {town}, {trade} and {procedure} are filled from the lists above.
QUESTIONS = {
    "es": _zipf(
        [
            "necesito cita previa en la oficina de empleo de {town} y no hay huecos",
            "quería saber cuándo se abre el plazo de inscripción del curso de {course}",
            "no puedo renovar la demanda de empleo por internet, me da error",
            "¿dónde puedo ver las ofertas de trabajo de {trade} en {town}?",
            "me han denegado la prestación por desempleo y no entiendo el motivo",
            "¿sigue abierta la inscripción para el curso de {course} en {town}?",
            "todavía no me ha llegado el certificado de profesionalidad de {course}",
            "¿hay cursos gratuitos de {course} para personas desempleadas?",
            "gracias por la información, me ha servido mucho",
            "llevo semanas esperando respuesta sobre {procedure}, es una vergüenza",
            "¿qué requisitos piden para la beca del curso de {course}?",
            "¿me podéis llamar? no consigo hablar con nadie en el teléfono de atención",
            "el enlace de la web para {procedure} no funciona",
            "¿las prácticas del curso de {course} son remuneradas?",
            "buscamos {trade} para nuestra empresa en {town}, ¿cómo publicamos la oferta?",
            "me interesa la feria de empleo de {town}, ¿hay que apuntarse?",
            "¿cuándo salen las listas de admitidos del taller de {course}?",
            "he perdido el documento de alta como demandante, ¿cómo lo recupero?",
            "quiero poner una queja por el trato recibido en la oficina de {town}",
            "¿cómo me doy de alta en el paro si trabajaba por horas?",
            "busco un curso de formación de {course} por las tardes",
            "es urgente, mañana me caduca {procedure}",
        ]
    ),
    "ca": _zipf(
        [
            "necessite cita prèvia a l'oficina d'ocupació de {town}",
            "volia saber quan s'obri el termini d'inscripció del curs de {course}",
            "no puc renovar la demanda d'ocupació per internet, em dona error",
            "on puc veure les ofertes de treball de {trade} a {town}?",
            "m'han denegat la prestació per desocupació i no entenc el motiu",
            "encara està oberta la inscripció per al curs de {course} a {town}?",
            "encara no m'ha arribat el certificat de professionalitat de {course}",
            "hi ha cursos gratuïts de {course} per a persones en atur?",
            "moltes gràcies per la informació",
            "fa setmanes que espere resposta sobre {procedure}",
            "quins requisits demanen per a la beca del curs de {course}?",
            "la sol·licitud de {procedure} no apareix a la seu electrònica",
            "quan ixen les llistes d'admesos del taller de {course}?",
            "busquem {trade} per a la nostra empresa a {town}, com publiquem l'oferta?",
            "vull posar una queixa pel tracte rebut a l'oficina de {town}",
            "com em done d'alta a l'atur si treballava per hores?",
            "busque un curs de formació de {course} per les vesprades",
            "és urgent, demà em caduca {procedure}",
        ]
    ),
}
OPENINGS = {
    "es": ["Hola", "Buenos días", "Buenas tardes", "Buenas", "Hola, buenas", "Disculpen", "Perdonad", ""],
    "ca": ["Hola", "Bon dia", "Bona vesprada", "Bones", "Perdoneu", ""],
}
CLOSINGS = {
    "es": ["", "", "Gracias", "Muchas gracias", "Un saludo", "Gracias de antemano", "Saludos"],
    "ca": ["", "", "Gràcies", "Moltes gràcies", "Salutacions", "Gràcies per endavant"],
}
# Messages that say nothing a language detector or a stemmer could use.
WORDLESS = ["👍", "ok", "?", "??", "😡", "👏👏", "💪", "…"]
ANSWERS = {
    "es": [
        "Hola, puede pedir cita previa en la web de Labora o llamando al 012.",
        "Buenos días, le escribimos por privado para revisar su caso.",
        "Gracias por escribirnos. El plazo de inscripción se publicará en nuestra web la próxima semana.",
        "Hola, la prestación la gestiona el SEPE: puede consultar su caso en su sede electrónica.",
        "Lamentamos las molestias. Hemos trasladado su queja a la oficina.",
        "Puede consultar todas las ofertas en el portal de empleo.",
        "El certificado se envía por correo postal en un plazo de dos meses.",
        "Gracias a usted.",
    ],
    "ca": [
        "Hola, pot demanar cita prèvia a la web de Labora o telefonant al 012.",
        "Bon dia, li escrivim per privat per a revisar el seu cas.",
        "Gràcies per escriure'ns. El termini d'inscripció es publicarà a la nostra web la setmana que ve.",
        "Sentim les molèsties. Hem traslladat la seua queixa a l'oficina.",
        "Pot consultar totes les ofertes al portal d'ocupació.",
        "Gràcies a vosté.",
    ],
}
AUTOMATED_ANSWER = "Hemos recibido su mensaje. Le responderemos en horario de atención (L-V, 9-14 h)."
FIRST_NAMES = [
    "Lucía",
    "María",
    "Carmen",
    "Josep",
    "Vicent",
    "Núria",
    "Àngels",
    "Joan",
    "Pablo",
    "Javier",
    "Marta",
    "Laura",
    "Ana",
    "Pau",
    "Jordi",
    "Amparo",
    "Consuelo",
    "Sergio",
    "Iván",
    "Noelia",
    "Andrea",
    "Raúl",
    "Ximo",
    "Empar",
    "Desamparados",
    "Rosa",
    "Toni",
    "Pilar",
    "Hugo",
    "Alba",
]
SURNAMES = [
    "García",
    "Martínez",
    "López",
    "Sánchez",
    "Pérez",
    "Ferrer",
    "Puig",
    "Llopis",
    "Sanchis",
    "Català",
    "Moreno",
    "Navarro",
    "Gómez",
    "Soler",
    "Vidal",
    "Ribes",
    "Server",
    "Climent",
    "Boix",
    "Peris",
    "Giménez",
    "Ortega",
    "Roig",
    "Mas",
    "Cortés",
    "Esteve",
    "Bosch",
    "Castelló",
    "Marí",
    "Alcaraz",
]
HIDDEN_REASONS = ["Insultos", "Datos personales publicados", "Publicidad"]

LANGUAGE_SHARES = {"es": 0.78, "ca": 0.18, "": 0.04}


def _copy_field(value) -> str:
    """A value in COPY's text format."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


def _timestamp(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


# --- Rows ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChannelPlan:
    id: int
    network: str
    share: int
    kinds: dict[str, int]


@dataclass
class _Thread:
    """One conversation while it is generated: its messages' times and directions, then its state."""

    id: int
    channel: int
    network: str
    kind: str
    identity: int
    contact: int
    language: str
    times: list[float]
    inbound: list[bool]
    status: str = ConversationStatus.CLOSED
    spam: bool = False


class InboxGenerator:
    """Rows for the inbox tables, from a seed; `now` is the end of the three years."""

    def __init__(self, *, scale: Scale, now: datetime, seed: int = SEED, assignee_id: int | None = None):
        self.scale = scale
        self.now = now.timestamp()
        self.random = random.Random(seed)
        self.assignee_id = assignee_id
        self.priority_words = list(PriorityWord.objects.values_list("term", "category", "weight"))

    # Contacts and identities ------------------------------------------------------------------

    def people(
        self, first_contact: int, first_identity: int, channels: list[ChannelPlan]
    ) -> tuple[list, list, dict]:
        """Contacts, identities (one each, some with a second network) and identity ids by network."""
        rng = self.random
        networks = sorted({channel.network for channel in channels})
        weights = [sum(c.share for c in channels if c.network == network) for network in networks]
        contacts, identities, by_network = [], [], {network: [] for network in networks}
        identity_id = first_identity
        for number in range(self.scale.contacts):
            contact_id = first_contact + number
            name = f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}"
            contacts.append((contact_id, name))
            first = rng.choices(networks, weights)[0]
            owned = (
                [first] if rng.random() > 0.06 else [first, rng.choice([n for n in networks if n != first])]
            )
            for network in owned:
                identities.append((identity_id, contact_id, network, f"{network[:2]}-{identity_id}", name))
                by_network[network].append((identity_id, contact_id))
                identity_id += 1
        return contacts, identities, by_network

    # Conversations ----------------------------------------------------------------------------

    def message_counts(self) -> list[int]:
        """How many messages each conversation has: at least one, a long tail, exactly `messages` in all."""
        rng = self.random
        conversations, extra = self.scale.conversations, self.scale.messages - self.scale.conversations
        weights = [rng.expovariate(1.0) ** 1.6 for _ in range(conversations)]
        total = sum(weights)
        counts = [1 + int(extra * weight / total) for weight in weights]
        for index in rng.sample(range(conversations), self.scale.messages - sum(counts)):
            counts[index] += 1
        return counts

    def threads(
        self, first_conversation: int, channels: list[ChannelPlan], by_network: dict
    ) -> list[_Thread]:
        rng = self.random
        span = self.scale.days * 86400
        start = self.now - span
        # More conversations lately: the desk grew.
        starts = sorted(start + span * rng.random() ** 0.75 for _ in range(self.scale.conversations))
        counts = self.message_counts()
        shares = [channel.share for channel in channels]
        used: dict[str, list[tuple[int, int]]] = {network: [] for network in by_network}
        fresh = {network: iter(ids) for network, ids in by_network.items()}
        languages, language_weights = list(LANGUAGE_SHARES), list(LANGUAGE_SHARES.values())
        threads = []
        for number, (begun, count) in enumerate(zip(starts, counts, strict=True)):
            channel = self.random.choices(channels, shares)[0]
            channel_id, network, kinds = channel.id, channel.network, channel.kinds
            identity = self._citizen(network, fresh, used)
            kind = rng.choices(list(kinds), list(kinds.values()))[0]
            times = self._times(begun, count)
            thread = _Thread(
                id=first_conversation + number,
                channel=channel_id,
                network=network,
                kind=kind,
                identity=identity[0],
                contact=identity[1],
                language=rng.choices(languages, language_weights)[0],
                times=times,
                inbound=[True] * count,
            )
            self._settle(thread)
            threads.append(thread)
        return threads

    def _citizen(self, network: str, fresh: dict, used: dict) -> tuple[int, int]:
        """A citizen who writes for the first time, or (one time in four) one who wrote before."""
        if used[network] and self.random.random() < 0.25:
            return self.random.choice(used[network])
        identity = next(fresh[network], None)
        if identity is None:
            return self.random.choice(used[network])
        used[network].append(identity)
        return identity

    def _times(self, begun: float, count: int) -> list[float]:
        times, at = [], begun
        for _ in range(count):
            times.append(min(at, self.now - 60))
            at += self.random.expovariate(1 / 7200) + 30  # answers and follow-ups within hours
        return times

    def _settle(self, thread: _Thread) -> None:
        """Directions and status: recent conversations are often still open, old ones closed."""
        rng = self.random
        count = len(thread.times)
        for index in range(1, count):
            previous = thread.inbound[index - 1]
            thread.inbound[index] = not previous if rng.random() < 0.75 else previous
        age_days = (self.now - thread.times[-1]) / 86400
        roll = rng.random()
        if age_days < 30:
            status = (
                ConversationStatus.OPEN
                if roll < 0.45
                else ConversationStatus.WAITING
                if roll < 0.75
                else ConversationStatus.SNOOZED
                if roll < 0.80
                else ConversationStatus.CLOSED
            )
        else:
            status = (
                ConversationStatus.OPEN
                if roll < 0.006
                else ConversationStatus.WAITING
                if roll < 0.031
                else ConversationStatus.SNOOZED
                if roll < 0.033
                else ConversationStatus.CLOSED
            )
        if status == ConversationStatus.WAITING and count == 1:
            status = ConversationStatus.OPEN
        if status in (ConversationStatus.OPEN, ConversationStatus.SNOOZED):
            thread.inbound[-1] = True
        elif status == ConversationStatus.WAITING:
            thread.inbound[-1] = False
        elif count > 1 and rng.random() < 0.75:
            thread.inbound[-1] = False  # closed after our reply; else closed without one
        thread.status = status
        thread.spam = rng.random() < 0.004

    # Texts --------------------------------------------------------------------------------------

    def question(self, language: str) -> str:
        rng = self.random
        if not language:
            return rng.choice(WORDLESS)
        templates, cumulative = QUESTIONS[language]
        text = _weighted(rng, templates, cumulative)
        for slot, words in (
            ("{course}", COURSES),
            ("{town}", TOWNS),
            ("{trade}", TRADES),
            ("{procedure}", PROCEDURES),
        ):
            if slot in text:
                text = text.replace(slot, _weighted(rng, *words[language]))
        opening, closing = rng.choice(OPENINGS[language]), rng.choice(CLOSINGS[language])
        if not opening:
            text = text[0].upper() + text[1:]
        if not text.endswith("?"):
            text += "."
        return " ".join(part for part in (opening + ("," if opening else ""), text, closing) if part)

    def answer(self, language: str) -> str:
        return self.random.choice(ANSWERS["ca" if language == "ca" else "es"])

    # Writing ------------------------------------------------------------------------------------

    def conversation_and_message_lines(
        self, threads: list[_Thread], first_message: int, first_tagging: int, tags: list[int]
    ) -> tuple[Iterator[str], list[str], list[str]]:
        """COPY lines of the conversations and their tags (lists) and of the messages (a generator)."""
        conversations: list[str] = []
        taggings: list[str] = []

        def messages() -> Iterator[str]:
            message_id = first_message
            tagging_id = first_tagging
            for thread in threads:
                texts = []
                lines = []
                for index, (at, inbound) in enumerate(zip(thread.times, thread.inbound, strict=True)):
                    text, line = self._message_line(thread, message_id, index, at, inbound)
                    texts.append((at, inbound, text))
                    lines.append(line)
                    message_id += 1
                yield "".join(lines)
                conversations.append(self._conversation_line(thread, texts))
                for tag in self._tags_of(thread, tags):
                    taggings.append(f"{tagging_id}\t{thread.id}\t{tag}\n")
                    tagging_id += 1

        return messages(), conversations, taggings

    def _message_line(
        self, thread: _Thread, message_id: int, index: int, at: float, inbound: bool
    ) -> tuple[str, str]:
        rng = self.random
        automated = not inbound and index == 1 and rng.random() < 0.03
        if inbound:
            text = self.question(thread.language)
        else:
            text = AUTOMATED_ANSWER if automated else self.answer(thread.language)
        deleted = inbound and rng.random() < 0.003
        hidden = inbound and rng.random() < 0.002
        in_reply_to = (
            f"m-{message_id - 1}"
            if index
            else (f"post-{thread.id % 5000}" if thread.kind == InboundKind.PUBLIC_COMMENT else "")
        )
        created = _timestamp(at)
        line = "\t".join(
            (
                str(message_id),
                f"m-{message_id}",
                "in" if inbound else "out",
                _copy_field(text),
                in_reply_to,
                created,
                _timestamp(at + 30 + rng.random() * 90),  # received by the next poll
                "f",
                "\\N",
                "t" if deleted else "f",
                created if deleted else "\\N",
                "{}",
                str(thread.identity) if inbound else "\\N",
                str(thread.channel),
                str(thread.id),
                "t" if automated else "f",
                "t" if hidden else "f",
                rng.choice(HIDDEN_REASONS) if hidden else "",
                thread.language if inbound else "",
            )
        )
        return text, line + "\n"

    def _conversation_line(self, thread: _Thread, texts: list[tuple[float, bool, str]]) -> str:
        rng = self.random
        inbound_times = [at for at, inbound, _ in texts if inbound]
        outbound_times = [at for at, inbound, text in texts if not inbound and text != AUTOMATED_ANSWER]
        last_inbound = max(inbound_times)
        last_outbound = max(outbound_times) if outbound_times else None
        last_message = max(at for at, _, _ in texts)
        needs_reply = last_outbound is None or last_inbound > last_outbound
        closed = thread.status == ConversationStatus.CLOSED
        awaiting = None
        if needs_reply and not closed:
            awaiting = min(at for at in inbound_times if last_outbound is None or at > last_outbound)
        first_response = min((at for at in outbound_times), default=None)
        priority, reasons = 0, []
        if awaiting is not None:
            unanswered = [text for at, inbound, text in texts if inbound and at >= awaiting]
            priority, reasons = priority_of(
                texts=unanswered, words=self.priority_words, unanswered=len(unanswered)
            )
        latest_words = next(text for at, inbound, text in reversed(texts) if inbound)
        closed_at = min(last_message + 3600 * (1 + rng.random() * 47), self.now) if closed else None
        snoozed_until = (
            self.now + 86400 * (1 + rng.random() * 2) if thread.status == ConversationStatus.SNOOZED else None
        )
        assignee = self.assignee_id if not closed and self.assignee_id and rng.random() < 0.1 else None
        about_post = f"post-{thread.id % 5000}" if thread.kind == InboundKind.PUBLIC_COMMENT else ""
        resolution = ("replied" if last_outbound else "no_reply_needed") if closed else ""
        fields = (
            thread.id,
            f"th-{thread.id}",
            thread.kind,
            about_post,
            thread.status,
            needs_reply,
            _timestamp(last_message),
            _timestamp(last_inbound),
            _timestamp(last_outbound) if last_outbound else None,
            _timestamp(texts[0][0]),
            _timestamp(closed_at or last_message),
            thread.channel,
            thread.contact,
            assignee,
            _timestamp(awaiting) if awaiting else None,
            _timestamp(closed_at) if closed_at else None,
            1,
            _timestamp(first_response) if first_response else None,
            _timestamp(texts[0][0]),
            thread.language,
            latest_words[:280],
            priority,
            json.dumps(reasons, ensure_ascii=False),
            resolution,
            _timestamp(snoozed_until) if snoozed_until else None,
            thread.spam,
        )
        return "\t".join(_copy_field(field) for field in fields) + "\n"

    def _tags_of(self, thread: _Thread, tags: list[int]) -> list[int]:
        roll = self.random.random()
        if roll < 0.06:
            return [self.random.choice(tags)]
        if roll < 0.08:
            return self.random.sample(tags, 2)
        return []


def _weighted(rng: random.Random, values: Sequence[str], cumulative: list[float]) -> str:
    return values[bisect.bisect(cumulative, rng.random() * cumulative[-1])]


# --- Loading --------------------------------------------------------------------------------------

CONVERSATION_COLUMNS = (
    "id, thread_key, kind, about_post, status, needs_reply, last_message_at, last_inbound_at, "
    "last_outbound_at, created_at, updated_at, channel_id, contact_id, assignee_id, awaiting_since, "
    "closed_at, cycle, cycle_first_response_at, cycle_started_at, language, preview, priority, "
    "priority_reasons, resolution, snoozed_until, spam"
)
MESSAGE_COLUMNS = (
    "id, external_id, direction, text, in_reply_to, created_at, received_at, edited, edited_at, deleted, "
    "deleted_at, raw, author_id, channel_id, conversation_id, automated, hidden, hidden_reason, language"
)


def _channels() -> list[ChannelPlan]:
    rows = []
    for network, account_id, name, share, kinds in CHANNELS:
        channel, _ = Channel.objects.get_or_create(
            network=network, account_id=account_id, defaults={"display_name": name}
        )
        rows.append(ChannelPlan(channel.pk, network, share, kinds))
    return rows


def _tags() -> list[int]:
    return [Tag.objects.get_or_create(name=name)[0].pk for name in TAGS]


def _next_ids(cursor) -> dict[str, int]:
    ids = {}
    for table in INBOX_TABLES:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")  # noqa: S608 (our table names)
        ids[table] = cursor.fetchone()[0]
    return ids


def _secondary_indexes(cursor) -> list[tuple[str, str]]:
    """(name, definition) of the indexes on the inbox tables that back no constraint."""
    cursor.execute(
        """
        SELECT index_class.relname, pg_get_indexdef(pg_index.indexrelid)
        FROM pg_index
        JOIN pg_class index_class ON index_class.oid = pg_index.indexrelid
        JOIN pg_class table_class ON table_class.oid = pg_index.indrelid
        WHERE table_class.relname = ANY(%s)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE pg_constraint.conindid = pg_index.indexrelid)
        ORDER BY index_class.relname
        """,
        [list(INBOX_TABLES)],
    )
    return cursor.fetchall()


def _copy(cursor, table: str, columns: str, chunks) -> None:
    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        buffer: list[str] = []
        for chunk in chunks:
            buffer.append(chunk)
            if len(buffer) >= COPY_CHUNK_ROWS:
                copy.write("".join(buffer))
                buffer.clear()
        if buffer:
            copy.write("".join(buffer))


def _skip_row_checks_if_allowed(cursor) -> None:
    cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    if cursor.fetchone()[0]:
        cursor.execute("SET LOCAL session_replication_role = replica")


def inbox_generate(
    *, scale: Scale, now: datetime, seed: int = SEED, assignee_id: int | None = None
) -> Loaded:
    """Fill the inbox tables (adding to what they hold) with `scale`'s rows ending at `now`. PostgreSQL only."""
    if connection.vendor != "postgresql":
        raise RuntimeError("The inbox generator loads with PostgreSQL's COPY.")
    started = time.monotonic()
    generator = InboxGenerator(scale=scale, now=now, seed=seed, assignee_id=assignee_id)
    with transaction.atomic(), connection.cursor() as cursor:
        channels, tags = _channels(), _tags()
        ids = _next_ids(cursor)
        indexes = _secondary_indexes(cursor)
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        _skip_row_checks_if_allowed(cursor)
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        contacts, identities, by_network = generator.people(
            ids["inbox_contact"], ids["inbox_identity"], channels
        )
        stamp = _copy_field(now)
        _copy(
            cursor,
            "inbox_contact",
            "id, display_name, created_at, updated_at",
            (f"{contact_id}\t{name}\t{stamp}\t{stamp}\n" for contact_id, name in contacts),
        )
        _copy(
            cursor,
            "inbox_identity",
            "id, contact_id, network, external_id, display_name, handle, created_at, updated_at",
            (
                f"{identity_id}\t{contact_id}\t{network}\t{external}\t{name}\t\t{stamp}\t{stamp}\n"
                for identity_id, contact_id, network, external, name in identities
            ),
        )
        threads = generator.threads(ids["inbox_conversation"], channels, by_network)
        messages, conversations, taggings = generator.conversation_and_message_lines(
            threads, ids["inbox_message"], ids["inbox_conversation_tags"], tags
        )
        # Messages first: their lines produce the conversations' (which the message FK points at;
        # the check runs at commit, or not at all for a superuser).
        _copy(cursor, "inbox_message", MESSAGE_COLUMNS, messages)
        _copy(cursor, "inbox_conversation", CONVERSATION_COLUMNS, conversations)
        _copy(cursor, "inbox_conversation_tags", "id, conversation_id, tag_id", taggings)
        for _name, definition in indexes:
            cursor.execute(definition)
        for table in INBOX_TABLES:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"  # noqa: S608
            )
            cursor.execute(f"ANALYZE {table}")
    needs_reply = Conversation.objects.filter(
        status=ConversationStatus.OPEN, needs_reply=True, spam=False
    ).count()
    return Loaded(
        contacts=len(contacts),
        identities=len(identities),
        conversations=len(threads),
        messages=scale.messages,
        needs_reply=needs_reply,
        seconds=time.monotonic() - started,
    )
