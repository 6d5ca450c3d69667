"""Re-verify a published secret-ballot board from its CSV alone (no application code).

    python tests/assemblies/verify_board.py bulletins-secrets-resolution-4.csv

Each ballot's « Empreinte » must be sha256("<previous>|<position>|<choice code>|<weight>|<nonce>"),
its « Empreinte précédente » the hash of the line before (64 zeros for the first), positions
1, 2, 3… without a gap, and the last hash the « Empreinte finale » row. A voter's « Code de
vérification » must come from his ballot's nonce (the first 12 hex digits of
sha256("receipt|<nonce>"), as XXXX-XXXX-XXXX; from the ballot's hash on boards chained before the
inbox), so that the code he was given is bound to the line the chain covers; the room's paper
totals carry « URNE EN SALLE ». Prints the tally.
"""
import csv
import hashlib
import io
import sys

GENESIS = "0" * 64
PAPER = "URNE EN SALLE"


def _code(hex_digest):
    code = hex_digest[:12].upper()
    return f"{code[:4]}-{code[4:8]}-{code[8:]}"


def verify(text):
    """(ok, {choice code: weighted count}, message) for the CSV ``text`` (French CSV: ``;``, BOM)."""
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    header, body = rows[0], rows[1:]
    column = {name: header.index(name) for name in header}
    final = [r for r in body if r[0] == "Empreinte finale"]
    ballots = [r for r in body if r[0] != "Empreinte finale"]
    if len(final) != 1:
        return False, {}, "Empreinte finale absente."
    previous, tally = GENESIS, {}
    for expected, row in enumerate(ballots, start=1):
        position, code, weight, nonce = (row[column["Position"]], row[column["Code du choix"]],
                                         row[column["Voix"]], row[column["Aléa"]])
        if int(position) != expected or row[column["Empreinte précédente"]] != previous:
            return False, tally, f"Chaîne rompue au bulletin {expected}."
        digest = hashlib.sha256(f"{previous}|{position}|{code}|{weight}|{nonce}".encode()).hexdigest()
        if digest != row[column["Empreinte"]]:
            return False, tally, f"Bulletin {position} altéré."
        receipt = row[column["Code de vérification"]]
        if receipt != PAPER and receipt not in (_code(hashlib.sha256(f"receipt|{nonce}".encode()).hexdigest()),
                                                _code(digest)):
            return False, tally, f"Code de vérification du bulletin {position} altéré."
        tally[code] = tally.get(code, 0) + int(weight)
        previous = digest
    if previous != final[0][column["Empreinte"]]:
        return False, tally, "Le dernier bulletin ne correspond pas à l'empreinte finale."
    return True, tally, "Chaîne vérifiée."


if __name__ == "__main__":
    ok, tally, message = verify(open(sys.argv[1], encoding="utf-8-sig").read())
    print(message, tally)
    sys.exit(0 if ok else 1)
