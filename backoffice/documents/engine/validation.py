"""Checking an uploaded template without producing a document for anyone."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from backoffice.documents.engine.rendering import DocumentTemplate
from backoffice.documents.errors import DocumentError, TemplateError

@dataclass(frozen=True)
class ValidationReport:
    """What :func:`validate` found. ``ok`` is true when ``errors`` is empty."""

    errors: tuple[DocumentError, ...] = ()
    variables: frozenset[str] = frozenset()
    unexpected_variables: frozenset[str] = frozenset()
    template: DocumentTemplate | None = field(default=None, compare=False, repr=False)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def messages(self) -> list[str]:
        return [str(e) for e in self.errors]


def validate(template_bytes: bytes, expected_variables: Iterable[str] | None = None,
             sample_context: Mapping[str, Any] | None = None) -> ValidationReport:
    """Check an uploaded template without producing a document for anyone.

    Compiles every part (collecting one error per part), then, when ``expected_variables`` is
    given, reports each variable the template uses that is not among them (a typo in Word), and
    when ``sample_context`` is given, renders it once to catch errors only a render shows
    (``{{ member.nme }}``). Never raises for a bad template: everything is in the report.
    """
    errors: list[DocumentError] = []
    try:
        template = DocumentTemplate(bytes(template_bytes), _errors=errors)
    except TemplateError as exc:
        return ValidationReport(errors=tuple(errors) + (exc,))
    variables = frozenset(template.undeclared_variables())
    unexpected: frozenset[str] = frozenset()
    if expected_variables is not None:
        expected = set(expected_variables)
        unexpected = frozenset(variables - expected)
        known = ", ".join(sorted(expected))
        for name in sorted(unexpected):
            errors.append(TemplateError(
                f"variable inconnue « {name} » (variables disponibles : {known})"))
    if sample_context is not None and not errors:
        try:
            template.render(sample_context)
        except DocumentError as exc:
            errors.append(exc)
    return ValidationReport(tuple(errors), variables, unexpected, template)
