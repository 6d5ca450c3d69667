"""Banking's refusals: French messages, derived from the application's ``ServiceError``."""
from flask_babel import format_date

from backoffice.errors import ServiceError
from backoffice.lifecycle import LifecycleError


class BankingError(ServiceError):
    """A banking rule refused an action (an IBAN, an account, a match, a SEPA file)."""


class LineStatusError(LifecycleError, BankingError):
    """A status move of a statement line that ``LINE_LIFECYCLE`` refuses."""


class StatementFormatError(BankingError):
    """The file is not a statement we can read; nothing was recorded."""


class StatementLinesError(StatementFormatError):
    """Rows of a statement file that cannot be read, every one of them (``problems``: « Ligne
    12 : date illisible… »); nothing was recorded."""

    def __init__(self, problems):
        count = len(problems)
        self.summary = (f"Rien n'a été importé : {count} ligne{'s' if count > 1 else ''} du fichier "
                        f"{'sont illisibles' if count > 1 else 'est illisible'}.")
        super().__init__(f"{self.summary} " + " ; ".join(problems))
        self.problems = list(problems)


class MappingNeeded(BankingError):
    """A CSV file whose columns are not (or no longer) mapped; ``columns`` are its header,
    ``guess`` the mapping its column names suggest, ``account`` the bank account it is for."""

    def __init__(self, columns, message=None, guess=None, account=None):
        super().__init__(message or "Indiquez une fois pour toutes quelles colonnes de l'export de votre banque "
                                    "contiennent la date, le libellé et le montant.")
        self.columns, self.guess, self.account = columns, guess or {}, account


class AlreadyImported(BankingError):
    """Every line of the file is already stored (the same statement, or one covered by earlier
    imports): no import is recorded. ``imported_at`` is when the latest of those lines came in."""

    def __init__(self, line_count, imported_at):
        super().__init__(f"Relevé déjà importé le {format_date(imported_at, 'dd/MM/yyyy')} : ses {line_count} "
                         "opérations sont toutes connues, rien n'a été enregistré.")
        self.line_count, self.imported_at = line_count, imported_at
