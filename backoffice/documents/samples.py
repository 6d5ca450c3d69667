"""The contexts our Word templates expect, with realistic sample values.

This is the contract between the services that build contexts and the templates in
``templates/documents/``: every key listed here must be present (``None`` when there is no
value), because the engine's undefined variables are strict. Used by the tests, the benchmark
and the template check when an organisation uploads its own model.
"""
from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from pathlib import Path

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates" / "documents"
MEMBERSHIP_RECEIPT = TEMPLATES_DIR / "membership_receipt.docx"
BENCH_STATEMENT = TEMPLATES_DIR / "bench_statement.docx"

# Top-level variables a membership receipt template may use (for validate()).
MEMBERSHIP_RECEIPT_VARIABLES = frozenset({
    "organisation",  # name, address (lines separated by "\n"), siren, city
    "logo",  # DocumentImage or None
    "receipt",  # number
    "member",  # civility, first_name, last_name
    "period",  # start, end (dates)
    "category",  # str
    "amount",  # Decimal, euros
    "payment",  # date, method, reference (or None)
    "place",  # str: "Fait à …"
    "issued_on",  # date
    "treasurer",  # name
})


def membership_receipt_context(**overrides) -> dict:
    """A complete context for ``membership_receipt.docx``; keyword arguments replace keys."""
    context = {
        "organisation": {
            "name": "CPTS du Pays de Brocéliande",
            "address": "12 rue des Forges\n35380 Paimpont",
            "siren": "912 345 678",
            "city": "Paimpont",
        },
        "logo": None,
        "receipt": {"number": "2026-0042"},
        "member": {"civility": "Mme", "first_name": "Léa", "last_name": "Le Goff"},
        "period": {"start": dt.date(2026, 1, 1), "end": dt.date(2026, 12, 31)},
        "category": "Professionnelle de santé libérale",
        "amount": Decimal("35.00"),
        "payment": {"date": dt.date(2026, 2, 14), "method": "virement",
                    "reference": "VIR-2026-0214"},
        "place": "Paimpont",
        "issued_on": dt.date(2026, 3, 1),
        "treasurer": {"name": "Yannick Morvan"},
    }
    context.update(overrides)
    return context


_FIRST_NAMES = ["Léa", "Hugo", "Chloé", "Louis", "Inès", "Gabriel", "Manon", "Raphaël", "Zoé",
                "Jules", "Anaïs", "Noé", "Maëlys", "Timothée", "Élodie", "François", "Cécile",
                "Gaëlle", "Loïc", "Hélène"]
_LAST_NAMES = ["Le Goff", "Martin", "Bernard", "Dubois", "Lefèvre", "Morvan", "Garnier",
               "Rousseau", "Fournier", "Girard", "Bonnet", "Mercier", "Boucher", "Guérin",
               "Lemoine", "Dupont & Fils", "Caron", "Perrin", "Roux", "Benoît"]
_CITIES = ["Rennes", "Brest", "Quimper", "Vannes", "Saint-Malo", "Lorient", "Morlaix",
           "Lannion", "Dinan", "Fougères"]
_LABELS = ["Cotisation annuelle", "Participation réunion pluriprofessionnelle",
           "Formation « plaies et cicatrisation »", "Frais de dossier", "Journée de prévention",
           "Adhésion logiciel partagé", "Soirée d'information", "Reprographie",
           "Atelier éducation thérapeutique", "Location de salle <petite>"]
_CIVILITIES = ["Mme", "M.", "Dr"]


def bench_statement_context(rng: random.Random, index: int = 0) -> dict:
    """A varied, realistic context for ``bench_statement.docx`` (5 to 20 lines)."""
    lines = []
    for _ in range(rng.randint(5, 20)):
        quantity = rng.randint(1, 12)
        unit = Decimal(rng.randint(150, 25000)) / 100
        lines.append({"label": rng.choice(_LABELS), "quantity": quantity,
                      "amount": unit * quantity})
    total = sum((line["amount"] for line in lines), Decimal("0"))
    first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
    city = rng.choice(_CITIES)
    day = dt.date(2026, 1, 1) + dt.timedelta(days=rng.randint(0, 300))
    return {
        "organisation": {
            "name": rng.choice(["CPTS Rennes Nord", "MSP des Deux Rives",
                                "SISA Santé Kerlann", "CPTS Cœur d'Armor"]),
            "address": f"{rng.randint(1, 120)} rue de la Santé\n35000 Rennes",
            "address_line": "3 place du Parlement, 35000 Rennes",
            "siren": "912 345 678",
            "iban": "FR76 3000 4000 0500 0012 3456 789",
            "city": "Rennes",
            "dpo_email": "dpo@cpts-exemple.fr",
        },
        "member": {
            "civility": rng.choice(_CIVILITIES), "first_name": first, "last_name": last,
            "number": f"A{index:05d}", "address": f"{rng.randint(1, 99)} avenue Foch\n{city}",
            "city": city, "email": f"{first.lower()}.{index}@exemple.fr",
            "category": rng.choice(["Libéral", "Salarié", "Étudiant"]),
            "since": dt.date(2020 + rng.randint(0, 5), rng.randint(1, 12), 1),
        },
        "statement": {
            "number": f"R-2026-{index:05d}", "date": day,
            "period_start": day - dt.timedelta(days=90), "period_end": day,
            "due_date": day + dt.timedelta(days=30), "next_date": day + dt.timedelta(days=91),
        },
        "contact": {"name": "Yannick Morvan", "phone": "02 99 00 00 00",
                    "role": "coordinateur"},
        "board": {"meeting_date": day - dt.timedelta(days=12), "place": "Rennes",
                  "assembly_date": dt.date(2026, 6, 18), "commission": "finances"},
        "last_payment": {"amount": Decimal(rng.randint(1000, 90000)) / 100,
                         "date": day - dt.timedelta(days=40)},
        "previous_balance": Decimal(rng.randint(0, 50000)) / 100,
        "lines": lines,
        "total": total,
        "average": (total / len(lines)).quantize(Decimal("0.01")),
    }
