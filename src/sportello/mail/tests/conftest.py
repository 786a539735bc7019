"""Fixtures of the mail tests: a private Dovecot (see dovecot.py)."""

from sportello.mail.tests.dovecot import dovecot, dovecot_server  # noqa: F401

# A real SMTP server capturing what we send, and the cast of people (test_outbound.py).
from sportello.mail.tests.test_outbound import people, smtp  # noqa: F401, E402
