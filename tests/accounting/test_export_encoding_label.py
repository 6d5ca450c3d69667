"""The export history names encodings as users read them, never by Python's codec names."""
import pytest

from backoffice.accounting.models import ExportRecord


@pytest.mark.parametrize("codec, label", [("utf-8-sig", "UTF-8 avec BOM"), ("utf-8", "UTF-8"), ("UTF_8", "UTF-8"),
                                          ("cp1252", "Windows-1252"), ("iso8859-15", "ISO-8859-15"),
                                          ("iso-8859-15", "ISO-8859-15"), (None, ""), ("koi8-r", "")])
def test_encoding_label(codec, label):
    assert ExportRecord(encoding=codec).encoding_label == label
