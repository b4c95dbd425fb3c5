#!/usr/bin/python3
"""A fake Ed-Fi ODS/API for ewsd's tests: OAuth, resources, deletes, change queries.

Follows the published OpenAPI (resources-ds-4.0/5.0, change-queries-api-1.0.0)
and the ODS/API's behaviour where the specifications are silent. Prints
"PORT <n>" once it listens (and writes n to --port-file by an atomic rename).

Data: --data DIR holds <resource>.json files, each a JSON array of records
with an "id". At start every record gets a change version 1..N in file order
(files sorted by name); every later mutation takes the next version.

Ed-Fi routes (root /api; with --year Y the data and change-query routes carry
the year, /api/data/v3/Y/ed-fi/..., and the routes without it answer 404):
  POST /api/oauth/token                          client credentials (HTTP Basic
                                                 key:secret, or client_id and
                                                 client_secret in the body)
  GET  /api/data/v3/ed-fi/<resource>             offset, limit (0..500, default
                                                 25), minChangeVersion,
                                                 maxChangeVersion, totalCount
  GET  /api/data/v3/ed-fi/<resource>/deletes     the same parameters
  GET  /api/changeQueries/v1/availableChangeVersions
  GET  /api                                      discovery (version, urls)
Items come in the order they were first stored (the ODS's aggregate id order).
Other query parameters (the ODS's "get by example") are not supported: ignored.

Test control (not Ed-Fi, no token needed):
  POST /_control/upsert/<resource>       body: one record with "id" (replaced
                                         in place, or appended)
  POST /_control/delete/<resource>/<id>  removed; listed under /deletes
  POST /_control/expire-tokens           every token issued so far gets 401
  POST /_control/fail    {"status": 503, "count": 2, "path_contains": "grades",
                          "retry_after": 1, "body": "..."}: the next `count`
                         matching requests get that answer. Without
                         path_contains only data and change-query requests
                         match; with it, any Ed-Fi request whose path contains
                         it (also /api/oauth/token).
  POST /_control/hang    {"seconds": 5, "count": 1, "path_contains": "..."}: the
                         next `count` matching requests wait first
  GET  /_control/requests  the Ed-Fi requests so far: [{method, path, query,
                           status, authorized}]; `authorized` = a valid bearer
                           token came with the request
  --fail-every N         every Nth data request answers 503
  --log FILE             appends each Ed-Fi request to FILE as one JSON line
Standard library only; run with /usr/bin/python3.
"""

import argparse
import base64
import binascii
import datetime
import http.server
import json
import os
import re
import secrets
import sys
import threading
import time
import urllib.parse

import port_file  # tests/support/port_file.py

MAX_LIMIT = 500
DEFAULT_LIMIT = 25
RESOURCE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")
METADATA = ("_etag", "_lastModifiedDate", "link")


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def problem(status, type_, title, detail, errors=None):
    """An ODS/API 7 problem-details body."""
    body = {"detail": detail, "type": type_, "title": title, "status": status,
            "correlationId": secrets.token_hex(8)}
    if errors:
        body["errors"] = errors
    return body


def not_found():
    return problem(404, "urn:ed-fi:api:not-found", "Not Found",
                   "The specified data could not be found.")


def bad_parameter(message):
    return problem(400, "urn:ed-fi:api:bad-request:parameter", "Parameter Validation Failed",
                   "The request contained one or more invalid parameter values.", [message])


def key_values(record):
    """The record's identifying fields as the ODS lists them for a delete: here its
    top-level scalars and the scalars of its references, flattened."""
    values = {}
    for name, value in record.items():
        if name == "id" or name in METADATA:
            continue
        if isinstance(value, (str, int, float, bool)):
            values[name] = value
        elif isinstance(value, dict) and name.endswith("Reference"):
            for inner, v in value.items():
                if inner not in METADATA and isinstance(v, (str, int, float, bool)):
                    values.setdefault(inner, v)
    return values


class Stored:
    """One stored record: its position (insertion order) and change version."""

    def __init__(self, sequence, change_version, record):
        self.sequence = sequence
        self.change_version = change_version
        self.record = record


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.change_version = 0
        self.sequence = 0
        self.resources = {}  # name -> {id: Stored}
        self.deletes = {}  # name -> [{"id", "changeVersion", "keyValues"}]
        self.tokens = {}  # token -> expiry (time.monotonic())
        self.fail_rules = []
        self.hang_rules = []
        self.data_requests = 0
        self.requests = []
        # (resource, deletes, low, high) -> the matching records in order, kept
        # until the next change: paging through a resource stays linear.
        self.listings = {}
        if args.data:
            self.load(args.data)

    def load(self, folder):
        for name in sorted(os.listdir(folder)):
            resource, ext = os.path.splitext(name)
            if ext != ".json" or not RESOURCE_NAME.match(resource):
                continue
            with open(os.path.join(folder, name), encoding="utf-8") as f:
                records = json.load(f)
            if not isinstance(records, list):
                raise SystemExit("%s: expected a JSON array of records" % name)
            self.resources.setdefault(resource, {})
            self.deletes.setdefault(resource, [])
            for record in records:
                if not isinstance(record, dict) or not isinstance(record.get("id"), str):
                    raise SystemExit("%s: every record needs a string \"id\"" % name)
                self.store(resource, record)

    # The caller holds the lock (or is still single-threaded, in load).
    def store(self, resource, record):
        record = dict(record)
        self.listings.clear()
        self.change_version += 1
        record.setdefault("_etag", str(secrets.randbits(62)))
        record.setdefault("_lastModifiedDate", now_iso())
        table = self.resources.setdefault(resource, {})
        self.deletes.setdefault(resource, [])
        old = table.get(record["id"])
        if old is not None:
            old.change_version = self.change_version
            old.record = record
        else:
            self.sequence += 1
            table[record["id"]] = Stored(self.sequence, self.change_version, record)
        return self.change_version

    def upsert(self, resource, record):
        with self.lock:
            return self.store(resource, record)

    def delete(self, resource, record_id):
        with self.lock:
            stored = self.resources.get(resource, {}).pop(record_id, None)
            if stored is None:
                return None
            self.listings.clear()
            self.change_version += 1
            self.deletes[resource].append({"id": record_id, "changeVersion": self.change_version,
                                           "keyValues": key_values(stored.record)})
            return self.change_version

    def issue_token(self):
        token = secrets.token_hex(16)
        with self.lock:
            self.tokens[token] = time.monotonic() + self.args.token_ttl
        return token

    def token_valid(self, token):
        with self.lock:
            expiry = self.tokens.get(token)
            return expiry is not None and time.monotonic() < expiry

    def expire_tokens(self):
        with self.lock:
            for token in self.tokens:
                self.tokens[token] = 0.0

    def take_rule(self, rules, path, is_data):
        with self.lock:
            for rule in rules:
                wanted = rule.get("path_contains")
                matches = (wanted in path) if wanted else is_data
                if matches and rule["count"] > 0:
                    rule["count"] -= 1
                    return dict(rule)
        return None

    def fail_every_due(self):
        with self.lock:
            self.data_requests += 1
            n = self.args.fail_every
            return n > 0 and self.data_requests % n == 0

    def record(self, entry):
        with self.lock:
            self.requests.append(entry)
            if self.args.log:
                with open(self.args.log, "a", encoding="utf-8") as f:
                    f.write(json.dumps(entry, sort_keys=True) + "\n")

    def page(self, resource, query, deletes):
        """(status, body, total) for a resource or its deletes."""
        try:
            offset = int(query.get("offset", "0"))
        except ValueError:
            return 400, bad_parameter("Offset must be a numeric value greater than or equal to 0."), None
        try:
            limit = int(query.get("limit", str(DEFAULT_LIMIT)))
        except ValueError:
            limit = -1
        if offset < 0:
            return 400, bad_parameter("Offset must be a numeric value greater than or equal to 0."), None
        if limit < 0 or limit > MAX_LIMIT:
            return 400, bad_parameter(
                "Limit must be omitted or set to a numeric value between 0 and %d." % MAX_LIMIT), None
        bounds = []
        for name in ("minChangeVersion", "maxChangeVersion"):
            try:
                bounds.append(int(query[name]) if name in query else None)
            except ValueError:
                return 400, bad_parameter("%s must be a numeric value." % name), None
        low, high = bounds

        def in_range(version):
            return (low is None or version >= low) and (high is None or version <= high)

        with self.lock:
            if resource not in self.resources:
                return 404, not_found(), None
            key = (resource, deletes, low, high)
            items = self.listings.get(key)
            if items is None:
                # Records are replaced, never changed in place: sharing them is safe.
                if deletes:
                    items = [d for d in self.deletes[resource] if in_range(d["changeVersion"])]
                else:
                    stored = sorted(self.resources[resource].values(), key=lambda s: s.sequence)
                    items = [s.record for s in stored if in_range(s.change_version)]
                self.listings[key] = items
        return 200, items[offset:offset + limit], len(items)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two sends: without TCP_NODELAY a small answer
    # waits ~40 ms for the client's delayed ACK.
    disable_nagle_algorithm = True
    state = None  # set in main

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        if self.state.args.verbose:
            sys.stderr.write("edfi_server: %s\n" % (format % args))

    # ---- dispatch ----

    def do_GET(self):  # noqa: N802 - http.server's naming
        self.dispatch("GET")

    def do_POST(self):  # noqa: N802
        self.dispatch("POST")

    def do_PUT(self):  # noqa: N802
        self.dispatch("PUT")

    def do_DELETE(self):  # noqa: N802
        self.dispatch("DELETE")

    def dispatch(self, method):
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        length = int(self.headers.get("Content-Length", "0") or "0")
        body = self.rfile.read(length) if length > 0 else b""
        self.entry = None
        if path.startswith("/_control/"):
            self.control(method, path, body)
            return
        authorized = self.bearer_valid()
        # Recorded as the answer goes out (send_raw), not after: a client may
        # ask /_control/requests the moment it has its answer.
        self.entry = {"method": method, "path": path, "query": query, "authorized": authorized}
        self.edfi(method, path, query, body, authorized)

    def bearer_valid(self):
        header = self.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        return scheme.lower() == "bearer" and self.state.token_valid(token.strip())

    def edfi(self, method, path, query, body, authorized):
        """Answers an Ed-Fi request; returns the status sent."""
        state = self.state
        year = state.args.year
        data_prefix = "/api/data/v3/%s/ed-fi/" % year if year else "/api/data/v3/ed-fi/"
        change_path = ("/api/changeQueries/v1/%s/availableChangeVersions" % year if year
                       else "/api/changeQueries/v1/availableChangeVersions")
        is_data = path.startswith(data_prefix)
        is_change = path == change_path

        hang = state.take_rule(state.hang_rules, path, is_data or is_change)
        if hang:
            time.sleep(float(hang.get("seconds", 1)))
        fail = state.take_rule(state.fail_rules, path, is_data or is_change)
        if fail:
            return self.scripted(fail)
        if is_data and state.fail_every_due():
            return self.send_json(503, {"message": "The service is temporarily unavailable."})

        if path == "/api/oauth/token" and method == "POST":
            return self.token(body)
        if path in ("/api", "/api/") and method == "GET":
            return self.send_json(200, self.discovery())
        if not (is_data or is_change):
            return self.send_json(404, not_found())
        if method != "GET":
            return self.send_json(405, problem(405, "urn:ed-fi:api:method-not-allowed",
                                               "Method Not Allowed",
                                               "The fake ODS/API only serves GET."))
        if not authorized:
            return self.send_json(401, problem(
                401, "urn:ed-fi:api:security:authentication", "Authentication Failed",
                "The caller could not be authenticated.",
                ["Authorization denied. The access token is expired or invalid."]),
                {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        if is_change:
            with state.lock:
                newest = state.change_version
            return self.send_json(200, {"oldestChangeVersion": 0, "newestChangeVersion": newest})

        parts = path[len(data_prefix):].split("/")
        if len(parts) == 1:
            deletes = False
        elif len(parts) == 2 and parts[1] == "deletes":
            deletes = True
        else:
            return self.send_json(404, not_found())
        status, items, total = state.page(parts[0], query, deletes)
        headers = {}
        if status == 200 and query.get("totalCount", "").lower() == "true":
            headers["Total-Count"] = str(total)
        return self.send_json(status, items, headers)

    def token(self, body):
        key, secret = None, None
        header = self.headers.get("Authorization", "")
        if header.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
                key, _, secret = decoded.partition(":")
            except (binascii.Error, UnicodeDecodeError):
                pass
        content_type = self.headers.get("Content-Type", "")
        try:
            if content_type.startswith("application/json"):
                form = {k: str(v) for k, v in json.loads(body or b"{}").items()}
            else:
                form = dict(urllib.parse.parse_qsl(body.decode("utf-8")))
        except (ValueError, AttributeError):
            return self.send_json(400, {"error": "invalid_request"})
        if key is None:
            key, secret = form.get("client_id"), form.get("client_secret")
        args = self.state.args
        if key != args.key or secret != args.secret:
            return self.send_json(401, {"error": "invalid_client"})
        if form.get("grant_type") != "client_credentials":
            return self.send_json(400, {"error": "unsupported_grant_type"})
        return self.send_json(200, {"access_token": self.state.issue_token(),
                                    "expires_in": args.token_ttl, "token_type": "bearer"})

    def discovery(self):
        base = "http://%s:%d/api" % self.server.server_address[:2]
        year = "%s/" % self.state.args.year if self.state.args.year else ""
        return {"version": "7.3", "apiMode": "Year Specific" if year else "Shared Instance",
                "dataModels": [{"name": "Ed-Fi", "version": self.state.args.data_model}],
                "urls": {"dataManagementApi": base + "/data/v3/" + year,
                         "oauth": base + "/oauth/token",
                         "changeQueries": base + "/changeQueries/v1/" + year}}

    def scripted(self, rule):
        status = int(rule.get("status", 503))
        headers = {}
        if rule.get("retry_after") is not None:
            headers["Retry-After"] = str(rule["retry_after"])
        body = rule.get("body")
        if body is None:
            return self.send_json(status, {"message": "Scripted failure %d." % status}, headers)
        return self.send_raw(status, body.encode("utf-8"), "application/json", headers)

    # ---- control ----

    def control(self, method, path, body):
        state = self.state
        parts = path.split("/")[2:]
        try:
            payload = json.loads(body) if body else {}
        except ValueError:
            self.send_json(400, {"error": "body is not JSON"})
            return
        if method == "GET" and parts == ["requests"]:
            with state.lock:
                self.send_json(200, list(state.requests))
            return
        if method != "POST":
            self.send_json(405, {"error": "control routes take POST"})
            return
        if len(parts) == 2 and parts[0] == "upsert" and RESOURCE_NAME.match(parts[1]):
            if not isinstance(payload, dict) or not isinstance(payload.get("id"), str):
                self.send_json(400, {"error": "the record needs a string \"id\""})
                return
            self.send_json(200, {"changeVersion": state.upsert(parts[1], payload)})
        elif len(parts) == 3 and parts[0] == "delete":
            version = state.delete(parts[1], urllib.parse.unquote(parts[2]))
            if version is None:
                self.send_json(404, {"error": "no such record"})
            else:
                self.send_json(200, {"changeVersion": version})
        elif parts == ["expire-tokens"]:
            state.expire_tokens()
            self.send_json(200, {})
        elif parts in (["fail"], ["hang"]):
            rule = dict(payload)
            rule["count"] = int(rule.get("count", 1))
            with state.lock:
                (state.fail_rules if parts == ["fail"] else state.hang_rules).append(rule)
            self.send_json(200, {})
        else:
            self.send_json(404, {"error": "unknown control route"})

    # ---- answers ----

    def send_json(self, status, payload, headers=None):
        return self.send_raw(status, json.dumps(payload).encode("utf-8"), "application/json",
                             headers)

    def send_raw(self, status, payload, content_type, headers=None):
        entry = getattr(self, "entry", None)
        if entry is not None:
            entry["status"] = status
            self.state.record(entry)
            self.entry = None
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type + "; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (timeout and stop tests)
        return status


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file", help="also write the port here (atomic rename)")
    parser.add_argument("--data", help="folder of <resource>.json files")
    parser.add_argument("--key", default="ewsd")
    parser.add_argument("--secret", default="ewsd-secret")
    parser.add_argument("--token-ttl", type=int, default=1800, help="seconds")
    parser.add_argument("--year", help="serve year-specific routes for this school year")
    parser.add_argument("--data-model", default="5.0.0", help="the Ed-Fi version in discovery")
    parser.add_argument("--fail-every", type=int, default=0)
    parser.add_argument("--log", help="append one JSON line per Ed-Fi request")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()

    Handler.state = State(args)
    server = http.server.ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    port_file.announce(server.server_address[1], args.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
