"""French names of banking's audited columns."""
from backoffice.audit.labels import register
from backoffice.people.audit_labels import party_name

register("bank_accounts", "Comptes bancaires", {
    "name": "Nom du compte", "iban": "IBAN", "bic": "BIC", "journal_code": "Journal", "ledger_account": "Compte comptable",
    "is_default": "Compte par défaut", "active": "Actif", "statement_csv_mapping": "Colonnes du relevé CSV",
    "organisation_id": "Organisation",
})
register("bank_csv_layouts", "Colonnes des relevés CSV", {
    "bank_account_id": "Compte bancaire", "signature": "Présentation du fichier", "columns": "Colonnes du fichier",
    "mapping": "Colonnes choisies", "organisation_id": "Organisation",
})
register("bank_label_rules", "Règles de comptabilisation des relevés", {
    "keyword": "Libellé contenant", "folded_keyword": "Libellé (normalisé)", "account_number": "Compte",
    "created_by_id": "Créée par", "organisation_id": "Organisation",
})
register("payee_bank_details", "Coordonnées bancaires des bénéficiaires", {
    "party_id": "Bénéficiaire", "iban": "IBAN", "bic": "BIC", "holder_name": "Titulaire du compte",
    "organisation_id": "Organisation",
}, {"party_id": party_name})
