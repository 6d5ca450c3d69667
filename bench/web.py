"""The Procfile's ``web`` process for benchmarks and tests that go through real HTTP.

``start_gunicorn(env, port, workers)`` runs it as production does (gunicorn, the production
settings from ``env``: DATABASE_URL, SECRET_KEY, REDIS_URL…) bound to loopback, and waits until it
answers; ``stop(process)`` ends it and its workers. ``browser_cookie`` keeps the session cookie a
browser would send next.
"""
from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def procfile_command(name):
    for line in (ROOT / "Procfile").read_text().splitlines():
        process, _, command = line.partition(":")
        if process.strip() == name:
            return command.strip()
    raise RuntimeError(f"no {name!r} process in the Procfile")


def start_gunicorn(env, port, workers):
    """The Procfile's web process, bound to loopback instead of every interface."""
    command = procfile_command("web").replace("0.0.0.0:$PORT", f"127.0.0.1:{port}")
    env = dict(env, PORT=str(port), MAILLAGE_ENV="production", MAIL_BACKEND="smtp",
               GUNICORN_CMD_ARGS="--log-level warning",
               PATH=f"{ROOT / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}")
    if workers:
        env["WEB_CONCURRENCY"] = str(workers)
    fd, log = tempfile.mkstemp(prefix="gunicorn-", suffix=".log")  # its errors, to say why it did not start
    with os.fdopen(fd, "wb") as errors:
        process = subprocess.Popen(["bash", "-c", f"exec {command}"], cwd=ROOT, env=env, start_new_session=True,
                                   stdout=subprocess.DEVNULL, stderr=errors)
    deadline = time.time() + 60
    while time.time() < deadline and process.poll() is None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            connection.request("GET", "/auth/login")
            if connection.getresponse().status < 500:
                os.unlink(log)  # gunicorn keeps writing to it, unnamed
                return process
        except OSError:
            time.sleep(0.3)
        finally:
            connection.close()
    stop(process)
    with open(log, encoding="utf-8", errors="replace") as errors:
        message = errors.read()[-3000:]
    os.unlink(log)
    raise RuntimeError("gunicorn did not start: " + message)


def stop(process):
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


def browser_cookie(response, cookie):
    """The session cookie a browser would send next, after ``response``."""
    for header in response.headers.get_all("Set-Cookie") or []:
        name, _, rest = header.partition("=")
        if name.strip() == "session":
            return rest.split(";", 1)[0]
    return cookie
