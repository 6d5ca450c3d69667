from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required, login_user, logout_user

from backoffice.auth import services
from backoffice.auth.forms import LoginForm
from backoffice.auth.permissions import safe_next_url
from backoffice.extensions import db, limiter
from backoffice.main.services import home_url

bp = Blueprint("auth", __name__, url_prefix="/auth")


def _login_limit():
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data)
        except services.AuthError as exc:
            db.session.commit()  # keep the failed-attempt count
            flash(str(exc), "danger")
        else:
            db.session.commit()
            login_user(user)
            flash(f"Bienvenue, {user}.", "success")
            return redirect(safe_next_url(home_url(user)))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    flash("Vous êtes déconnecté.", "info")
    return redirect(url_for("auth.login"))
