#!/usr/bin/env bash
# Time `make run` on a fresh clone (virtualenv and install included) until the login page
# answers. Prints one JSON line. Uses a free port so it does not clash with a running copy.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d)
git clone -q "$src" "$dir/sportello"
cd "$dir/sportello"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
smtp_port=$(free_port)
start=$(date +%s.%N)
SPORTELLO_BIND=127.0.0.1:$port SPORTELLO_SMTP_BIND=127.0.0.1:$smtp_port setsid make run > "$dir/make-run.log" 2>&1 &
pid=$!
code=000
for _ in $(seq 600); do
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/admin/login/" || true)
  [ "$code" = 200 ] && break
  sleep 0.5
done
end=$(date +%s.%N)
kill -INT -- -"$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
[ "$code" = 200 ] || { echo "make run never served the login page; log: $dir/make-run.log" >&2; exit 1; }
echo "{\"bench\": \"make_run_fresh_clone\", \"seconds\": $(python3 -c "print(round($end - $start, 1))")}"
rm -rf "$dir"
