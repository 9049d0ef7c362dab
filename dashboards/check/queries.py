#!/usr/bin/env python3
"""Evaluates every PromQL expression of every dashboard panel through the Prometheus HTTP API;
fails if one is invalid or returns no series.

usage: queries.py PROMETHEUS_URL DASHBOARD.json..."""
import json
import sys
import urllib.parse
import urllib.request

prom, files = sys.argv[1], sys.argv[2:]
failures = 0
checked = 0
for path in files:
    dashboard = json.load(open(path))
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            expr = target["expr"]
            url = f"{prom}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
            try:
                r = json.load(urllib.request.urlopen(url))
            except urllib.error.HTTPError as e:
                r = json.load(e)
            checked += 1
            if r.get("status") != "success":
                failures += 1
                print(f"INVALID {path} / {panel['title']}: {expr}: {r.get('error')}")
            elif not r["data"]["result"]:
                failures += 1
                print(f"NO SERIES {path} / {panel['title']}: {expr}")
print(f"{checked} dashboard queries checked, {failures} failed")
sys.exit(1 if failures else 0)
