"""The desk's starting topics, with Spanish and Valencian keywords (editable afterwards in the admin).

Weights: 5 for phrases that settle what an item is about ("feria de empleo"), 1–2 for words that
only hint at it ("ayuda"). Exclusions take out the usual false friends: "paro cardíaco", the
political "oposición", the "curso escolar".
"""

from django.db import migrations

TOPICS = [
    {
        "slug": "employment",
        "name": "Empleo",
        "hashtags": "#Empleo #Ocupació #Treball",
        "keywords": [
            ("oferta de empleo", 5), ("oferta de trabajo", 5), ("oferta de treball", 5), ("oferta d'ocupació", 5),
            ("puesto de trabajo", 3), ("lloc de treball", 3), ("empleo", 2),
            ("ocupació", 2), ("trabajo", 1), ("treball", 1), ("feina", 1), ("contratación", 2),
            ("contractació", 2), ("demandante de empleo", 3), ("demandant d'ocupació", 3),
            ("persona desempleada", 3), ("persona desocupada", 3), ("paro", 2), ("atur", 2),
            ("desempleo", 2), ("desocupació", 2), ("inserción laboral", 3), ("inserció laboral", 3),
            ("mercado laboral", 2), ("mercat laboral", 2), ("vacante", 2), ("vacant", 2), ("SEPE", 3),
            ("LABORA", 3), ("contrato", 1), ("contracte", 1),
        ],
        "exclusions": ["paro cardíaco", "parada cardíaca", "empleo de la fuerza", "ús de la força"],
    },
    {
        "slug": "training",
        "name": "Formación",
        "hashtags": "#Formación #Formació #FP",
        "keywords": [
            ("curso", 3), ("curs", 3), ("formación", 3), ("formació", 3), ("formación profesional", 4),
            ("formació professional", 4), ("formación para el empleo", 5), ("formació per a l'ocupació", 5),
            ("certificado de profesionalidad", 5), ("certificat de professionalitat", 5), ("FP dual", 4),
            ("taller", 2), ("matrícula", 1), ("inscripción", 1), ("inscripció", 1),
            ("plazas disponibles", 2), ("places disponibles", 2), ("competencias digitales", 3),
            ("competències digitals", 3), ("cualificación", 2), ("qualificació", 2), ("aprendizaje", 1),
            ("aprenentatge", 1), ("webinar", 1), ("seminario", 1), ("seminari", 1),
        ],
        "exclusions": ["curso escolar", "curs escolar"],
    },
    {
        "slug": "guidance",
        "name": "Orientación laboral",
        "hashtags": "#OrientaciónLaboral #OrientacióLaboral",
        "keywords": [
            ("orientación laboral", 5), ("orientació laboral", 5), ("orientación", 2), ("orientació", 2),
            ("búsqueda de empleo", 4), ("búsqueda de trabajo", 4), ("recerca de feina", 4),
            ("recerca d'ocupació", 4), ("buscar trabajo", 3), ("buscar feina", 3), ("currículum", 2),
            ("curriculum vitae", 2), ("entrevista de trabajo", 4), ("entrevista de treball", 4),
            ("itinerario", 1), ("itinerari", 1), ("asesoramiento", 2), ("assessorament", 2),
            ("emprendimiento", 2), ("emprenedoria", 2), ("autoempleo", 3), ("autoocupació", 3),
            ("marca personal", 2), ("competencias", 1), ("competències", 1),
        ],
        "exclusions": [],
    },
    {
        "slug": "grants",
        "name": "Ayudas y becas",
        "hashtags": "#Ayudas #Ajudes #Becas",
        "keywords": [
            ("beca", 3), ("subvención", 3), ("subvenció", 3), ("ayuda", 2), ("ajuda", 2),
            ("prestación", 2), ("prestació", 2), ("subsidio", 2), ("subsidi", 2),
            ("ingreso mínimo vital", 4), ("ingrés mínim vital", 4), ("renta valenciana de inclusión", 4),
            ("renda valenciana d'inclusió", 4), ("convocatoria", 2), ("convocatòria", 2),
            ("bases reguladoras", 2), ("bases reguladores", 2), ("plazo de solicitud", 3),
            ("termini de sol·licitud", 3), ("incentivo a la contratación", 4), ("incentiu a la contractació", 4),
        ],
        "exclusions": ["ayuda humanitaria", "ajuda humanitària"],
    },
    {
        "slug": "job-fairs",
        "name": "Ferias de empleo",
        "hashtags": "#FeriaDeEmpleo #FiraOcupació",
        "keywords": [
            ("feria de empleo", 5), ("feria del empleo", 5), ("fira d'ocupació", 5), ("fira de l'ocupació", 5),
            ("fira de treball", 5), ("foro de empleo", 5), ("fòrum d'ocupació", 5), ("jornada de empleo", 4),
            ("jornada d'ocupació", 4), ("encuentro de empresas", 3),
            ("trobada d'empreses", 3), ("speed networking", 3), ("networking", 1), ("reclutamiento", 2),
            ("reclutament", 2), ("feria", 1), ("fira", 1),
        ],
        "exclusions": ["feria de abril", "fira de juliol"],
    },
    {
        "slug": "public-employment",
        "name": "Empleo público",
        "hashtags": "#EmpleoPúblico #OcupacióPública #Oposiciones",
        "keywords": [
            ("oposició", 4), ("oposición", 4), ("concurso-oposición", 5),
            ("concurs-oposició", 5), ("bolsa de trabajo", 5), ("bolsa de empleo", 5), ("borsa de treball", 5),
            ("borsa d'ocupació", 5), ("empleo público", 5), ("ocupació pública", 5),
            ("oferta de empleo público", 5), ("oferta d'ocupació pública", 5), ("proceso selectivo", 4),
            ("procés selectiu", 4), ("funcionario", 2), ("funcionari", 2), ("personal laboral", 2),
            ("interino", 2), ("interí", 2), ("DOGV", 2), ("BOE", 2), ("plazas", 1), ("places", 1),
        ],
        "exclusions": ["partido de la oposición", "partit de l'oposició", "líder de la oposición", "líder de l'oposició"],
    },
]  # fmt: skip


def seed(apps, schema_editor):
    Topic = apps.get_model("curation", "Topic")
    Keyword = apps.get_model("curation", "Keyword")
    for spec in TOPICS:
        topic, created = Topic.objects.get_or_create(
            slug=spec["slug"], defaults={"name": spec["name"], "hashtags": spec["hashtags"]}
        )
        if not created:
            continue
        Keyword.objects.bulk_create(
            [Keyword(topic=topic, phrase=phrase, weight=weight) for phrase, weight in spec["keywords"]]
            + [Keyword(topic=topic, phrase=phrase, weight=1, is_exclusion=True) for phrase in spec["exclusions"]]
        )


def unseed(apps, schema_editor):
    apps.get_model("curation", "Topic").objects.filter(slug__in=[spec["slug"] for spec in TOPICS]).delete()


class Migration(migrations.Migration):
    dependencies = [("curation", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
