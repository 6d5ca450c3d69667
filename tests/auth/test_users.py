"""An organisation's administrators manage its accounts and roles."""
import pytest
from sqlalchemy import select

from backoffice.audit.models import AuditEntry
from backoffice.auth import services
from backoffice.auth.models import Role, RoleAssignment
from tests.auth.conftest import page_text, post_login
from tests.factories import UserFactory


@pytest.fixture
def admin(login_as):
    return login_as("admin")


def test_the_list_shows_this_organisation_accounts_with_their_roles(client, admin, staff, other_organisation):
    staff("treasurer", "board", full_name="Claire Morvan", email="claire@example.org")
    staff("treasurer", org=other_organisation, full_name="Ailleurs Autre", email="ailleurs@example.org")
    html = page_text(client.get("/o/cpts-test/users/"))
    assert "Claire Morvan" in html and "claire@example.org" in html
    assert "Trésorier" in html and "Membre du bureau" in html
    assert "Ailleurs Autre" not in html


def test_search_and_role_filter(client, admin, staff):
    staff("treasurer", full_name="Claire Morvan", email="claire@example.org")
    staff("board", full_name="Yann Le Goff", email="yann@example.org")
    by_name = page_text(client.get("/o/cpts-test/users/", query_string={"q": "morv"}))
    assert "Claire Morvan" in by_name and "Yann Le Goff" not in by_name
    by_email = page_text(client.get("/o/cpts-test/users/", query_string={"q": "YANN@"}))
    assert "Yann Le Goff" in by_email and "Claire Morvan" not in by_email
    by_role = page_text(client.get("/o/cpts-test/users/", query_string={"role": "board"}))
    assert "Yann Le Goff" in by_role and "Claire Morvan" not in by_role
    nothing = page_text(client.get("/o/cpts-test/users/", query_string={"q": "%"}))
    assert "Aucun compte ne correspond" in nothing


def test_the_list_is_paginated(client, admin, staff, app, monkeypatch):
    monkeypatch.setitem(app.config, "PER_PAGE", 3)
    for n in range(4):
        staff("board", full_name=f"Personne {n}")
    first = page_text(client.get("/o/cpts-test/users/"))
    assert "5 résultats" in first and "Suivant" in first
    second = page_text(client.get("/o/cpts-test/users/", query_string={"page": 2}))
    assert second.count("/o/cpts-test/users/") > 0
    assert client.get("/o/cpts-test/users/", query_string={"page": 99}).status_code == 200


def test_list_needs_no_query_per_account(client, admin, staff, count_queries):
    for n in range(10):
        staff("board", "treasurer")
    with count_queries() as queries:
        client.get("/o/cpts-test/users/")
    assert queries.count < 12


def test_inviting_an_existing_account_adds_the_role_and_tells_them(client, admin, staff, outbox, organisation):
    user = staff("board", email="deja@example.org")
    response = client.post("/o/cpts-test/users/invite",
                           data={"email": "Deja@example.org", "full_name": "X", "role": "treasurer"})
    assert response.status_code == 302
    assert user.roles_in(organisation) == {Role.BOARD, Role.TREASURER}
    [mail] = outbox("deja@example.org")
    assert mail.subject == "Nouveau rôle dans CPTS de Test sur Maillage"
    assert "« Trésorier »" in mail.body


def test_inviting_for_a_role_already_held_is_refused(client, admin, staff):
    staff("board", email="deja@example.org", full_name="Déjà Là")
    response = client.post("/o/cpts-test/users/invite",
                           data={"email": "deja@example.org", "full_name": "X", "role": "board"})
    assert response.status_code == 200
    assert "Déjà Là a déjà le rôle « Membre du bureau » dans cette organisation." in page_text(response)


def test_invitation_form_errors_are_french(client, admin):
    response = client.post("/o/cpts-test/users/invite", data={"email": "pas une adresse", "full_name": ""})
    html = page_text(response)
    assert "L'adresse e-mail est invalide." in html
    assert "Indiquez le nom de la personne." in html


def test_grant_and_revoke_are_audited(client, admin, staff, organisation, db):
    user = staff("board")
    assert client.post(f"/o/cpts-test/users/{user.id}/roles", data={"role": "accountant"}).status_code == 302
    assert user.roles_in(organisation) == {Role.BOARD, Role.ACCOUNTANT}
    assert client.post(f"/o/cpts-test/users/{user.id}/roles/board/revoke").status_code == 302
    assert user.roles_in(organisation) == {Role.ACCOUNTANT}
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.table_name == "role_assignments").order_by(AuditEntry.id)
    ).all()
    assert [(e.action, (e.after or e.before)["role"], e.user_id) for e in entries[-2:]] == [
        ("create", "accountant", admin.id), ("delete", "board", admin.id),
    ]
    assert all(e.organisation_id == organisation.id for e in entries[-2:])


def test_the_detail_page_offers_only_roles_not_held(client, admin, staff):
    user = staff("board", "treasurer")
    html = page_text(client.get(f"/o/cpts-test/users/{user.id}"))
    options = html[html.index('id="role"'):html.index("</select>", html.index('id="role"'))]
    assert 'value="board"' not in options and 'value="admin"' in options
    assert "data-confirm=\"Retirer le rôle « Trésorier »" in html


def test_the_last_admin_role_cannot_be_removed(client, admin, organisation):
    response = client.post(f"/o/cpts-test/users/{admin.id}/roles/admin/revoke", follow_redirects=True)
    assert "Impossible de retirer le dernier rôle d'administrateur de l'organisation" in page_text(response)
    assert Role.ADMIN in admin.roles_in(organisation)


def test_an_admin_may_leave_when_another_admin_remains(client, admin, staff, organisation):
    staff("admin")
    client.post(f"/o/cpts-test/users/{admin.id}/roles/admin/revoke")
    assert Role.ADMIN not in admin.roles_in(organisation)
    assert client.get("/o/cpts-test/users/").status_code == 403


def test_an_inactive_admin_does_not_count_as_remaining_admin(admin, staff, organisation):
    staff("admin", active=False)
    with pytest.raises(services.AccountError, match="dernier rôle d'administrateur"):
        services.revoke_role(admin, organisation, "admin")


def test_revoking_a_role_not_held_or_unknown(client, admin, staff):
    user = staff("board")
    response = client.post(f"/o/cpts-test/users/{user.id}/roles/treasurer/revoke", follow_redirects=True)
    assert "n'a pas le rôle « Trésorier »" in page_text(response)
    assert client.post(f"/o/cpts-test/users/{user.id}/roles/pape/revoke").status_code == 404


def test_deactivate(client, admin, staff, db):
    user = staff("treasurer")
    nonce = user.login_nonce
    response = client.post(f"/o/cpts-test/users/{user.id}/deactivate", follow_redirects=True)
    assert "est désactivé" in page_text(response)
    assert user.active is False and user.login_nonce != nonce
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.table_name == "users", AuditEntry.row_id == user.id)
        .order_by(AuditEntry.id.desc())
    ).first()
    assert (entry.action, entry.before, entry.after, entry.user_id) == ("update", {"active": True}, {"active": False}, admin.id)
    client.post("/auth/logout")
    assert post_login(client, user.email).status_code == 200  # refused


def test_reactivate(client, admin, staff):
    user = staff("treasurer", active=False)
    response = client.post(f"/o/cpts-test/users/{user.id}/reactivate", follow_redirects=True)
    assert "est réactivé" in page_text(response)
    assert user.active is True


def test_an_admin_cannot_deactivate_themself(client, admin):
    response = client.post(f"/o/cpts-test/users/{admin.id}/deactivate", follow_redirects=True)
    assert "Vous ne pouvez pas désactiver votre propre compte." in page_text(response)
    assert admin.active


def test_an_account_with_roles_elsewhere_is_only_deactivated_by_an_admin_of_everywhere(
    client, admin, staff, other_organisation, db
):
    user = staff("board")
    services.grant_role(user, other_organisation, "treasurer")
    db.session.flush()
    response = client.post(f"/o/cpts-test/users/{user.id}/deactivate", follow_redirects=True)
    assert "a aussi des rôles dans d'autres organisations (CPTS Autre)" in page_text(response)
    assert user.active
    services.grant_role(admin, other_organisation, "admin")
    db.session.flush()
    client.post(f"/o/cpts-test/users/{user.id}/deactivate")
    assert not user.active


def test_accounts_of_other_organisations_are_not_reachable(client, admin, staff, other_organisation):
    stranger = staff("admin", org=other_organisation)
    assert client.get(f"/o/cpts-test/users/{stranger.id}").status_code == 404
    assert client.post(f"/o/cpts-test/users/{stranger.id}/deactivate").status_code == 404
    assert client.post(f"/o/cpts-test/users/{stranger.id}/roles", data={"role": "admin"}).status_code == 404
    assert stranger.active


def test_resend_invitation(client, admin, outbox, db, organisation):
    user = services.create_user("attente@example.org", "En Attente")
    services.grant_role(user, organisation, "board")
    db.session.flush()
    html = page_text(client.get(f"/o/cpts-test/users/{user.id}"))
    assert "Invitation en attente" in html
    client.post(f"/o/cpts-test/users/{user.id}/invitation")
    [mail] = outbox("attente@example.org")
    assert "/auth/invitation/" in mail.body


def test_granting_to_an_inactive_account_is_refused(admin, organisation, db):
    user = UserFactory(active=False)
    with pytest.raises(services.AccountError, match="désactivé"):
        services.assign_role(user, organisation, "board")
    assert db.session.scalars(select(RoleAssignment).where(RoleAssignment.user_id == user.id)).all() == []


def test_menu_entry_for_admins_only(client, login_as):
    login_as("admin")
    assert "Comptes et rôles" in page_text(client.get("/o/cpts-test/"))
    login_as("treasurer")
    assert "Comptes et rôles" not in page_text(client.get("/o/cpts-test/"))


def test_a_member_signing_in_by_link_is_not_a_pending_invitation(client, admin, outbox, db, organisation):
    member = services.create_user("adherent@example.org", "Adhérent Sans Mot De Passe")
    services.grant_role(member, organisation, "member")
    db.session.flush()
    html = page_text(client.get(f"/o/cpts-test/users/{member.id}"))
    assert "Invitation en attente" not in html and "Renvoyer l'invitation" not in html
    response = client.post(f"/o/cpts-test/users/{member.id}/invitation", follow_redirects=True)
    assert "pas d'invitation à renvoyer" in page_text(response)
    assert outbox() == []
