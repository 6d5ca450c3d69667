"""Members voting from their phones through real HTTP, as many at once as wanted (the 300-voter
test and the ballot benchmark, against the Procfile's gunicorn).

A :class:`Member` carries the session cookie a member's browser holds once he has signed in and
opened his page of the assembly (signed with the server's SECRET_KEY: his user id and the CSRF
token the page's forms carry, as Flask-WTF makes them), signs in as present online and votes with
each of his rights; the answer's flash (in the session cookie the server sends back) says « Vote
enregistré … code de vérification : XXXX-XXXX-XXXX » or why the vote was refused.
"""
from __future__ import annotations

import http.client
import re
import secrets
import time
import urllib.parse

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer

# A loaded machine queues hundreds of requests on three workers: wait rather than fail.
TIMEOUT_S = 600
RECEIPT = re.compile(r"code de vérification : ([0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4})")


class Sessions:
    """Signs and reads session cookies as the server does (its SECRET_KEY)."""

    def __init__(self, secret_key):
        app = Flask(__name__)
        app.secret_key = secret_key
        self.serializer = SecureCookieSessionInterface().get_signing_serializer(app)
        self.csrf = URLSafeTimedSerializer(secret_key, salt="wtf-csrf-token")  # Flask-WTF's

    def signed_in(self, user_id):
        """(session cookie, CSRF token of the forms) of a member signed in whose page was opened."""
        raw = secrets.token_hex(20)
        return (self.serializer.dumps({"_user_id": str(user_id), "_fresh": True, "csrf_token": raw}),
                self.csrf.dumps(raw))

    def flashes(self, cookie):
        return [message for _category, message in self.serializer.loads(cookie).get("_flashes", [])]


class Member:
    """One member's browser on the server at 127.0.0.1:``port``."""

    def __init__(self, sessions, port, slug, assembly_id, user_id):
        self.sessions, self.port = sessions, port
        self.base = f"/o/{slug}/assemblies/mine/{assembly_id}"
        self.cookie, self.csrf = sessions.signed_in(user_id)
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT_S)

    def _request(self, method, path, form=None, keep_cookie=True):
        """(status, body, the session cookie sent back, milliseconds); keeps the cookie like a browser."""
        body = urllib.parse.urlencode(form) if form is not None else None
        headers = {"Cookie": f"session={self.cookie}"}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
        except (OSError, http.client.HTTPException):  # a closed keep-alive: once more on a new one
            self.connection.close()
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT_S)
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
        content = response.read()
        elapsed = (time.perf_counter() - started) * 1000
        cookie = self.cookie
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            if name.strip() == "session":
                cookie = rest.split(";", 1)[0]
        if keep_cookie:
            self.cookie = cookie
        return response.status, content, cookie, elapsed

    def page(self):
        """His page of the assembly (HTML)."""
        status, content, _, _ = self._request("GET", self.base)
        assert status == 200, (status, content[:300])
        return content.decode()

    def check_in(self):
        status, _, _, _ = self._request("POST", f"{self.base}/check-in", {"csrf_token": self.csrf})
        assert status == 302, status

    def vote(self, resolution_id, right_id, choice, keep_cookie=True):
        """(HTTP status, the answer's message, milliseconds); the message is the newest flash."""
        status, _, cookie, elapsed = self._request(
            "POST", f"{self.base}/resolutions/{resolution_id}/vote",
            {"csrf_token": self.csrf, "right": right_id, **({"choice": choice} if choice else {})}, keep_cookie)
        messages = self.sessions.flashes(cookie) if status == 302 else []
        return status, (messages[-1] if messages else ""), elapsed

    def close(self):
        self.connection.close()


def receipt_in(message):
    """The receipt code of a « Vote enregistré » message, or None."""
    found = RECEIPT.search(message)
    return found.group(1) if found else None
