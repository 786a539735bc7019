"""allauth's sign-up form, answering a known address as slowly as a new one.

With ``ACCOUNT_PREVENT_ENUMERATION`` allauth answers both the same page, but a new
address costs a password hash (hundreds of milliseconds by design) and a known one did
not: the response time told which addresses have an account (issue 15, finding 5).
Here a known address pays the same hash, of the password typed, thrown away.

A module of its own: allauth's forms import ``SignupExtraForm`` from ``forms.py`` while
building their base class, so that module cannot import them back.
"""

from __future__ import annotations

from allauth.account.forms import SignupForm
from django.contrib.auth.hashers import make_password


class PortalSignupForm(SignupForm):
    def try_save(self, request):
        if self.account_already_exists:
            # The work save() does for a new account: hashing the password.
            make_password(self.cleaned_data.get("password1") or "")
        return super().try_save(request)
