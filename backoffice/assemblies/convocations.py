"""Convocations as documents: one Word convocation per voter of the frozen roll (agenda, place,
date, video link, his personal voting link, the proxy form to fill and sign), each kept as a
durable ``GeneratedDocument`` about his roll line, zipped for printing by a job.

The personal voting link carries a signed token naming the voter's roll line. It is not a
sign-in link (a paper convocation gets lost or lies on a desk): opening it asks the member to
sign in as usual, then takes him to his page of the assembly — or says that the link is someone
else's.
"""
from __future__ import annotations

from datetime import date

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from backoffice.assemblies.documents import ATTENDANCE_SHEET_KIND, CONVOCATION_KIND
from backoffice.assemblies.models import AssemblyError, AssemblyStatus
from backoffice.documents import generated

_SALT = "maillage.assemblies.voting-link"


def _serializer():
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def voting_token(voter):
    return _serializer().dumps({"a": voter.assembly_id, "v": voter.id})


def voter_id_from_token(assembly, token):
    """The roll line id a voting link names, or None when the token is forged or of another assembly."""
    try:
        payload = _serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(payload, dict) or payload.get("a") != assembly.id:
        return None
    return payload.get("v")


def voting_link(voter):
    from backoffice.mail.services import external_url

    assembly = voter.assembly
    return external_url("assemblies.member_link", org=assembly.organisation.slug, assembly_id=assembly.id,
                        token=voting_token(voter))


def _address(organisation_or_party, town_attribute):
    town = f"{organisation_or_party.postcode or ''} {getattr(organisation_or_party, town_attribute) or ''}".strip()
    return "\n".join(part for part in (organisation_or_party.address, town) if part)


def _quorum_sentence(assembly):
    if not assembly.has_quorum_rule:
        return "L'assemblée délibère quel que soit le nombre de membres présents ou représentés."
    return (f"L'assemblée délibère valablement si {assembly.quorum_numerator}/{assembly.quorum_denominator} des "
            "votants sont présents ou représentés.")


def assembly_context(assembly, issued_on):
    """What every convocation of ``assembly`` says (the voter's part apart: :func:`convocation_context`)."""
    from backoffice.assemblies.voting import chair
    from backoffice.organisations.affiliations import Role, current_holder

    organisation = assembly.organisation
    president = current_holder(organisation, Role.PRESIDENT, issued_on)
    has_chair = chair(assembly) is not None
    return {
        "organisation": {"name": organisation.name, "address": _address(organisation, "city"),
                         "city": organisation.city or ""},
        "assembly": {"title": assembly.title, "kind": assembly.kind.label,
                     "convocation": "seconde" if assembly.convocation == 2 else "première",
                     "date": assembly.held_at.date(), "time": assembly.held_at.strftime("%H h %M"),
                     "place": assembly.place or "", "video_link": assembly.video_link or "",
                     "cut_off": assembly.cut_off, "quorum": _quorum_sentence(assembly)},
        "agenda": [{"position": r.position, "title": r.title, "text": r.text or "", "majority": r.majority.label,
                    "ballot": "à bulletin secret" if r.secret else "à main levée et en ligne",
                    "documents": ", ".join(f"« {d.title} »" for d in r.documents)}
                   for r in assembly.resolutions],
        "proxy": {"max_proxies": assembly.max_proxies,
                  "blank_holder": "au président de séance" if has_chair else "au président de l'association"},
        "signatory": {"role": "Le président" if president else "Le conseil d'administration",
                      "name": president.display_name if president else organisation.name},
        "issued_on": issued_on,
    }


def convocation_context(assembly, voter, common=None, issued_on=None):
    common = common or assembly_context(assembly, issued_on or date.today())
    party = voter.party
    return common | {
        "voter": {"name": party.display_name, "salutation": "Madame, Monsieur", "address": _address(party, "commune"),
                  "email": party.email or "l'adresse connue de l'association", "college": voter.college_name or ""},
        "voting_link": voting_link(voter),
    }


def convocation_filename(voter):
    name = "-".join(voter.sort_name.split()) or f"votant-{voter.id}"
    return f"convocation-{voter.assembly.held_at:%Y-%m-%d}-{name}-{voter.id}.docx"


def archive_name(assembly):
    return f"convocations-{assembly.kind.short.lower()}-{assembly.held_at:%Y-%m-%d}.zip"


def issue_convocations(assembly, archive, task=None, issued_on=None):
    """Render the convocation of every voter, keep each as the new version of his durable
    document and write it into ``archive`` (a ``zipfile.ZipFile``); returns the count."""
    from backoffice.documents.services import DOCX_MIMETYPE, render_document

    if assembly.status is not AssemblyStatus.CONVENED:
        raise AssemblyError("Les convocations s'impriment une fois la liste des votants arrêtée, avant la séance.")
    organisation = assembly.organisation
    common = assembly_context(assembly, issued_on or date.today())
    voters = list(assembly.voters)
    for done, voter in enumerate(voters, 1):
        data = render_document(organisation, CONVOCATION_KIND, convocation_context(assembly, voter, common))
        filename = convocation_filename(voter)
        generated.issue_document(organisation, CONVOCATION_KIND, voter, data, filename=filename,
                                 mimetype=DOCX_MIMETYPE, task=task)
        archive.writestr(filename, data)
        if task is not None:
            task.report_progress(done, len(voters), "Convocations produites")
    return len(voters)


def current_convocation(voter):
    """The voter's convocation in force, or None (not printed yet)."""
    return generated.current_document(voter.assembly.organisation, CONVOCATION_KIND, voter)


def current_convocations(assembly):
    """``{voter id: convocation in force}`` of the assembly's roll."""
    return generated.current_documents(assembly.organisation, CONVOCATION_KIND, assembly.voters)


def late_notice(assembly):
    """The notice warning of the convocation as it went out (its date), else None."""
    from backoffice.assemblies.services import notice_warning

    return notice_warning(assembly, assembly.convened_on or date.today())



def attendance_sheet_context(assembly, issued_on=None):
    """The feuille d'émargement: the whole roll to sign, with the proxies each voter carries and
    whether he has signed in yet, then the standing proxies."""
    from backoffice.assemblies.models import Attendance
    from backoffice.assemblies.voting import standing_proxies
    from backoffice.extensions import db
    from sqlalchemy import select

    common = assembly_context(assembly, issued_on or date.today())
    modes = dict(db.session.execute(select(Attendance.voter_id, Attendance.mode)
                                    .where(Attendance.assembly_id == assembly.id)).all())
    proxies = standing_proxies(assembly)
    held = {}
    for proxy in proxies:
        held.setdefault(proxy.holder_id, []).append(proxy.giver.party.display_name)
    return {
        "organisation": common["organisation"], "assembly": common["assembly"], "issued_on": common["issued_on"],
        "totals": {"voters": len(assembly.voters), "proxies": len(proxies)},
        "voters": [{"name": v.party.display_name, "college": v.college_name or "", "weight": v.weight,
                    "proxies": ", ".join(held.get(v.id, [])), "present": modes[v.id].label if v.id in modes else ""}
                   for v in assembly.voters],
        "proxies": [{"giver": p.giver.party.display_name, "holder": p.holder.party.display_name,
                     "how": ("En blanc" if p.blank else "En ligne" if p.source == "online" else "Papier")}
                    for p in sorted(proxies, key=lambda p: p.giver.sort_name)],
    }


def issue_attendance_sheet(assembly, task=None):
    """Render the attendance sheet and keep it as the new version of the assembly's document."""
    from backoffice.documents.services import DOCX_MIMETYPE, render_document

    if assembly.status not in (AssemblyStatus.CONVENED, AssemblyStatus.IN_SESSION):
        raise AssemblyError("La feuille d'émargement s'établit entre la convocation et la fin de la séance.")
    data = render_document(assembly.organisation, ATTENDANCE_SHEET_KIND, attendance_sheet_context(assembly))
    return generated.issue_document(assembly.organisation, ATTENDANCE_SHEET_KIND, assembly, data,
                                    mimetype=DOCX_MIMETYPE, task=task,
                                    filename=f"emargement-{assembly.kind.short.lower()}-{assembly.held_at:%Y-%m-%d}.docx")
