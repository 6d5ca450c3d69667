"""Document kinds are declared by their features (``<feature>/documents.py``) and found there."""
import types

import pytest

import backoffice
from backoffice.documents import kinds
from backoffice.documents.kinds import DocumentKind, Numbering


def _kind(key, label="Procès-verbal d'assemblée générale"):
    return DocumentKind(key=key, label=label, description="Signé par la présidente et le secrétaire.",
                        variables=frozenset({"organisation"}), sample_context=dict)


def test_each_kind_is_declared_by_its_feature():
    from backoffice.membership import documents as membership_documents
    from backoffice.people import documents as people_documents

    found = kinds.document_kinds()
    assert found["membership_receipt"] is membership_documents.DOCUMENT_KINDS[0]
    assert found["cheque_deposit_slip"] is membership_documents.DOCUMENT_KINDS[1]
    assert found["directory_sheet"] is people_documents.DOCUMENT_KINDS[0]
    assert found["membership_receipt"].numbering == Numbering(per_year=True)
    assert all(kind.available for kind in found.values())  # each has its default template


def test_kinds_are_found_through_feature_modules(monkeypatch):
    """A new feature's ``documents.py`` is enough; nothing else registers kinds."""
    asked = []
    minutes = types.ModuleType("backoffice.assemblies.documents")
    minutes.DOCUMENT_KINDS = [_kind("assembly_minutes")]

    def feature_modules(name):
        asked.append(name)
        return [minutes]

    monkeypatch.setattr(backoffice, "feature_modules", feature_modules)
    monkeypatch.setattr(kinds, "_found", None)
    assert list(kinds.document_kinds()) == ["assembly_minutes"]
    assert kinds.document_kind("assembly_minutes").label == "Procès-verbal d'assemblée générale"
    kinds.document_kinds()
    assert asked == ["documents"]  # once, then kept


def test_no_registration_at_import():
    from backoffice.documents import services

    assert not hasattr(services, "register_document_kind")
    assert not hasattr(services, "DOCUMENT_KINDS")


def test_two_features_may_not_declare_the_same_kind():
    first, second = types.ModuleType("backoffice.grants.documents"), types.ModuleType("backoffice.sisa.documents")
    first.DOCUMENT_KINDS = [_kind("convention")]
    second.DOCUMENT_KINDS = [_kind("convention", "Convention de mise à disposition")]
    with pytest.raises(RuntimeError, match="'convention' is declared twice"):
        kinds.collect_document_kinds([first, second])


def test_numbering_labels():
    assert Numbering(per_year=True).label(2026, 42) == "2026-0042"
    assert Numbering().label(None, 3) == "0003"
    assert Numbering(digits=6).label(None, 1234567) == "1234567"
