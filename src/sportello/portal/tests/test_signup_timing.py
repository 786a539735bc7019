"""Sign-up must not tell known addresses from new ones by its timing (issue 15, 5)."""

from __future__ import annotations

import statistics
import time

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import MD5PasswordHasher

from sportello.core.demo import partita_iva_with_check

from .support import PASSWORD

pytestmark = pytest.mark.django_db
User = get_user_model()


class CountingHasher(MD5PasswordHasher):
    """Counts the passwords hashed: the costly step of a sign-up."""

    algorithm = "counting-md5"
    calls = 0

    def encode(self, password, salt):
        CountingHasher.calls += 1
        return super().encode(password, salt)


def signup(client, email):
    client.logout()
    return client.post(
        "/account/signup/",
        {
            "first_name": "Elena",
            "last_name": "Gialli",
            "company": "Alice & Co.",
            "tax_id": partita_iva_with_check("0999999999"),
            "email": email,
            "phone": "0744 111222",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "privacy": "on",
        },
    )


def test_a_known_and_a_new_address_hash_one_password_each(client, people, settings):
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingHasher"]
    CountingHasher.calls = 0
    known = signup(client, "alice@alice.example.it")
    known_hashes = CountingHasher.calls
    CountingHasher.calls = 0
    new = signup(client, "nuova@gmail.com")
    assert known.status_code == new.status_code == 302
    assert known["Location"] == new["Location"]
    assert User.objects.filter(email="nuova@gmail.com").exists()
    assert known_hashes == CountingHasher.calls == 1


def test_a_known_address_answers_as_slowly_as_a_new_one(client, people, settings):
    """With Django's real hasher: the probe saw 20 ms against 370 ms."""
    settings.ACCOUNT_RATE_LIMITS = {}

    def duration(email):
        start = time.perf_counter()
        assert signup(client, email).status_code == 302
        return time.perf_counter() - start

    known = statistics.median(duration("alice@alice.example.it") for _ in range(3))
    new = statistics.median(duration(f"nuova{n}@gmail.com") for n in range(3))
    assert known > new / 3, f"known {known * 1000:.0f} ms, new {new * 1000:.0f} ms"
