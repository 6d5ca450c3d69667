"""Banking: an organisation's bank accounts, their statements, what each line is matched to,
the bank details of the parties it pays, and SEPA files. Features call these functions; none
of them reaches into another feature's tables.

Public surface (everything else is private):

``backoffice.banking.services`` (flush, never commit; refusals are ``BankingError``)
    Accounts: ``accounts(organisation, active_only=False)``, ``default_account(organisation)``,
    ``create_account(organisation, name, iban, bic=None, journal_code="BQ", ledger_account="512",
    is_default=False)``, ``update_account(account, name, iban, bic, journal_code, ledger_account,
    active)``, ``make_default(account)``, ``set_default_account_details(organisation, iban, bic)``.
    ``Organisation.iban``/``.bic`` read (and set) the default account's: what members are told to
    pay to, what direct debits collect into.

    Statements: ``save_csv_mapping(account, mapping, columns)`` (per account and CSV layout,
    ``BankCsvLayout``), ``csv_mapping(account, content)``, ``mapping_proposal(account, columns)``,
    ``guess_account(organisation, content)`` (the account the file names, else the one knowing
    its layout, else the default), ``import_statement(account, filename, content, user=None)`` →
    ``BankStatement`` (its account, file name and ``notes``: what was skipped or cut) whose new
    lines are ``unmatched``, a CAMT.053 batch entry one line with its ``details`` (raises
    ``StatementFormatError`` / ``StatementLinesError`` (every unreadable row), ``MappingNeeded``,
    ``AlreadyImported``), ``statements(organisation)``, ``open_lines_query(organisation,
    credits=None)`` (a ``select`` of suggested/unmatched lines; ``True`` money in, ``False`` out).

    Matching any target: ``suggest(line, target_kind, target_id, rule)``,
    ``clear_suggestion(line)``, ``match_line(line, target_kind, target_id, amount=None, by=None)``
    → ``BankLineMatch`` (credits and debits; ``amount`` defaults to what remains; several
    matches split a line; the line is ``matched`` when they add up), ``unmatch(match)``,
    ``ignore_line(line)``, ``remaining(line)``, ``matches_for(target_kind, target_ids)``.
    ``target_kind`` is the target's table name (``membership_payments``, ``grant_payments``,
    ``accounting_entries``…), so two features never collide.

    Payees: ``set_payee_details(organisation, party, iban, bic=None, holder_name=None)``,
    ``payee_details(organisation, party)``, ``payee_details_for(organisation, party_ids)``.

``backoffice.banking.reconciliation`` (bank reconciliation against the ``512…`` lines of the books)
    ``position(bank_account, as_of=None)`` (every statement line with what the books account for,
    the lines of the books not on the statement), ``auto_reconcile(bank_account, by=None)`` (same
    amount, dates ≤ ``DATE_TOLERANCE`` days apart, one candidate each way), ``reconcile(line,
    journal_line_id, by=None)``, ``reconcile_split(line, journal_line_ids, by=None)`` (a line paid
    over several entries: their sum must equal it, all or nothing), ``unreconcile(match, by=None)``
    (an entry booked from the statement is reversed with it), ``candidates(open_line, ledger_open)``,
    ``reconciliation_statement(bank_account, as_of, stated_balance=None)`` (the état de
    rapprochement), ``statement_check(statement)`` / ``check(statement)`` (refused in French when it
    does not add up), ``set_closing_balance(statement, day, amount)``, and for the closing
    checklist ``unreconciled_lines(organisation, start, end)``. A line matched to a feature's row
    (a membership payment) is reconciled through that row's posting (``source`` ``"<table>:<id>"``).

``backoffice.banking.booking``: ``book_line(line, account_number, label=None, remember=None,
    by=None)`` (an entry in the account's journal, D/C its ``512…`` against the account, reconciled
    with the line), ``book_proposed(bank_account, line_ids, by=None)`` (the ticked lines, each to
    its rule's account, all or nothing), ``bookable_account``, rules remembered by label: ``rules(organisation)``,
    ``save_rule(organisation, keyword, account_number, rule=None)``, ``delete_rule(rule)``,
    ``proposed_rule(rules, line)``, ``suggested_keyword(line)``.

``backoffice.banking.parsers`` (pure): ``read_statement(content, mapping)`` → ``StatementFile``
    (``file_format``, ``lines``, ``notes``, ``columns``), ``closing_balance(content, mapping)`` →
    ``(date, amount)`` or None, ``read_csv``/``parse_csv``, ``read_camt053``/``parse_camt053``,
    ``csv_columns``, ``guess_mapping``, ``layout_signature``, ``stated_account``/``names_account``,
    ``parse_amount``, ``fingerprints``.

``backoffice.banking.sepa``: ``credit_transfer_file(bank_account, [(payee_details, amount,
    end_to_end_id, remittance_text)], execution_date)`` → pain.001.001.03 bytes;
    ``direct_debit_file(bank_account, creditor_identifier, [DirectDebit(...)], collection_date)``
    → pain.008.001.02 bytes; both validated against sepaxml's XSDs, amounts ``Decimal`` → cents
    exactly (``to_cents``); ``clean_creditor_identifier(value)`` (python-stdnum ``eu.at_02``).

``backoffice.banking.errors``: ``BankingError`` (a ``ServiceError``), ``StatementFormatError``,
    ``StatementLinesError`` (``problems``), ``MappingNeeded`` (``columns``, ``guess``,
    ``account``), ``AlreadyImported``.

Example (a feature paying grants)::

    from backoffice.banking import sepa, services as banking

    details = banking.payee_details_for(org, [g.party_id for g in grants])
    xml = sepa.credit_transfer_file(banking.default_account(org),
                                    [(details[g.party_id], g.amount, f"AIDE-{g.id}", g.label) for g in grants],
                                    execution_date)
    # later, from the statement:
    banking.match_line(line, "grant_payments", payment.id, by=user)
"""
