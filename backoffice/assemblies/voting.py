"""Proxies, attendance, the live quorum, votes (open and secret) and results (no HTTP).

Rules (French refusals, :class:`AssemblyError`):

- a proxy goes from a voter to another voter of the same assembly; the holder carries at most
  ``max_proxies``; no proxy of a proxy (a holder who gave his own vote away cannot receive one,
  a voter who carries proxies cannot give his away); one standing proxy per giver (a partial
  unique index too); not once the giver has voted; revocable until the session opens. While
  his proxy stands, the giver cannot vote himself;
- a voting right (a voter's own, or one he carries by proxy) votes once per resolution: the
  ``assembly_participations`` key, in the database; only while the resolution is open (a
  trigger too);
- a secret ballot goes into the resolution's chained box without its voter: the participation
  and the ballot are two rows of two tables that share nothing (no id, no timestamp), and not
  even a transaction. Cast online, the ballot is written *sealed* into the inbox in the voter's
  transaction (with his participation: one commit, so neither is ever lost nor doubled); the
  close unseals the inbox, shuffles it and chains it into the box in its own transaction. On
  PostgreSQL every ballot of the box then has the close's ``xmin`` (a ballot written with its
  participation would have shared the voter's) and a position drawn at random. The voter's
  receipt derives from his ballot's nonce, which the chain's hash covers.

The emptied inbox, on the disk. The close's ``DELETE`` only marks the inbox's rows dead: their
bytes — the seal, and the voter's transaction id (``xmin``) that his participation also carries —
stay in the table's pages until something overwrites them, so that someone who reads the data
files *and* has ``SECRET_KEY`` (to open the seals) could still line a ballot up with its voter.
What was weighed (tried on PostgreSQL 15 by reading the table's file after a checkpoint):

- overwriting the seal before deleting it: an ``UPDATE`` writes a new version of the row and
  leaves the old one, seal included, dead in the page, exactly like the ``DELETE`` (and the inbox
  is append-only: its trigger refuses any ``UPDATE``). Rejected;
- ``TRUNCATE``: it replaces the table's file, but empties the inbox of every resolution, those of
  other assemblies still voting included. Rejected (a table per resolution would do, at the cost
  of DDL at each vote);
- plain ``VACUUM``: it frees the dead rows' space, but only overwrites what the live rows it
  moves land on — 4 seals of 50 deleted were still in the file after it. Not enough;
- ``VACUUM FULL`` of the inbox: it copies the live rows into a new file and removes the old
  one, dead rows and all. The inbox only ever holds the ballots of the secret votes open at that
  moment (a few hundred rows), so the rewrite takes milliseconds, under a lock that makes the
  casts of other open votes wait that long (``SCRUB_LOCK_TIMEOUT``: it gives up rather than
  stall them, and is tried again). Chosen: :func:`scrub_sealed_inbox`, run outside any
  transaction (``VACUUM`` cannot run in one) right after the close commits, by a job
  (``jobs.assemblies.scrub_sealed_inbox``; inline without Redis), and every night as a safety
  net. On SQLite (development), the close deletes with ``PRAGMA secure_delete`` on, which zeroes
  the deleted content in place.

``VACUUM FULL`` keeps the rows that a transaction older than the close may still see (a long
report, a ``pg_dump``) — and, since a running transaction holds back the snapshots of every
database of the server, one older than the close in *another* database too: the scrub waits
until none is left (:class:`InboxStillVisible`: the job tries again a few times, then the nightly
run does it).

What it does not cover, said plainly: the write-ahead log keeps every inserted row until its
segment is recycled (minutes to hours, ``max_wal_size``), and WAL archives and backups taken
while the vote was open keep them as long as they are kept. There, the seal — AES-GCM under a
key derived from ``SECRET_KEY``, which is not in the database — is what stands between a copy
of the disk and a voter's choice.
"""
from __future__ import annotations

import hashlib
import os
import secrets
from collections import defaultdict
from dataclasses import dataclass
from fractions import Fraction

from flask import current_app
from sqlalchemy import delete, func, insert, or_, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, selectinload

from backoffice.assemblies import rules
from backoffice.assemblies.models import (AssemblyError, AssemblyStatus, AssemblyVoter, Attendance, AttendanceMode,
                                          Choice, OpenVote, Participation, Proxy, Resolution, ResolutionStatus,
                                          SealedBallot, SecretBallot)
from backoffice.extensions import db
from backoffice.lifecycle import move
from backoffice.models import utcnow
from backoffice.people.models import fold_for_search
from backoffice.transactions import after_commit

A = AssemblyStatus
LIVE = (A.CONVENED, A.IN_SESSION)


def voter_of(assembly, party_or_id):
    """The voter line of ``party`` (a Party or its id) in ``assembly``, or None (not on the roll)."""
    if party_or_id is None:
        return None
    party_id = getattr(party_or_id, "id", party_or_id)
    return db.session.scalar(select(AssemblyVoter).where(AssemblyVoter.assembly_id == assembly.id,
                                                         AssemblyVoter.party_id == party_id))


def roll_with_names(assembly):
    """The voter lines of ``assembly`` by name, their parties loaded with them (one query for each
    kind, not one per voter: a member's page lists the whole roll to choose a holder)."""
    return list(db.session.scalars(select(AssemblyVoter).where(AssemblyVoter.assembly_id == assembly.id)
                                   .options(selectinload(AssemblyVoter.party)).order_by(AssemblyVoter.sort_name)))


def _voter(assembly, voter, who="Ce membre"):
    if voter is None or voter.assembly_id != assembly.id:
        raise AssemblyError(f"{who} n'est pas sur la liste des votants de cette assemblée.")
    return voter


def chair(assembly):
    """The voter line of the chair (the president at the assembly's date), or None."""
    from backoffice.organisations.affiliations import Role, current_holder

    president = current_holder(assembly.organisation, Role.PRESIDENT, assembly.held_at.date())
    return voter_of(assembly, president) if president is not None else None


def standing_proxies(assembly):
    return list(db.session.scalars(select(Proxy).where(Proxy.assembly_id == assembly.id, Proxy.revoked_at.is_(None))
                                   .order_by(Proxy.id)))


def proxy_page(assembly, query, page, per_page):
    """One page of the assembly's proxies, the last recorded first (the secretary typing hundreds of
    paper proxies sees the one he just entered), those whose giver or holder matches every word of
    ``query`` (accents and case ignored) when one is given."""
    giver, holder = aliased(AssemblyVoter), aliased(AssemblyVoter)
    statement = (select(Proxy).join(giver, Proxy.giver_id == giver.id).join(holder, Proxy.holder_id == holder.id)
                 .where(Proxy.assembly_id == assembly.id))
    for word in fold_for_search(query).split():
        statement = statement.where(or_(giver.sort_name.contains(word, autoescape=True),
                                        holder.sort_name.contains(word, autoescape=True)))
    return db.paginate(statement.order_by(Proxy.id.desc()), page=page, per_page=per_page, error_out=False)


def proxy_given_by(voter):
    return db.session.scalar(select(Proxy).where(Proxy.giver_id == voter.id, Proxy.revoked_at.is_(None)))


def proxies_held_by(voter):
    return list(db.session.scalars(select(Proxy).where(Proxy.holder_id == voter.id, Proxy.revoked_at.is_(None))
                                   .order_by(Proxy.id)))


def _has_voted(voter):
    return db.session.scalar(select(func.count()).select_from(Participation)
                             .where(Participation.voter_id == voter.id)) > 0


def give_proxy(assembly, giver, holder=None, *, blank=False, source="paper"):
    """Record the proxy of ``giver`` to ``holder`` (voter lines); ``blank``: to the chair."""
    if assembly.status not in LIVE:
        raise AssemblyError("Les pouvoirs se donnent entre la convocation et la fin de la séance.")
    _voter(assembly, giver, "Le mandant")
    if blank:
        holder = chair(assembly)
        if holder is None:
            raise AssemblyError("Pouvoir en blanc impossible : le président n'est pas sur la liste des votants.")
    _voter(assembly, holder, "Le mandataire")
    # Serialise the proxies of one holder (the cap) and of one giver: lock both voter lines.
    db.session.execute(select(AssemblyVoter.id).where(AssemblyVoter.id.in_([giver.id, holder.id]))
                       .order_by(AssemblyVoter.id).with_for_update())
    if giver.id == holder.id:
        raise AssemblyError("Un membre ne peut pas se donner pouvoir à lui-même.", field="holder")
    if proxy_given_by(giver) is not None:
        raise AssemblyError(f"{giver} a déjà donné pouvoir : révoquez d'abord ce pouvoir.", field="giver")
    if _has_voted(giver):
        raise AssemblyError(f"{giver} a déjà voté : il ne peut plus donner pouvoir.", field="giver")
    if proxies_held_by(giver):
        raise AssemblyError(f"{giver} porte des pouvoirs : il ne peut pas donner le sien (pas de pouvoir de "
                            "pouvoir).", field="giver")
    if proxy_given_by(holder) is not None:
        raise AssemblyError(f"{holder} a lui-même donné pouvoir : il ne peut pas en recevoir (pas de pouvoir de "
                            "pouvoir).", field="holder")
    if len(proxies_held_by(holder)) >= assembly.max_proxies:
        raise AssemblyError(f"{holder} porte déjà {assembly.max_proxies} pouvoir(s), le maximum des statuts.",
                            field="holder")
    proxy = Proxy(assembly_id=assembly.id, giver_id=giver.id, holder_id=holder.id, blank=blank, source=source)
    db.session.add(proxy)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise AssemblyError(f"{giver} a déjà donné pouvoir.", field="giver") from None
    return proxy


def revoke_proxy(proxy):
    if proxy.assembly.status is not A.CONVENED:
        raise AssemblyError("Un pouvoir se révoque jusqu'à l'ouverture de la séance.")
    if proxy.revoked_at is not None:
        raise AssemblyError("Ce pouvoir est déjà révoqué.")
    proxy.revoked_at = utcnow()
    db.session.flush()


# --- attendance and quorum ---------------------------------------------------------------------

def check_in(assembly, voter, mode=AttendanceMode.ROOM):
    if assembly.status not in LIVE:
        raise AssemblyError("L'émargement se fait le jour de l'assemblée, avant sa clôture.")
    _voter(assembly, voter)
    existing = db.session.scalar(select(Attendance).where(Attendance.assembly_id == assembly.id,
                                                          Attendance.voter_id == voter.id))
    if existing is not None:
        return existing
    attendance = Attendance(assembly_id=assembly.id, voter_id=voter.id, mode=AttendanceMode(mode))
    db.session.add(attendance)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:  # signed in at the same instant elsewhere: the same result
        return db.session.scalar(select(Attendance).where(Attendance.assembly_id == assembly.id,
                                                          Attendance.voter_id == voter.id))
    return attendance


def undo_check_in(attendance):
    if attendance.assembly.status not in LIVE:
        raise AssemblyError("L'émargement ne change plus : la séance est close.")
    db.session.delete(attendance)
    db.session.flush()


def present_ids(assembly):
    return set(db.session.scalars(select(Attendance.voter_id).where(Attendance.assembly_id == assembly.id)))


def live_quorum(assembly):
    """Present + represented (by a proxy whose holder is present) over the roll, weighted."""
    weights = dict(db.session.execute(select(AssemblyVoter.id, AssemblyVoter.weight)
                                      .where(AssemblyVoter.assembly_id == assembly.id)).all())
    present = present_ids(assembly)
    represented = sum(weights[p.giver_id] for p in standing_proxies(assembly)
                      if p.holder_id in present and p.giver_id not in present)
    required = (Fraction(assembly.quorum_numerator, assembly.quorum_denominator)
                if assembly.has_quorum_rule else None)
    return rules.quorum(required, sum(weights.values()), sum(weights[v] for v in present), represented)


# --- votes ---------------------------------------------------------------------------------------

def open_vote(resolution, user=None):
    if resolution.assembly.status is not A.IN_SESSION:
        raise AssemblyError("Les votes s'ouvrent pendant la séance.")
    move(resolution, ResolutionStatus.OPEN, by=user)
    db.session.flush()


def close_vote(resolution, user=None):
    """Close the vote: nothing can be voted or changed after (the database refuses it too).

    A secret ballot's paper count (the tellers' totals of the room) goes into its box first, one
    chained record per choice, so that the final hash covers it and the published board's
    tally is the result's."""
    if resolution.secret:
        # FOR UPDATE waits for the casts in flight (they hold the row FOR SHARE): the inbox read
        # below holds every ballot committed, and no cast gets in after it.
        db.session.execute(select(Resolution.id).where(Resolution.id == resolution.id).with_for_update())
        online = _unsealed_inbox(resolution)
        chained = db.session.scalar(select(func.count()).select_from(SecretBallot).where(
            SecretBallot.resolution_id == resolution.id, SecretBallot.paper.is_(False)))
        voted = db.session.scalar(select(func.count()).select_from(Participation)
                                  .where(Participation.resolution_id == resolution.id))
        if len(online) + chained != voted:  # a ballot went missing: say so, never publish a short box
            raise AssemblyError(f"L'urne de la résolution {resolution.position} compte {len(online) + chained} "
                                f"bulletins pour {voted} votants en ligne : le vote ne peut pas être clos.")
        # The order of the box is drawn, not the order of the votes.
        secrets.SystemRandom().shuffle(online)
        paper = [(choice, count, secrets.token_hex(16), True) for choice, count in room_counts(resolution).items()
                 if count]
        resolution.final_hash = _chain(resolution, [(c, w, n, False) for c, w, n in online] + paper)
        connection = db.session.connection()
        if connection.dialect.name == "sqlite":  # zero the deleted seals in place (see the module's docstring)
            connection.exec_driver_sql("PRAGMA secure_delete = ON")
        db.session.execute(delete(SealedBallot).where(SealedBallot.resolution_id == resolution.id))
        after_commit(lambda: _scrub_after_close(resolution.id))
    move(resolution, ResolutionStatus.CLOSED, by=user)
    db.session.flush()


SCRUB_LOCK_TIMEOUT = "1s"  # the casts of other open votes wait at most this long for the scrub


class InboxStillVisible(TimeoutError):
    """A transaction older than a close may still read the rows it deleted: a rewrite now would
    copy them (a timeout: the job tries again later)."""


def scrub_sealed_inbox(resolution_id=None):
    """Rewrite the sealed inbox's table so that the rows the closes deleted leave the disk
    (``VACUUM FULL`` on PostgreSQL, outside any transaction; nothing on SQLite, whose close
    deleted them with ``secure_delete``). Idempotent. Returns True when the table was rewritten.

    After the close of ``resolution_id``, refused (:class:`InboxStillVisible`) while a
    transaction that began before that close is still open: ``VACUUM FULL`` keeps the rows such
    a transaction may still see. Raises ``OperationalError`` when the table's lock was not had
    within ``SCRUB_LOCK_TIMEOUT``. Both are transient: the job tries again."""
    if db.engine.dialect.name != "postgresql":
        return False
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if resolution_id is not None:
            # The close's transaction id is every chained ballot's xmin; a snapshot (backend_xmin) or
            # a running transaction (backend_xid) not younger than it holds back what VACUUM may
            # remove — in any database of the cluster: a transaction running elsewhere lowers the
            # xmin of every snapshot taken meanwhile, VACUUM FULL's own included. age() copes with
            # the wraparound of transaction ids.
            older = connection.execute(text(
                "SELECT datname, pid, state, xact_start FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
                "AND GREATEST(age(backend_xmin), age(backend_xid)) >= "
                "(SELECT max(age(xmin)) FROM assembly_secret_ballots WHERE resolution_id = :r)"),
                {"r": resolution_id}).all()
            if older:
                raise InboxStillVisible(f"{len(older)} transaction(s) older than the close of resolution "
                                        f"{resolution_id} still open: {older}")
        connection.exec_driver_sql(f"SET lock_timeout = '{SCRUB_LOCK_TIMEOUT}'")
        connection.exec_driver_sql(f"VACUUM (FULL) {SealedBallot.__tablename__}")
    return True


def _scrub_after_close(resolution_id):
    """Once a close has committed: the scrub by a worker, or here without Redis (development,
    tests), where a scrub that cannot be done at once is only logged: the nightly run does it."""
    import logging

    from sqlalchemy.exc import OperationalError

    if current_app.config.get("JOBS_INLINE"):
        try:
            scrub_sealed_inbox(resolution_id)
        except (OperationalError, InboxStillVisible) as error:
            logging.getLogger(__name__).warning("sealed inbox not scrubbed after a close (the nightly run will): %s",
                                                getattr(error, "orig", error))
        return
    from jobs.assemblies import scrub_sealed_inbox as job

    job.enqueue(resolution_id, description="Effacement de l'urne scellée après la clôture d'un vote secret")


def room_counts(resolution):
    return {Choice.FOR: resolution.room_for, Choice.AGAINST: resolution.room_against,
            Choice.ABSTAIN: resolution.room_abstain}


def room_voices(resolution):
    """The weighted voices the room holds on ``resolution``: the voters signed in the room, for
    their own right (unless given away) and the proxies they carry, less the rights already
    used online (so that nobody is counted twice)."""
    assembly = resolution.assembly
    in_room = set(db.session.scalars(select(Attendance.voter_id).where(
        Attendance.assembly_id == assembly.id, Attendance.mode == AttendanceMode.ROOM)))
    proxies = standing_proxies(assembly)
    given = {p.giver_id for p in proxies}
    rights = {v for v in in_room if v not in given} | {p.giver_id for p in proxies if p.holder_id in in_room}
    used = set(db.session.scalars(select(Participation.voter_id).where(Participation.resolution_id == resolution.id)))
    weights = dict(db.session.execute(select(AssemblyVoter.id, AssemblyVoter.weight)
                                      .where(AssemblyVoter.assembly_id == assembly.id)).all())
    return sum(weights[v] for v in rights - used)


def set_room_counts(resolution, votes_for, votes_against, abstentions):
    """The room's count, entered by the secretary (weighted voices when collèges weigh): the show
    of hands of an open vote, or the tellers' totals of the paper ballots of a secret one (at most
    the voices the room holds that did not vote online: :func:`room_voices`)."""
    if resolution.status is not ResolutionStatus.OPEN:
        raise AssemblyError("Les décomptes en salle se saisissent pendant que le vote est ouvert.")
    if min(votes_for, votes_against, abstentions) < 0:
        raise AssemblyError("Un décompte est un nombre positif ou nul.", field="room_for")
    if resolution.secret:
        voices = room_voices(resolution)
        if votes_for + votes_against + abstentions > voices:
            raise AssemblyError(f"{votes_for + votes_against + abstentions} bulletins papier dépouillés, mais la salle "
                                f"ne compte que {voices} voix qui n'ont pas voté en ligne : recomptez l'urne.",
                                field="room_for")
    resolution.room_for, resolution.room_against, resolution.room_abstain = votes_for, votes_against, abstentions
    db.session.flush()


def set_casting_vote(resolution, choice):
    """The chair's casting vote declared in the room (for / against), used on a tie; ``None``
    withdraws it. On an open ballot the chair who voted online has cast it already."""
    assembly = resolution.assembly
    if not assembly.chair_casting_vote:
        raise AssemblyError("Les statuts ne donnent pas de voix prépondérante au président.")
    if resolution.status is not ResolutionStatus.OPEN:
        raise AssemblyError("La voix prépondérante se déclare pendant que le vote est ouvert.")
    choice = Choice(choice) if choice else None
    if choice is Choice.ABSTAIN:
        raise AssemblyError("La voix prépondérante départage : pour ou contre.", field="casting_vote")
    if choice is not None and not resolution.secret and _chair_online_choice(resolution) is not None:
        raise AssemblyError("Le président a voté en ligne : c'est ce vote qui départage une égalité.",
                            field="casting_vote")
    resolution.casting_vote = choice
    db.session.flush()


def _chair_online_choice(resolution):
    chair_voter = chair(resolution.assembly)
    if chair_voter is None:
        return None
    return db.session.scalar(select(OpenVote.choice).where(OpenVote.resolution_id == resolution.id,
                                                           OpenVote.voter_id == chair_voter.id))


def rights_of(assembly, voter):
    """The voting rights ``voter`` uses: his own (unless he gave it away) and his proxies', as voter lines."""
    own = [] if proxy_given_by(voter) is not None else [voter]
    return own + [p.giver for p in proxies_held_by(voter)]


def voted_rights(resolution, voters):
    """The ids among ``voters`` that already voted on ``resolution``."""
    ids = [v.id for v in voters]
    return set(db.session.scalars(select(Participation.voter_id).where(
        Participation.resolution_id == resolution.id, Participation.voter_id.in_(ids)))) if ids else set()


GENESIS = "0" * 64


def _head(resolution):
    """(position, hash) of the last ballot of ``resolution``'s secret box (0, genesis when empty)."""
    row = db.session.execute(select(SecretBallot.position, SecretBallot.hash).where(
        SecretBallot.resolution_id == resolution.id).order_by(SecretBallot.position.desc()).limit(1)).first()
    return (row[0], row[1]) if row else (0, GENESIS)


def _chain(resolution, records):
    """Chain ``records`` (choice, weight, nonce, paper) in that order onto ``resolution``'s secret
    box (its row locked by the caller), in one INSERT; returns the hash of the new head."""
    position, previous = _head(resolution)
    rows = []
    for choice, weight, nonce, paper in records:
        position += 1
        digest = ballot_hash(previous, position, Choice(choice).value, weight, nonce)
        rows.append(dict(resolution_id=resolution.id, position=position, choice=Choice(choice), weight=weight,
                         nonce=nonce, previous_hash=previous, hash=digest,
                         receipt=PAPER_RECEIPT if paper else receipt_of_nonce(nonce), paper=paper))
        previous = digest
    if rows:
        db.session.execute(insert(SecretBallot), rows)
    return previous


# --- the sealed inbox of online secret ballots ------------------------------------------------

_SEALED_FORMAT = "{choice:<8}{weight:08d}{nonce}"  # fixed length: the size of a seal tells nothing


def _sealing_key():
    secret = current_app.config["SECRET_KEY"]
    secret = secret.encode() if isinstance(secret, str) else secret
    return hashlib.sha256(b"maillage.assemblies.sealed-ballots:" + secret).digest()


def seal(resolution_id, choice, weight, nonce):
    """The AES-GCM seal of a ballot of ``resolution_id`` (bound to it: a seal moved to another
    resolution does not open), random IV first."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    iv = os.urandom(12)
    clear = _SEALED_FORMAT.format(choice=Choice(choice).value, weight=weight, nonce=nonce).encode()
    return iv + AESGCM(_sealing_key()).encrypt(iv, clear, str(resolution_id).encode())


def unseal(resolution_id, sealed):
    """(choice, weight, nonce) of a seal; ``AssemblyError`` when it does not open (SECRET_KEY
    changed during the vote, or the seal was altered or moved)."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        clear = AESGCM(_sealing_key()).decrypt(sealed[:12], sealed[12:], str(resolution_id).encode()).decode()
    except InvalidTag:
        raise AssemblyError("Un bulletin scellé ne s'ouvre pas : la clé SECRET_KEY a changé pendant le vote "
                            "(remettez la précédente pour clore) ou le bulletin a été altéré.") from None
    return Choice(clear[:8].strip()), int(clear[8:16]), clear[16:]


def _unsealed_inbox(resolution):
    return [unseal(resolution.id, sealed) for sealed in db.session.scalars(
        select(SealedBallot.sealed).where(SealedBallot.resolution_id == resolution.id))]


PAPER_RECEIPT = "URNE EN SALLE"


def ballot_hash(previous_hash, position, choice, weight, nonce):
    return hashlib.sha256(f"{previous_hash}|{position}|{choice}|{weight}|{nonce}".encode()).hexdigest()


def receipt_of(hex_digest):
    """A receipt code: the first 48 bits of ``hex_digest``, as XXXX-XXXX-XXXX."""
    code = hex_digest[:12].upper()
    return f"{code[:4]}-{code[4:8]}-{code[8:]}"


def receipt_of_nonce(nonce):
    """The receipt of a secret ballot: from its nonce, which its chained hash covers, so that the
    voter has it when he votes (the ballot is chained at the close) and anyone can check it on
    the published board."""
    return receipt_of(hashlib.sha256(f"receipt|{nonce}".encode()).hexdigest())


def cast(resolution, right, by, choice):
    """``by`` (a voter line) votes ``choice`` with the voting right ``right`` (his own or a proxy's
    giver); returns the receipt code."""
    assembly = resolution.assembly
    choice = Choice(choice)
    _voter(assembly, by, "Vous")
    _voter(assembly, right, "Ce mandant")
    # FOR SHARE: voters do not wait for each other, but a close (FOR UPDATE) waits for us, and we
    # for it (and then see it closed).
    db.session.execute(select(Resolution.id).where(Resolution.id == resolution.id).with_for_update(read=True))
    db.session.refresh(resolution, ["status"])
    if resolution.status is not ResolutionStatus.OPEN:
        raise AssemblyError(f"Le vote de la résolution {resolution.position} n'est pas ouvert.")
    if right.id == by.id:
        if proxy_given_by(by) is not None:
            raise AssemblyError("Vous avez donné pouvoir : votre mandataire vote pour vous.")
    else:
        proxy = proxy_given_by(right)
        if proxy is None or proxy.holder_id != by.id:
            raise AssemblyError(f"Vous ne portez pas le pouvoir de {right}.")
    try:
        with db.session.begin_nested():
            db.session.add(Participation(resolution_id=resolution.id, voter_id=right.id))
            db.session.flush()
    except IntegrityError:
        raise AssemblyError(f"Le vote de {'vous' if right.id == by.id else right} sur la résolution "
                            f"{resolution.position} est déjà enregistré.") from None
    if resolution.secret:
        nonce = secrets.token_hex(16)
        db.session.add(SealedBallot(resolution_id=resolution.id, token=secrets.token_hex(16),
                                    sealed=seal(resolution.id, choice, right.weight, nonce)))
        receipt = receipt_of_nonce(nonce)
    else:
        receipt = receipt_of(secrets.token_hex(8))
        db.session.add(OpenVote(resolution_id=resolution.id, voter_id=right.id, cast_by_id=by.id, choice=choice,
                                weight=right.weight, receipt=receipt))
    db.session.flush()
    return receipt


# --- results -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Tally:
    online: dict      # {Choice: weighted count} voted online (open votes or secret ballots)
    room: dict        # {Choice: weighted count} of the show of hands
    result: rules.Result

    @property
    def total(self):
        return {c: self.online.get(c, 0) + self.room.get(c, 0) for c in Choice}


def tally(resolution, roll_weight=None):
    """The counts of ``resolution`` (online + room) and its result under the assembly's rules."""
    assembly = resolution.assembly
    model = SecretBallot if resolution.secret else OpenVote
    # The paper records of a closed secret box are the room's counts, already below.
    online_only = (SecretBallot.paper.is_(False),) if resolution.secret else ()
    online = defaultdict(int, {Choice(c): n for c, n in db.session.execute(
        select(model.choice, func.sum(model.weight)).where(model.resolution_id == resolution.id, *online_only)
        .group_by(model.choice)).all()})
    if resolution.secret and resolution.status is ResolutionStatus.OPEN:
        for choice, weight, _ in _unsealed_inbox(resolution):  # not chained before the close
            online[choice] += weight
    room = room_counts(resolution)
    if roll_weight is None:
        roll_weight = db.session.scalar(select(func.coalesce(func.sum(AssemblyVoter.weight), 0))
                                        .where(AssemblyVoter.assembly_id == assembly.id))
    chair_choice = None
    if assembly.chair_casting_vote:
        # His own open vote online, else what he declared in the room (the only way on a secret ballot).
        chair_choice = (None if resolution.secret else _chair_online_choice(resolution)) or resolution.casting_vote
    total = {c: online.get(c, 0) + room.get(c, 0) for c in Choice}
    result = rules.result(resolution.majority, total[Choice.FOR], total[Choice.AGAINST], total[Choice.ABSTAIN],
                          voters=roll_weight, abstentions_count=assembly.abstentions_count,
                          chair_casting_vote=assembly.chair_casting_vote,
                          chair_choice=chair_choice.value if chair_choice else None)
    return Tally(dict(online), room, result)


def secret_board(resolution):
    """The published board of a closed secret ballot: its ballots in chain order (no voter)."""
    return list(db.session.scalars(select(SecretBallot).where(SecretBallot.resolution_id == resolution.id)
                                   .order_by(SecretBallot.position)))


def find_receipt(resolution, code):
    """The ballot (secret) or vote (open) with receipt ``code`` on ``resolution``, or None."""
    raw = "".join(ch for ch in (code or "").upper() if ch.isalnum())
    code = f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"
    model = SecretBallot if resolution.secret else OpenVote
    return db.session.scalar(select(model).where(model.resolution_id == resolution.id, model.receipt == code))


def verify_board(rows, final_hash=None):
    """Recompute a published board: ``rows`` of (position, choice, weight, nonce, previous_hash, hash).

    Returns ``(ok, tally, message)``: the chain must start at the genesis, follow itself, each
    hash recomputed, positions 1, 2, 3… with none missing, and end at ``final_hash`` if given."""
    previous, counts = GENESIS, defaultdict(int)
    for expected, (position, choice, weight, nonce, previous_hash, digest) in enumerate(rows, start=1):
        if int(position) != expected or previous_hash != previous:
            return False, dict(counts), f"Chaîne rompue au bulletin {expected}."
        if ballot_hash(previous_hash, int(position), choice, int(weight), nonce) != digest:
            return False, dict(counts), f"Bulletin {position} altéré."
        counts[choice] += int(weight)
        previous = digest
    if final_hash is not None and previous != final_hash:
        return False, dict(counts), "Le dernier bulletin ne correspond pas à l'empreinte finale publiée."
    return True, dict(counts), "Chaîne vérifiée."


def voted_names(resolution):
    """Who already voted online on ``resolution`` (so that the room does not count them twice), by name."""
    return list(db.session.scalars(select(AssemblyVoter).join(Participation, Participation.voter_id == AssemblyVoter.id)
                                   .where(Participation.resolution_id == resolution.id)
                                   .order_by(AssemblyVoter.sort_name)))
