from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from wtforms import BooleanField, SelectField, SubmitField

from backoffice.extensions import db


class TemplateUploadForm(FlaskForm):
    template = FileField("Nouveau modèle (.docx)", validators=[FileRequired("Choisissez un fichier .docx.")])
    submit = SubmitField("Vérifier et enregistrer")


class DirectorySheetsForm(FlaskForm):
    commune = SelectField("Commune", choices=[], validate_choice=True)
    profession = SelectField("Profession", choices=[], validate_choice=True)
    pdf = BooleanField("En PDF (sinon au format Word)")
    submit = SubmitField("Générer les fiches")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from backoffice.people.models import Professional
        from backoffice.people.professions import PROFESSIONS

        communes = db.session.scalars(select(Professional.commune).distinct().where(
            Professional.commune.is_not(None)).order_by(Professional.commune))
        self.commune.choices = [("", "Toutes")] + [(c, c) for c in communes]
        used = set(db.session.scalars(select(Professional.profession).distinct()))
        self.profession.choices = [("", "Toutes")] + [(p.code, p.label) for p in PROFESSIONS if p.code in used]
