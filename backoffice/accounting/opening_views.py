"""The opening screen of a fiscal year: its AN (provisional or definitive, regenerated on demand)
and the allocation of the previous year's result after the AG. Routes of the ``accounting``
blueprint (``views`` imports this module); the rules are in ``opening``."""
from flask import abort, g, redirect, render_template, url_for
from sqlalchemy import select

from backoffice.accounting import opening
from backoffice.accounting.forms import PlainForm, ResultAllocationForm
from backoffice.accounting.views import _apply, _books, _context, _year, bp
from backoffice.auth.permissions import permission_required
from backoffice.extensions import db


def _allocation_form(status, formdata=None):
    from backoffice.assemblies.models import Assembly, Resolution, ResolutionStatus

    form = ResultAllocationForm() if formdata is None else ResultAllocationForm(formdata=formdata)
    resolutions = db.session.execute(
        select(Resolution, Assembly).join(Assembly, Resolution.assembly_id == Assembly.id)
        .where(Assembly.organisation_id == g.organisation.id, Resolution.status == ResolutionStatus.CLOSED)
        .order_by(Assembly.held_at.desc(), Resolution.position)).all()
    form.resolution.choices = [("", "—")] + [
        (str(resolution.id), f"{assembly.held_at:%d/%m/%Y} – {resolution.position}. {resolution.title}")
        for resolution, assembly in resolutions]
    choices = [("", "—")] + [
        (number, f"{number} {label}" + (" (réparti entre les associés selon leurs parts sociales)"
                                        if number == opening.ASSOCIATES_ACCOUNT else ""))
        for number, label in opening.allocation_accounts(g.organisation)]
    for line in form.lines:
        line.form.account.choices = choices
    if formdata is None and not form.is_submitted():
        # The usual decision first: the report à nouveau of the result's side.
        form.lines[0].form.account.data = "110" if status.result >= 0 else "119"
    return form


@bp.route("/openings")
@permission_required("accounting.view")
def openings():
    _books()
    year = _year()
    status = opening.opening_status(g.organisation, year)
    return render_template("accounting/openings.html", status=status, generate_form=PlainForm(formdata=None),
                           form=_allocation_form(status, formdata=None), **_context(year=year))


@bp.route("/openings/<int:year>/generate", methods=["POST"])
@permission_required("accounting.edit")
def generate_opening(year):
    if not PlainForm().validate():
        abort(400)
    _books()
    _apply(lambda: opening.generate_opening(g.organisation, year),
           lambda entry: f"À-nouveaux {year} en place (écriture {entry.reference})." if entry else
           f"À-nouveaux {year} contre-passés : il n'y a plus rien à reporter.")
    return redirect(url_for("accounting.openings", year=year))


@bp.route("/openings/<int:year>/allocate", methods=["POST"])
@permission_required("accounting.edit")
def allocate_result(year):
    """The allocation of the result of ``year - 1``, decided by the AG, from the opening page of ``year``."""
    _books()
    status = opening.opening_status(g.organisation, year)
    form = _allocation_form(status)
    if form.validate():
        from backoffice.assemblies.models import Resolution

        resolution = db.session.get(Resolution, int(form.resolution.data)) \
            if (form.resolution.data or "").isdigit() else None
        lines = [opening.AllocationLine(line.form.account.data, line.form.amount.data)
                 for line in form.lines if not line.form.is_blank()]

        def refused(error):
            # Next to the date or the resolution; a refusal of the lines (their sum, an account)
            # above the lines.
            if error.field in ("decided_on", "resolution"):
                form[error.field].errors = [*form[error.field].errors, str(error)]
            else:
                form.form_errors.append(str(error))

        ok, _ = _apply(lambda: opening.allocate_result(g.organisation, year - 1, lines, form.decided_on.data,
                                                       resolution=resolution),
                       lambda entry: f"Affectation du résultat {year - 1} enregistrée (écriture {entry.reference}).",
                       refused)
        if ok:
            return redirect(url_for("accounting.openings", year=year))
    return render_template("accounting/openings.html", status=status, generate_form=PlainForm(formdata=None),
                           form=form, **_context(year=year)), 422
