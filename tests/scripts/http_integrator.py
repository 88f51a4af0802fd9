#!/usr/bin/env python3
"""An ERP integrator's client of the cosx HTTP/JSON face, with nothing but
Python's standard library (http.client + ssl): the party's certificate is
the only credential. It drives a repair order through its whole lifecycle
and checks what an integration suite relies on: AIP-193 errors naming
every bad field, 409/412 on a stale version, the same answer to a replayed
request id, 404 for another party's order (the same as a missing one),
the feed as NDJSON, and that every path of the OpenAPI document answers.

Usage: http_integrator.py --url https://127.0.0.1:PORT --ca CA --pki DIR --order ORDER.json
where DIR holds <party>.pem / <party>.key for the parties named below.
Exits non-zero on the first failed check, printing what failed.
"""
import argparse
import http.client
import json
import ssl
import sys
import urllib.parse

ORIGINATOR = "US-USAF-OOALC"
PROVIDER = "JPN-MHI-KOMAKI"
OUTSIDER = "KOR-KAI-SACHEON"
COORDINATOR = "US-INDOPACOM-J4"


class Party:
    def __init__(self, url, ca, pki, party):
        u = urllib.parse.urlparse(url)
        self.host, self.port = u.hostname, u.port
        ctx = ssl.create_default_context(cafile=ca)
        ctx.check_hostname = False  # the test server's certificate names localhost
        ctx.load_cert_chain(f"{pki}/{party}.pem", f"{pki}/{party}.key")
        self.ctx = ctx
        self.party = party

    def call(self, method, path, body=None, headers=None, raw=None):
        conn = http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=30)
        h = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        if raw is not None:
            data = raw
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        conn.request(method, path, body=data, headers=h)
        r = conn.getresponse()
        text = r.read().decode()
        conn.close()
        try:
            doc = json.loads(text) if text else {}
        except json.JSONDecodeError:
            doc = {"_raw": text}
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), doc


def check(cond, what, *context):
    if not cond:
        print("FAILED:", what, *context, file=sys.stderr)
        sys.exit(1)
    print("ok:", what)


def fields_of(doc):
    out = []
    for d in doc.get("error", {}).get("details", []):
        for v in d.get("fieldViolations", []):
            out.append(v["field"])
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--pki", required=True)
    ap.add_argument("--order", required=True)
    a = ap.parse_args()
    usaf, mhi, kai, j4 = (Party(a.url, a.ca, a.pki, p) for p in (ORIGINATOR, PROVIDER, OUTSIDER, COORDINATOR))
    order = json.load(open(a.order))

    # A bad request names every bad field, in the body's own names, and stores nothing.
    bad = dict(order, quantity=0, requiredBy="31/03/2027")
    s, _, doc = usaf.call("POST", "/v1/repairOrders", bad)
    check(s == 400 and doc["error"]["status"] == "INVALID_ARGUMENT", "a bad order is 400 INVALID_ARGUMENT", s, doc)
    named = fields_of(doc)
    check(any("quantity" in f for f in named) and any("requiredBy" in f for f in named),
          "every bad field is named", named)
    s, _, doc = usaf.call("POST", "/v1/repairOrders", dict(order, colour="red"))
    check(s == 400 and "repairOrder.colour" in fields_of(doc), "an unknown field is refused by name", s, doc)
    s, _, doc = usaf.call("POST", "/v1/repairOrders", raw=b"{not json")
    check(s == 400, "a body that is not JSON is 400", s, doc)

    # Create with an idempotency key; the replay gets the same answer.
    s, h, created = usaf.call("POST", "/v1/repairOrders", order, {"Idempotency-Key": "erp-po-4711"})
    check(s == 200 and created["name"].startswith("repairOrders/"), "create answers the stored order", s, created)
    check(h.get("etag") == '"1"', "the answer carries the version as ETag", h.get("etag"))
    s, _, again = usaf.call("POST", "/v1/repairOrders", order, {"Idempotency-Key": "erp-po-4711"})
    check(s == 200 and again["name"] == created["name"], "a replayed request id returns the first answer", again)
    changed = dict(order, quantity=order["quantity"] + 1)
    s, _, doc = usaf.call("POST", "/v1/repairOrders", changed, {"Idempotency-Key": "erp-po-4711"})
    check(s == 409 and doc["error"]["status"] == "ALREADY_EXISTS", "the same key with another payload is 409", s, doc)
    name = created["name"]

    # Reads: own order, list with a filter, another party's order is 404 like a missing one.
    s, h, got = usaf.call("GET", f"/v1/{name}")
    check(s == 200 and got["name"] == name, "the originator reads its order", s)
    s, _, listed = usaf.call("GET", "/v1/repairOrders?pageSize=10&state=REPAIR_ORDER_STATE_SUBMITTED")
    check(s == 200 and any(o["name"] == name for o in listed.get("repairOrders", [])), "list filters by state", listed)
    s, _, doc = usaf.call("GET", "/v1/repairOrders?pageSize=10&colour=red")
    check(s == 400 and "colour" in fields_of(doc), "an unknown query parameter is refused by name", s, doc)
    s_other, _, doc_other = kai.call("GET", f"/v1/{name}")
    s_missing, _, doc_missing = kai.call("GET", "/v1/repairOrders/no-such-order")
    check(s_other == 404 and s_missing == 404, "another party's order is 404, as a missing one", s_other, s_missing)
    check(doc_other["error"]["status"] == doc_missing["error"]["status"] == "NOT_FOUND", "both say NOT_FOUND")

    # The lifecycle, with optimistic concurrency by If-Match.
    s, h, o = j4.call("POST", f"/v1/{name}:transition",
                      {"version": "1", "action": "REPAIR_ORDER_ACTION_PROPOSE", "provider": PROVIDER})
    check(s == 200 and o["state"] == "REPAIR_ORDER_STATE_PROPOSED", "the coordinator proposes", s, o)
    s, _, doc = mhi.call("POST", f"/v1/{name}:transition", {"action": "REPAIR_ORDER_ACTION_ACCEPT"},
                         {"If-Match": '"1"'})
    check(s == 412 and doc["error"]["status"] == "ABORTED", "a stale If-Match is 412", s, doc)
    s, _, doc = mhi.call("POST", f"/v1/{name}:transition", {"version": "1", "action": "REPAIR_ORDER_ACTION_ACCEPT"})
    check(s == 409 and doc["error"]["status"] == "ABORTED", "a stale version in the body is 409 ABORTED", s, doc)
    s, _, doc = kai.call("POST", f"/v1/{name}:transition", {"version": o["version"], "action": "REPAIR_ORDER_ACTION_ACCEPT"})
    check(s == 404, "an outsider cannot step another party's order (404)", s, doc)
    steps = [
        (mhi, "REPAIR_ORDER_ACTION_ACCEPT", {}),
        (mhi, "REPAIR_ORDER_ACTION_INDUCT", {"progress": {"inductionDate": "2027-01-10", "estimatedCompletionDate": "2027-02-20"}}),
        (mhi, "REPAIR_ORDER_ACTION_START_WORK", {}),
        (mhi, "REPAIR_ORDER_ACTION_COMPLETE", {"progress": {"actualCompletionDate": "2027-02-18", "actualLaborHours": 455.5}}),
        (mhi, "REPAIR_ORDER_ACTION_SHIP", {}),
        (usaf, "REPAIR_ORDER_ACTION_CLOSE", {}),
    ]
    for who, action, extra in steps:
        last = (dict({"action": action}, **extra), {"If-Match": h["etag"], "Idempotency-Key": f"{name}-{action}"})
        s, h, o = who.call("POST", f"/v1/{name}:transition", *last)
        check(s == 200, f"{who.party} {action}", s, o)
    check(o["state"] == "REPAIR_ORDER_STATE_CLOSED", "the order is closed", o["state"])
    s, _, replay = usaf.call("POST", f"/v1/{name}:transition", *last)
    check(s == 200 and replay["version"] == o["version"], "a replayed step returns the order as it left it", s, replay)
    s, _, hist = usaf.call("GET", f"/v1/{name}:history")
    check(s == 200 and len(hist.get("transitions", [])) >= 7, "history holds every step", len(hist.get("transitions", [])))

    # The feed as NDJSON: the originator sees its order's events, the outsider does not.
    def events(who):
        conn = http.client.HTTPSConnection(who.host, who.port, context=who.ctx, timeout=2)
        conn.request("GET", "/v1/events?afterSequence=0&kinds=EVENT_KIND_REPAIR_ORDER_CREATED")
        r = conn.getresponse()
        assert r.status == 200, r.status
        seen = []
        try:
            while True:
                line = r.readline()
                if not line:
                    break
                ev = json.loads(line)
                seen.append(ev)
        except (TimeoutError, OSError):
            pass
        conn.close()
        return seen
    mine = events(usaf)
    check(any(e.get("repairOrder", {}).get("name") == name for e in mine), "the feed streams the order's events", len(mine))
    check(all(int(a["sequence"]) < int(b["sequence"]) for a, b in zip(mine, mine[1:])), "in sequence order")
    theirs = events(kai)
    check(not any(e.get("repairOrder", {}).get("name") == name for e in theirs), "an outsider's feed holds none of it")

    # The OpenAPI document: served, and every documented path answers (none is 404 "no method").
    s, _, spec = usaf.call("GET", "/v1/openapi.json")
    check(s == 200 and spec.get("openapi", "").startswith("3.1"), "the OpenAPI document is served", s)
    unanswered = []
    for path, ops in spec["paths"].items():
        concrete = path.replace("{name}", "x").replace("{capacity_offer.name}", "x")
        for verb in ops:
            if "events" in path or "ingest" in path:
                continue
            s, _, doc = j4.call(verb.upper(), concrete, {} if verb != "get" else None)
            if s == 404 and "no cosx.v1 method" in doc.get("error", {}).get("message", ""):
                unanswered.append(f"{verb} {path}")
            if s >= 500 and s != 501:
                unanswered.append(f"{verb} {path}: {s} {doc}")
    check(not unanswered, "every documented path answers", unanswered)
    print("all checks passed")


if __name__ == "__main__":
    main()
