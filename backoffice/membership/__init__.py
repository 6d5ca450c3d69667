"""Membership: fee grids, memberships, payments, bank statements, SEPA direct debit."""
