#!/usr/bin/env bash
# Make sure PostgreSQL and Redis answer on 127.0.0.1; start them if they are
# installed here but stopped (commands from ../shared/domain/services.md).
# Exits non-zero with a clear message when a service cannot be had.
set -u

pg_ok() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
redis_ok() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

if ! pg_ok; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    echo "PostgreSQL is down: starting it."
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
    for _ in $(seq 1 20); do pg_ok && break; sleep 0.5; done
  fi
  pg_ok || { echo "ERROR: PostgreSQL does not answer on 127.0.0.1:5432 and could not be started. The test suite runs on PostgreSQL too: install and start it (trust auth, user postgres)." >&2; exit 1; }
fi

if ! redis_ok; then
  if command -v redis-server >/dev/null 2>&1; then
    echo "Redis is down: starting it."
    mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
    for _ in $(seq 1 20); do redis_ok && break; sleep 0.5; done
  fi
  redis_ok || { echo "ERROR: Redis does not answer on 127.0.0.1:6379 and could not be started. Job tests use a real Redis: install and start it." >&2; exit 1; }
fi
echo "PostgreSQL and Redis answer."
