"""A journal entry's status through backoffice.lifecycle: a draft only inside its posting, then
posted for good; the entry is its own record of who and when (no history row)."""
import pytest
from sqlalchemy import func, select

from backoffice.accounting.models import ENTRY_LIFECYCLE, EntryStatus, JournalEntry
from backoffice.errors import ServiceError
from backoffice.extensions import db
from backoffice.lifecycle import DirectStatusWrite, LifecycleError, StatusChange, forbidden_transitions, move


def test_the_table_allows_only_posting_a_draft():
    assert ENTRY_LIFECYCLE.transitions == {EntryStatus.DRAFT: {EntryStatus.POSTED}, EntryStatus.POSTED: set()}


def test_posting_moves_the_entry_and_records_no_history_row(post_fee):
    entry = post_fee()
    assert entry.status == EntryStatus.POSTED and entry.number is not None and entry.created_at is not None
    assert db.session.scalar(select(func.count()).select_from(StatusChange).where(
        StatusChange.subject_table == JournalEntry.__tablename__)) == 0


# No saved entry stays a draft (a posting that fails rolls its draft back): the refusals that
# can happen are those out of « posted ».
@pytest.mark.parametrize("source, target", [(s, t) for s, t in forbidden_transitions(ENTRY_LIFECYCLE)
                                            if s is EntryStatus.POSTED])
def test_forbidden_moves_are_refused_in_french(post_fee, source, target):
    entry = post_fee()
    with pytest.raises(LifecycleError, match="Impossible de passer l'écriture de « Comptabilisée »") as refused:
        move(entry, target)
    assert isinstance(refused.value, ServiceError)
    assert entry.status == EntryStatus.POSTED


def test_a_posted_entrys_status_is_not_written_directly(post_fee):
    entry = post_fee()
    with pytest.raises(DirectStatusWrite):
        entry.status = EntryStatus.DRAFT
