"""The form macros of templates/_macros.html: errors and help wired for screen readers."""
import re

from flask import render_template_string
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired, Length


class SampleForm(FlaskForm):
    name = StringField("Nom", validators=[DataRequired("Le nom est obligatoire."),
                                          Length(min=3, message="Trois caractères au moins.")])
    agree = BooleanField("J'accepte")


def render(form, field, help=None):
    return render_template_string(
        '{% from "_macros.html" import field as f %}{{ f(form[name], help) }}', form=form, name=field, help=help)


def input_tag(html, name):
    return re.search(rf'<input[^>]*name="{name}"[^>]*>', html).group(0)


def test_a_field_without_error_or_help_has_no_describedby(app):
    with app.test_request_context():
        for name in ("name", "agree"):
            assert "aria-describedby" not in input_tag(render(SampleForm(meta={"csrf": False}), name), name)


def test_help_text_describes_the_field(app):
    with app.test_request_context():
        html = render(SampleForm(meta={"csrf": False}), "name", help="Tel qu'il figure sur la carte.")
    assert 'aria-describedby="name-help"' in input_tag(html, "name")
    assert '<div class="form-text" id="name-help">Tel qu&#39;il figure sur la carte.</div>' in html


def test_errors_are_one_described_element_with_every_message(app):
    with app.test_request_context(method="POST", data={"name": "ab"}):
        form = SampleForm(meta={"csrf": False})
        form.validate()
        form.name.errors.append("Ce nom est déjà pris.")
        html = render(form, "name", help="Aide")
    tag = input_tag(html, "name")
    assert 'aria-describedby="name-err"' in tag and "is-invalid" in tag
    assert html.count('id="name-err"') == 1
    assert re.search(r'id="name-err"><p class="mb-0">Trois caractères au moins.</p><p class="mb-0">Ce nom est déjà pris.</p></div>', html)
