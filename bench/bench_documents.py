"""Benchmark of the Word rendering engine (``backoffice.documents.engine``).

Run from the repository root: ``python -m bench.bench_documents`` (about a minute on 2 cores;
``BENCH_QUICK=1`` renders 10 times fewer documents).

* Speed: 1,000 documents from ``templates/documents/bench_statement.docx`` (header, a table of
  5 to 20 lines, totals, 30 paragraphs with variables) with varied French contexts built
  beforehand. Ours: compile the template once, then ``render(context)`` to bytes for each.
  Baseline, in the same run over the same contexts: the plain docxtpl loop
  ``DocxTemplate(path)``, ``render(context, jinja_env=env, autoescape=True)``,
  ``save(BytesIO())``, where ``env`` is one ``jinja2.Environment(autoescape=True)`` holding the
  same French filters (created once, outside the loop). Target: our time <= 0.2 x baseline.
* Same content: a sample of the documents rendered both ways is opened with python-docx and
  compared paragraph by paragraph, table cell by table cell, header and footer included.
* Memory: 10,000 documents streamed into one ZIP by ``render_zip`` from a generator, in a fresh
  subprocess; peak resident memory of that process, interpreter and imports included (Flask
  and SQLAlchemy come with ``backoffice``: about 90 MB before any document). Budget: 300 MB.
  Measured with ``VmHWM`` from ``/proc/self/status``: on Linux ``ru_maxrss`` survives
  ``exec`` and would report the parent's peak (the docxtpl baseline) instead of the child's;
  ``ru_maxrss`` is used only where ``/proc`` is missing.

Figures go to ``bench/results.json`` through :func:`bench.results.record` (ratio = ours /
baseline, lower is better; for memory, value / budget). Exits 1 if a target is missed or a
document differs.
"""
from __future__ import annotations

import io
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import zipfile

import docx
import jinja2
from docxtpl import DocxTemplate

from backoffice.documents import engine, samples
from bench.results import RESULTS_PATH, record

QUICK = os.environ.get("BENCH_QUICK") == "1"
DOCUMENTS = 100 if QUICK else 1_000
ZIP_DOCUMENTS = 1_000 if QUICK else 10_000
SAMPLE = 10 if QUICK else 25
SUFFIX = ".quick" if QUICK else ""  # quick figures never overwrite the full run's
TARGET_RATIO = 0.2
MEMORY_BUDGET_MB = 300
TEMPLATE = samples.BENCH_STATEMENT


def outline(data: bytes) -> list:
    """What python-docx shows of a document: paragraphs, table cells, headers and footers."""
    document = docx.Document(io.BytesIO(data))
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        lines += [tuple(cell.text for cell in row.cells) for row in table.rows]
    for section in document.sections:
        lines += [("header", p.text) for p in section.header.paragraphs]
        lines += [("footer", p.text) for p in section.footer.paragraphs]
    return lines


def contexts(count: int, seed: int = 2026):
    rng = random.Random(seed)
    for index in range(count):
        yield samples.bench_statement_context(rng, index)


def docxtpl_environment() -> jinja2.Environment:
    env = jinja2.Environment(autoescape=True)
    env.filters.update(engine.FILTERS)
    return env


def render_docxtpl(env: jinja2.Environment, context) -> bytes:
    tpl = DocxTemplate(TEMPLATE)
    tpl.render(context, jinja_env=env, autoescape=True)
    out = io.BytesIO()
    tpl.save(out)
    return out.getvalue()


def bench_speed() -> tuple[bool, dict]:
    items = list(contexts(DOCUMENTS))
    sample_every = max(1, DOCUMENTS // SAMPLE)

    started = time.perf_counter()
    template = engine.DocumentTemplate.from_path(TEMPLATE)  # compiling is part of our time
    ours_sample = {}
    for index, context in enumerate(items):
        data = template.render(context)
        if index % sample_every == 0:
            ours_sample[index] = data
    ours = time.perf_counter() - started

    env = docxtpl_environment()
    started = time.perf_counter()
    reference_sample = {}
    for index, context in enumerate(items):
        data = render_docxtpl(env, context)
        if index % sample_every == 0:
            reference_sample[index] = data
    baseline = time.perf_counter() - started

    different = [i for i in ours_sample if outline(ours_sample[i]) != outline(reference_sample[i])]
    ratio = ours / baseline
    record(f"documents.render_{DOCUMENTS}_docs{SUFFIX}", round(ours, 3), "s", round(baseline, 3),
           round(ratio, 4))
    record(f"documents.render_docs_per_second{SUFFIX}", round(DOCUMENTS / ours, 1), "docs/s",
           round(DOCUMENTS / baseline, 1), round(ratio, 4))
    record(f"documents.sample_same_content_as_docxtpl{SUFFIX}", len(ours_sample) - len(different),
           "documents", len(ours_sample), None)
    print(f"{DOCUMENTS} documents: ours {ours:.2f} s ({DOCUMENTS / ours:.0f} docs/s), "
          f"docxtpl {baseline:.2f} s ({DOCUMENTS / baseline:.0f} docs/s), "
          f"ratio {ratio:.3f} (target <= {TARGET_RATIO}), {baseline / ours:.1f}x faster")
    print(f"same content on {len(ours_sample) - len(different)}/{len(ours_sample)} sampled "
          f"documents" + (f"; different: {different}" if different else ""))
    return ratio <= TARGET_RATIO and not different, {"ours": ours, "baseline": baseline}


def peak_rss_mb() -> float:
    """Peak resident memory of this process, in MB (MiB)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def memory_child(count: int) -> None:
    """Runs in a fresh interpreter: stream ``count`` documents into a ZIP, print figures."""
    rss_before = peak_rss_mb()
    template = engine.DocumentTemplate.from_path(TEMPLATE)
    with tempfile.TemporaryDirectory() as tmp:
        target = os.path.join(tmp, "releves.zip")
        started = time.perf_counter()
        done = engine.render_zip(template, contexts(count), target,
                                 lambda ctx, i: f"{ctx['statement']['number']} "
                                                f"{ctx['member']['last_name']}")
        seconds = time.perf_counter() - started
        size = os.path.getsize(target)
        with zipfile.ZipFile(target) as archive:
            names = archive.namelist()
            last = archive.read(names[-1])
        ok = done == count == len(names) and bool(docx.Document(io.BytesIO(last)).paragraphs)
    print(json.dumps({"documents": done, "seconds": seconds, "zip_bytes": size, "ok": ok,
                      "peak_rss_mb": peak_rss_mb(), "rss_after_imports_mb": rss_before}))


def bench_memory() -> bool:
    proc = subprocess.run([sys.executable, "-m", "bench.bench_documents", "--memory-child",
                           str(ZIP_DOCUMENTS)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        print(proc.stderr, file=sys.stderr)
        raise SystemExit("memory child failed")
    figures = json.loads(proc.stdout.strip().splitlines()[-1])
    peak = figures["peak_rss_mb"]
    record(f"documents.render_zip_{ZIP_DOCUMENTS}_docs_peak_rss{SUFFIX}", round(peak, 1), "MB",
           MEMORY_BUDGET_MB, round(peak / MEMORY_BUDGET_MB, 4))
    record(f"documents.render_zip_{ZIP_DOCUMENTS}_docs_time{SUFFIX}", round(figures["seconds"], 2), "s")
    print(f"ZIP of {figures['documents']} documents: {figures['seconds']:.1f} s "
          f"({figures['documents'] / figures['seconds']:.0f} docs/s), "
          f"{figures['zip_bytes'] / 1e6:.0f} MB on disk, peak RSS {peak:.0f} MB "
          f"(after imports {figures['rss_after_imports_mb']:.0f} MB; budget "
          f"{MEMORY_BUDGET_MB} MB)")
    return figures["ok"] and peak <= MEMORY_BUDGET_MB


def main(argv: list[str]) -> int:
    if argv[:1] == ["--memory-child"]:
        memory_child(int(argv[1]))
        return 0
    started = time.perf_counter()
    speed_ok, _ = bench_speed()
    memory_ok = bench_memory()
    print(f"total {time.perf_counter() - started:.0f} s; results in {RESULTS_PATH}")
    return 0 if speed_ok and memory_ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
