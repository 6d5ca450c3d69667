"""Benchmark of the accountants' file writers (``backoffice.accounting``).

Run from the repository root: ``python -m bench.bench_exports`` (about a minute).

* Speed, 100,000 journal lines: ``write_fec`` and ``write_csv`` of the journal, each against
  a baseline measured in the same run: the same lines written with Python's ``csv`` module
  plainly, ``csv.writer(f, delimiter="\\t").writerows(...)`` of tuples of ``str(field)`` for
  the 18 fields, built on the fly — the same number of rows and columns, no validation, no
  French formatting. Both read the lines from a list built beforehand, so that generating the
  test data is not part of either timing; the best of ``ROUNDS`` runs is kept for each.
  Target: our time / baseline time <= 1.5.
* Memory: peak traced allocations (``tracemalloc``, in a fresh subprocess, lines produced by a
  generator and written to a file) for 100,000 and 200,000 lines; the writers stream, so the
  ratio peak(200k) / peak(100k) should be about 1. ``ru_maxrss`` of the subprocess is reported
  too (it includes the interpreter and imports).
* For information, no target: ``write_xlsx`` of a 20,000-line journal (openpyxl write-only),
  and its peak memory for 10,000 and 20,000 lines (it should not grow either).

Results are merged into ``bench/results.json`` as ``name -> {value, unit, baseline, ratio}``
through ``bench.results.record``.
"""
from __future__ import annotations

import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import date, timedelta
from decimal import Decimal
from typing import Iterator

from backoffice.accounting.exports import (
    JOURNAL_HEADER,
    ExportLine,
    journal_rows,
    journal_sheet,
    write_csv,
    write_xlsx,
)
from backoffice.accounting.fec import write_fec, write_fec_file
from bench.results import RESULTS_PATH, record

LINES = 100_000
ROUNDS = 3
TARGET_RATIO = 1.5
XLSX_LINES = 20_000

ZERO = Decimal("0.00")
YEAR_START = date(2026, 1, 1)

MEMBERS = [(f"ADH{n:05d}", name) for n, name in enumerate(
    f"{title} {first} {last}"
    for title in ("Dr", "Mme", "M.")
    for first in ("Marie", "Jean", "Aïcha", "Loïc", "Hélène", "François", "Zoé")
    for last in ("Martin", "Le Goff", "Nguyen", "Bernard", "Dubois-Lefèvre", "Kerjean",
                 "Ben Saïd", "Moreau", "Guérin", "Lemaître")
)]
SUPPLIERS = [("FOUR001", "Papeterie Nantaise"), ("FOUR002", "Orange Business"),
             ("FOUR003", "Cabinet d'expertise Lebœuf"), ("FOUR004", "Traiteur L'Épicurien")]
ACCOUNT_LABELS = {
    "411000": "Adhérents", "401000": "Fournisseurs", "512000": "Crédit Mutuel compte courant",
    "530000": "Caisse", "756000": "Cotisations", "740000": "Subventions d'exploitation",
    "441000": "État - subventions à recevoir", "606400": "Fournitures administratives",
    "622600": "Honoraires", "625700": "Réceptions", "626000": "Frais postaux et télécoms",
    "657000": "Aides et subventions versées",
}
JOURNALS = {"VT": "Cotisations", "BQ": "Banque", "AC": "Achats", "OD": "Opérations diverses"}


def generate_lines(count: int, seed: int = 2026) -> Iterator[ExportLine]:
    """Yield about ``count`` journal lines of a CPTS's year (the last entry is completed):
    balanced entries of 2 to 4 lines, ordered by entry number, numbered 1, 2, 3…"""
    rnd = random.Random(seed)
    produced = 0
    number = 0
    while produced < count:
        number += 1
        # About 2.4 lines per entry: spread the entries over the year.
        day = YEAR_START + timedelta(days=min(364, number * 365 * 12 // max(count * 5, 1)))
        kind = rnd.random()
        cents = rnd.randrange(1_000, 500_000)
        amount = Decimal(cents).scaleb(-2)
        lettering = None
        if kind < 0.35:       # membership fee called: 411 (member) / 756
            member = MEMBERS[rnd.randrange(len(MEMBERS))]
            journal, piece = "VT", f"COT-{number:06d}"
            label = f"Cotisation 2026 {member[1]}"
            parts = [("411000", member, amount, ZERO), ("756000", None, ZERO, amount)]
        elif kind < 0.70:     # payment received: 512 / 411 (member), lettered
            member = MEMBERS[rnd.randrange(len(MEMBERS))]
            journal, piece = "BQ", f"VIR{number:07d}"
            label = f"Virement {member[1]} réf. COT"
            lettering = "".join(rnd.choice("ABCDEFGHJK") for _ in range(3))
            parts = [("512000", None, amount, ZERO), ("411000", member, ZERO, amount)]
        elif kind < 0.90:     # purchase invoice: 2 expense lines / 401 (supplier)
            supplier = SUPPLIERS[rnd.randrange(len(SUPPLIERS))]
            journal, piece = "AC", f"FA{number:06d}"
            label = f"Facture {supplier[1]}"
            first = Decimal(rnd.randrange(100, cents)).scaleb(-2) if cents > 200 else amount
            second = amount - first
            parts = [("606400", None, first, ZERO)]
            if second:
                parts.append(("626000", None, second, ZERO))
            parts.append(("401000", supplier, ZERO, amount))
        else:                 # grant: 441 / 740 in three instalments
            journal, piece = "OD", f"CONV-{number:05d}"
            label = "Subvention ARS « parcours de soins » | tranche"
            third = Decimal(cents // 3).scaleb(-2)
            rest = amount - 2 * third
            parts = [("441000", None, amount, ZERO), ("740000", None, ZERO, third),
                     ("740000", None, ZERO, third), ("740000", None, ZERO, rest)]
        for account, aux, debit, credit in parts:
            yield ExportLine(
                journal, JOURNALS[journal], number, day, account, ACCOUNT_LABELS[account],
                aux[0] if aux else None, aux[1] if aux else None, piece, day, label, debit,
                credit, lettering if (lettering and account == "411000") else None,
                day + timedelta(days=3) if (lettering and account == "411000") else None,
                day + timedelta(days=1),
            )
            produced += 1


def baseline(lines, path: str) -> None:
    """The plain reference: 18 fields through str(), tab-separated, by the csv module."""
    with open(path, "w", newline="", encoding="utf-8") as fileobj:
        csv.writer(fileobj, delimiter="\t").writerows(
            (str(l[0]), str(l[1]), str(l[2]), str(l[3]), str(l[4]), str(l[5]), str(l[6]),
             str(l[7]), str(l[8]), str(l[9]), str(l[10]), str(l[11]), str(l[12]), str(l[13]),
             str(l[14]), str(l[15]), str(l[16]), str(l[17]))
            for l in lines
        )


def ours_fec(lines, path: str) -> None:
    with open(path, "wb") as fileobj:
        write_fec(lines, fileobj)


def ours_csv(lines, path: str) -> None:
    with open(path, "wb") as fileobj:
        write_csv(journal_rows(lines), JOURNAL_HEADER, fileobj)


def timed(function, lines, path: str) -> float:
    start = time.perf_counter()
    function(iter(lines), path)
    return time.perf_counter() - start


# --------------------------------------------------------------------------------------------
# Memory (run in a fresh subprocess)
# --------------------------------------------------------------------------------------------

def measure_memory(kind: str, count: int) -> dict:
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "out")
        lines = generate_lines(count)
        tracemalloc.start()
        if kind == "fec":
            write_fec_file(lines, path)
        elif kind == "csv":
            write_csv(journal_rows(lines), JOURNAL_HEADER, path)
        elif kind == "xlsx":
            write_xlsx([journal_sheet(lines)], path)
        else:
            raise ValueError(kind)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    maxrss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {"peak_bytes": peak, "maxrss_bytes": maxrss_kib * 1024}


def memory_in_subprocess(kind: str, count: int) -> dict:
    output = subprocess.run(
        [sys.executable, "-m", "bench.bench_exports", "--memory", kind, str(count)],
        check=True, capture_output=True, text=True,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> int:
    started = time.perf_counter()
    lines = list(generate_lines(LINES))
    entries = lines[-1].entry_number
    print(f"{len(lines)} lines, {entries} entries ({len(lines) / entries:.2f} lines per entry)")

    best = {"baseline": float("inf"), "fec": float("inf"), "csv": float("inf")}
    with tempfile.TemporaryDirectory() as directory:
        for _ in range(ROUNDS):
            for name, function in (("baseline", baseline), ("fec", ours_fec),
                                   ("csv", ours_csv)):
                best[name] = min(best[name], timed(function, lines, os.path.join(directory,
                                                                                   name)))
        xlsx_lines = lines[:XLSX_LINES]
        start = time.perf_counter()
        write_xlsx([journal_sheet(iter(xlsx_lines))], os.path.join(directory, "j.xlsx"))
        xlsx_seconds = time.perf_counter() - start
    del lines

    failures = []
    for name, label in (("fec", "write_fec"), ("csv", "write_csv (journal)")):
        ratio = best[name] / best["baseline"]
        record(f"exports.{name}_write_100k_lines", round(best[name], 4), "s",
               round(best["baseline"], 4), round(ratio, 3))
        verdict = "ok" if ratio <= TARGET_RATIO else f"ABOVE TARGET {TARGET_RATIO}"
        if ratio > TARGET_RATIO:
            failures.append(name)
        print(f"{label:22s} {best[name]:.3f} s  baseline {best['baseline']:.3f} s  "
              f"ratio {ratio:.2f}  {verdict}")
    record("exports.xlsx_write_20k_lines", round(xlsx_seconds, 3), "s")
    print(f"{'write_xlsx (journal)':22s} {xlsx_seconds:.3f} s for {XLSX_LINES} lines "
          "(information, no target)")

    mib = 1024 * 1024
    for kind, count in (("fec", LINES), ("csv", LINES), ("xlsx", XLSX_LINES // 2)):
        small = memory_in_subprocess(kind, count)
        large = memory_in_subprocess(kind, 2 * count)
        ratio = large["peak_bytes"] / small["peak_bytes"]
        sizes = f"{2 * count // 1000}k_vs_{count // 1000}k"
        record(f"exports.{kind}_peak_memory_{sizes}", round(large["peak_bytes"] / mib, 3),
               "MiB", round(small["peak_bytes"] / mib, 3), round(ratio, 3))
        record(f"exports.{kind}_maxrss_{sizes}", round(large["maxrss_bytes"] / mib, 1),
               "MiB", round(small["maxrss_bytes"] / mib, 1),
               round(large["maxrss_bytes"] / small["maxrss_bytes"], 3))
        print(f"{kind:4s} peak traced memory: {count // 1000}k {small['peak_bytes'] / mib:.2f} "
              f"MiB, {2 * count // 1000}k {large['peak_bytes'] / mib:.2f} MiB, "
              f"ratio {ratio:.2f}; maxrss {small['maxrss_bytes'] / mib:.0f} / "
              f"{large['maxrss_bytes'] / mib:.0f} MiB")
    print(f"total {time.perf_counter() - started:.0f} s; results in {RESULTS_PATH}")
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--memory":
        print(json.dumps(measure_memory(sys.argv[2], int(sys.argv[3]))))
        sys.exit(0)
    sys.exit(main())
