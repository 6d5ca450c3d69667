"""A local SMTP server that accepts everything and keeps it: for tests and benchmarks of delivery.

``with SmtpSink() as sink:`` listens on 127.0.0.1 (a free port, ``sink.port``) in a thread;
``sink.messages`` are the received ``email.message.EmailMessage`` objects and
``sink.connections`` counts the SMTP sessions opened. Just enough of RFC 5321 for ``smtplib``
(EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT, with SMTPUTF8); no TLS, no authentication.
"""
from __future__ import annotations

import email
import email.policy
import socketserver
import threading


class _Session(socketserver.StreamRequestHandler):
    def reply(self, line: str) -> None:
        self.wfile.write(line.encode("ascii") + b"\r\n")
        self.wfile.flush()

    def handle(self):
        sink: SmtpSink = self.server.sink
        with sink.lock:
            sink.connections += 1
        self.reply("220 puits.test ESMTP")
        while True:
            line = self.rfile.readline()
            if not line:
                return
            verb = line.decode("ascii", "replace").strip().split(" ", 1)[0].upper()
            if verb == "EHLO":
                self.reply("250-puits.test")
                self.reply("250-8BITMIME")
                self.reply("250 SMTPUTF8")  # as Postfix and Exim do: addresses with accents
            elif verb in ("HELO", "MAIL", "RCPT", "RSET", "NOOP"):
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 Fin par <CRLF>.<CRLF>")
                lines = []
                while (data := self.rfile.readline()) not in (b".\r\n", b""):
                    lines.append(data[1:] if data.startswith(b"..") else data)
                message = email.message_from_bytes(b"".join(lines), policy=email.policy.default)
                with sink.lock:
                    sink.messages.append(message)
                self.reply("250 OK queued")
            elif verb == "QUIT":
                self.reply("221 Au revoir")
                return
            else:
                self.reply("502 Command not implemented")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class SmtpSink:
    def __init__(self):
        self.messages: list = []
        self.connections = 0
        self.lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Session)
        self._server.sink = self
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="smtp-sink", daemon=True)

    def __enter__(self) -> SmtpSink:
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        return False

    def recipients(self) -> list[str]:
        with self.lock:
            return [message["To"] for message in self.messages]
