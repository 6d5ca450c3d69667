"""The programme's report for its funders, in one place: ``programme_report(programme)`` gathers
the figures once — each grant (commune, profession, amounts, equipment), the grants by commune
and by profession, the amounts committed and paid per funder, the equipment delivered and the
activity per quarter — and every output reads them from there: the spreadsheet (XLSX/CSV,
``write_report``), the Word report (``report_context``, the durable document ``grant_report``)
and the programme page's charts (``budget_chart``/``activity_chart``). The amounts agree with
``services.budget``: a grant holds what was paid once paid (an invoice lower than the quote
released the rest), the amount granted until then.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from backoffice.extensions import db
from backoffice.grants.models import GRANTED_STATUSES, GrantApplication, GrantFollowUp
from backoffice.models import ZERO
from backoffice.spreadsheets import Sheet, write_csv, write_xlsx

HEADER = ("Demande", "Bénéficiaire", "Profession", "Commune", "Cabinet", "Matériel", "Modèle", "N° de série",
          "Statut", "Accordée le", "Montant accordé", "Montant versé", "Versée le")
ACTIVITY_HEADER = ("Demande", "Bénéficiaire", "Année", "Trimestre", "Dépistages", "Orientations dermatologue")
NO_COMMUNE = "Commune non renseignée"


def slug(text):
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "programme"


@dataclass(frozen=True)
class GrantLine:
    """One grant of the programme as the report shows it."""

    application: GrantApplication
    beneficiary: str
    profession: str
    commune: str
    practice: str
    committed: Decimal  # granted, not yet paid
    paid: Decimal

    @property
    def row(self):
        """The spreadsheet's row (``HEADER``)."""
        a = self.application
        return (a.reference, self.beneficiary, self.profession, self.commune, self.practice, a.equipment_kind,
                a.equipment_model or "", a.serial_number or "", a.status.label, a.decided_on, a.amount_granted,
                a.amount_paid, a.paid_on)


@dataclass
class Group:
    """The grants of one commune or one profession."""

    name: str
    count: int = 0
    committed: Decimal = ZERO
    paid: Decimal = ZERO

    @property
    def granted(self):
        return self.committed + self.paid


@dataclass(frozen=True)
class FunderLine:
    name: str
    reference: str | None
    amount: Decimal  # what the funder committed to the programme
    received_on: date | None
    committed: Decimal  # its share of the grants committed, not yet paid (pro rata, ``allocate``)
    paid: Decimal  # its share of the grants paid
    remaining: Decimal  # its share of the envelope not granted yet


@dataclass(frozen=True)
class Quarter:
    year: int
    quarter: int
    screenings: int
    referrals: int
    reports: int  # how many beneficiaries reported that quarter

    @property
    def label(self):
        return f"T{self.quarter} {self.year}"


@dataclass
class ProgrammeReport:
    programme: object
    budget: object  # services.Budget
    grants: list[GrantLine]
    by_commune: list[Group]
    by_profession: list[Group]
    funders: list[FunderLine]
    quarters: list[Quarter]
    activity: list[tuple] = field(default_factory=list)  # ACTIVITY_HEADER rows, per beneficiary

    @property
    def equipment(self) -> list[GrantLine]:
        """The grants whose equipment was delivered (a serial number recorded)."""
        return [line for line in self.grants if line.application.serial_number]


def _grouped(lines, key):
    groups = {}
    for line in lines:
        group = groups.setdefault(key(line), Group(key(line)))
        group.count += 1
        group.committed += line.committed
        group.paid += line.paid
    # Most grants first, then by name: the funder reads where the programme reached.
    return sorted(groups.values(), key=lambda g: (-g.count, g.name))


def _grant_lines(programme):
    rows = db.session.scalars(
        select(GrantApplication).where(GrantApplication.programme_id == programme.id,
                                       GrantApplication.status.in_(GRANTED_STATUSES))
        .options(selectinload(GrantApplication.applicant), selectinload(GrantApplication.site))
        .order_by(GrantApplication.id))
    lines = []
    for a in rows:
        party, site = a.applicant, a.site
        paid = a.amount_paid or ZERO
        # As services.effective_grant: once paid, the grant holds what was paid.
        committed = ZERO if a.amount_paid is not None else a.amount_granted
        lines.append(GrantLine(a, party.display_name, getattr(party, "profession_label", "") or "",
                               (site.commune if site else None) or party.commune or "",
                               site.name if site else "", committed, paid))
    return lines


def _quarters(programme):
    rows = db.session.execute(
        select(GrantFollowUp.year, GrantFollowUp.quarter, func.sum(GrantFollowUp.screenings),
               func.sum(GrantFollowUp.referrals), func.count())
        .join(GrantApplication).where(GrantApplication.programme_id == programme.id)
        .group_by(GrantFollowUp.year, GrantFollowUp.quarter).order_by(GrantFollowUp.year, GrantFollowUp.quarter))
    return [Quarter(year, quarter, int(screenings), int(referrals), count)
            for year, quarter, screenings, referrals, count in rows]


def activity_rows(programme):
    rows = db.session.execute(select(GrantFollowUp, GrantApplication).join(GrantApplication).where(
        GrantApplication.programme_id == programme.id)
        .order_by(GrantFollowUp.year, GrantFollowUp.quarter, GrantApplication.id))
    for follow_up, a in rows:
        yield (a.reference, a.applicant.display_name, follow_up.year, f"T{follow_up.quarter}",
               follow_up.screenings, follow_up.referrals)


def programme_report(programme, *, with_activity=True) -> ProgrammeReport:
    """Every figure of the funder's report of ``programme`` (reads only)."""
    from backoffice.grants.services import budget

    figures = budget(programme)
    lines = _grant_lines(programme)
    funders = [FunderLine(f.name, f.reference, f.amount, f.received_on, committed, paid,
                          envelope - committed - paid)
               for f, envelope, committed, paid in figures.by_funder]
    return ProgrammeReport(
        programme=programme, budget=figures, grants=lines,
        by_commune=_grouped(lines, lambda line: line.commune or NO_COMMUNE),
        by_profession=_grouped(lines, lambda line: line.profession or "Profession non renseignée"),
        funders=funders, quarters=_quarters(programme),
        activity=list(activity_rows(programme)) if with_activity else [])


def write_report(programme, fmt, target) -> int:
    """Write the report as ``fmt`` (``xlsx``: two sheets; ``csv``: the grants) into ``target``."""
    report = programme_report(programme)
    grants = [line.row for line in report.grants]
    if fmt == "xlsx":
        write_xlsx([Sheet("Aides", HEADER, grants), Sheet("Activité", ACTIVITY_HEADER, report.activity)], target)
    else:
        write_csv(grants, HEADER, target)
    return len(grants)


# --------------------------------------------------------------------------------------------
# The Word report (durable document ``grant_report``: ``backoffice.grants.documents``)
# --------------------------------------------------------------------------------------------

def report_context(report: ProgrammeReport, today=None) -> dict:
    """The variables of ``grant_report`` (``documents.REPORT_VARIABLES``) from ``report``."""
    from backoffice.documents.services import organisation_context

    programme, budget = report.programme, report.budget
    organisation = programme.organisation

    def group(g):
        return {"name": g.name, "count": g.count, "committed": g.committed, "paid": g.paid, "granted": g.granted}

    return {
        "organisation": organisation_context(organisation),
        "programme": {"name": programme.name, "description": programme.description or "",
                      "equipment_kind": programme.equipment_kind or "", "opens_on": programme.opens_on,
                      "closes_on": programme.closes_on},
        "budget": {"envelope": budget.envelope, "granted": budget.granted, "committed": budget.committed,
                   "paid": budget.paid, "remaining": budget.remaining, "count": len(report.grants)},
        "funders": [{"name": f.name, "reference": f.reference or "—", "amount": f.amount,
                     "received_on": f.received_on, "committed": f.committed, "paid": f.paid,
                     "remaining": f.remaining} for f in report.funders],
        "communes": [group(g) for g in report.by_commune],
        "professions": [group(g) for g in report.by_profession],
        "equipment": [{"beneficiary": line.beneficiary, "kind": line.application.equipment_kind,
                       "model": line.application.equipment_model or "—", "serial": line.application.serial_number,
                       "practice": line.practice or "—", "commune": line.commune or "—",
                       "delivered_on": line.application.delivered_on} for line in report.equipment],
        "quarters": [{"label": q.label, "screenings": q.screenings, "referrals": q.referrals, "reports": q.reports}
                     for q in report.quarters],
        "activity": {"screenings": sum(q.screenings for q in report.quarters),
                     "referrals": sum(q.referrals for q in report.quarters)},
        "place": organisation.city or "", "today": today or date.today(),
    }


def issue_report(programme, *, task=None):
    """Render and keep a new version of the Word report of ``programme`` (inside a job): the
    previous version is superseded, never overwritten."""
    from backoffice.documents import generated
    from backoffice.documents.services import DOCX_MIMETYPE, render_document
    from backoffice.grants.documents import REPORT_KIND

    organisation = programme.organisation
    data = render_document(organisation, REPORT_KIND, report_context(programme_report(programme)))
    return generated.issue_document(organisation, REPORT_KIND, programme, data,
                                    filename=f"rapport-{slug(programme.name)}-{date.today().isoformat()}.docx",
                                    mimetype=DOCX_MIMETYPE, task=task)


def current_report(programme):
    """The Word report in force of ``programme`` (the last issued), or None."""
    from backoffice.documents import generated
    from backoffice.grants.documents import REPORT_KIND

    return generated.current_document(programme.organisation, REPORT_KIND, programme)


# --------------------------------------------------------------------------------------------
# The programme page's charts (``backoffice.charts``; the template writes the data table beside)
# --------------------------------------------------------------------------------------------

BUDGET_SERIES = {"committed": "Engagé (accordé, non versé)", "paid": "Versé", "remaining": "Reste à engager"}
ACTIVITY_SERIES = {"screenings": "Dépistages", "referrals": "Orientations vers un dermatologue"}


def budget_chart(report: ProgrammeReport):
    """Committed, paid and remaining per funder (their shares), and for the whole programme."""
    from backoffice.charts import grouped_bars

    budget = report.budget
    groups = [(f.name, f.committed, f.paid, f.remaining) for f in report.funders]
    if len(groups) != 1:  # one funder is the whole programme already
        groups.append(("Programme", budget.committed, budget.paid, budget.remaining))
    return grouped_bars(groups, tuple(BUDGET_SERIES), width=640, height=260, label_space=40, max_bar_width=48)


def activity_chart(report: ProgrammeReport):
    """Screenings and referrals per quarter (None before the first report)."""
    from backoffice.charts import grouped_bars

    if not report.quarters:
        return None
    return grouped_bars([(q.label, q.screenings, q.referrals) for q in report.quarters], tuple(ACTIVITY_SERIES),
                        width=640, height=240, label_space=40, max_bar_width=48)
