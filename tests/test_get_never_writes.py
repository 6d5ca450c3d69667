"""A GET never writes: every GET route of the authorization table, opened by its most
privileged role, sends no INSERT, UPDATE or DELETE to the database.

Pages that read settings, periods or books show defaults until someone saves them; they do
not create rows (nor audit entries in the viewer's name) by being looked at.
"""
import re

import pytest
from sqlalchemy import event

from backoffice.extensions import db
from tests.test_authorization import ROUTES, SIGN_IN_AS, Objects, _rules, _sign_in, _url, allowed_roles

# Most privileged first; a route is opened by the first of these it lets in.
ROLES_BY_PRIVILEGE = ("admin", "treasurer", "board", "accountant", "member", "outsider", "anonymous")

WRITES = ("INSERT", "UPDATE", "DELETE")


def _get_routes():
    """The endpoints of the table that answer GET (read from an application built for it); every
    one is opened, and none may write (no allow-list: the membership screens show « Ouvrir la
    période » rather than opening the current period themselves)."""
    from backoffice import create_app
    from config import Testing

    methods = {}
    for rule in create_app(Testing).url_map.iter_rules():
        methods.setdefault(rule.endpoint, set()).update(rule.methods)
    return sorted(endpoint for endpoint in ROUTES if "GET" in methods.get(endpoint, ()))


class WriteCounter:
    """The INSERT, UPDATE and DELETE statements sent while it listens."""

    def __init__(self, engine):
        self.engine = engine
        self.statements = []

    def _before_cursor_execute(self, conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(WRITES):
            self.statements.append(statement.split("\n")[0][:160])

    @property
    def tables(self):
        return {re.match(r"\s*(?:INSERT INTO|UPDATE|DELETE FROM)\s+\"?(\w+)", statement, re.I).group(1)
                for statement in self.statements}

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._before_cursor_execute)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._before_cursor_execute)


def test_the_counter_sees_writes(db, organisation):
    from tests.factories import OrganisationFactory

    with WriteCounter(db.engine) as writes:
        OrganisationFactory(slug="sisa-des-saules", name="SISA des Saules")
        db.session.flush()
    assert writes.statements and writes.statements[0].startswith("INSERT INTO organisations")
    assert "organisations" in writes.tables


@pytest.mark.parametrize("endpoint", _get_routes())
def test_a_get_never_writes(app, client, login_as, organisation, other_organisation, endpoint):
    rule = _rules(app)[endpoint]
    role = next(role for role in ROLES_BY_PRIVILEGE if role in allowed_roles(endpoint, "GET"))
    objects = Objects(organisation, other_organisation)
    url = _url(app, endpoint, rule, objects)
    user = SIGN_IN_AS.get(endpoint, {}).get(role, lambda o: None)(objects)
    _sign_in(login_as, role, organisation, other_organisation, user)
    db.session.commit()  # the test's own rows are written before the request
    with WriteCounter(db.engine) as writes:
        response = client.get(url)
        response.close()
    assert response.status_code < 500, f"GET {url} as {role}: {response.status_code}"
    assert writes.statements == [], f"GET {url} as {role} wrote: {writes.statements}"
