"""The procès-verbal of an assembly (a durable document made in a job) and its results rows."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from backoffice.assemblies import voting
from backoffice.assemblies.documents import MINUTES_KIND
from backoffice.assemblies.models import AssemblyError, AssemblyStatus, Attendance, ResolutionStatus
from backoffice.documents import generated
from backoffice.extensions import db
from backoffice.lifecycle import move
from backoffice.organisations.affiliations import Role, current_holder

RESULTS_HEADER = ("Résolution", "Titre", "Règle", "Vote", "Pour", "Contre", "Abstentions", "Résultat")


def _result_label(tally):
    return ("Adoptée" if tally.result.adopted else "Rejetée") + (
        " (voix prépondérante du président)" if tally.result.tie_broken else "")


def results_rows(assembly):
    """One row per closed resolution: what the results CSV/XLSX and the minutes say."""
    weight = sum(v.weight for v in assembly.voters)
    rows = []
    for r in assembly.resolutions:
        if r.status is not ResolutionStatus.CLOSED:
            continue
        t = voting.tally(r, weight)
        rows.append((r.position, r.title, r.majority.label, "secret" if r.secret else "main levée et en ligne",
                     t.total["for"], t.total["against"], t.total["abstain"], _result_label(t)))
    return rows


def minutes_context(assembly, issued_on=None):
    organisation = assembly.organisation
    on = assembly.held_at.date()
    quorum = voting.live_quorum(assembly)
    president, secretary = (current_holder(organisation, role, on) for role in (Role.PRESIDENT, Role.SECRETARY))
    attendances = {a.voter_id: a for a in assembly_attendances(assembly)}
    held = {}
    for proxy in voting.standing_proxies(assembly):
        held.setdefault(proxy.holder_id, []).append(proxy.giver.party.display_name)
    if quorum.required is None:
        sentence = "L'assemblée délibère sans condition de quorum."
    elif quorum.reached:
        sentence = f"Le quorum ({quorum.needed}) est atteint : l'assemblée peut valablement délibérer."
    else:
        sentence = f"Le quorum ({quorum.needed}) n'est pas atteint : l'assemblée ne peut pas délibérer."
    resolutions = [{"position": row[0], "title": row[1], "text": r.text, "majority": row[2], "ballot": (
        "à bulletin secret" if r.secret else "à main levée et en ligne"), "votes_for": row[4], "votes_against": row[5],
        "abstentions": row[6], "adopted": row[7].startswith("Adoptée"), "result": row[7]}
        for row, r in zip(results_rows(assembly), [r for r in assembly.resolutions
                                                   if r.status is ResolutionStatus.CLOSED])]
    return {
        "organisation": {"name": organisation.name, "address": "\n".join(
            part for part in (organisation.address, f"{organisation.postcode or ''} {organisation.city or ''}".strip())
            if part), "city": organisation.city or ""},
        "assembly": {"title": assembly.title, "kind": assembly.kind.label,
                     "convocation": "seconde" if assembly.convocation == 2 else "première",
                     "date": on, "time": assembly.held_at.strftime("%H h %M"), "place": assembly.place or "",
                     "video_link": assembly.video_link or "", "cut_off": assembly.cut_off},
        "attendance": {"voters": quorum.voters, "present": quorum.present, "represented": quorum.represented,
                       "counted": quorum.counted,
                       "weight_note": "voix pondérées par collège" if assembly.college_weights else ""},
        "quorum": {"rule": assembly.quorum_label, "needed": quorum.needed, "reached": quorum.reached,
                   "sentence": sentence},
        "resolutions": resolutions,
        "present": [{"name": v.party.display_name, "college": v.college_name or "", "mode": attendances[v.id].mode.label,
                     "proxies": ", ".join(held.get(v.id, []))} for v in assembly.voters if v.id in attendances],
        "president": president.display_name if president else "",
        "secretary": secretary.display_name if secretary else "",
        "issued_on": issued_on or date.today(),
    }


def assembly_attendances(assembly):
    return list(db.session.scalars(select(Attendance).where(Attendance.assembly_id == assembly.id)))


def issue_minutes(assembly, task=None):
    """Render the minutes of a closed assembly, keep them as a new version of its durable document
    (Word for the board, with its PDF rendition for the members) and move the assembly to
    « Procès-verbal établi » (a second run supersedes the first version). Inside a job only."""
    from backoffice.documents.services import DOCX_MIMETYPE, pdf_renditions, render_document

    if assembly.status not in (AssemblyStatus.CLOSED, AssemblyStatus.MINUTES_ISSUED):
        raise AssemblyError("Le procès-verbal s'établit une fois la séance close.")
    data = render_document(assembly.organisation, MINUTES_KIND, minutes_context(assembly))
    (pdf,) = pdf_renditions([data])
    document = generated.issue_document(assembly.organisation, MINUTES_KIND, assembly, data, mimetype=DOCX_MIMETYPE,
                                        filename=f"proces-verbal-{assembly.kind.short.lower()}-"
                                                 f"{assembly.held_at:%Y-%m-%d}.docx", task=task, pdf=pdf)
    if assembly.status is AssemblyStatus.CLOSED:
        move(assembly, AssemblyStatus.MINUTES_ISSUED)
    return document


def current_minutes(assembly):
    return generated.current_document(assembly.organisation, MINUTES_KIND, assembly)


BOARD_HEADER = ("Position", "Code de vérification", "Choix", "Code du choix", "Voix", "Aléa", "Empreinte précédente",
                "Empreinte")
FINAL_ROW_LABEL = "Empreinte finale"


def board_rows(resolution):
    """The published board of a closed secret ballot, then a last row carrying the final hash: with
    it alone anyone recomputes the chain (sha256 of « previous|position|choice code|weight|nonce »)
    and the tally."""
    if not resolution.secret or resolution.status is not ResolutionStatus.CLOSED:
        raise AssemblyError("Le tableau des bulletins se publie pour un vote à bulletin secret clos.")
    rows = [(b.position, b.receipt, b.choice.label, b.choice.value, b.weight, b.nonce, b.previous_hash, b.hash)
            for b in voting.secret_board(resolution)]
    return rows + [(FINAL_ROW_LABEL, "", "", "", "", "", "", resolution.final_hash)]
