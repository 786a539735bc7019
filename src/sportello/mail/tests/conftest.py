"""Fixtures of the mail tests: a private Dovecot (see dovecot.py). The cast and the
SMTP server every app's tests share are in sportello/conftest.py."""

from sportello.mail.tests.dovecot import dovecot, dovecot_server  # noqa: F401
