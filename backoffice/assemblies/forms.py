"""Forms of the assembly screens (French labels and messages)."""
from fractions import Fraction

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateTimeLocalField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, URL, ValidationError

from backoffice.assemblies.models import AssemblyKind, MajorityRule
from backoffice.forms import REQUIRED, FrenchDateField


class FrenchDateTimeField(DateTimeLocalField):
    """A ``datetime-local`` input that also accepts ``jj/mm/aaaa hh:mm`` typed by hand."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, format=["%Y-%m-%dT%H:%M", "%d/%m/%Y %H:%M", "%d/%m/%Y %Hh%M",
                                                    "%d/%m/%Y %H h %M"], **kwargs)

    def process_formdata(self, valuelist):
        try:
            super().process_formdata([value.strip() for value in valuelist])
        except ValueError:
            raise ValueError("Date et heure attendues, par exemple 08/06/2026 18:30.") from None


def parse_quorum(text):
    """« 1/4 », « 1 / 2 », « 25 % » or blank (no quorum) → (numerator, denominator) or (None, None)."""
    text = (text or "").strip().replace(" ", "").replace("\u202f", "").replace("\xa0", "")
    if not text or text.lower() in ("0", "aucun", "sans"):
        return None, None
    try:
        if text.endswith("%"):
            value = Fraction(text[:-1].replace(",", ".")) / 100
        else:
            value = Fraction(text.replace(",", "."))
    except (ValueError, ZeroDivisionError):
        raise ValidationError("Quorum attendu sous forme de fraction (1/4) ou de pourcentage (25 %).") from None
    if not 0 < value <= 1:
        raise ValidationError("Le quorum doit être compris entre 0 et 1 (par exemple 1/4).")
    return value.numerator, value.denominator


class AssemblyForm(FlaskForm):
    title = StringField("Intitulé", validators=[DataRequired(REQUIRED), Length(max=200)])
    kind = SelectField("Nature", choices={k.value: k.label for k in AssemblyKind}, default=AssemblyKind.ORDINARY.value)
    held_at = FrenchDateTimeField("Date et heure", validators=[InputRequired(REQUIRED)])
    place = StringField("Lieu", validators=[Optional(), Length(max=250)])
    video_link = StringField("Lien de visioconférence", validators=[Optional(), Length(max=500),
                                                                    URL(message="Adresse web attendue (https://…).")])
    cut_off = FrenchDateField("Liste des votants arrêtée au", validators=[InputRequired(REQUIRED)])
    college_id = SelectField("Votants", coerce=int, validate_choice=False)
    quorum = StringField("Quorum (fraction des votants présents ou représentés ; vide : sans quorum)",
                         validators=[Optional(), Length(max=20)])
    second_without_quorum = BooleanField("Une seconde convocation délibère sans quorum", default=True)
    abstentions_count = BooleanField("Les abstentions comptent comme suffrages exprimés")
    chair_casting_vote = BooleanField("Voix prépondérante du président en cas d'égalité")
    max_proxies = IntegerField("Pouvoirs au plus par membre présent", default=2,
                               validators=[InputRequired(REQUIRED), NumberRange(0, 50, "Entre 0 et 50.")])
    notice_days = IntegerField("Délai de convocation (jours)", default=15,
                               validators=[InputRequired(REQUIRED), NumberRange(0, 365, "Entre 0 et 365.")])
    note = TextAreaField("Note interne", validators=[Optional(), Length(max=2000)])

    def validate_quorum(self, field):
        self.quorum_fraction = parse_quorum(field.data)

    def values(self, weights=None):
        numerator, denominator = getattr(self, "quorum_fraction", parse_quorum(self.quorum.data))
        return dict(title=self.title.data.strip(), kind=AssemblyKind(self.kind.data), held_at=self.held_at.data,
                    place=(self.place.data or "").strip() or None,
                    video_link=(self.video_link.data or "").strip() or None, cut_off=self.cut_off.data,
                    college_id=self.college_id.data or None, quorum_numerator=numerator,
                    quorum_denominator=denominator, second_without_quorum=self.second_without_quorum.data,
                    abstentions_count=self.abstentions_count.data, chair_casting_vote=self.chair_casting_vote.data,
                    max_proxies=self.max_proxies.data, notice_days=self.notice_days.data,
                    note=(self.note.data or "").strip() or None, college_weights=weights or None)

    def fill(self, assembly):
        """Show ``assembly``'s settings (GET of the edit page)."""
        for name in ("title", "held_at", "place", "video_link", "cut_off", "second_without_quorum",
                     "abstentions_count", "chair_casting_vote", "max_proxies", "notice_days", "note"):
            getattr(self, name).data = getattr(assembly, name)
        self.kind.data = assembly.kind.value
        self.college_id.data = assembly.college_id or 0
        self.quorum.data = (f"{assembly.quorum_numerator}/{assembly.quorum_denominator}"
                            if assembly.has_quorum_rule else "")


class ResolutionForm(FlaskForm):
    title = StringField("Titre", validators=[DataRequired(REQUIRED), Length(max=250)])
    text = TextAreaField("Texte de la résolution", validators=[Optional(), Length(max=20000)])
    majority = SelectField("Majorité requise", choices={m.value: m.label for m in MajorityRule},
                           default=MajorityRule.SIMPLE.value)
    secret = BooleanField("Vote à bulletin secret")

    def values(self):
        return dict(title=self.title.data.strip(), text=(self.text.data or "").strip(),
                    majority=MajorityRule(self.majority.data), secret=self.secret.data)


class ConveneForm(FlaskForm):
    late_ok = BooleanField("Convoquer même si le délai statutaire n'est pas respecté")


class ProxyForm(FlaskForm):
    """A paper proxy, keyboard-only: type a few letters of the giver's name in the list, Tab, the holder's, Entrée."""
    giver = SelectField("Mandant (qui donne pouvoir)", coerce=int, validate_choice=False,
                        validators=[DataRequired("Choisissez le mandant.")])
    holder = SelectField("Mandataire (qui reçoit le pouvoir)", coerce=int, validate_choice=False)
    blank = BooleanField("Pouvoir en blanc (au président)")


class MemberProxyForm(FlaskForm):
    holder = SelectField("Donner mon pouvoir à", coerce=int, validate_choice=False,
                         validators=[DataRequired("Choisissez le membre qui votera pour vous.")])


class RoomCountsForm(FlaskForm):
    room_for = IntegerField("Pour", default=0, validators=[InputRequired(REQUIRED), NumberRange(0, 100000)])
    room_against = IntegerField("Contre", default=0, validators=[InputRequired(REQUIRED), NumberRange(0, 100000)])
    room_abstain = IntegerField("Abstentions", default=0, validators=[InputRequired(REQUIRED), NumberRange(0, 100000)])


class CastingVoteForm(FlaskForm):
    casting_vote = SelectField(choices={"": "Non déclarée", "for": "Pour", "against": "Contre"})


class VoteForm(FlaskForm):
    right = IntegerField(validators=[InputRequired(REQUIRED)])
    choice = SelectField(choices={"for": "Pour", "against": "Contre", "abstain": "Abstention"},
                         validators=[InputRequired("Choisissez Pour, Contre ou Abstention.")])


class SecondConvocationForm(FlaskForm):
    held_at = FrenchDateTimeField("Date et heure de la seconde assemblée", validators=[InputRequired(REQUIRED)])


class ExportForm(FlaskForm):
    file_format = SelectField("Format", choices={"csv": "CSV (tableur)", "xlsx": "Excel (XLSX)"}, default="csv")


class ResolutionDocumentForm(FlaskForm):
    """A document attached to a resolution: its title as the voters read it, and the file."""
    title = StringField("Titre du document", validators=[DataRequired("Donnez un titre au document."), Length(max=200)],
                        description="Par exemple « Comptes annuels 2025 », « Budget prévisionnel 2027 ».")
    file = FileField("Fichier (PDF, JPEG ou PNG)", validators=[FileRequired("Choisissez un fichier.")])
