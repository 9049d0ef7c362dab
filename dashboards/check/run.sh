#!/usr/bin/env bash
# Checks the dashboards against a real Prometheus: starts `timsg serve`, drives every API,
# checks /metrics with promtool, starts Prometheus scraping the service, then evaluates every
# panel's PromQL. Needs target/debug/timsg (built by the tests) and Debian's prometheus.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

port=$((20000 + RANDOM % 20000))
prom_port=$((port + 1))
timsg=target/debug/timsg
RUST_LOG=warn "$timsg" serve --listen "127.0.0.1:$port" --data-dir "$work/data" --durability os 2>"$work/serve.log" &
pids+=($!)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done

python3 dashboards/check/drive.py "http://127.0.0.1:$port" \
    "$("$timsg" usersig --user alice --data-dir "$work/data")" \
    "$("$timsg" usersig --user bob --data-dir "$work/data")" "$work" >"$work/drive.log"

curl -sf "http://127.0.0.1:$port/metrics" >"$work/metrics.txt"
promtool check metrics <"$work/metrics.txt"
echo "promtool check metrics: ok ($(grep -c '^# HELP' "$work/metrics.txt") metrics described)"

sed "s/127.0.0.1:8080/127.0.0.1:$port/; s/scrape_interval: 5s/scrape_interval: 1s/" dashboards/prometheus.yml >"$work/prometheus.yml"
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/prom" \
    --web.listen-address="127.0.0.1:$prom_port" >"$work/prometheus.log" 2>&1 &
pids+=($!)
# A busy machine may take Prometheus a while to start: up to a minute, then a clear failure.
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$prom_port/-/ready" >/dev/null && break; sleep 0.2; done
if ! curl -sf "http://127.0.0.1:$prom_port/-/ready" >/dev/null; then
    echo "Prometheus did not become ready:" >&2
    tail -20 "$work/prometheus.log" >&2
    exit 1
fi
# Enough scrapes for rate() over the panels' windows.
for _ in $(seq 60); do
    n=$(curl -sf "http://127.0.0.1:$prom_port/api/v1/query?query=count(timsg_api_calls_total)" | python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else 0)' || echo 0)
    [ "${n%.*}" -gt 0 ] && break
    sleep 0.5
done
sleep 5
python3 dashboards/check/queries.py "http://127.0.0.1:$prom_port" dashboards/*.json
