"""Tests of the Word rendering engine: content, identity with docxtpl, errors, sandbox, bulk, PDF."""
import io
import os
import random
import shutil
import stat
import struct
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import docx
import jinja2
import pytest
from docx.shared import Mm
from docxtpl import DocxTemplate, InlineImage, RichText

from backoffice.documents import engine, samples
from backoffice.documents.engine import (
    DocumentError,
    DocumentImage,
    DocumentTemplate,
    PdfConversionError,
    RenderError,
    TemplateError,
    render_zip,
    validate,
)
from backoffice.documents.ziparchive import read_raw_entry


@pytest.fixture(autouse=True)
def db():
    """These are pure library tests: override the project's autouse database fixture so they
    need neither the application, the database nor Redis."""
    yield None


# --- helpers -------------------------------------------------------------------------------

def png_bytes(width=40, height=20, rgb=(200, 30, 60)):
    """A small valid PNG, written by hand (no Pillow needed)."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    row = b"\x00" + bytes(rgb) * width
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(row * height)) + chunk(b"IEND", b""))


def make_docx(paragraphs=(), *, table=None, header=None, footer=None, title=None):
    """A .docx whose every tag is one run (as build_templates.py writes them)."""
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph().add_run(text)
    if table:
        t = document.add_table(rows=len(table), cols=len(table[0]))
        for row, values in zip(t.rows, table):
            for cell, value in zip(row.cells, values):
                cell.paragraphs[0].add_run(value)
    if header is not None:
        document.sections[0].header.paragraphs[0].add_run(header)
    if footer is not None:
        document.sections[0].footer.paragraphs[0].add_run(footer)
    if title is not None:
        document.core_properties.title = title
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def outline(data):
    """Everything python-docx shows of a document: paragraphs, table cells, headers/footers."""
    document = docx.Document(io.BytesIO(data))
    lines = [("p", p.text) for p in document.paragraphs]
    for t in document.tables:
        for row in t.rows:
            lines.append(("row", tuple(c.text for c in row.cells)))
    for section in document.sections:
        lines += [("header", p.text) for p in section.header.paragraphs]
        lines += [("footer", p.text) for p in section.footer.paragraphs]
    return lines


def texts(data):
    return [text for kind, text in outline(data) if kind == "p"]


def table_rows(data, index=0):
    return [tuple(c.text for c in row.cells) for row in docx.Document(io.BytesIO(data)).tables[index].rows]


def docxtpl_render(template, context):
    """The reference: docxtpl with autoescape and the same filters."""
    env = jinja2.Environment(autoescape=True)
    env.filters.update(engine.FILTERS)
    source = io.BytesIO(template) if isinstance(template, bytes) else template
    tpl = DocxTemplate(source)
    tpl.render(context, jinja_env=env, autoescape=True)
    out = io.BytesIO()
    tpl.save(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def receipt():
    return DocumentTemplate.from_path(samples.MEMBERSHIP_RECEIPT)


@pytest.fixture(scope="module")
def statement():
    return DocumentTemplate.from_path(samples.BENCH_STATEMENT)


# --- content -------------------------------------------------------------------------------

def test_membership_receipt_content(receipt):
    data = receipt.render(samples.membership_receipt_context(amount=Decimal("1234.56")))
    paragraphs = texts(data)
    assert paragraphs[0] == "CPTS du Pays de Brocéliande"
    assert paragraphs[1] == "12 rue des Forges\n35380 Paimpont"  # "\n" became a line break
    assert "SIREN : 912 345 678" in paragraphs
    assert "Attestation d'adhésion" in paragraphs
    body = "\n".join(paragraphs)
    assert "atteste que Mme Léa Le Goff est à jour" in body
    assert "du 1er janvier 2026 au 31 décembre 2026" in body
    assert "« Professionnelle de santé libérale »" in body
    assert "Référence du règlement : VIR-2026-0214" in paragraphs
    assert "Fait à Paimpont, le 1er mars 2026." in paragraphs
    assert "{%" not in body and "{{" not in body
    assert table_rows(data) == [
        ("Montant de la cotisation", "1\u202f234,56\u00a0€"),
        ("Montant en toutes lettres",
         "mille deux cent trente-quatre euros et cinquante-six centimes"),
        ("Date du règlement", "14 février 2026"),
        ("Mode de règlement", "virement"),
    ]
    document = docx.Document(io.BytesIO(data))
    assert document.sections[0].header.paragraphs[0].text == "CPTS du Pays de Brocéliande"
    assert document.sections[0].footer.paragraphs[0].text.startswith(
        "CPTS du Pays de Brocéliande — SIREN 912 345 678 —")
    assert len(document.inline_shapes) == 0  # no logo given: the {%p if logo %} block is gone


def test_conditional_paragraph_removed(receipt):
    context = samples.membership_receipt_context()
    context["payment"] = dict(context["payment"], reference=None)
    assert not any(t.startswith("Référence") for t in texts(receipt.render(context)))


def test_statement_rows_follow_the_lines(statement):
    context = samples.bench_statement_context(random.Random(3), 3)
    rows = table_rows(statement.render(context))
    assert rows[0] == ("Libellé", "Quantité", "Montant")
    assert len(rows) == len(context["lines"]) + 2  # header, one row per line, total
    for row, line in zip(rows[1:], context["lines"]):
        assert row == (line["label"], str(line["quantity"]),
                       engine.FILTERS["money"](line["amount"]))
    assert rows[-1][0] == "Total"
    assert rows[-1][2] == engine.FILTERS["money"](context["total"])


@pytest.mark.parametrize("seed", [0, 1, 2, 7])
def test_same_content_as_docxtpl_statement(statement, seed):
    context = samples.bench_statement_context(random.Random(seed), seed)
    assert outline(statement.render(context)) == outline(
        docxtpl_render(samples.BENCH_STATEMENT, context))


def test_same_content_as_docxtpl_receipt(receipt):
    context = samples.membership_receipt_context()
    ours = receipt.render(context)
    assert outline(ours) == outline(docxtpl_render(samples.MEMBERSHIP_RECEIPT, context))


def test_autoescape_keeps_the_rest_of_the_document(receipt):
    context = samples.membership_receipt_context(
        organisation={"name": "Dupont & Fils <SCM>", "address": "1 rue A & B",
                      "siren": "123 456 789", "city": "Rennes"},
        category='Catégorie "<b>spéciale</b>" & co')
    data = receipt.render(context)
    paragraphs = texts(data)
    assert paragraphs[0] == "Dupont & Fils <SCM>"
    assert "« Catégorie \"<b>spéciale</b>\" & co »" in "\n".join(paragraphs)
    # The end of the document and the table are still there.
    assert paragraphs[-1] == "Trésorier(ère)"
    assert len(table_rows(data)) == 4
    assert outline(data) == outline(docxtpl_render(samples.MEMBERSHIP_RECEIPT, context))


def test_untouched_parts_are_copied_byte_for_byte(receipt):
    data = receipt.render(samples.membership_receipt_context())
    with zipfile.ZipFile(samples.MEMBERSHIP_RECEIPT) as src, zipfile.ZipFile(io.BytesIO(data)) as out:
        source_bytes = samples.MEMBERSHIP_RECEIPT.read_bytes()
        for name in ("word/styles.xml", "word/theme/theme1.xml", "docProps/thumbnail.jpeg"):
            a = read_raw_entry(source_bytes, src.getinfo(name))
            b = read_raw_entry(data, out.getinfo(name))
            assert (a.compressed, a.crc, a.method) == (b.compressed, b.crc, b.method)
        assert out.testzip() is None
        assert src.namelist() == out.namelist()
        assert out.read("word/document.xml") != src.read("word/document.xml")


def test_rendering_is_deterministic(receipt):
    context = samples.membership_receipt_context()
    assert receipt.render(context) == receipt.render(context)


def test_render_to_path_and_file(receipt, tmp_path):
    context = samples.membership_receipt_context()
    path = tmp_path / "recu.docx"
    receipt.render_to(context, path)
    buffer = io.BytesIO()
    receipt.render_to(context, str(path.with_name("recu2.docx")))
    receipt.render_to(context, buffer)
    assert path.read_bytes() == buffer.getvalue() == (tmp_path / "recu2.docx").read_bytes()


def test_core_properties_and_footer_are_rendered():
    template = make_docx(["Bonjour {{ name }}"], footer="Pied {{ name }}",
                         header="Tête {{ name }}", title="Relevé {{ name }}")
    data = DocumentTemplate.from_bytes(template).render({"name": "Dupont & Fils"})
    document = docx.Document(io.BytesIO(data))
    assert document.core_properties.title == "Relevé Dupont & Fils"
    assert document.sections[0].footer.paragraphs[0].text == "Pied Dupont & Fils"
    assert document.sections[0].header.paragraphs[0].text == "Tête Dupont & Fils"
    assert document.paragraphs[0].text == "Bonjour Dupont & Fils"


def test_richtext_listing_and_escaped_braces():
    from docxtpl import Listing

    template = make_docx(["Nom : {{r rich }} fin", "{{ listing }}", "Littéral {_{ pas une balise }_}",
                          "Tab {{ tabbed }}"])
    context = {"rich": RichText("Dupont & Fils", bold=True, color="#FF0000"),
               "listing": Listing("ligne 1\nligne 2"), "tabbed": "a\tb"}
    data = DocumentTemplate.from_bytes(template).render(context)
    document = docx.Document(io.BytesIO(data))
    assert document.paragraphs[0].text == "Nom : Dupont & Fils fin"
    bold_runs = [r for r in document.paragraphs[0].runs if r.bold]
    assert [r.text for r in bold_runs] == ["Dupont & Fils"]
    assert document.paragraphs[1].text == "ligne 1\nligne 2"
    assert document.paragraphs[2].text == "Littéral {{ pas une balise }}"
    assert document.paragraphs[3].text == "Tab a\tb"
    assert outline(data) == outline(docxtpl_render(template, context))


def test_tag_split_across_runs_like_word_does():
    document = docx.Document()
    paragraph = document.add_paragraph()
    for piece in ["Nom : {", "{ member", ".last_name }", "} et {% if x %}", "oui{% endif %}"]:
        paragraph.add_run(piece).bold = True
    buffer = io.BytesIO()
    document.save(buffer)
    context = {"member": {"last_name": "Le Goff"}, "x": True}
    data = DocumentTemplate.from_bytes(buffer.getvalue()).render(context)
    assert texts(data) == ["Nom : Le Goff et oui"]
    assert outline(data) == outline(docxtpl_render(buffer.getvalue(), context))


def test_include_and_extends_are_refused():
    error = compile_error(["{% include 'autre.docx' %}"])
    assert "« include » n'est pas permise" in str(error)
    assert "« extends »" in str(compile_error(["{% extends 'x' %}"]))


def test_curly_quotes_inside_tags_are_normalised_like_docxtpl():
    template = make_docx(["{{ name|default(‘anonyme’) }} et {{ “x” }}"])
    data = DocumentTemplate.from_bytes(template).render({"name": "Léa"})
    assert texts(data) == ["Léa et x"]


def test_tc_loop_fixes_table_grid_like_docxtpl():
    template = make_docx(table=[["{%tc for c in cols %}", "{{ c }}", "{%tc endfor %}"]])
    context = {"cols": ["a", "b", "c", "d"]}
    data = DocumentTemplate.from_bytes(template).render(context)
    assert table_rows(data) == [("a", "b", "c", "d")]
    assert outline(data) == outline(docxtpl_render(template, context))


# --- images --------------------------------------------------------------------------------

def test_logo_is_embedded_as_inline_shape(receipt, tmp_path):
    logo_path = tmp_path / "logo.png"
    logo_path.write_bytes(png_bytes())
    context = samples.membership_receipt_context(logo=DocumentImage(logo_path, width=Mm(30)))
    data = receipt.render(context)
    document = docx.Document(io.BytesIO(data))
    shapes = document.inline_shapes
    assert len(shapes) == 1
    assert shapes[0].width == Mm(30)
    assert shapes[0].height == Mm(15)  # aspect ratio kept (40 x 20 px)
    rid = shapes[0]._inline.graphic.graphicData.pic.blipFill.blip.embed
    assert document.part.related_parts[rid].blob == png_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert "word/media/image1.png" in archive.namelist()
        assert b'Extension="png"' in archive.read("[Content_Types].xml")
        assert archive.testzip() is None
    # Same text as docxtpl with its own InlineImage.
    ref_tpl = DocxTemplate(samples.MEMBERSHIP_RECEIPT)
    ref_context = dict(context, logo=InlineImage(ref_tpl, str(logo_path), width=Mm(30)))
    env = jinja2.Environment(autoescape=True)
    env.filters.update(engine.FILTERS)
    ref_tpl.render(ref_context, jinja_env=env, autoescape=True)
    out = io.BytesIO()
    ref_tpl.save(out)
    assert outline(data) == outline(out.getvalue())
    assert len(docx.Document(io.BytesIO(out.getvalue())).inline_shapes) == 1


def test_docxtpl_inline_image_with_document_template(receipt, tmp_path):
    logo_path = tmp_path / "logo.png"
    logo_path.write_bytes(png_bytes(10, 10))
    context = samples.membership_receipt_context(
        logo=InlineImage(receipt, str(logo_path), height=Mm(10)))
    document = docx.Document(io.BytesIO(receipt.render(context)))
    assert len(document.inline_shapes) == 1
    assert document.inline_shapes[0].height == Mm(10)


def test_same_image_twice_is_stored_once_and_header_image_gets_its_relationship():
    template = make_docx(["{{ logo }}", "{{ logo }}", "{{ other }}"], header="{{ logo }}")
    context = {"logo": DocumentImage(png_bytes()), "other": DocumentImage(png_bytes(5, 5))}
    data = DocumentTemplate.from_bytes(template).render(context)
    document = docx.Document(io.BytesIO(data))
    assert len(document.inline_shapes) == 3
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        media = sorted(n for n in archive.namelist() if n.startswith("word/media/"))
        assert media == ["word/media/image1.png", "word/media/image2.png"]
        header_rels = archive.read("word/_rels/header1.xml.rels").decode()
        assert 'Target="media/image1.png"' in header_rels
        ids = [el.get("id") for el in document.element.body.iter(
            "{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}docPr")]
        assert len(set(ids)) == 3
    header = document.sections[0].header
    assert "a:blip" in header._element.xml


def test_image_with_hyperlink():
    template = DocumentTemplate.from_bytes(make_docx(["{{ logo }}"]))
    data = template.render({"logo": DocumentImage(png_bytes(), anchor="https://exemple.fr/?a=1&b=2")})
    document = docx.Document(io.BytesIO(data))
    assert len(document.inline_shapes) == 1
    links = [r for r in document.part.rels.values() if r.reltype.endswith("/hyperlink")]
    assert [r.target_ref for r in links] == ["https://exemple.fr/?a=1&b=2"]
    assert links[0].is_external


def test_images_in_parallel_renders_do_not_mix():
    template = DocumentTemplate.from_bytes(make_docx(["{{ name }}", "{{ logo }}"]))
    logos = {i: png_bytes(10 + i, 10) for i in range(6)}

    def render(i):
        return i, template.render({"name": f"doc {i}", "logo": DocumentImage(logos[i])})

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(render, list(range(6)) * 3))
    for i, data in results:
        document = docx.Document(io.BytesIO(data))
        assert document.paragraphs[0].text == f"doc {i}"
        rid = document.inline_shapes[0]._inline.graphic.graphicData.pic.blipFill.blip.embed
        assert document.part.related_parts[rid].blob == logos[i]


def test_document_image_outside_render_and_bad_image():
    with pytest.raises(DocumentError, match="Image illisible"):
        DocumentImage(b"not an image")
    with pytest.raises(DocumentError, match="pendant le rendu"):
        str(DocumentImage(png_bytes()))


# --- errors --------------------------------------------------------------------------------

def compile_error(paragraphs, **kwargs):
    with pytest.raises(TemplateError) as info:
        DocumentTemplate.from_bytes(make_docx(paragraphs, **kwargs))
    return info.value


def test_unclosed_tag_names_the_tag():
    error = compile_error(["Adhérent : {{ member.name", "Suite du document {{ other }}"])
    assert "balise non fermée" in str(error)
    assert error.near == "{{ member.name"
    assert str(error).startswith("Erreur dans le modèle, près de « {{ member.name » : balise non fermée")


def test_unclosed_block_tag():
    error = compile_error(["{% if member %}", "texte"])
    assert "bloc « if » jamais fermé" in str(error)
    assert error.near == "{% if member %}"


def test_unclosed_loop_in_table_names_the_loop():
    template = make_docx(table=[["{%tr for l in lines %}"], ["{{ l }}"]])
    with pytest.raises(TemplateError) as info:
        DocumentTemplate.from_bytes(template)
    assert "bloc « for » jamais fermé : il manque {% endfor %}" in str(info.value)
    assert info.value.near == "{% for l in lines %}"


def test_unknown_filter():
    error = compile_error(["Montant : {{ amount|euros }}"])
    assert "filtre inconnu « euros »" in str(error)
    assert "money_words" in str(error)  # lists the filters that exist
    assert error.near == "{{ amount|euros }}"


def test_french_quotes_in_a_tag():
    error = compile_error(["{{ member.name|default(« inconnu ») }}"])
    assert "guillemets" in str(error)
    assert "« inconnu »" in error.near


def test_non_breaking_space_in_a_tag():
    error = compile_error(["{{ amount|default(0)\u00a0}}"])
    assert "espace insécable" in str(error)


def test_row_tag_outside_a_table():
    error = compile_error(["{%tr for l in lines %}", "{%tr endfor %}"])
    assert "{%tr … %} doit être seule dans sa ligne de tableau" in str(error)


def test_stray_endfor():
    error = compile_error(["texte {% endfor %}"])
    assert "« endfor » sans bloc ouvert" in str(error)


def test_error_in_header_says_so():
    error = compile_error(["Corps"], header="{{ organisation.name")
    assert "(en-tête)" in str(error)
    assert error.part == "word/header1.xml"


def test_undefined_variable_is_named(receipt):
    context = samples.membership_receipt_context()
    del context["treasurer"]
    with pytest.raises(TemplateError) as info:
        receipt.render(context)
    assert "variable inconnue « treasurer »" in str(info.value)
    assert info.value.near == "{{ treasurer.name }}"


def test_undefined_attribute_is_named():
    template = DocumentTemplate.from_bytes(make_docx(["Bonjour", "Nom : {{ member.nme }}"]))
    with pytest.raises(TemplateError) as info:
        template.render({"member": {"name": "Léa"}})
    assert "« member.nme » n'existe pas" in str(info.value)
    assert info.value.near == "{{ member.nme }}"


def test_undefined_in_condition_is_an_error_but_is_defined_works():
    template = DocumentTemplate.from_bytes(make_docx(["{% if logo %}oui{% endif %}"]))
    with pytest.raises(TemplateError, match="variable inconnue « logo »"):
        template.render({})
    assert texts(template.render({"logo": None})) == [""]
    template = DocumentTemplate.from_bytes(
        make_docx(["{% if logo is defined %}oui{% else %}non{% endif %}"]))
    assert texts(template.render({})) == ["non"]


def test_filter_refusing_a_value_is_a_render_error():
    template = DocumentTemplate.from_bytes(make_docx(["Total : {{ amount|money }}"]))
    with pytest.raises(RenderError) as info:
        template.render({"amount": Decimal("1.005")})
    assert "deux décimales" in str(info.value)
    assert info.value.near == "{{ amount|money }}"


def test_tags_that_break_the_xml_are_refused():
    # An {% if %} opened in a paragraph and closed inside a table cuts the XML when false;
    # docxtpl "recovers" it silently and loses content.
    source = make_docx(["A {% if flag %} B"], table=[["C {% endif %} D"]])
    template = DocumentTemplate.from_bytes(source)
    assert texts(template.render({"flag": True})) == ["A  B"]
    assert table_rows(template.render({"flag": True})) == [("C  D",)]
    with pytest.raises(TemplateError, match="structure du document"):
        template.render({"flag": False})


def test_not_a_docx():
    with pytest.raises(TemplateError, match="pas un document Word"):
        DocumentTemplate.from_bytes(b"%PDF-1.4 hello")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "x")
    with pytest.raises(TemplateError, match="pas un document Word"):
        DocumentTemplate.from_bytes(buffer.getvalue())


def test_context_must_be_a_mapping(receipt):
    with pytest.raises(TypeError):
        receipt.render(["not", "a", "mapping"])


# --- sandbox -------------------------------------------------------------------------------

@pytest.mark.parametrize("tag", [
    "{{ ''.__class__.__mro__ }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ member.__class__ }}",
    "{{ '{0.__class__}'.format(member) }}",
    "{{ 'x' * 1000000 }}",
    "{{ 10 ** 1000 }}",
    "{% for i in range(1000000) %}{% endfor %}",
])
def test_sandbox_refuses_forbidden_operations(tag):
    template = DocumentTemplate.from_bytes(make_docx(["Avant", tag, "Après"]))
    with pytest.raises(TemplateError) as info:
        template.render({"member": {"name": "Léa"}})
    assert "opération interdite" in str(info.value)


# --- introspection and validation ----------------------------------------------------------

def test_undeclared_variables(receipt, statement):
    assert receipt.undeclared_variables() == samples.MEMBERSHIP_RECEIPT_VARIABLES
    assert {"lines", "total", "organisation", "member"} <= statement.undeclared_variables()
    assert "line" not in statement.undeclared_variables()  # loop variable


def test_validate_good_template():
    report = validate(samples.MEMBERSHIP_RECEIPT.read_bytes(),
                      expected_variables=samples.MEMBERSHIP_RECEIPT_VARIABLES,
                      sample_context=samples.membership_receipt_context())
    assert report.ok, report.messages
    assert report.variables == samples.MEMBERSHIP_RECEIPT_VARIABLES
    assert isinstance(report.template, DocumentTemplate)


def test_validate_reports_unknown_variables_and_render_errors():
    template = make_docx(["{{ membre.name }}", "{{ amount|money }}"])
    report = validate(template, expected_variables={"member", "amount"})
    assert not report.ok
    assert report.unexpected_variables == {"membre"}
    assert "variable inconnue « membre »" in report.messages[0]
    template = make_docx(["{{ member.nme }}"])
    report = validate(template, expected_variables={"member"},
                      sample_context={"member": {"name": "x"}})
    assert len(report.errors) == 1 and "« member.nme » n'existe pas" in report.messages[0]


def test_validate_collects_errors_of_several_parts_without_raising():
    template = make_docx(["{{ a|nofilter }}"], header="{{ b", footer="{% if c %}")
    report = validate(template)
    assert len(report.errors) == 3
    assert any("filtre inconnu" in m for m in report.messages)
    assert any("en-tête" in m for m in report.messages)
    assert any("pied de page" in m for m in report.messages)
    assert not validate(b"garbage").ok


def test_cached_template_recompiles_when_the_file_changes(tmp_path):
    path = tmp_path / "modele.docx"
    path.write_bytes(make_docx(["v1 {{ x }}"]))
    first = engine.cached_template(path)
    assert engine.cached_template(path) is first
    path.write_bytes(make_docx(["version 2 {{ x }}"]))
    os.utime(path, ns=(1, 10**18))
    assert texts(engine.cached_template(path).render({"x": 1})) == ["version 2 1"]


# --- bulk ----------------------------------------------------------------------------------

def test_render_zip_streams_documents(statement, tmp_path):
    target = tmp_path / "releves.zip"
    calls = []

    def contexts():  # a generator: total unknown
        for i in range(12):
            context = samples.bench_statement_context(random.Random(i), i)
            context["member"]["last_name"] = "Même nom" if i in (4, 5) else f"Nom {i}"
            yield context

    count = render_zip(statement, contexts(), target,
                       lambda ctx, i: f"Relevé {ctx['member']['last_name']}",
                       progress=lambda done, total: calls.append((done, total)),
                       progress_every=5)
    assert count == 12
    assert calls == [(5, None), (10, None), (12, None)]
    with zipfile.ZipFile(target) as archive:
        names = archive.namelist()
        assert len(names) == 12
        assert "Relevé Même nom.docx" in names and "Relevé Même nom (2).docx" in names
        for i, name in enumerate(names):
            data = archive.read(name)
            assert f"N° R-2026-{i:05d}".lower()[3:] in "\n".join(texts(data)).lower()
            assert docx.Document(io.BytesIO(data)).tables[0].rows[0].cells[0].text == "Libellé"


def test_render_zip_total_and_file_object(receipt):
    buffer = io.BytesIO()
    calls = []
    contexts = [samples.membership_receipt_context() for _ in range(3)]
    assert render_zip(receipt, contexts, buffer, lambda c, i: "../../etc/passwd",
                      progress=lambda d, t: calls.append((d, t))) == 3
    assert calls == [(3, 3)]
    with zipfile.ZipFile(buffer) as archive:
        assert archive.namelist() == ["_.._etc_passwd.docx", "_.._etc_passwd (2).docx",
                                      "_.._etc_passwd (3).docx"]


def test_render_zip_with_name_context_pairs_and_explicit_total(receipt, tmp_path):
    calls = []
    pairs = ((f"attestation-{i}.docx", samples.membership_receipt_context(
        member={"civility": "M.", "first_name": "Jean", "last_name": f"Nom{i}"})) for i in range(4))
    assert render_zip(receipt, pairs, tmp_path / "a.zip", progress=lambda d, t: calls.append((d, t)),
                      total=4, progress_every=3) == 4
    assert calls == [(3, 4), (4, 4)]
    with zipfile.ZipFile(tmp_path / "a.zip") as archive:
        assert archive.namelist() == [f"attestation-{i}.docx" for i in range(4)]
        assert "M. Jean Nom3" in "\n".join(texts(archive.read("attestation-3.docx")))
    calls.clear()
    assert render_zip(receipt, [], tmp_path / "empty.zip", progress=lambda d, t: calls.append((d, t))) == 0
    assert calls == [(0, 0)]


def test_render_zip_error_names_the_document_and_removes_the_file(receipt, tmp_path):
    contexts = [samples.membership_receipt_context() for _ in range(3)]
    del contexts[1]["member"]
    target = tmp_path / "out.zip"
    with pytest.raises(TemplateError) as info:
        render_zip(receipt, contexts, target, lambda c, i: f"doc{i}")
    assert "Document n° 2 (doc1.docx)" in str(info.value)
    assert info.value.document_index == 1
    assert not target.exists()


# --- PDF -----------------------------------------------------------------------------------

def fake_soffice(tmp_path, monkeypatch, produce):
    """Put a fake soffice on PATH that records its arguments and writes PDFs or not."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    script = bindir / "soffice"
    make_pdf = ('for f in "$@"; do case "$f" in *.docx) b=$(basename "$f" .docx); '
                'echo "%PDF-1.4" > "$outdir/$b.pdf";; esac; done' if produce else "")
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$@" > "{tmp_path}/args"\n'
        'outdir=""; prev=""\n'
        'for a in "$@"; do [ "$prev" = "--outdir" ] && outdir="$a"; prev="$a"; done\n'
        f"{make_pdf}\n"
        "exit 0\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")


def test_pdf_missing_output_is_an_error_even_with_exit_0(receipt, tmp_path, monkeypatch):
    fake_soffice(tmp_path, monkeypatch, produce=False)
    source = tmp_path / "recu.docx"
    receipt.render_to(samples.membership_receipt_context(), source)
    assert engine.pdf_available()
    with pytest.raises(PdfConversionError, match="pas produit de PDF pour : recu.docx"):
        engine.convert_to_pdf([source], tmp_path / "pdf")


def test_pdf_batch_uses_a_private_profile(receipt, tmp_path, monkeypatch):
    fake_soffice(tmp_path, monkeypatch, produce=True)
    sources = []
    for name in ("a", "b"):
        sources.append(tmp_path / f"{name}.docx")
        receipt.render_to(samples.membership_receipt_context(), sources[-1])
    pdfs = engine.convert_to_pdf(sources, tmp_path / "pdf")
    assert [p.name for p in pdfs] == ["a.pdf", "b.pdf"] and all(p.is_file() for p in pdfs)
    args = (tmp_path / "args").read_text()
    assert "-env:UserInstallation=file:///" in args and "/lo_" in args
    assert "--headless" in args and "--convert-to pdf" in args
    assert str(sources[0]) in args and str(sources[1]) in args  # one call for the batch


def test_pdf_without_libreoffice(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    source = tmp_path / "x.docx"
    source.write_bytes(b"x")
    assert not engine.pdf_available()
    with pytest.raises(PdfConversionError, match="LibreOffice"):
        engine.convert_to_pdf([source], tmp_path)
    with pytest.raises(ValueError):
        engine.convert_to_pdf([tmp_path / "a" / "x.docx", tmp_path / "b" / "x.docx"], tmp_path)


@pytest.mark.skipif(not engine.pdf_available(), reason="LibreOffice (soffice) is not installed")
def test_real_pdf_conversion(receipt, statement, tmp_path):
    sources = [tmp_path / "recu.docx", tmp_path / "releve.docx"]
    receipt.render_to(samples.membership_receipt_context(), sources[0])
    statement.render_to(samples.bench_statement_context(random.Random(1), 1), sources[1])
    pdfs = engine.convert_to_pdf(sources, tmp_path / "pdf")
    for pdf in pdfs:
        assert pdf.read_bytes().startswith(b"%PDF")
