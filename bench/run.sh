#!/usr/bin/env bash
# Run every benchmark; each prints one JSON line, collected in bench/results/latest.jsonl.
# Needs PostgreSQL on 127.0.0.1:5432 (trust auth) for the PostgreSQL figures.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
mkdir -p bench/results
out=bench/results/latest.jsonl
: > "$out"
pg() { psql -h 127.0.0.1 -U postgres -d postgres -q -c "$1"; }

echo "== machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -m)"

echo "== tickets created per second (service layer)"
$PY bench/bench_ticket_create.py 3000 | tee -a "$out"
pg "DROP DATABASE IF EXISTS sportello_bench" && pg "CREATE DATABASE sportello_bench"
DATABASE_URL=postgres://postgres@127.0.0.1/sportello_bench $PY bench/bench_ticket_create.py 3000 | tee -a "$out"
echo "== the same, two processes at once (web and mail workers)"
$PY bench/bench_ticket_create.py 3000 2 | tee -a "$out"
pg "DROP DATABASE IF EXISTS sportello_bench" && pg "CREATE DATABASE sportello_bench"
DATABASE_URL=postgres://postgres@127.0.0.1/sportello_bench $PY bench/bench_ticket_create.py 3000 2 | tee -a "$out"

echo "== reply folding: tickets/quotes.py against mail-parser-reply (labelled corpus and replies)"
$PY bench/compare_reply_folding.py --json | tee -a "$out"

echo "== mail intake on SQLite (files and SMTP receiver); PostgreSQL below"
$PY bench/bench_mail_ingest.py | tee -a "$out"

echo "== bench-data --tickets ${BENCH_TICKETS:=100000} on PostgreSQL"
pg "DROP DATABASE IF EXISTS sportello_bench_data" && pg "CREATE DATABASE sportello_bench_data"
export DATABASE_URL=postgres://postgres@127.0.0.1/sportello_bench_data
data=$(mktemp -d)
SPORTELLO_DATA_DIR=$data .venv/bin/sportello migrate -v0
start=$(date +%s.%N)
SPORTELLO_DATA_DIR=$data .venv/bin/sportello bench-data --tickets "$BENCH_TICKETS" --no-progress
end=$(date +%s.%N)
echo "{\"bench\": \"bench_data\", \"database\": \"postgresql\", \"tickets\": $BENCH_TICKETS, \"seconds\": $(python3 -c "print(round($end - $start, 1))")}" | tee -a "$out"
for extra in bench/bench_*.py; do
  case "$extra" in bench/bench_ticket_create.py) continue ;; esac
  echo "== $extra"
  SPORTELLO_DATA_DIR=$data $PY "$extra" | tee -a "$out"
done
unset DATABASE_URL

echo "== make run on a fresh clone, to a served login page"
bash bench/make_run_fresh.sh | tee -a "$out"
