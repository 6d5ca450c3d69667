from tests.people.transaction import _session_bound_to_test_transaction, _storage_per_test  # noqa: F401
