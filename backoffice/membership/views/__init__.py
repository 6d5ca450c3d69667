"""Treasurer screens of membership, under ``/o/<org>/membership/``: one blueprint (``bp``, in
``common``), its routes in one module per area.

Views are thin: load (404 for another organisation's rows), authorise, validate, call a
service, flash, redirect; the request's boundary commits. Member self-service lives in ``selfservice*`` modules.
"""
from backoffice.membership.views.common import bp  # noqa: F401 - found by feature_modules("views")
from backoffice.membership.views import (cheques, direct_debits, exports, members, money,  # noqa: F401 - routes
                                         periods, statements)
