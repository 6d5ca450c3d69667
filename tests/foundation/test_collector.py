"""``collection_paused``: no cyclic garbage collection within the block, resumed after the last."""
import gc

import pytest

from backoffice.collector import collection_paused


def test_collection_resumes_when_the_last_block_ends_even_after_an_error():
    assert gc.isenabled()
    with collection_paused():
        assert not gc.isenabled()
        with pytest.raises(ValueError):
            with collection_paused():
                raise ValueError("an import refused")
        assert not gc.isenabled()  # the outer block still holds it
    assert gc.isenabled()


def test_a_collector_disabled_before_stays_disabled():
    gc.disable()
    try:
        with collection_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
