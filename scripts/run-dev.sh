#!/usr/bin/env bash
# Start the web server and, when Redis answers, a worker; print where to go.
set -u
BIN=.venv/bin
PORT=${PORT:-5000}
# The Redis the application will use (REDIS_URL, else the local default) is the one asked.
if $BIN/python -c "import redis; redis.Redis.from_url('${REDIS_URL:-redis://127.0.0.1:6379/0}', socket_connect_timeout=1).ping()" 2>/dev/null; then
  PROCESSES="web worker scheduler"
  echo "Redis answers: documents and exports run in a separate worker; periodic jobs in the scheduler."
else
  export JOBS_INLINE=1
  PROCESSES="web"
  echo "WARNING: Redis does not answer: jobs (documents, exports) will run inside the web process, slowly. Start Redis for the real thing."
fi
cat <<MSG

  Maillage is starting on http://127.0.0.1:${PORT}/
  Sign in as the treasurer of the CPTS du Pays Blanc:
      tresorier@cpts-paysblanc.fr / demo-maillage-2026
  or as the administrator of both demo organisations:
      admin@maillage.demo / demo-maillage-2026
  Mails (sign-in links for members) land in http://127.0.0.1:${PORT}/dev/outbox/
  Stop with Ctrl-C.

MSG
export PORT
exec $BIN/honcho -f Procfile.dev start $PROCESSES
