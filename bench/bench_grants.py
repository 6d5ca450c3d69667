"""Benchmark: the conventions d'attribution of 1,000 approved grant applications, as one job.

Run from the repository root: ``python -m bench.bench_grants`` (``--quick`` for 50 applications
and nothing recorded; ``--database sqlite|postgresql|both``, default both; Redis at
``REDIS_URL`` for the mails the job hands over).

For each database (a scratch SQLite file, a scratch PostgreSQL database):

* Seeding (not timed): a CPTS, its dermatoscope programme (two funders), 40 practices and 1,000
  professionals each with an application approved by the board (varied French names, communes,
  models, suppliers such as « Dupont & Fils <SCM> », amounts).
* Ours: the ``jobs.grants.grant_agreements`` task run by the job runner (``jobs._runner.execute``,
  what a worker does): for every approved application a numbered durable document (rendered,
  written, fingerprinted), the application moved to « Convention émise », the applicant's mail
  queued, the ZIP of all the conventions; one commit at the end.
* Baseline, same run, over the same contexts (``agreements.agreement_context`` of each
  application with the number the job gives it): the plain docxtpl loop — ``DocxTemplate(path)``,
  ``render(context, jinja_env=env, autoescape=True)``, ``save(BytesIO())`` — with ``env`` one
  ``jinja2.Environment`` holding our French filters (``bench.bench_documents``). It runs before
  and after ours, and the mean of the two is the baseline: a load that changes during the run
  weighs on both sides.
* Same content: a sample of the job's stored documents compared, paragraph by paragraph and
  cell by cell, with docxtpl's rendering of the same context.

Target: time per document of the job ≤ 0.2 × docxtpl's (``TARGET_RATIO``, as for the other
documents). Figures go to ``bench/results.json`` (``grants.<db>.agreements_1000_job`` in s per
document with the baseline and the ratio; ``grants.<db>.agreements_1000_same_content``), with
the load average printed beside them: a target is for a machine at rest.
"""
from __future__ import annotations

import io
import random
import sys
import time
from datetime import date
from decimal import Decimal

from bench.bench_documents import docxtpl_environment, outline
from bench.databases import main_over_databases, scratch_app
from bench.results import load_note, record

APPLICATIONS = 1_000
QUICK_APPLICATIONS = 50
SAMPLE = 10
TARGET_RATIO = 0.2
YEAR = 2026

FIRST_NAMES = ["Maëlys", "Yann", "Soazig", "Hervé", "Gwenaëlle", "Loïc", "Anne-Sophie", "Jean-Noël", "Clémence",
               "Erwan", "Nolwenn", "Franck", "Éléonore", "Mathéo", "Bérénice"]
LAST_NAMES = ["Le Gall", "Le Breton", "Guérin", "Morvan", "Le Floc'h", "Prigent", "Kerhervé", "Denis-Lebrun",
              "Tanguy", "Hamon", "Le Goff", "Brochard", "Ollivier", "Jégou", "Cadiou"]
COMMUNES = [("44350", "Guérande"), ("44490", "Le Croisic"), ("44740", "Batz-sur-Mer"), ("44500", "La Baule-Escoublac"),
            ("44420", "La Turballe"), ("44410", "Herbignac"), ("44117", "Saint-André-des-Eaux")]
PROFESSIONS = ["medecin_generaliste", "infirmier", "pharmacien"]
MODELS = ["HEINE DELTA 30", "DermLite DL5", "Dermlite DL4 & adaptateur smartphone", "FotoFinder handyscope",
          "Welch Allyn 3.5V"]
SUPPLIERS = ["Medisafe", "Dupont & Fils <SCM>", "Médical Ouest S.A.R.L.", "Henry Schein", None]


def log(message):
    print(f"[bench_grants] {message}", flush=True)


def rpps(rng) -> str:
    from stdnum import luhn

    body = "10" + "".join(rng.choice("0123456789") for _ in range(8))
    return body + luhn.calc_check_digit(body)


def seed(count, seed_value=2026):
    """The CPTS, its programme and ``count`` approved applications; returns (organisation id,
    programme id). Rows are made directly: what the job reads, not how it came to be."""
    from backoffice.extensions import db
    from backoffice.grants import services
    from backoffice.grants.models import GrantApplication, GrantStatus
    from backoffice.organisations.services import create_organisation
    from backoffice.people.models import Professional, Site

    rng = random.Random(seed_value)
    organisation = create_organisation("CPTS du Pays Blanc", "cpts", slug="cpts-pays-blanc", siren="812345676",
                                       address="12 rue de la Poste", postcode="44350", city="Guérande")
    programme = services.create_programme(
        organisation, name=f"Dermatoscopes {YEAR}", equipment_kind="Dermatoscope",
        envelope=Decimal(count * 600), ceiling_amount=Decimal("600.00"), ceiling_rate=Decimal("80"),
        opens_on=date(YEAR, 1, 1), closes_on=date(YEAR, 12, 31), requires_membership=False, requires_training=True,
        training_label="Formation au dépistage du mélanome", required_documents={}, professions=PROFESSIONS,
        funders=[("ARS Pays de la Loire — FIR", f"{count * 500},00", "FIR 2026-044"),
                 ("CPAM de Loire-Atlantique", f"{count * 100},00", None)])
    sites = []
    for n in range(40):
        postcode, commune = COMMUNES[n % len(COMMUNES)]
        sites.append(Site(name=f"Cabinet {rng.choice(['médical', 'infirmier', 'de la Côte'])} n° {n + 1}",
                          address=f"{rng.randint(1, 80)} rue du Marché", postcode=postcode, commune=commune))
    db.session.add_all(sites)
    people = []
    for n in range(count):
        postcode, commune = rng.choice(COMMUNES)
        people.append(Professional(
            civility=rng.choice(["Dr", "Mme", "M."]), first_name=rng.choice(FIRST_NAMES),
            last_name=f"{rng.choice(LAST_NAMES)}-{n}", profession=rng.choice(PROFESSIONS), rpps=rpps(rng),
            email=f"pro{n}@example.org", address=f"{rng.randint(1, 120)} avenue de la Gare", postcode=postcode,
            commune=commune, site=rng.choice(sites)))
    db.session.add_all(people)
    db.session.flush()
    granted = Decimal("0.00")
    applications = []
    for party in people:
        quote = Decimal(rng.randrange(45_000, 95_000)) / 100
        amount = min(Decimal("600.00"), (quote * Decimal("0.8")).quantize(Decimal("0.01")))
        granted += amount
        applications.append(GrantApplication(
            organisation_id=organisation.id, programme_id=programme.id, applicant_id=party.id, site_id=party.site_id,
            status=GrantStatus.APPROVED, equipment_kind="Dermatoscope", equipment_model=rng.choice(MODELS),
            supplier=rng.choice(SUPPLIERS), quoted_price=quote, amount_requested=amount, amount_granted=amount,
            training_on=date(YEAR, 2, rng.randint(1, 28)), submitted_on=date(YEAR, 3, 2), decided_on=date(YEAR, 4, 7)))
    db.session.add_all(applications)
    programme.granted_total = granted
    db.session.commit()
    return organisation.id, programme.id


def contexts(programme_id):
    """The context of each approved application's convention, with the number the job will
    give it (the year's sequence is empty: 0001, 0002… in the applications' order)."""
    from backoffice.extensions import db
    from backoffice.grants import agreements
    from backoffice.grants.models import GrantProgramme

    programme = db.session.get(GrantProgramme, programme_id)
    common = agreements.programme_context(programme)
    items = [agreements.agreement_context(a, f"{YEAR}-{n:04d}", common) | {"logo": None}
             for n, a in enumerate(agreements.awaiting_agreement(programme), 1)]
    db.session.rollback()
    return items


def docxtpl_loop(template_path, items, keep):
    """The plain docxtpl loop over ``items``; returns (seconds, {index: bytes} for ``keep``)."""
    from docxtpl import DocxTemplate

    env = docxtpl_environment()
    kept = {}
    started = time.perf_counter()
    for index, context in enumerate(items):
        tpl = DocxTemplate(template_path)
        tpl.render(context, jinja_env=env, autoescape=True)
        out = io.BytesIO()
        tpl.save(out)
        if index in keep:
            kept[index] = out.getvalue()
    return time.perf_counter() - started, kept


def run_job(organisation_id, programme_id):
    """The conventions' task, run as a worker runs it; returns (seconds, task)."""
    from backoffice.extensions import db
    from backoffice.tasks.models import Task, TaskStatus
    from jobs._runner import execute
    from jobs.grants import grant_agreements

    task = Task(organisation_id=organisation_id, kind="grants.agreements", label="Conventions",
                job_name=grant_agreements.name, params={"programme_id": programme_id}, status=TaskStatus.QUEUED,
                progress_done=0, attempts=0)
    db.session.add(task)
    db.session.commit()
    started = time.perf_counter()
    execute(task)
    seconds = time.perf_counter() - started
    db.session.expire_all()
    return seconds, db.session.get(Task, task.id)


def stored_documents(programme_id):
    """{index in the applications' order: bytes} of the job's conventions."""
    from backoffice.documents import generated
    from backoffice.extensions import db
    from backoffice.grants.documents import AGREEMENT_KIND
    from backoffice.grants.models import GrantApplication, GrantProgramme

    programme = db.session.get(GrantProgramme, programme_id)
    applications = db.session.query(GrantApplication).filter_by(programme_id=programme_id).order_by(GrantApplication.id)
    current = generated.current_documents(programme.organisation, AGREEMENT_KIND, applications.all())
    return [current[a.id] for a in applications]


def run(database, url, storage, count, quick):
    from backoffice.documents.services import template_path
    from backoffice.extensions import db, rq
    from backoffice.grants.documents import AGREEMENT_KIND
    from backoffice.organisations.models import Organisation

    with scratch_app(url, storage, "bench_grants") as app:
        try:
            log(f"{database}: seeding {count} approved applications")
            organisation_id, programme_id = seed(count)
            path = template_path(db.session.get(Organisation, organisation_id), AGREEMENT_KIND)
            items = contexts(programme_id)
            keep = set(range(0, count, max(1, count // SAMPLE)))
            log(f"{database}: docxtpl loop over the {len(items)} contexts (before)")
            before, reference = docxtpl_loop(path, items, keep)
            log(f"{database}: the job")
            ours, task = run_job(organisation_id, programme_id)
            if task.status.value != "done":
                raise SystemExit(f"the job did not finish: {task.status.value} — {task.message}")
            log(f"{database}: docxtpl loop (after)")
            after, _ = docxtpl_loop(path, items, set())
            documents = stored_documents(programme_id)
            different = [i for i in sorted(keep) if outline(documents[i].abspath().read_bytes()) != outline(reference[i])]
            numbers_ok = [d.number for d in documents] == [c["grant"]["number"] for c in items]
        finally:
            for queue in rq.queues.values():  # the mails handed over to this run's scratch queues
                queue.empty()
    baseline = (before + after) / 2
    per_doc, baseline_per_doc = ours / count, baseline / count
    ratio = per_doc / baseline_per_doc
    log(f"{database}: {count} conventions — job {ours:.2f} s ({per_doc * 1000:.1f} ms/doc), docxtpl "
        f"{before:.2f} s / {after:.2f} s ({baseline_per_doc * 1000:.1f} ms/doc), ratio {ratio:.3f} "
        f"(target <= {TARGET_RATIO}); same content on {len(keep) - len(different)}/{len(keep)} sampled"
        f"{'' if numbers_ok else '; NUMBERS DIFFER'}; {load_note()}")
    if not quick:
        record(f"grants.{database}.agreements_{count}_job", round(per_doc * 1000, 2), "ms/doc",
               round(baseline_per_doc * 1000, 2), round(ratio, 4))
        record(f"grants.{database}.agreements_{count}_same_content", len(keep) - len(different), "documents",
               len(keep), None)
    failures = []
    if different or not numbers_ok:
        failures.append(f"{database} (documents differ: {different})")
    if ratio > TARGET_RATIO and not quick:  # 50 documents: the fixed costs weigh, a smoke run
        failures.append(f"{database} (ratio {ratio:.3f} > {TARGET_RATIO})")
    return failures


def main(argv=None):
    return main_over_databases(sys.argv[1:] if argv is None else argv,
                               "Conventions of 1,000 approved grant applications as one job, against docxtpl",
                               "bench_grants", run, APPLICATIONS, QUICK_APPLICATIONS)


if __name__ == "__main__":
    sys.exit(main())
