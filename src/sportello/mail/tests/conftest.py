"""Fixtures of the mail tests: a private Dovecot (see dovecot.py)."""

from sportello.mail.tests.dovecot import dovecot, dovecot_server  # noqa: F401
