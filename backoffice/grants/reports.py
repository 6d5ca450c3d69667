"""The programme's report for its funders: each grant (commune, profession, amounts, equipment)
and its activity per quarter, as a spreadsheet written by a job (``jobs.grants.grant_report``)."""
from __future__ import annotations

import re
import unicodedata

from sqlalchemy import select

from backoffice.extensions import db
from backoffice.grants.models import GRANTED_STATUSES, GrantApplication, GrantFollowUp
from backoffice.spreadsheets import Sheet, write_csv, write_xlsx

HEADER = ("Demande", "Bénéficiaire", "Profession", "Commune", "Cabinet", "Matériel", "Modèle", "N° de série",
          "Statut", "Accordée le", "Montant accordé", "Montant versé", "Versée le")
ACTIVITY_HEADER = ("Demande", "Bénéficiaire", "Année", "Trimestre", "Dépistages", "Orientations dermatologue")


def slug(text):
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "programme"


def grant_rows(programme):
    rows = db.session.scalars(select(GrantApplication).where(
        GrantApplication.programme_id == programme.id, GrantApplication.status.in_(GRANTED_STATUSES))
        .order_by(GrantApplication.id))
    for a in rows:
        party, site = a.applicant, a.site
        yield (a.reference, party.display_name, getattr(party, "profession_label", ""),
               (site.commune if site else None) or party.commune or "", site.name if site else "",
               a.equipment_kind, a.equipment_model or "", a.serial_number or "", a.status.label, a.decided_on,
               a.amount_granted, a.amount_paid, a.paid_on)


def activity_rows(programme):
    rows = db.session.execute(select(GrantFollowUp, GrantApplication).join(GrantApplication).where(
        GrantApplication.programme_id == programme.id)
        .order_by(GrantFollowUp.year, GrantFollowUp.quarter, GrantApplication.id))
    for follow_up, a in rows:
        yield (a.reference, a.applicant.display_name, follow_up.year, f"T{follow_up.quarter}",
               follow_up.screenings, follow_up.referrals)


def write_report(programme, fmt, target) -> int:
    """Write the report as ``fmt`` (``xlsx``: two sheets; ``csv``: the grants) into ``target``."""
    grants = list(grant_rows(programme))
    if fmt == "xlsx":
        write_xlsx([Sheet("Aides", HEADER, grants), Sheet("Activité", ACTIVITY_HEADER, list(activity_rows(programme)))],
                   target)
    else:
        write_csv(grants, HEADER, target)
    return len(grants)
