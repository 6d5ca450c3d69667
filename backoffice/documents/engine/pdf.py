"""PDF conversion of rendered documents with LibreOffice (``soffice --headless``)."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import Iterable

from backoffice.documents.errors import PdfConversionError

def pdf_available() -> bool:
    """Whether LibreOffice's ``soffice`` is on the PATH."""
    return shutil.which("soffice") is not None


def convert_to_pdf(docx_paths: Iterable[str | os.PathLike], outdir: str | os.PathLike,
                   *, timeout: float = 600, batch_size: int = 200) -> list[Path]:
    """Convert .docx files to PDF with LibreOffice and return the PDF paths, in order.

    Files are converted in batches (one ``soffice`` start-up, about 1.4 s, per batch), each
    call with its own throw-away profile: two conversions sharing a profile can produce no PDF
    and still exit 0. Every expected PDF is checked; a missing one raises
    :class:`PdfConversionError`.
    """
    paths = [Path(p) for p in docx_paths]
    if not paths:
        return []
    stems = [p.stem for p in paths]
    if len(set(stems)) != len(stems):
        raise ValueError("two input files have the same name: their PDF would overwrite")
    missing_inputs = [p for p in paths if not p.is_file()]
    if missing_inputs:
        raise PdfConversionError(
            "Fichier introuvable pour la conversion en PDF : "
            + ", ".join(p.name for p in missing_inputs))
    soffice = shutil.which("soffice")
    if soffice is None:
        raise PdfConversionError("La conversion en PDF demande LibreOffice, qui n'est pas "
                                 "installé sur ce serveur.")
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    results = []
    for start in range(0, len(paths), batch_size):
        batch = paths[start:start + batch_size]
        expected = [out / f"{p.stem}.pdf" for p in batch]
        for pdf in expected:  # an old PDF must not pass for a new one
            pdf.unlink(missing_ok=True)
        profile = Path(tempfile.gettempdir()) / f"lo_{uuid.uuid4().hex}"
        cmd = [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless",
               "--norestore", "--nolockcheck", "--convert-to", "pdf", "--outdir", str(out),
               *[str(p) for p in batch]]
        try:
            proc = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise PdfConversionError(
                f"La conversion en PDF a dépassé {int(timeout)} secondes.") from None
        finally:
            shutil.rmtree(profile, ignore_errors=True)
        failed = [p for p, pdf in zip(batch, expected)
                  if not pdf.is_file() or pdf.stat().st_size == 0]
        if failed:
            tail = (proc.stderr or b"").decode("utf-8", "replace").strip()[-500:]
            raise PdfConversionError(
                "LibreOffice n'a pas produit de PDF pour : " + ", ".join(p.name for p in failed)
                + f" (code {proc.returncode}{' : ' + tail if tail else ''})")
        results.extend(expected)
    return results
