"""Equipment grants (aides à l'équipement): programmes, applications, conventions, payments.

A programme (``GrantProgramme``: envelope, funders, ceiling, dates, eligibility rules, the
documents required at each step) receives applications (``GrantApplication``) from members
(self-service) or from staff on their behalf; each application moves through
``GRANT_LIFECYCLE`` (draft → submitted → approved/rejected → convention issued → signed → paid →
equipment delivered → closed; withdrawn, cancelled, repayment claimed), every move recorded.
A programme may instead work **in kind** (``ProgrammeMode.IN_KIND``): the organisation buys the
devices (``GrantDevice``, assets 2154) and lends them to the beneficiaries' practices under a
custody convention (``GrantDeviceCustody``, ``DEVICE_LIFECYCLE``), depreciating them at each
year-end (``backoffice.grants.devices``).

Public surface for other features
---------------------------------
* ``backoffice.grants.services.budget(programme)`` → ``Budget`` (envelope, granted, committed,
  paid, remaining, per funder);
* ``backoffice.grants.services.eligibility(programme, party, on=…)`` → ``[Check]``, and
  ``applications_eligibility(programme, applications)`` → {application id: ``[Check]``}: the same
  rules for many applications in a fixed number of queries;
* ``backoffice.grants.reports.programme_report(programme)`` → ``ProgrammeReport`` (the funder's
  report's figures: by commune, profession and funder, equipment, activity per quarter), the one
  source of the Word report (durable document ``grant_report``), the spreadsheet and the
  programme page's charts;
* ``backoffice.grants.payments.closing_checks(organisation, year)`` → ``[ClosingCheck]`` (the
  programmes whose unspent funding is not carried in fonds dédiés), declared in
  ``FEATURE.closing_checks`` for the accounting's closing checklist;
* ``backoffice.grants.devices.closing_checks(organisation, year)`` → ``[ClosingCheck]`` (the
  devices of in-kind programmes whose annuity of the year is not posted), in
  ``FEATURE.closing_checks`` too;
* the models ``GrantProgramme``, ``GrantApplication`` (read only: change them through the
  services, statuses through ``backoffice.lifecycle.move``).
"""
