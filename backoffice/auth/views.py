"""Signing in and out: staff with a password, members with a single-use link by e-mail."""
from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required, login_user, logout_user

from backoffice.auth import services
from backoffice.auth.forms import ChangePasswordForm, ConfirmForm, LinkRequestForm, LoginForm, SetPasswordForm
from backoffice.auth.permissions import safe_next_url
from backoffice.auth.users_views import bp as users_bp
from backoffice.errors import show_refusal
from backoffice.extensions import limiter
from backoffice.main.services import home_url

# No url_prefix: the account pages of an organisation (``auth.users.*``) live under /o/<org>/users/.
bp = Blueprint("auth", __name__)
bp.register_blueprint(users_bp)

LINK_SENT = ("Si un compte actif correspond à cette adresse, un e-mail vient de lui être envoyé. "
             "Le lien qu'il contient est valable {lifetime} et ne sert qu'une fois.")


def _login_limit():
    return current_app.config["LOGIN_RATE_LIMIT"]


# Brute force and mail flooding: each of these forms accepts LOGIN_RATE_LIMIT posts per address.
rate_limited = limiter.limit(_login_limit, methods=["POST"])


def _sign_in(user, message):
    """Open the session (the request's boundary commits what the sign-in changed)."""
    login_user(user)
    flash(message, "success")


@bp.route("/auth/login", methods=["GET", "POST"])
@rate_limited
def login():
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data)
        except services.AuthError as exc:
            flash(str(exc), "danger")  # a 200 answer: the boundary keeps the failed-attempt count
        else:
            _sign_in(user, f"Bienvenue, {user}.")
            return redirect(safe_next_url(home_url(user)))
    return render_template("auth/login.html", form=form)


@bp.route("/auth/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    flash("Vous êtes déconnecté.", "info")
    return redirect(url_for("auth.login"))


def _request_page(request_service, purpose, template_context):
    """The "send me a link" pages: the same answer whether the address has an account or not."""
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    form = LinkRequestForm()
    if form.validate_on_submit():
        request_service(form.email.data)
        flash(LINK_SENT.format(lifetime=services.link_lifetime(purpose)), "info")
        return redirect(url_for(template_context["endpoint"]))
    return render_template("auth/request_link.html", form=form, **template_context)


@bp.route("/auth/link", methods=["GET", "POST"])
@rate_limited
def request_link():
    return _request_page(services.request_signin_link, "signin", {
        "endpoint": "auth.request_link",
        "title": "Recevoir un lien de connexion",
        "intro": "Adhérent ? Indiquez l'adresse e-mail de votre compte : vous recevrez un lien qui vous "
                 "connecte sans mot de passe.",
    })


@bp.route("/auth/password/forgot", methods=["GET", "POST"])
@rate_limited
def forgot_password():
    return _request_page(services.request_password_reset, "reset", {
        "endpoint": "auth.forgot_password",
        "title": "Mot de passe oublié",
        "intro": "Indiquez l'adresse e-mail de votre compte : vous recevrez un lien pour choisir un nouveau "
                 "mot de passe.",
    })


RETRY = {
    "signin": ("auth.request_link", "Recevoir un nouveau lien"),
    "reset": ("auth.forgot_password", "Demander un nouveau lien"),
    "invitation": (None, None),
}


def _invalid_link(purpose, error):
    endpoint, label = RETRY[purpose]
    return render_template(
        "auth/link_invalid.html", message=str(error), purpose=purpose,
        retry_url=url_for(endpoint) if endpoint else None, retry_label=label,
    ), 400


@bp.route("/auth/link/<token>", methods=["GET", "POST"])
@rate_limited
def link_signin(token):
    # Opening the link only shows a button: mail scanners that follow links must
    # not use up a single-use link before its owner does.
    try:
        user = services.user_from_token(token, "signin")
    except services.LinkError as exc:
        return _invalid_link("signin", exc)
    form = ConfirmForm()
    if form.validate_on_submit():
        if current_user.is_authenticated:
            logout_user()
        _sign_in(services.sign_in_with_link(token), f"Bienvenue, {user}.")
        return redirect(home_url(user))
    return render_template("auth/link_confirm.html", form=form, user=user)


def _choose_password(token, purpose, title):
    try:
        user = services.user_from_token(token, purpose)
    except services.LinkError as exc:
        return _invalid_link(purpose, exc)
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            services.set_password_with_link(token, purpose, form.password.data)
        except services.AccountError as exc:
            form.password.errors.append(str(exc))
        else:
            if current_user.is_authenticated:
                logout_user()
            _sign_in(user, "Votre mot de passe est enregistré. Bienvenue !")
            return redirect(home_url(user))
    return render_template("auth/set_password.html", form=form, user=user, title=title, purpose=purpose)


@bp.route("/auth/invitation/<token>", methods=["GET", "POST"])
@rate_limited
def accept_invitation(token):
    return _choose_password(token, "invitation", "Choisir votre mot de passe")


@bp.route("/auth/password/reset/<token>", methods=["GET", "POST"])
@rate_limited
def reset_password(token):
    return _choose_password(token, "reset", "Choisir un nouveau mot de passe")


@bp.route("/auth/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(current_user, form.current_password.data, form.password.data)
        except services.AccountError as exc:
            show_refusal(exc, form, default="password")
        else:
            flash("Votre mot de passe a été changé.", "success")
            return redirect(home_url(current_user))
    return render_template("auth/change_password.html", form=form)
