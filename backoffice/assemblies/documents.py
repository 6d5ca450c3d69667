"""The documents of assemblies, found by ``backoffice.documents.kinds`` (``DOCUMENT_KINDS``).

* ``assembly_minutes``: the procès-verbal of a closed assembly (subject: the assembly), numbered
  per year (``2026-0001``); built by ``minutes_context`` in ``jobs/assemblies.py``, kept with its
  PDF, which the assembly's voters download from their page.
* ``assembly_convocation``: a voter's convocation, with the agenda, his personal voting link and
  the proxy form to fill and sign (subject: his line of the frozen roll, not numbered); built by
  ``convocations.convocation_context``, rendered by the ``convocation_documents`` job.
* ``assembly_attendance_sheet``: the feuille d'émargement (the roll to sign, with the proxies each
  voter carries; subject: the assembly, not numbered, a new version each time it is made);
  built by ``convocations.attendance_sheet_context``.
"""
from __future__ import annotations

from datetime import date

from backoffice.documents.kinds import DocumentKind, Numbering

MINUTES_KIND = "assembly_minutes"

MINUTES_VARIABLES = frozenset({
    "organisation",   # name, address, city
    "logo",           # DocumentImage or None
    "assembly",       # title, kind, convocation ("première" / "seconde"), date, time, place, video_link, cut_off
    "attendance",     # voters, present, represented, counted, weight_note ("" or "voix pondérées par collège")
    "quorum",         # rule ("1/4 des votants…" / "Sans quorum"), needed, reached (bool), sentence
    "resolutions",    # [{position, title, text, majority, ballot, votes_for, votes_against, abstentions, adopted, result}]
    "present",        # [{name, college, mode, proxies}] present voters, with the proxies each carried
    "president",      # name or ""
    "secretary",      # name or ""
    "issued_on",      # date
})


CONVOCATION_KIND = "assembly_convocation"

CONVOCATION_VARIABLES = frozenset({
    "organisation",   # name, address, city
    "logo",           # DocumentImage or None
    "assembly",       # title, kind, convocation, date, time, place, video_link, cut_off, quorum (a sentence)
    "agenda",         # [{position, title, text, majority, ballot, documents ("" or « titre », « titre »)}]
    "voter",          # name, salutation, address, email, college
    "voting_link",    # the voter's personal link to his assembly page
    "proxy",          # max_proxies, blank_holder (« au président de séance »)
    "signatory",      # role (« Le président »), name
    "issued_on",      # date
})


ATTENDANCE_SHEET_KIND = "assembly_attendance_sheet"

ATTENDANCE_SHEET_VARIABLES = frozenset({
    "organisation",   # name, address, city
    "logo",           # DocumentImage or None
    "assembly",       # title, convocation, date, time, place, video_link, cut_off
    "totals",         # voters, proxies
    "voters",         # [{name, college, weight, proxies, present}] the whole roll, by name
    "proxies",        # [{giver, holder, how}] the standing proxies
    "issued_on",      # date
})


def sample_attendance_sheet():
    return _sample_heading() | {
        "totals": {"voters": 85, "proxies": 12},
        "voters": [{"name": "Anne LE FLOCH", "college": "Libéraux", "weight": 1, "proxies": "Zoé ĆWIKŁA",
                    "present": "En salle"}],
        "proxies": [{"giver": "Zoé ĆWIKŁA", "holder": "Anne LE FLOCH", "how": "Papier"}],
        "issued_on": date(2026, 6, 8),
    }


def _voter_owns_convocation(user, document):
    """A member downloads his own convocation (and its proxy form) from his space."""
    from backoffice.assemblies.models import AssemblyVoter
    from backoffice.extensions import db

    if getattr(user, "party_id", None) is None or document.subject_type != "assembly_voters":
        return False
    voter = db.session.get(AssemblyVoter, document.subject_id)
    return voter is not None and voter.party_id == user.party_id


def _voter_reads_minutes(user, document):
    """The voters of an assembly download its minutes once issued (a stored version only)."""
    from backoffice.assemblies.models import AssemblyVoter
    from backoffice.extensions import db
    from sqlalchemy import select

    if getattr(user, "party_id", None) is None or document.subject_type != "assemblies":
        return False
    return db.session.scalar(select(AssemblyVoter.id).where(
        AssemblyVoter.assembly_id == document.subject_id, AssemblyVoter.party_id == user.party_id)) is not None


def _sample_heading(**assembly):
    """The organisation and assembly of both samples (``assembly``: what differs)."""
    return {
        "organisation": {"name": "CPTS du Pays Blanc", "address": "12 rue de la Poste\n44350 Guérande",
                         "city": "Guérande"},
        "logo": None,
        "assembly": {"title": "Assemblée générale ordinaire 2026", "kind": "Assemblée générale ordinaire",
                     "convocation": "première", "date": date(2026, 6, 8), "time": "18 h 30",
                     "place": "Salle des fêtes de Saint-Brevin-les-Pins", "video_link": "",
                     "cut_off": date(2026, 5, 20)} | assembly,
    }


def sample_convocation():
    return _sample_heading(video_link="https://visio.example.org/ag",
                           quorum="L'assemblée délibère valablement si 1/4 des votants sont présents ou représentés.") | {
        "agenda": [{"position": 1, "title": "Approbation des comptes 2025",
                    "text": "L'assemblée générale approuve les comptes de l'exercice 2025.",
                    "majority": "Majorité simple des suffrages exprimés", "ballot": "à main levée et en ligne",
                    "documents": "« Comptes annuels 2025 », « Rapport financier 2025 »"}],
        "voter": {"name": "Zoé ĆWIKŁA", "salutation": "Madame, Monsieur", "address": "3 rue des Salines\n44350 Guérande",
                  "email": "zoe.cwikla@example.org", "college": "Libéraux"},
        "voting_link": "https://maillage.example.org/o/cpts-du-pays-blanc/assemblies/mine/1/v/abc",
        "proxy": {"max_proxies": 2, "blank_holder": "au président de séance"},
        "signatory": {"role": "Le président", "name": "Anne LE FLOCH"},
        "issued_on": date(2026, 5, 21),
    }


def sample_minutes():
    return _sample_heading() | {
        "attendance": {"voters": 85, "present": 31, "represented": 12, "counted": 43, "weight_note": ""},
        "quorum": {"rule": "1/4 des votants présents ou représentés", "needed": 22, "reached": True,
                   "sentence": "Le quorum est atteint : l'assemblée peut valablement délibérer."},
        "resolutions": [{"position": 1, "title": "Approbation des comptes 2025",
                         "text": "L'assemblée générale approuve les comptes de l'exercice 2025.",
                         "majority": "Majorité simple des suffrages exprimés", "ballot": "à main levée et en ligne",
                         "votes_for": 40, "votes_against": 1, "abstentions": 2, "adopted": True,
                         "result": "Adoptée"}],
        "present": [{"name": "Anne LE FLOCH", "college": "Libéraux", "mode": "En salle",
                     "proxies": "Zoé ĆWIKŁA, Loïc KERJEAN"}],
        "president": "Anne LE FLOCH", "secretary": "Yann LE GALL", "issued_on": date(2026, 6, 9),
    }


DOCUMENT_KINDS = [
    DocumentKind(key=MINUTES_KIND, label="Procès-verbal d'assemblée générale",
                 description="Présences, quorum, chaque résolution avec son texte, ses voix et son résultat, "
                             "signé du président et du secrétaire.",
                 variables=MINUTES_VARIABLES, sample_context=sample_minutes, numbering=Numbering(per_year=True),
                 download_permission="assemblies.view", may_download=_voter_reads_minutes),
    DocumentKind(key=CONVOCATION_KIND, label="Convocation à l'assemblée générale",
                 description="Une convocation par votant : date, lieu, lien de visioconférence, ordre du jour, son "
                             "lien personnel de vote en ligne et le pouvoir à remplir et signer.",
                 variables=CONVOCATION_VARIABLES, sample_context=sample_convocation,
                 download_permission="assemblies.manage", may_download=_voter_owns_convocation),
    DocumentKind(key=ATTENDANCE_SHEET_KIND, label="Feuille d'émargement d'assemblée générale",
                 description="La liste des votants à signer le jour de l'assemblée, avec les pouvoirs que chacun "
                             "porte, et la liste des pouvoirs donnés.",
                 variables=ATTENDANCE_SHEET_VARIABLES, sample_context=sample_attendance_sheet,
                 download_permission="assemblies.view"),
]
