"""The demo assemblies: a held AGO with its minutes, a failed AGE and its second convocation; idempotent."""
import pytest
from sqlalchemy import func, select

from backoffice import demo
from backoffice.assemblies import demo as assemblies_demo
from backoffice.assemblies import minutes, voting
from backoffice.assemblies.models import Assembly, AssemblyStatus
from backoffice.extensions import db
from backoffice.membership import demo as membership_demo
from backoffice.people import demo as people_demo


@pytest.fixture
def pays_blanc(monkeypatch):
    monkeypatch.setattr(demo, "_steps", lambda: [people_demo.step, membership_demo.step, assemblies_demo.step])
    monkeypatch.setattr("backoffice.auth.services.hash_password", lambda password: "not-a-hash")
    demo.seed()


def test_demo_assemblies(pays_blanc):
    rows = {a.title: a for a in db.session.scalars(select(Assembly))}
    ago, age = rows[assemblies_demo.AGO], rows[assemblies_demo.AGE]
    second = rows[assemblies_demo.AGE + " (seconde convocation)"]
    assert ago.status is AssemblyStatus.MINUTES_ISSUED and voting.live_quorum(ago).reached
    assert minutes.current_minutes(ago) is not None
    assert len(voting.standing_proxies(ago)) == 12
    assert all(voting.tally(r).result.adopted for r in ago.resolutions)
    board = voting.secret_board(ago.resolutions[3])
    assert any(not b.paper for b in board) and any(b.paper for b in board)  # online and paper ballots, one chain
    assert voting.verify_board([(b.position, b.choice.value, b.weight, b.nonce, b.previous_hash, b.hash)
                                for b in board], ago.resolutions[3].final_hash)[0]
    assert age.status is AssemblyStatus.CLOSED and not voting.live_quorum(age).reached
    assert (second.status, second.convocation, second.first_id, second.quorum_label) == (
        AssemblyStatus.DRAFT, 2, age.id, "Sans quorum")
    before = db.session.scalar(select(func.count()).select_from(Assembly))
    demo.seed()
    assert db.session.scalar(select(func.count()).select_from(Assembly)) == before
