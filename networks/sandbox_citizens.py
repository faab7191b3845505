"""The invented citizens who write to the sandbox network, in Spanish and Valencian.

Everything here is made up: names, handles and messages resemble what a public employment
service hears every day (job offers, training courses, appointments, unemployment benefits,
complaints) so the demo desk and the tests look like the real thing.
"""

import random
import unicodedata
from dataclasses import dataclass

from networks.base import InboundKind

SPANISH = "es"
VALENCIAN = "ca"


@dataclass(frozen=True)
class Citizen:
    author_id: str
    name: str
    handle: str
    language: str


def _handle(name: str, number: int) -> str:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return "".join(part.lower() for part in plain.split()[:2]) + str(number)


_PEOPLE = (
    ("Lucía Moreno Gascón", SPANISH),
    ("Javier Ortega Ruiz", SPANISH),
    ("Carmen Iborra Sáez", SPANISH),
    ("Andrés Navarro Peña", SPANISH),
    ("Pilar Cánovas Miró", SPANISH),
    ("Raúl Castillo Vega", SPANISH),
    ("Inés Domínguez Lara", SPANISH),
    ("Miguel Herrero Sanz", SPANISH),
    ("Yolanda Beltrán Ávila", SPANISH),
    ("Óscar Piqueras León", SPANISH),
    ("Joan Martí Soler", VALENCIAN),
    ("Neus Climent Fabra", VALENCIAN),
    ("Pau Llorca Bataller", VALENCIAN),
    ("Empar Vidal Moltó", VALENCIAN),
    ("Xavier Bosch Estellés", VALENCIAN),
    ("Amparo Sanchis Ferri", VALENCIAN),
    ("Jordi Pastor Alemany", VALENCIAN),
    ("Maite Ribes Canet", VALENCIAN),
    ("Vicenta Albert Roig", VALENCIAN),
    ("Toni Garcia Bellver", VALENCIAN),
)

CITIZENS = tuple(
    Citizen(
        author_id=f"citizen-{index:03d}", name=name, handle=_handle(name, 10 + index * 7), language=language
    )
    for index, (name, language) in enumerate(_PEOPLE, start=1)
)

_TOWNS = (
    "València",
    "Alacant",
    "Castelló de la Plana",
    "Elx",
    "Gandia",
    "Alzira",
    "Sagunt",
    "Torrent",
    "Paterna",
    "Benidorm",
    "Vila-real",
    "Ontinyent",
    "Xàtiva",
    "Dénia",
    "Requena",
)

_COURSES = {
    SPANISH: (
        "Atención sociosanitaria",
        "Carretillero",
        "Inglés B1",
        "Soldadura",
        "Ofimática",
        "Cocina",
        "Competencias digitales básicas",
        "Instalaciones eléctricas",
        "Logística de almacén",
    ),
    VALENCIAN: (
        "Atenció sociosanitària",
        "Carretoner",
        "Anglés B1",
        "Soldadura",
        "Ofimàtica",
        "Cuina",
        "Competències digitals bàsiques",
        "Instal·lacions elèctriques",
        "Logística de magatzem",
    ),
}

_TEMPLATES = {
    (SPANISH, InboundKind.MENTION): (
        "@{handle} Buenos días, ¿sabéis si este año sale otra vez el curso de {course} en {town}?",
        "@{handle} Llevo dos semanas intentando pedir cita previa en la oficina de {town} y no hay huecos. ¿Qué hago?",
        "@{handle} ¿Cuándo se cobra la prestación por desempleo este mes? Todavía no me ha llegado.",
        "@{handle} Vergüenza que el teléfono de la oficina de {town} no lo coja nadie en toda la mañana.",
        "@{handle} Hola, ¿las ofertas de empleo de la web están actualizadas? Algunas parecen de hace meses.",
        "@{handle} ¿Dónde puedo consultar si me han admitido en el curso de {course}?",
        "@{handle} Me han dado de baja como demandante de empleo sin avisarme. ¿Cómo lo arreglo?",
        "@{handle} Gracias a la orientadora de {town}, por fin he encontrado trabajo. ¡Un diez!",
    ),
    (SPANISH, InboundKind.PUBLIC_COMMENT): (
        "¿Esto es solo para menores de 30 o puede apuntarse cualquiera?",
        "¿Hay plazas también en {town} o solo en València?",
        "Me apunté al de {course} en marzo y todavía no me han llamado.",
        "¿Hace falta estar inscrito como demandante de empleo para apuntarse?",
        "Muy útil, gracias. ¿El plazo acaba el viernes o el lunes?",
        "Pues en la oficina de {town} me dijeron otra cosa totalmente distinta…",
        "¿Se puede hacer online? Trabajo por las mañanas y no puedo ir presencialmente.",
        "Mi hijo tiene 17 años, ¿puede apuntarse ya?",
    ),
    (SPANISH, InboundKind.PRIVATE_MESSAGE): (
        "Hola, tenía cita mañana a las 9:30 en la oficina de {town} y no puedo ir por un tema médico. ¿Cómo la cambio?",
        "Buenas tardes. Me han denegado el subsidio y no entiendo el motivo de la carta. ¿Me podéis ayudar?",
        "Hola, quería saber en qué estado está mi solicitud de la prestación por desempleo. Mi DNI termina en 4521.",
        "Hola, he visto una oferta de auxiliar administrativo en {town} pero el enlace no funciona.",
        "Buenos días, ¿qué documentación tengo que llevar para inscribirme como demandante de empleo?",
        "Quiero poner una queja: me atendieron fatal en la oficina de {town} y nadie me dio una solución.",
        "Hola, terminé el curso de {course} y no me ha llegado el certificado. ¿A quién tengo que pedirlo?",
        "Soy autónoma y quería contratar a una persona joven. ¿Hay alguna ayuda a la contratación?",
    ),
    (VALENCIAN, InboundKind.MENTION): (
        "@{handle} Bon dia, enguany tornareu a fer el curs de {course} a {town}?",
        "@{handle} Fa dies que intente demanar cita prèvia a l'oficina de {town} i no n'hi ha cap. Què puc fer?",
        "@{handle} Quan es cobra la prestació per desocupació aquest mes? Encara no l'he rebuda.",
        "@{handle} És una vergonya que ningú agafe el telèfon de l'oficina de {town} en tot el matí.",
        "@{handle} Les ofertes de treball de la web estan actualitzades? N'hi ha que semblen de fa mesos.",
        "@{handle} On puc mirar si m'han admés al curs de {course}?",
        "@{handle} M'han donat de baixa com a demandant d'ocupació sense avisar-me. Com ho arregle?",
        "@{handle} Moltes gràcies a l'orientador de {town}: per fi he trobat faena!",
    ),
    (VALENCIAN, InboundKind.PUBLIC_COMMENT): (
        "Açò és només per a menors de 30 anys o s'hi pot apuntar qualsevol?",
        "Hi ha places també a {town} o només a València?",
        "Em vaig apuntar al de {course} al març i encara no m'han cridat.",
        "Cal estar inscrit com a demandant d'ocupació per a apuntar-s'hi?",
        "Molt útil, gràcies. El termini acaba divendres o dilluns?",
        "Doncs a l'oficina de {town} em van dir una cosa totalment diferent…",
        "Es pot fer en línia? Treballe als matins i no puc anar-hi presencialment.",
        "La meua filla té 17 anys, ja s'hi pot apuntar?",
    ),
    (VALENCIAN, InboundKind.PRIVATE_MESSAGE): (
        "Hola, tenia cita demà a les 9.30 a l'oficina de {town} i no puc anar-hi per un tema mèdic. Com la canvie?",
        "Bona vesprada. M'han denegat el subsidi i no entenc el motiu de la carta. Em podeu ajudar?",
        "Hola, voldria saber en quin estat està la meua sol·licitud de la prestació per desocupació.",
        "Hola, he vist una oferta d'auxiliar administratiu a {town} però l'enllaç no funciona.",
        "Bon dia, quina documentació he de portar per a inscriure'm com a demandant d'ocupació?",
        "Vull posar una queixa: em van atendre molt malament a l'oficina de {town} i ningú no em va donar solució.",
        "Hola, vaig acabar el curs de {course} i no m'ha arribat el certificat. A qui l'he de demanar?",
        "Tinc una xicoteta empresa i voldria contractar una persona jove. Hi ha alguna ajuda?",
    ),
}

_FOLLOW_UPS = {
    SPANISH: (
        "¿Hola? ¿Alguien puede responderme, por favor?",
        "Perdonad que insista, pero lo necesito para esta semana.",
        "Se me olvidaba: estoy inscrito en la oficina de {town}.",
    ),
    VALENCIAN: (
        "Hola? Algú em pot respondre, per favor?",
        "Perdoneu que insistisca, però ho necessite per a aquesta setmana.",
        "Se m'oblidava: estic inscrita a l'oficina de {town}.",
    ),
}


def citizen_text(*, rng: random.Random, citizen: Citizen, kind: InboundKind, our_handle: str) -> str:
    template = rng.choice(_TEMPLATES[(citizen.language, kind)])
    return _fill(template, rng=rng, citizen=citizen, our_handle=our_handle)


def citizen_follow_up(*, rng: random.Random, citizen: Citizen) -> str:
    return _fill(rng.choice(_FOLLOW_UPS[citizen.language]), rng=rng, citizen=citizen, our_handle="")


def _fill(template: str, *, rng: random.Random, citizen: Citizen, our_handle: str) -> str:
    return template.format(
        handle=our_handle, town=rng.choice(_TOWNS), course=rng.choice(_COURSES[citizen.language])
    )
