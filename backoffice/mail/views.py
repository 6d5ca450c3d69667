from flask import Blueprint, abort, current_app, render_template
from sqlalchemy import select

from backoffice.extensions import db
from backoffice.mail.models import OutboxMessage

bp = Blueprint("mail", __name__, url_prefix="/dev/outbox")


@bp.before_request
def outbox_only():
    # The outbox exists for development only: it shows every mail, sign-in links included.
    if current_app.config["MAIL_BACKEND"] != "outbox":
        abort(404)


@bp.route("/")
def outbox():
    messages = db.paginate(select(OutboxMessage).order_by(OutboxMessage.id.desc()), per_page=20)
    return render_template("mail/outbox.html", messages=messages)


@bp.route("/<int:message_id>")
def message(message_id):
    return render_template("mail/message.html", message=db.get_or_404(OutboxMessage, message_id))
