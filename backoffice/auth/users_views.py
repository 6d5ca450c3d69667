"""An organisation's accounts and roles, for its administrators (``/o/<org>/users/``)."""
from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from backoffice.auth import services
from backoffice.auth.forms import GrantRoleForm, InviteForm, role_choices
from backoffice.auth.models import Role
from backoffice.auth.permissions import org_blueprint, permission_required
from backoffice.errors import show_refusal
from backoffice.extensions import db

bp = org_blueprint("users", __name__, url_prefix="/users")


def _load_user(user_id):
    """An account holding a role in this organisation, or 404 (accounts elsewhere are not shown)."""
    user = services.organisation_user_or_none(g.organisation, user_id)
    if user is None:
        abort(404)
    return user


def _refused(exc):
    # Services check before they change anything: nothing to roll back.
    show_refusal(exc)


@bp.route("/")
@permission_required("users.manage")
def index():
    search = request.args.get("q", "").strip()
    role = request.args.get("role", "")
    role = role if role in {r.value for r in Role} else ""
    page = db.paginate(
        services.organisation_users(g.organisation, search, role or None),
        per_page=current_app.config["PER_PAGE"], error_out=False,
    )
    return render_template("auth/users/index.html", page=page, search=search, role=role, roles=list(Role))


@bp.route("/invite", methods=["GET", "POST"])
@permission_required("users.manage")
def invite():
    form = InviteForm()
    if form.validate_on_submit():
        try:
            user = services.invite_staff(g.organisation, form.email.data, form.full_name.data, form.role.data)
        except services.AccountError as exc:
            show_refusal(exc, form, default="email")
        else:
            flash(f"{user} a reçu le rôle « {Role(form.role.data).label} » ; un e-mail lui a été envoyé.", "success")
            return redirect(url_for(".show", user_id=user.id))
    return render_template("auth/users/invite.html", form=form)


@bp.route("/<int:user_id>")
@permission_required("users.manage")
def show(user_id):
    user = _load_user(user_id)
    held = user.roles_in(g.organisation)
    form = GrantRoleForm()
    form.role.choices = role_choices(set(Role) - held)
    return render_template("auth/users/show.html", user=user, held=sorted(held, key=list(Role).index), form=form)


@bp.route("/<int:user_id>/roles", methods=["POST"])
@permission_required("users.manage")
def grant(user_id):
    user = _load_user(user_id)
    form = GrantRoleForm()
    if not form.validate_on_submit():
        flash("Choisissez un rôle dans la liste.", "danger")
    else:
        try:
            services.assign_role(user, g.organisation, form.role.data)
        except services.AccountError as exc:
            _refused(exc)
        else:
            flash(f"Rôle « {Role(form.role.data).label} » attribué à {user}.", "success")
    return redirect(url_for(".show", user_id=user_id))


@bp.route("/<int:user_id>/roles/<role>/revoke", methods=["POST"])
@permission_required("users.manage")
def revoke(user_id, role):
    user = _load_user(user_id)
    if role not in {r.value for r in Role}:
        abort(404)
    try:
        services.revoke_role(user, g.organisation, role)
    except services.AccountError as exc:
        _refused(exc)
        return redirect(url_for(".show", user_id=user_id))
    flash(f"Rôle « {Role(role).label} » retiré à {user}.", "success")
    if not user.roles_in(g.organisation):
        return redirect(url_for(".index"))
    return redirect(url_for(".show", user_id=user_id))


def _switch(user_id, active, message):
    user = _load_user(user_id)
    try:
        services.set_active(user, g.organisation, current_user, active)
    except services.AccountError as exc:
        _refused(exc)
    else:
        flash(message.format(user=user), "success")
    return redirect(url_for(".show", user_id=user_id))


@bp.route("/<int:user_id>/deactivate", methods=["POST"])
@permission_required("users.manage")
def deactivate(user_id):
    return _switch(user_id, False, "Le compte de {user} est désactivé : il ne peut plus se connecter.")


@bp.route("/<int:user_id>/reactivate", methods=["POST"])
@permission_required("users.manage")
def reactivate(user_id):
    return _switch(user_id, True, "Le compte de {user} est réactivé.")


@bp.route("/<int:user_id>/invitation", methods=["POST"])
@permission_required("users.manage")
def resend_invitation(user_id):
    user = _load_user(user_id)
    if not user.invitation_pending:
        flash("Ce compte a déjà un mot de passe, ou est désactivé : pas d'invitation à renvoyer.", "warning")
    else:
        services.send_password_link(user, "invitation", g.organisation)
        flash(f"L'invitation a été renvoyée à {user.email}.", "success")
    return redirect(url_for(".show", user_id=user_id))
