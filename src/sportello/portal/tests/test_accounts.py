"""Registration (django-allauth plus our form), organisation matching and approval."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import override_settings

from sportello.core.demo import partita_iva_with_check
from sportello.customers.models import Contact, ContactEmail
from sportello.portal import services
from sportello.portal.models import PendingAccount, PrivacyConsent, Registration
from sportello.tickets.tests.factories import ContactFactory, UserFactory

from .support import PASSWORD, open_portal_ticket

pytestmark = pytest.mark.django_db
User = get_user_model()
UNKNOWN_VAT = partita_iva_with_check("0999999999")


def signup(client, **overrides):
    data = {
        "first_name": "Elena",
        "last_name": "Gialli",
        "company": "Alice & Co.",
        "tax_id": UNKNOWN_VAT,
        "email": "elena@gmail.com",
        "phone": "0744 111222",
        "password1": PASSWORD,
        "password2": PASSWORD,
        "privacy": "on",
    }
    data.update(overrides)
    return client.post("/account/signup/", data)


def contact_of(email):
    return User.objects.get(email=email).contact


def test_a_vat_number_alone_only_suggests_the_organisation_to_an_agent(client, people):
    """Issue 15, finding 3: a partita IVA is public, so typing one joins nothing."""
    response = signup(client, tax_id=f"IT {people['org_a'].vat_number}")
    assert response.status_code == 302
    contact = contact_of("elena@gmail.com")
    assert contact.organisation is None and contact.needs_review and not contact.is_manager
    assert (contact.first_name, contact.last_name) == ("Elena", "Gialli")
    assert contact.phones.get().number == "+390744111222"
    assert ContactEmail.objects.get(address="elena@gmail.com").contact == contact
    registration = Registration.objects.get(user=contact.user)
    assert registration.company == "Alice & Co."
    assert registration.match == "tax id only, suggests: Alice & Co. S.r.l."
    # Signed in after verifying the address, the portal shows nothing of org A.
    client.force_login(contact.user)
    page = client.get("/portale/").content.decode()
    assert "attesa" in page or "approv" in page
    assert "€\xa015,00" not in client.get("/assistenza/").content.decode()


def test_a_vat_number_with_an_address_of_the_organisations_domain_joins_it(client, people):
    signup(client, tax_id=people["org_a"].vat_number, email="elena@alice.example.it")
    contact = contact_of("elena@alice.example.it")
    assert contact.organisation == people["org_a"] and not contact.needs_review
    registration = Registration.objects.get(user=contact.user)
    assert registration.match == "tax id and e-mail domain"


def test_it_stores_the_privacy_consent_with_version_time_and_address(client, people):
    signup(client)
    consent = PrivacyConsent.objects.get(user__email="elena@gmail.com")
    assert consent.policy_version == "2025-01"
    assert consent.ip == "127.0.0.1"
    assert consent.accepted_at is not None


def test_without_privacy_consent_there_is_no_account(client, people):
    response = signup(client, privacy="")
    assert response.status_code == 200
    assert not User.objects.filter(email="elena@gmail.com").exists()


def test_a_new_account_joins_the_organisation_of_its_email_domain(client, people):
    signup(client, email="elena@alice.example.it")
    contact = contact_of("elena@alice.example.it")
    assert contact.organisation == people["org_a"] and not contact.needs_review


def test_free_mail_without_a_known_vat_number_waits_for_an_agent(client, people):
    signup(client, email="elena@gmail.com")
    contact = contact_of("elena@gmail.com")
    assert contact.organisation is None and contact.needs_review
    assert PendingAccount.objects.filter(pk=contact.pk).exists()


def test_a_vat_number_and_a_domain_of_two_organisations_wait_for_an_agent(client, people):
    signup(client, email="elena@alice.example.it", tax_id=people["org_b"].vat_number)
    contact = contact_of("elena@alice.example.it")
    assert contact.organisation is None and contact.needs_review
    assert Registration.objects.get(user=contact.user).match == "tax id and e-mail domain disagree"


def test_a_personal_codice_fiscale_is_accepted(client, people):
    response = signup(client, tax_id="rssmra85t10a562s")
    assert response.status_code == 302
    assert Registration.objects.get().tax_id == "RSSMRA85T10A562S"


def test_a_wrong_tax_id_is_explained(client, people):
    response = signup(client, tax_id="12345678901")
    assert response.status_code == 200
    assert "partita IVA dell&#x27;azienda (11 cifre)" in response.content.decode()
    assert not User.objects.exists() or not User.objects.filter(email="elena@gmail.com").exists()


def test_a_known_sender_signing_up_gets_the_tickets_filed_from_their_mail(client, people):
    # Intake created this contact from an e-mail; now its writer registers.
    known = ContactFactory(organisation=people["org_a"], email="marco@alice.example.it")
    known.needs_review = True
    known.save()
    ticket = open_portal_ticket(known)
    signup(client, email="marco@alice.example.it", first_name="Marco")
    known.refresh_from_db()
    assert known.user.email == "marco@alice.example.it"
    assert not known.needs_review  # the domain confirms what intake guessed
    assert Contact.objects.filter(emails__address="marco@alice.example.it").count() == 1
    verify_from_outbox(client)
    assert ticket.number in client.get("/portale/").content.decode()


def verify_from_outbox(client):
    (message,) = [m for m in mail.outbox if "/account/confirm-email/" in m.body]
    link = re.search(r"https?://\S+/account/confirm-email/\S+", message.body).group(0)
    path = urlsplit(link).path  # on SPORTELLO_SITE_URL, not the request's host
    assert client.get(path).status_code == 200
    response = client.post(path)
    assert response.status_code == 302
    return response


def test_the_email_must_be_verified_before_the_portal_opens(client, people):
    signup(client, tax_id=people["org_a"].vat_number)
    login = client.post("/account/login/", {"login": "elena@gmail.com", "password": PASSWORD})
    assert login.status_code == 302
    assert login["Location"].startswith("/account/confirm-email/")
    assert client.get("/portale/").status_code == 302
    response = verify_from_outbox(client)
    assert EmailAddress.objects.get(email="elena@gmail.com").verified
    assert client.get("/portale/").status_code == 200
    assert response["Location"] in ("/portale/", "/account/login/")


def test_the_verification_mail_is_the_companys_own_and_links_to_the_site(client, people, settings):
    settings.SPORTELLO_SITE_URL = "http://127.0.0.1:8123"
    signup(client, tax_id=people["org_a"].vat_number)
    (message,) = [m for m in mail.outbox if "/account/confirm-email/" in m.body]
    assert message.subject == (
        "[INIT S.r.l.] Confermate il vostro indirizzo e-mail per il portale di assistenza"
    )
    body = message.body
    assert body.startswith("Buongiorno,\n\navete chiesto un account sul portale di assistenza")
    assert "L'assistenza tecnica di INIT S.r.l." in body
    assert "http://127.0.0.1:8123/account/confirm-email/" in body
    assert "testserver" not in body and "Ciao" not in body and " tu" not in body
    link = re.search(r"http://\S+/account/confirm-email/\S+", body).group(0)
    path = urlsplit(link).path
    assert client.post(path).status_code == 302
    client.logout()
    again = client.get(path).content.decode()
    assert "Questo collegamento è già stato usato: il vostro indirizzo è confermato." in again
    broken = client.get("/account/confirm-email/not-a-key/").content.decode()
    assert "non è valido o è scaduto" in broken and "già stato usato" not in broken


def test_the_password_reset_mail_links_to_the_site(client, people, settings):
    settings.SPORTELLO_SITE_URL = "http://127.0.0.1:8123"
    client.post("/account/password/reset/", {"email": "alice@alice.example.it"})
    body = mail.outbox[-1].body
    assert "http://127.0.0.1:8123/account/password/reset/key/" in body
    assert "avete chiesto di scegliere una nuova password" in body


def test_the_login_page_offers_the_password_reset_once(client, people):
    page = client.get("/account/login/").content.decode()
    assert page.count("Password dimenticata?") == 1


def test_the_honeypot_stops_naive_bots(client, people):
    response = signup(client, website="http://spam.example")
    assert response.status_code == 200
    assert not User.objects.filter(email="elena@gmail.com").exists()


@override_settings(ACCOUNT_RATE_LIMITS={"signup": "1/h/ip"})
def test_signups_are_rate_limited(client, people):
    assert signup(client).status_code == 302
    client.logout()
    assert signup(client, email="other@gmail.com").status_code == 429


@override_settings(ACCOUNT_RATE_LIMITS={"login_failed": "2/m/ip"})
def test_failed_logins_are_rate_limited(client, people):
    for _ in range(2):
        client.post("/account/login/", {"login": "alice@alice.example.it", "password": "wrong"})
    blocked = client.post(
        "/account/login/", {"login": "alice@alice.example.it", "password": PASSWORD}
    )
    assert blocked.status_code in (200, 429)
    assert "_auth_user_id" not in client.session


def test_password_reset_sends_a_link(client, people):
    response = client.post("/account/password/reset/", {"email": "alice@alice.example.it"})
    assert response.status_code == 302
    assert "/account/password/reset/key/" in mail.outbox[-1].body


def test_two_factor_authentication_is_offered(client, people):
    client.force_login(people["alice_user"])
    assert client.get("/account/2fa/").status_code == 200


def test_an_agent_approves_a_pending_account_in_the_admin(client, people):
    signup(client, email="elena@gmail.com")
    contact = contact_of("elena@gmail.com")
    admin = UserFactory(username="admin", is_staff=True, is_superuser=True)
    client.force_login(admin)
    listing = client.get("/admin/portal/pendingaccount/").content.decode()
    assert "Elena" in listing and "Alice &amp; Co." in listing
    contact.organisation = people["org_a"]
    contact.save()
    mail.outbox.clear()
    client.post(
        "/admin/portal/pendingaccount/",
        {"action": "approve", "_selected_action": [contact.pk]},
    )
    contact.refresh_from_db()
    assert not contact.needs_review
    assert mail.outbox[0].to == ["elena@gmail.com"]
    assert "/portale/" in mail.outbox[0].body


def test_account_link_organisation_never_matches_free_mail(people):
    from sportello.customers.models import OrganisationDomain

    # Even if someone managed to store a free-mail domain, it is never a match.
    OrganisationDomain.objects.bulk_create(
        [OrganisationDomain(organisation=people["org_b"], domain="gmail.com")]
    )
    match = services.account_link_organisation(tax_id="", email="x@gmail.com")
    assert match.organisation is None and match.needs_review


def test_a_customer_turns_on_totp_and_then_needs_the_code_to_sign_in(client, people):
    import time

    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    def code_now(secret: str) -> str:
        return format_hotp_value(hotp_value(secret, int(time.time()) // 30))

    credentials = {"login": "alice@alice.example.it", "password": PASSWORD}
    assert client.post("/account/login/", credentials).status_code == 302
    # Changing the second factor asks for the password again (allauth's reauthentication).
    asked = client.get("/account/2fa/totp/activate/")
    assert asked["Location"].startswith("/account/reauthenticate/")
    client.post(asked["Location"], {"password": PASSWORD})
    page = client.get("/account/2fa/totp/activate/")
    assert page.status_code == 200
    secret = page.context["form"].secret
    wrong = client.post("/account/2fa/totp/activate/", {"code": "000000"})
    assert wrong.status_code == 200 and wrong.context["form"].errors  # the code is checked
    done = client.post("/account/2fa/totp/activate/", {"code": code_now(secret)})
    assert done.status_code == 302

    client.post("/account/logout/")
    step = client.post("/account/login/", credentials)
    assert step.status_code == 302 and step["Location"].startswith("/account/2fa/authenticate")
    assert client.get("/portale/").status_code == 302  # the password alone does not open it
    signed_in = client.post("/account/2fa/authenticate/", {"code": code_now(secret)})
    assert signed_in.status_code == 302
    assert client.get("/portale/").status_code == 200


def test_a_pending_sign_up_tells_the_roles_the_company_chose(
    client, people, settings, django_capture_on_commit_callbacks
):
    from sportello.staff.models import Role
    from sportello.tickets.tests.factories import AgentFactory

    settings.SPORTELLO_SITE_URL = "http://127.0.0.1:8123"
    settings.SPORTELLO_SIGNUP_NOTIFY_ROLES = ["billing"]
    AgentFactory(user=UserFactory(username="carla", email="carla@init-s.it"), role=Role.BILLING)
    AgentFactory(user=UserFactory(username="mario", email="mario@init-s.it"), role=Role.AGENT)
    with django_capture_on_commit_callbacks(execute=True):
        signup(client, email="elena@gmail.com", company="Studio Gialli")
    contact = contact_of("elena@gmail.com")
    [notice] = [m for m in mail.outbox if "in attesa di approvazione" in m.subject]
    assert notice.to == ["carla@init-s.it"]
    assert notice.subject == "Account del portale in attesa di approvazione: Elena Gialli"
    assert "Azienda (come inserita): Studio Gialli" in notice.body
    assert "nessuna corrispondenza: scegliere l'organizzazione" in notice.body
    assert f"http://127.0.0.1:8123/admin/portal/pendingaccount/{contact.pk}/change/" in notice.body
    # A sign-up that matched an organisation tells nobody.
    mail.outbox.clear()
    client.logout()
    with django_capture_on_commit_callbacks(execute=True):
        signup(client, email="nuovo@alice.example.it")
    assert not [m for m in mail.outbox if "in attesa di approvazione" in m.subject]


def test_approving_can_create_the_organisation_from_what_the_customer_typed(client, people):
    signup(client, email="elena@studiogialli.it", company="Studio Gialli", tax_id=UNKNOWN_VAT)
    contact = contact_of("elena@studiogialli.it")
    admin = UserFactory(username="admin", is_staff=True, is_superuser=True)
    client.force_login(admin)
    listing = client.get("/admin/portal/pendingaccount/").content.decode()
    assert "nessuna corrispondenza" in listing and "no match" not in listing
    mail.outbox.clear()
    response = client.post(
        "/admin/portal/pendingaccount/",
        {"action": "approve_with_new_organisation", "_selected_action": [contact.pk]},
        follow=True,
    )
    assert "approvato/a, con la nuova organizzazione Studio Gialli" in response.content.decode()
    contact.refresh_from_db()
    org = contact.organisation
    assert (org.name, org.vat_number) == ("Studio Gialli", UNKNOWN_VAT)
    assert list(org.domains.values_list("domain", flat=True)) == ["studiogialli.it"]
    assert not contact.needs_review
    assert mail.outbox[0].to == ["elena@studiogialli.it"]
    # Typed data another organisation already owns: refused with the reason, nothing made.
    from sportello.customers.models import OrganisationDomain

    OrganisationDomain.objects.create(organisation=people["org_b"], domain="charlie.example.it")
    client.logout()
    signup(
        client,
        email="bruno@charlie.example.it",
        first_name="Bruno",
        company="Doppione",
        tax_id=people["org_a"].vat_number,  # org A's number, org B's domain: waits
    )
    twin = contact_of("bruno@charlie.example.it")
    client.force_login(admin)
    response = client.post(
        "/admin/portal/pendingaccount/",
        {"action": "approve_with_new_organisation", "_selected_action": [twin.pk]},
        follow=True,
    )
    page = response.content.decode()
    assert "Impossibile creare Doppione" in page and "partita IVA" in page
    twin.refresh_from_db()
    assert twin.needs_review and twin.organisation is None


def test_the_sign_up_notice_reaches_each_agent_in_their_own_language(
    client, people, settings, django_capture_on_commit_callbacks
):
    from sportello.staff.models import Role
    from sportello.tickets.tests.factories import AgentFactory

    settings.SPORTELLO_SIGNUP_NOTIFY_ROLES = ["billing"]
    AgentFactory(user=UserFactory(username="carla", email="carla@init-s.it"), role=Role.BILLING)
    AgentFactory(
        user=UserFactory(username="john", email="john@init-s.it"),
        role=Role.BILLING,
        language="en",
    )
    with django_capture_on_commit_callbacks(execute=True):
        signup(client, email="elena@gmail.com", company="Studio Gialli")
    [italian] = [m for m in mail.outbox if m.to == ["carla@init-s.it"]]
    [english] = [m for m in mail.outbox if m.to == ["john@init-s.it"]]
    assert italian.subject == "Account del portale in attesa di approvazione: Elena Gialli"
    assert "Azienda (come inserita): Studio Gialli" in italian.body
    assert english.subject == "Portal account awaiting approval: Elena Gialli"
    assert "Company (as typed): Studio Gialli" in english.body
    assert "waits for approval" in english.body
