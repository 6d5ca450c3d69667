from tests.people.transaction import _session_bound_to_test_transaction  # noqa: F401  (see that module)
