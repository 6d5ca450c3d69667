"""Matching bank statement credits to memberships: pure rules, no database.

Rules, in order:

1. **Reference**: a membership's payment reference (``ADH26-7KQ4M``) appears in the line's
   text (label, reference, counterparty), whatever the spaces, dashes or case the bank kept
   (``ADH26 7KQ4M``, ``adh267kq4m``). Exactly one reference found → a sure match, whatever the
   amount (partial payments and overpayments happen).
2. **Name and amount**: among memberships still expecting money, those whose member's name
   (every word of the last name, or of a structure's name) appears in the text and whose
   remaining balance (or full amount due) equals the credit. Exactly one → a suggestion; more
   than one → narrowed by first name; still more → ambiguous (the treasurer chooses).

Debits never match.
"""
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal

from backoffice.banking.parsers import fold_words as fold  # the words statements are fingerprinted on

# Words too common in names of structures (and in bank labels) to identify anybody.
STOP_WORDS = {"de", "du", "des", "la", "le", "les", "l", "d", "et", "a", "au", "aux", "en", "sur", "sas", "sarl",
              "selarl", "scm", "sisa", "ehpad", "msp", "cabinet", "pharmacie", "centre", "maison", "sante", "vir",
              "virement", "sepa", "recu", "m", "mme", "mr", "dr"}


def compact(text):
    """Upper-case letters and digits only: how references are compared."""
    text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode().upper()
    return re.sub(r"[^A-Z0-9]", "", text)


@dataclass(frozen=True)
class Candidate:
    """What matching needs to know of a membership."""

    membership_id: int
    reference: str
    last_name: str          # a structure's name for a structure
    first_name: str = ""
    amount_due: Decimal = Decimal("0.00")
    balance: Decimal = Decimal("0.00")
    is_open: bool = True

    @property
    def name_words(self):
        words = [w for w in fold(self.last_name) if w not in STOP_WORDS and len(w) > 1]
        return words or fold(self.last_name)


@dataclass(frozen=True)
class Match:
    membership_id: int | None
    rule: str | None = None                    # "reference" | "name_amount"
    ambiguous: tuple = field(default=())       # membership ids when several fit

    @property
    def found(self):
        return self.membership_id is not None


NO_MATCH = Match(None)


def reference_pattern(prefixes):
    """A regex finding compacted references (``ADH267KQ4M``) of the given prefixes."""
    from backoffice.membership.memberships import REFERENCE_ALPHABET, REFERENCE_LENGTH

    alternatives = "|".join(sorted({re.escape(compact(p)) for p in prefixes if p}, key=len, reverse=True)) or "ADH"
    return re.compile(rf"(?=((?:{alternatives})\d{{2}}[{REFERENCE_ALPHABET}]{{{REFERENCE_LENGTH}}}))")


def references_in(text, pattern):
    """Compacted references found in ``text`` (overlapping matches included)."""
    return {m.group(1) for m in pattern.finditer(compact(text))}


def match_line(text, amount, by_reference, open_candidates, pattern):
    """Match one statement line.

    ``by_reference``: compacted reference → ``Candidate`` (any membership the references found
    in the text may name); ``open_candidates``: memberships expecting money, for rule 2.
    """
    if amount is None or amount <= 0:
        return NO_MATCH
    found = {by_reference[r].membership_id: by_reference[r] for r in references_in(text, pattern) if r in by_reference}
    if len(found) == 1:
        return Match(next(iter(found)), "reference")
    if len(found) > 1:
        return Match(None, None, tuple(sorted(found)))
    words = set(fold(text))
    fits = [c for c in open_candidates
            if c.is_open and amount in (c.balance, c.amount_due) and c.name_words
            and all(w in words for w in c.name_words)]
    if len(fits) > 1:
        narrowed = [c for c in fits if c.first_name and all(w in words for w in fold(c.first_name))]
        fits = narrowed or fits
    if len(fits) == 1:
        return Match(fits[0].membership_id, "name_amount")
    if len(fits) > 1:
        return Match(None, None, tuple(sorted(c.membership_id for c in fits)))
    return NO_MATCH
