"""Matching bank statement credits to memberships: pure rules, no database.

What a treasurer can trust, in order:

1. **Reference**: a membership's payment reference appears in the line's text (label,
   reference, counterparty), whatever the case, spaces or separators the bank kept — our
   generated references (``ADH26-7KQ4M``, ``adh26 7kq4m``) and, when the organisation has one, its
   own scheme built from the member number (``COT{year}/{number:05}``: ``COT2026/00042``,
   ``cot 2026 42``, ``COT202600042``; ``ReferenceScheme``). A reference is a sure designation
   whatever the amount. When the payer's name is in the text too and agrees, the line is
   **pre-ticked**; when the payer is another member, it is flagged ``conflict``; a reference of
   another year whose membership no longer expects money points to the member's open one
   (flag ``other_year``).
2. **Name**: without a reference, the payer's name designates the member — last name *and*
   first name (any order, no accents, apostrophes nor titles), or a structure's name; the last
   name alone only when nothing else in the text could be another first name. The amount only
   chooses among the memberships of one name: it never designates a member by itself (« MARTIN
   PAUL » is never proposed to Julie Martin). Several members fit → the line lists them.
3. **Amount** against what the designated membership still expects: ``partial``,
   ``overpayment`` (the surplus stays as credit), ``already_paid`` (the money becomes credit); a
   credit that pays several open memberships exactly (two references, or a member's two years)
   is proposed as a **split**.
4. Lines that are no membership fee (cheque deposits, payouts of payment platforms, subsidies,
   internal transfers) get their ``kind``: the treasurer ignores them in bulk.

A batch of lines is matched in order by one ``Matcher``: a second transfer of a member already
paid by the first is flagged ``already_paid``, not proposed twice. Debits never match.
"""
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from decimal import Decimal

from backoffice.banking.parsers import fold_words  # the words statements are fingerprinted on

ZERO = Decimal("0.00")


@lru_cache(maxsize=65536)
def fold(text):
    """``fold_words`` as a tuple, remembered: a territory's first and last names repeat."""
    return tuple(fold_words(text))

# Words too common in names of structures (and in bank labels) to identify anybody.
STOP_WORDS = {"de", "du", "des", "la", "le", "les", "l", "d", "et", "a", "au", "aux", "en", "sur", "sas", "sarl",
              "selarl", "scm", "sisa", "ehpad", "msp", "cabinet", "pharmacie", "centre", "maison", "sante", "vir",
              "virement", "sepa", "recu", "m", "mme", "mr", "dr"}
# Civilities and titles banks print before a name.
TITLES = {"m", "mr", "mme", "mlle", "mle", "melle", "mm", "dr", "docteur", "pr", "professeur", "me", "monsieur",
          "madame", "mademoiselle", "ou", "epoux", "sci"}
# Words of bank labels and of transfer motives that are nobody's name: what is left of a label
# once they, the references and the payer's name are taken out could be someone else's name.
BANK_WORDS = {"vir", "virement", "virt", "sepa", "recu", "recus", "emis", "inst", "instantane", "de", "du", "des",
              "par", "pour", "ordre", "motif", "ref", "reference", "refs", "eref", "id", "iban", "bic", "nom",
              "libelle", "lib", "remise", "cotisation", "cotisations", "cotis", "cot", "adhesion", "adhesions",
              "adh", "annuelle", "annuel", "annee", "cpts", "paiement", "reglement", "notprovided", "non", "fourni",
              "beneficiaire", "emetteur", "donneur", "debiteur", "crediteur", "client", "facture", "date", "du",
              "le", "la", "les", "l", "d", "et", "en", "a", "au", "aux", "frais", "part", "solde", "acompte",
              "complement", "regularisation", "partiel", "partielle", "virement", "versement", "adherent", "mois", "janvier", "fevrier", "mars", "avril", "mai", "juin",
              "juillet", "aout", "septembre", "octobre", "novembre", "decembre", "euros", "eur", "ech", "pmt"}


_NOT_ALNUM = re.compile(r"[^A-Z0-9]")


def compact(text):
    """Upper-case letters and digits only: how references are compared."""
    text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode().upper()
    return _NOT_ALNUM.sub("", text)


def _upper(text):
    return unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode().upper()


def number_key(member_number):
    """How member numbers are compared: digits without leading zeros (``00042`` → ``42``), or
    the compacted text of a number with letters (``A-004`` → ``A004``)."""
    code = compact(member_number)
    return str(int(code)) if code.isdigit() else code


# --------------------------------------------------------------------------------------------
# Reference schemes
# --------------------------------------------------------------------------------------------

class SchemeError(ValueError):
    """A reference scheme that cannot be used (the message is French, for the settings form)."""


_PLACEHOLDER = re.compile(r"\{([a-z]+)(?::0?(\d))?\}")
_SEPARATOR = r"[^A-Z0-9]{0,3}"     # what members and banks put between the parts, or nothing


class ReferenceScheme:
    """The association's own reference built from the member number: ``{number}`` (or
    ``{number:05}``, zero-padded to 5), ``{year}`` (2026) or ``{yy}`` (26), and literal text.

    Recognised with the usual variations: any case, spaces or other separators between the
    parts or none, the year in 4 or 2 digits, the number without its leading zeros."""

    def __init__(self, pattern):
        pattern = (pattern or "").strip()
        if not pattern:
            raise SchemeError("Indiquez le modèle de référence, par exemple COT{year}/{number:05}.")
        if len(pattern) > 40:
            raise SchemeError("Le modèle de référence compte 40 caractères au plus.")
        names = [m.group(1) for m in _PLACEHOLDER.finditer(pattern)]
        unknown = sorted(set(names) - {"number", "year", "yy"})
        if unknown:
            raise SchemeError(f"Le modèle de référence ne connaît pas {{{unknown[0]}}} : utilisez {{number}} "
                              "(numéro d'adhérent), {year} (2026) ou {yy} (26).")
        if names.count("number") != 1:
            raise SchemeError("Le modèle de référence contient une fois {number}, le numéro d'adhérent "
                              "(par exemple COT{year}/{number:05}).")
        if len(names) - names.count("number") > 1:
            raise SchemeError("Le modèle de référence contient l'année une fois au plus ({year} ou {yy}).")
        literal = _PLACEHOLDER.sub("", pattern)
        if "{" in literal or "}" in literal:
            raise SchemeError("Accolade isolée dans le modèle de référence : écrivez {number}, {year} ou {yy}.")
        if not re.search(r"[A-Za-z]", literal):
            raise SchemeError("Le modèle de référence commence par des lettres qui le distinguent "
                              "(par exemple COT ou ADH), sans quoi n'importe quel nombre le suivrait.")
        self.pattern = pattern
        parts, at = [], 0
        for m in _PLACEHOLDER.finditer(pattern):
            parts += [self._literal(pattern[at:m.start()])]
            if m.group(1) == "number":
                self.width = int(m.group(2) or 0)
                parts.append(rf"(?P<number>\d{{1,{max(self.width, 6)}}})(?!\d)")
            elif m.group(1) == "year":   # 2026, or 26 when a separator follows (« 2026 » is not 20 + 26…)
                parts.append(r"(?P<year>20\d{2}|\d{2}(?=[^0-9]))")
            else:                        # 26, or 2026 when a separator follows
                parts.append(r"(?P<year>\d{2}(?!\d{2}[^0-9])|20\d{2}(?=[^0-9]))")
            parts.append(_SEPARATOR)
            at = m.end()
        parts.append(self._literal(pattern[at:]))
        self.regex = re.compile("".join(parts).removesuffix(_SEPARATOR))

    @staticmethod
    def _literal(text):
        out = []
        for ch in _upper(text):
            if ch.isalnum():
                out.append(re.escape(ch) + _SEPARATOR)
        return "".join(out)

    def format(self, number, year=None):
        """The reference of member ``number`` for ``year`` as members are asked to write it."""
        digits = compact(number)
        shown = digits.zfill(self.width) if digits.isdigit() else (number or "")

        def fill(m):
            if m.group(1) == "number":
                return shown
            return f"{year % 100:02d}" if m.group(1) == "yy" else f"{year}"
        return _PLACEHOLDER.sub(fill, self.pattern)

    def find(self, text):
        """``{(year or None, number key)}`` of the references of this scheme in ``text``."""
        found = set()
        for m in self.regex.finditer(_upper(text)):
            year = m.groupdict().get("year")
            if year is not None:
                year = int(year) + (2000 if len(year) == 2 else 0)
            found.add((year, number_key(m.group("number"))))
        return found


def reference_pattern(prefixes):
    """A regex finding compacted references (``ADH267KQ4M``) of the given prefixes."""
    from backoffice.membership.memberships import REFERENCE_ALPHABET, REFERENCE_LENGTH

    alternatives = "|".join(sorted({re.escape(compact(p)) for p in prefixes if p}, key=len, reverse=True)) or "ADH"
    return re.compile(rf"(?=((?:{alternatives})\d{{2}}[{REFERENCE_ALPHABET}]{{{REFERENCE_LENGTH}}}))")


def references_in(text, pattern):
    """Compacted references found in ``text`` (overlapping matches included)."""
    return {m.group(1) for m in pattern.finditer(compact(text))}


# --------------------------------------------------------------------------------------------
# Lines that are no membership fee
# --------------------------------------------------------------------------------------------

# (kind, French label, phrases of whole folded words): the first kind one of whose phrases is in
# the text decides.
OTHER_KINDS = [
    ("cheque_deposit", "Remise de chèques", ("remise cheque", "remise cheques", "remise chq", "rem chq",
                                             "rem cheque", "depot cheque", "depot cheques", "remise de cheques",
                                             "remise de cheque", "remchq", "remise n")),
    ("internal_transfer", "Virement interne", ("vir interne", "virement interne", "cpte a cpte", "compte a compte",
                                               "vir livret", "livret a", "virement de compte", "vir epargne",
                                               "transfert interne", "vir permanent")),
    ("payout", "Versement d'une plateforme", ("helloasso", "hello asso", "stripe", "sumup", "paypal", "lydia",
                                              "payplug", "mollie", "versement plateforme")),
    ("subsidy", "Subvention", ("subvention", "subv", "ars", "agence regionale de sante", "cpam", "assurance maladie",
                               "fir", "fonds d intervention", "aci", "accord conventionnel", "conseil departemental",
                               "conseil regional", "region", "dotation", "cnam", "mairie",
                               "commune de", "prefecture", "drfip", "ddfip")),
]
KIND_LABELS = {kind: label for kind, label, _ in OTHER_KINDS}
_KIND_PATTERNS = [(kind, re.compile(r"(?<![a-z0-9])(?:" + "|".join(re.escape(p) for p in phrases) + r")(?![a-z0-9])"))
                  for kind, _, phrases in OTHER_KINDS]


def other_kind(text):
    """The kind of a line that is no membership fee (``cheque_deposit``, ``internal_transfer``,
    ``payout``, ``subsidy``) by the words of its label, or None."""
    folded = " ".join(fold(text))
    for kind, pattern in _KIND_PATTERNS:
        if pattern.search(folded):
            return kind
    return None


# --------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------

def _name_words(text):
    return [w for w in fold(text) if w not in STOP_WORDS and w not in TITLES and len(w) > 1] or fold(text)


@lru_cache(maxsize=65536)
def _name_parts(name):
    """(words that identify, all words joined, all words, index keys) of a name, remembered."""
    words = fold(name)
    kept = frozenset(w for w in words if w not in STOP_WORDS and w not in TITLES and len(w) > 1) or frozenset(words)
    joined = "".join(words)
    keys = frozenset({max(sorted(kept), key=len), joined} if kept else {joined})
    return kept, joined, frozenset(words), keys


def _tokens(words):
    """The words of a text and the joins of 2 and 3 neighbours (« LE FLOCH », « LEFLOCH »,
    « D'ARTAGNAN », « DARTAGNAN », « JEAN-PIERRE », « JEANPIERRE » are the same name)."""
    tokens = set(words)
    for size in (2, 3):
        tokens.update("".join(words[i:i + size]) for i in range(len(words) - size + 1))
    return tokens


@dataclass(eq=False)   # not frozen: built 10,000 at a time, and its folded name is cached
class Candidate:
    """What matching needs to know of a membership."""

    membership_id: int
    reference: str
    last_name: str          # a structure's name for a structure
    first_name: str = ""
    amount_due: Decimal = ZERO
    balance: Decimal = ZERO
    is_open: bool = True
    party_id: int | None = None
    year: int | None = None             # the period's starting year
    member_number: str | None = None
    is_structure: bool = False

    @property
    def party(self):
        return self.party_id if self.party_id is not None else ("membership", self.membership_id)

    @property
    def name_words(self):
        return sorted(self._last[0])

    @property
    def _last(self):
        return _name_parts(self.last_name)

    @property
    def _first(self):
        return _name_parts(self.first_name)

    @property
    def name_keys(self):
        """The keys a name is indexed by: its longest word (a name matches only when all its
        words are there: one of them is enough to find it, the longest is the rarest) and its
        words joined (« LEFLOCH »)."""
        return self._last[3]

    @property
    def first_keys(self):
        """The keys a first name is indexed by (as ``name_keys``); a structure or a member
        without a first name by the empty key."""
        return {""} if self.is_structure or not self.first_name else self._first[3]

    def last_fits(self, tokens):
        last, joined = self._last[:2]
        return bool(self.last_name) and (last <= tokens or joined in tokens)

    def name_fit(self, words, tokens):
        """``"full"`` (last and first name, or a structure's name), ``"surname"`` (the last name,
        and nothing else in the text that could be another first name) or None.

        ``words``: the line's words that could be part of a name (``name_like``); ``tokens``:
        ``_tokens`` of all its words."""
        if not self.last_fits(tokens):
            return None
        taken = self._last[2]
        if self.is_structure or not self.first_name:
            return "full"
        first, first_joined = self._first[:2]
        if first <= tokens or first_joined in tokens:
            return "full"
        return None if any(w not in taken for w in words) else "surname"


def name_like(words):
    """The words of a line that could be (part of) somebody's name."""
    return [w for w in words if w not in BANK_WORDS and w not in TITLES and w not in STOP_WORDS and len(w) > 1
            and not any(ch.isdigit() for ch in w)]


# --------------------------------------------------------------------------------------------
# Matching
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Match:
    """What matching proposes for a line.

    ``membership_id``: the proposed membership (None: nothing, or several to choose from in
    ``ambiguous``); ``rule``: ``reference``, ``name_amount``, ``name``, ``split``; ``flags``: see
    ``FLAG_LABELS``; ``parts``: ``((membership id, amount), …)`` of a split; ``kind``: a line that
    is no membership fee; ``preticked``: the treasurer only has to confirm."""

    membership_id: int | None
    rule: str | None = None
    ambiguous: tuple = field(default=())
    flags: tuple = ()
    parts: tuple = ()
    kind: str | None = None
    preticked: bool = False
    surplus: Decimal | None = None

    @property
    def found(self):
        return self.membership_id is not None or bool(self.parts)

    @property
    def candidates(self):
        return self.ambiguous

    def details(self):
        """The JSON kept on the statement line for the review screen."""
        details = {"flags": list(self.flags), "candidates": list(self.ambiguous), "preticked": self.preticked}
        if self.kind:
            details["kind"] = self.kind
        if self.parts:
            details["parts"] = [[m, str(a)] for m, a in self.parts]
        if self.surplus is not None:
            details["surplus"] = str(self.surplus)
        return details


NO_MATCH = Match(None)

FLAG_LABELS = {
    "conflict": "La référence désigne un autre membre que le payeur",
    "other_year": "Référence d'une autre année",
    "partial": "Paiement partiel",
    "overpayment": "Trop-perçu gardé en avoir",
    "already_paid": "Adhésion déjà payée : le montant deviendra un avoir",
    "payer_unknown": "Payeur non reconnu",
}


class Matcher:
    """Matches lines one after the other against a fixed set of memberships, remembering what
    earlier lines of the batch were proposed to pay.

    ``open_candidates``: memberships expecting money; ``by_reference``: compacted generated
    reference → ``Candidate`` (any status but cancelled and exempt); ``by_number``: member
    number key → [``Candidate``] of every year; ``schemes``: ``ReferenceScheme`` recognised;
    ``pattern``: the regex of generated references."""

    def __init__(self, open_candidates, by_reference=None, by_number=None, schemes=(), pattern=None):
        self.by_reference = by_reference or {}
        self.by_number = by_number or {}
        self.schemes = list(schemes)
        self.pattern = pattern
        # key → {a last name's words and joined words: [candidates of that last name]}: a line
        # checks each last name of a key once, not each of its hundred bearers.
        self.by_key, self.open_by_party = {}, {}
        for c in open_candidates:
            if not c.is_open:
                continue
            for key in c.name_keys:
                group = self.by_key.setdefault(key, {}).setdefault(c._last[:2], ({}, []))
                group[1].append(c)
                for first in c.first_keys:
                    group[0].setdefault(first, []).append(c)
            self.open_by_party.setdefault(c.party, []).append(c)
        self.proposed = {}      # membership id → amount proposed by earlier lines

    def balance(self, candidate):
        return max(candidate.balance - self.proposed.get(candidate.membership_id, ZERO), ZERO)

    def still_open(self, candidate):
        return candidate.is_open and self.balance(candidate) > 0

    # --- references ---------------------------------------------------------------------

    def referenced(self, text):
        """``[(Candidate, year written or None)]`` the references in ``text`` designate."""
        found = {}
        if self.pattern is not None:
            for ref in references_in(text, self.pattern):
                if ref in self.by_reference:
                    c = self.by_reference[ref]
                    found[c.membership_id] = (c, None)
        for scheme in self.schemes:
            for year, key in scheme.find(text):
                members = self.by_number.get(key, [])
                same_year = [c for c in members if year is not None and c.year == year]
                if same_year:
                    c = same_year[0]
                elif members:   # no year written, or a year the member has no membership of
                    waiting = [c for c in members if self.still_open(c)]
                    c = min(waiting, key=lambda c: c.year or 0) if waiting else max(members, key=lambda c: c.year or 0)
                else:
                    continue
                found[c.membership_id] = (c, year)
        return list(found.values())

    def _paid_by_reference(self, candidate, year):
        """The membership a reference of ``candidate`` pays, and whether it is another year's:
        the referenced one while it expects money, else the member's open one."""
        if self.still_open(candidate):
            return candidate, year is not None and candidate.year is not None and year != candidate.year
        others = [c for c in self.open_by_party.get(candidate.party, []) if self.still_open(c)]
        if others:
            return min(others, key=lambda c: (c.year or 0, c.membership_id)), True
        return candidate, False

    # --- names ----------------------------------------------------------------------------

    def named(self, words, tokens):
        """``{"full": [Candidate], "surname": [Candidate]}`` of the open memberships whose
        member's name is in the text."""
        seen, fits, firsts = set(), {"full": [], "surname": []}, None
        for token in tokens:
            for (last, joined), (by_first, bearers) in self.by_key.get(token, {}).items():
                if (last, joined) in seen or not (last <= tokens or joined in tokens):
                    continue
                seen.add((last, joined))
                if any(w not in last and w != joined for w in words):
                    # A word besides the last name: only a bearer whose first name is there fits
                    # (or a structure, or a member without a first name).
                    if firsts is None:
                        firsts = (*_tokens(list(words)), "")
                    bearers = {c.membership_id: c for t in firsts for c in by_first.get(t, ())}.values()
                for c in bearers:
                    fit = c.name_fit(words, tokens)
                    if fit:
                        fits[fit].append(c)
        for fit, found in fits.items():
            # « DUPONT-LE GOFF MARIE » is Marie Dupont-Le Goff, not Marie Dupont nor Marie Le Goff.
            if len(found) > 1:
                fits[fit] = [c for c in found if not any(c._last[0] < other._last[0] for other in found)]
        return fits

    # --- one line -------------------------------------------------------------------------

    def match(self, text, amount):
        if amount is None or amount <= 0:
            return NO_MATCH
        folded = fold(text)
        words, tokens = name_like(folded), _tokens(folded)
        referenced = self.referenced(text)
        if referenced:
            return self._record(self._by_reference(referenced, amount, words, tokens))
        kind = other_kind(text)
        if kind is not None:
            return Match(None, kind=kind)
        return self._record(self._by_name(self.named(words, tokens), amount))

    def _record(self, result):
        for membership_id, part in result.parts or ((result.membership_id, None),):
            if membership_id is not None:
                self.proposed[membership_id] = self.proposed.get(membership_id, ZERO) + (part or result.amount)
        return result

    def _by_reference(self, referenced, amount, words, tokens):
        if len(referenced) > 1:
            targets = sorted((self._paid_by_reference(c, year)[0] for c, year in referenced),
                             key=lambda c: c.membership_id)
            ids = tuple(sorted({t.membership_id for t in targets}))
            split = self._split(targets, amount)
            if split:
                return _Result(None, "split", ids, parts=split, amount=amount,
                               preticked=all(t.name_fit(words, tokens) for t in targets))
            return _Result(None, None, ids, amount=amount)
        candidate, year = referenced[0]
        target, other_year = self._paid_by_reference(candidate, year)
        flags = ["other_year"] if other_year else []
        fit = target.name_fit(words, tokens)
        payers = [] if fit else [c for c in self.named(words, tokens)["full"] if c.party != target.party]
        if payers:
            flags.append("conflict")
        elif fit is None and words:   # a name is written, nobody's we know: the treasurer checks
            flags.append("payer_unknown")
        flags += self._amount_flags(target, amount)
        agree = fit is not None
        return _Result(target.membership_id, "reference", tuple(sorted(c.membership_id for c in payers)),
                       flags=tuple(flags), amount=amount, surplus=self._surplus(target, amount),
                       preticked=agree and not ({"conflict", "already_paid", "other_year"} & set(flags)))

    def _by_name(self, fits, amount):
        people = fits["full"] or fits["surname"]
        if not people:
            return _Result(None, amount=amount)
        parties = {c.party for c in people}
        if len(parties) > 1:   # homonyms, or several members named: the amount never chooses a member
            return _Result(None, None, tuple(sorted(c.membership_id for c in people)), amount=amount)
        open_ones = sorted((c for c in people if self.still_open(c)), key=lambda c: (c.year or 0, c.membership_id))
        if not open_ones:   # everything of this member already proposed to earlier lines
            if not fits["full"]:
                return _Result(None, None, tuple(sorted(c.membership_id for c in people)), amount=amount)
            target = min(people, key=lambda c: (c.year or 0, c.membership_id))
            return self._name_result(target, amount, fits)
        exact = [c for c in open_ones if self.balance(c) == amount]
        if exact:
            return self._name_result(exact[0], amount, fits)
        if not fits["full"]:   # a last name alone is too weak to propose a partial payment or a credit
            return _Result(None, None, tuple(c.membership_id for c in open_ones), amount=amount)
        split = self._split(open_ones, amount) if len(open_ones) > 1 else None
        if split:
            return _Result(None, "split", tuple(c.membership_id for c in open_ones), parts=split, amount=amount)
        return self._name_result(open_ones[0], amount, fits)

    def _name_result(self, target, amount, fits):
        flags = self._amount_flags(target, amount)
        rule = "name_amount" if not flags else "name"
        return _Result(target.membership_id, rule, flags=tuple(flags), amount=amount,
                       surplus=self._surplus(target, amount))

    def _amount_flags(self, target, amount):
        left = self.balance(target)
        if left == 0:
            return ["already_paid"]
        if amount < left:
            return ["partial"]
        if amount > left:
            return ["overpayment"]
        return []

    def _surplus(self, target, amount):
        left = self.balance(target)
        return amount - left if amount > left else None

    def _split(self, targets, amount):
        """``((membership id, part), …)`` when ``amount`` pays what each of ``targets`` still
        expects exactly, else None."""
        unique = list({t.membership_id: t for t in targets}.values())
        if len(unique) < 2 or any(not self.still_open(t) for t in unique):
            return None
        if sum((self.balance(t) for t in unique), ZERO) != amount:
            return None
        return tuple((t.membership_id, self.balance(t)) for t in unique)


@dataclass(frozen=True)
class _Result(Match):
    amount: Decimal = ZERO


def match_line(text, amount, by_reference, open_candidates, pattern):
    """Match one statement line alone (see ``Matcher`` for a batch).

    ``by_reference``: compacted reference → ``Candidate`` (any membership the references found
    in the text may name); ``open_candidates``: memberships expecting money.
    """
    return Matcher(open_candidates, by_reference, pattern=pattern).match(text, amount)
