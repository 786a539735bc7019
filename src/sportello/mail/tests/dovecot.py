"""A private Dovecot for the mail tests: IMAP, IMAPS, POP3, POP3S and XOAUTH2, on loopback.

Started once per test session from a generated config in a temporary folder, as
/work/shared/TESTING.md describes: ``dovecot -c FILE``, no system service, stopped at the
end. ``make test`` and ``.ci/run`` install it (scripts/system-test-deps.sh); when it is
missing the fixture fails and says how to install it: these tests never skip.

- User ``test`` / ``test`` (passwd-file), Maildir; the ``dovecot`` fixture empties it before
  every test.
- TLS with a throwaway self-signed certificate for 127.0.0.1 (``Dovecot.cert``: point
  ``SSL_CERT_FILE`` at it so the poller trusts it).
- XOAUTH2 is Dovecot's own ``oauth2`` passdb. It asks a token introspection endpoint
  (RFC 7662) whether a token is valid; that endpoint, a few lines of http.server here
  accepting ``Dovecot.token``, stands in for Microsoft's or Google's identity provider,
  the one piece that cannot run here. The same server has the provider's token endpoint,
  where the poller refreshes access tokens (``Dovecot.identity``).
"""

from __future__ import annotations

import contextlib
import imaplib
import json
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from imap_tools import MailBoxUnencrypted
from imap_tools.errors import MailboxFolderDeleteError

from sportello.core.testenv import wait_for

INSTALL_HINT = (
    "Dovecot is needed by the mail poller tests and is not installed. `make test` installs "
    "it (scripts/system-test-deps.sh, as root); or run: "
    "apt-get install -y dovecot-imapd dovecot-pop3d"
)

CONFIG = """\
protocols = imap pop3
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = yes
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
disable_plaintext_auth = no
auth_failure_delay = 0
auth_mechanisms = plain login xoauth2 oauthbearer
mail_max_userip_connections = 100
default_internal_user = {internal_user}
default_login_user = {login_user}
first_valid_uid = {first_valid_uid}
mail_location = maildir:{root}/mail/%u
pop3_uidl_format = %08Xu%08Xv

passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {root}/oauth2.conf
}}
passdb {{
  driver = passwd-file
  mechanisms = plain login
  args = scheme=PLAIN {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}

service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps}
    ssl = yes
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    address = 127.0.0.1
    port = {pop3}
  }}
  inet_listener pop3s {{
    address = 127.0.0.1
    port = {pop3s}
    ssl = yes
  }}
}}
"""

OAUTH2 = """\
introspection_mode = post
introspection_url = http://127.0.0.1:{port}/introspect
username_attribute = username
active_attribute = active
active_value = true
"""


@dataclass
class Dovecot:
    host: str
    imap_port: int
    imaps_port: int
    pop3_port: int
    pop3s_port: int
    root: Path
    cert: Path
    user: str = "test"
    password: str = "test"
    identity: IdentityProvider | None = None  # its token endpoint and what it was asked
    token: str = "ya29.test-access-token"  # what the identity provider accepts

    def imap(self) -> MailBoxUnencrypted:
        """A logged-in imap-tools client (use it in a ``with``)."""
        return MailBoxUnencrypted(self.host, self.imap_port, timeout=10).login(
            self.user, self.password, initial_folder=None
        )

    def append(self, raw: bytes, folder: str = "INBOX") -> int:
        """APPEND a message; return its UID (APPENDUID, RFC 4315)."""
        with self.imap() as client:
            if not client.folder.exists(folder):
                client.folder.create(folder)
            _, data = client.append(raw, folder)
        match = re.search(rb"APPENDUID \d+ (\d+)", data[0])
        assert match, data
        return int(match.group(1))

    def flags(self, folder: str = "INBOX") -> dict[int, set[str]]:
        """UID -> flags of every message in ``folder``."""
        with self.imap() as client:
            client.folder.set(folder)
            typ, data = client.client.uid("FETCH", "1:*", "(UID FLAGS)")
        result = {}
        for item in data:
            if not item:
                continue
            text = item.decode() if isinstance(item, bytes) else item[0].decode()
            uid = re.search(r"UID (\d+)", text)
            flags = re.search(r"FLAGS \(([^)]*)\)", text)
            if uid and flags:
                result[int(uid.group(1))] = set(flags.group(1).split())
        return result

    def uidvalidity(self, folder: str = "INBOX") -> int:
        with self.imap() as client:
            return int(client.folder.status(folder, ["UIDVALIDITY"])["UIDVALIDITY"])

    def empty(self) -> None:
        """Delete every message and every folder but INBOX."""
        with self.imap() as client:
            # Children first; a parent that only exists through its children (\NoSelect,
            # \NonExistent) disappears with them.
            for folder in sorted(client.folder.list(), key=lambda f: -len(f.name)):
                if folder.name != "INBOX":
                    with contextlib.suppress(MailboxFolderDeleteError):
                        client.folder.delete(folder.name)
            client.folder.set("INBOX")
            if client.uids("ALL"):
                client.client.uid("STORE", "1:*", "+FLAGS", r"(\Deleted)")
                client.client.expunge()

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""


def _free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


class IdentityProvider(ThreadingHTTPServer):
    """The identity provider's two endpoints, the piece that cannot run here.

    ``/introspect`` (RFC 7662), asked by Dovecot: ``token`` is active and belongs to
    ``user``. ``/token`` (RFC 6749 6), asked by the poller: a known refresh token of client
    ``client_id`` buys ``token`` and a rotated refresh token, as Microsoft's does; so does
    ``client_secret`` alone (client credentials, 4.4).
    """

    token: str
    user: str
    client_id = "sportello-test"
    client_secret = "app-secret"  # for the client-credentials grant
    refresh_tokens: set[str]
    token_requests: list[dict[str, str]]

    @property
    def token_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/token"


def _identity_provider(token: str, user: str) -> IdentityProvider:
    class Handler(BaseHTTPRequestHandler):
        server: IdentityProvider

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            if self.path == "/token":
                self.token(form)
            else:
                active = form.get("token") == self.server.token
                self.answer(
                    200, {"active": True, "username": user} if active else {"active": False}
                )

        def token(self, form: dict[str, str]) -> None:
            provider = self.server
            provider.token_requests.append(form)
            if form.get("grant_type") == "client_credentials":  # app-only, no rotation
                if form.get("client_secret") == provider.client_secret:
                    self.answer(200, {"access_token": provider.token, "expires_in": 3599})
                else:
                    self.answer(401, {"error": "invalid_client"})
                return
            known = form.get("refresh_token") in provider.refresh_tokens
            if (
                form.get("grant_type") != "refresh_token"
                or form.get("client_id") != provider.client_id
                or not known
            ):
                self.answer(
                    400,
                    {"error": "invalid_grant", "error_description": "AADSTS70000: token revoked"},
                )
                return
            rotated = f"refresh-{len(provider.token_requests) + 1}"
            provider.refresh_tokens.add(rotated)
            self.answer(
                200,
                {
                    "access_token": provider.token,
                    "token_type": "Bearer",
                    "expires_in": 3599,
                    "refresh_token": rotated,
                },
            )

        def answer(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format, *args):  # quiet
            pass

    server = IdentityProvider(("127.0.0.1", 0), Handler)
    server.token, server.user = token, user
    server.refresh_tokens, server.token_requests = {"refresh-1"}, []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _users() -> dict[str, object]:
    """Who Dovecot's processes run as: its own users as root, ourselves otherwise."""
    if os.geteuid() == 0:
        # TESTING.md: Dovecot refuses to run login and mail processes as root.
        try:
            dovecot = pwd.getpwnam("dovecot")
            pwd.getpwnam("dovenull")
        except KeyError:
            pytest.fail(f"The dovecot and dovenull users are missing. {INSTALL_HINT}")
        return {
            "internal_user": "dovecot",
            "login_user": "dovenull",
            "uid": dovecot.pw_uid,
            "gid": dovecot.pw_gid,
            "first_valid_uid": min(100, dovecot.pw_uid),
        }
    me = pwd.getpwuid(os.getuid())  # Dovecot's documented rootless set-up
    return {
        "internal_user": me.pw_name,
        "login_user": me.pw_name,
        "uid": me.pw_uid,
        "gid": me.pw_gid,
        "first_valid_uid": min(100, me.pw_uid),
    }


def _make_cert(root: Path) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.fail("openssl is needed for the test certificate: apt-get install -y openssl")
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout",
            str(root / "key.pem"),
            "-out",
            str(root / "cert.pem"),
        ],
        check=True,
        capture_output=True,
    )


def _wait_listening(ports: list[int], proc: subprocess.Popen, timeout: float = 60) -> bool:
    pending = list(ports)

    def listening() -> bool:
        if proc.poll() is not None:
            return True  # exited: the caller reports why
        while pending:
            with contextlib.closing(socket.socket()) as sock:
                sock.settimeout(0.5)
                if sock.connect_ex(("127.0.0.1", pending[0])) != 0:
                    return False
            pending.pop(0)
        return True

    try:
        wait_for(listening, what=f"Dovecot to listen on {ports}", timeout=timeout)
    except AssertionError:
        pass  # the caller says why, with Dovecot's log
    return not pending


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()  # Dovecot's master stops its children on SIGTERM
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def dovecot_server() -> Iterator[Dovecot]:
    binary = shutil.which("dovecot") or shutil.which("dovecot", path="/usr/sbin:/sbin")
    if binary is None:
        pytest.fail(INSTALL_HINT, pytrace=False)
    users = _users()
    # Every parent of the mail folder must be traversable by the dovecot user (TESTING.md),
    # which pytest's own tmp folders (mode 0700) are not.
    root = Path(tempfile.mkdtemp(prefix="sportello-dovecot-"))
    root.chmod(0o755)
    (root / "mail").mkdir()
    os.chown(root / "mail", users["uid"], users["gid"])
    (root / "passwd").write_text("test:{PLAIN}test\n")
    _make_cert(root)
    introspection = _identity_provider(Dovecot.token, "test")
    (root / "oauth2.conf").write_text(OAUTH2.format(port=introspection.server_address[1]))
    server = None
    proc = None
    try:
        for _attempt in range(3):  # a free port can be taken between the probe and the bind
            imap, imaps, pop3, pop3s = _free_ports(4)
            conf = root / "dovecot.conf"
            conf.write_text(
                CONFIG.format(root=root, imap=imap, imaps=imaps, pop3=pop3, pop3s=pop3s, **users)
            )
            # -F: in the foreground, our child, so that we (and nothing else) stop it.
            # Its output goes to a file: a pipe nobody reads would block it.
            with (root / "stderr.log").open("ab") as output:
                proc = subprocess.Popen(
                    [binary, "-F", "-c", str(conf)],
                    stdin=subprocess.DEVNULL,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                )
            if _wait_listening([imap, imaps, pop3, pop3s], proc):
                server = Dovecot(
                    host="127.0.0.1",
                    imap_port=imap,
                    imaps_port=imaps,
                    pop3_port=pop3,
                    pop3s_port=pop3s,
                    root=root,
                    cert=root / "cert.pem",
                    identity=introspection,
                )
                break
            _stop(proc)
        if server is None:
            output = (root / "stderr.log").read_text(errors="replace")
            log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
            pytest.fail(
                f"Dovecot did not start from {conf}:\n{output}\n{log}\n"
                f"(Both dovecot-imapd and dovecot-pop3d are needed.) {INSTALL_HINT}",
                pytrace=False,
            )
        yield server
    finally:
        if proc is not None:
            _stop(proc)
        introspection.shutdown()
        introspection.server_close()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def dovecot(dovecot_server: Dovecot) -> Dovecot:
    """The session's Dovecot, with user ``test``'s mailbox emptied and the identity
    provider's memory of refresh tokens and requests reset."""
    dovecot_server.empty()
    if dovecot_server.identity is not None:
        dovecot_server.identity.refresh_tokens = {"refresh-1"}
        dovecot_server.identity.token_requests = []
    return dovecot_server


def wire_bytes(raw: bytes) -> bytes:
    """What imaplib's APPEND sends for ``raw``: bare CR and LF become CRLF (RFC 3501 4.3)."""
    return imaplib.MapCRLF.sub(imaplib.CRLF, raw)
