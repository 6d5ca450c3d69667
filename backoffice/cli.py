"""Command-line entry points (``flask --app backoffice …``)."""
import click


def register(app):
    from jobs._worker import worker_command

    app.cli.add_command(worker_command)  # flask worker: the app built once, a fork per job

    @app.cli.command("seed-demo")
    @click.option("--reset", is_flag=True, help="Vide la base avant de charger le territoire de démonstration.")
    def seed_demo(reset):
        """Load the demo territory (CPTS du Pays Blanc, SISA du Pays de Mayenne)."""
        from backoffice import demo

        logins = demo.seed(reset=reset)
        click.echo("Territoire de démonstration chargé. Comptes :")
        for email, password, description in logins:
            click.echo(f"  {description:<40} {email} / {password}")

    @app.cli.command("create-organisation")
    @click.argument("name")
    @click.option("--kind", type=click.Choice(["cpts", "sisa", "association"]), default="cpts", show_default=True)
    @click.option("--slug", default=None, help="Identifiant dans les adresses (déduit du nom par défaut).")
    def create_organisation(name, kind, slug):
        """Create an organisation (the first step on a new instance, before create-user)."""
        from sqlalchemy import select

        from backoffice.extensions import db
        from backoffice.organisations.models import Organisation
        from backoffice.organisations.services import create_organisation as make_organisation

        if slug and db.session.scalar(select(Organisation.id).where(Organisation.slug == slug)) is not None:
            raise click.ClickException(f"L'identifiant {slug} est déjà pris par une autre organisation.")
        organisation = make_organisation(name, kind, slug=slug)
        db.session.commit()
        click.echo(f"Organisation créée : {organisation.name} (identifiant {organisation.slug}).")

    @app.cli.command("create-user")
    @click.argument("email")
    @click.argument("org_slug")
    @click.argument("role")
    @click.option("--name", default="")
    @click.password_option()
    def create_user(email, org_slug, role, name, password):
        """Create a staff account with a role in an organisation."""
        from sqlalchemy import select

        from backoffice.auth.services import create_user as make_user, find_user_by_email, grant_role
        from backoffice.extensions import db
        from backoffice.organisations.models import Organisation

        organisation = db.session.scalar(select(Organisation).where(Organisation.slug == org_slug))
        if organisation is None:
            raise click.ClickException(f"Organisation inconnue : {org_slug}")
        user = find_user_by_email(email) or make_user(email, name or email, password)
        grant_role(user, organisation, role)
        db.session.commit()
        click.echo(f"{email} : rôle {role} dans {organisation.name}.")
