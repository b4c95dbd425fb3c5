#!/usr/bin/python3
"""A Standard Webhooks receiver for ewsd's tests, with scripted failures.

Prints "PORT <n>" as its first line on stdout once it listens (and writes n
to --port-file, if given, by an atomic rename). Every POST is
checked like a real receiver would (signature with any of the --secret values,
timestamp within 5 minutes): a bad one gets 401 and is not recorded. A request
answered 2xx is written to --out as one JSON file {id, timestamp, body,
headers, path} (written then renamed, so a reader never sees half a file).

Failure injection, applied in this order to verified requests:
  --reset-first N   close the first N connections without an answer (TCP reset)
  --delay S         wait S seconds before answering
  --gone            answer 410 to everything
  --echo            put the request's webhook-signature in the response body
  --raw-body TEXT   answer with TEXT (text/plain) instead of a JSON body
  --responses LIST  statuses for successive requests, e.g. "503,429:2,301,200";
                    "429:2" adds "Retry-After: 2"; a 3xx adds "Location: /moved".
                    Then 200, or the last status again with --sticky.
Standard library only; run with /usr/bin/python3.
"""

import argparse
import base64
import hashlib
import hmac
import http.server
import json
import os
import socket
import ssl
import struct
import sys
import threading
import time

import port_file  # tests/support/port_file.py

TOLERANCE_SECONDS = 5 * 60


def decode_secret(secret):
    if not secret.startswith("whsec_"):
        raise ValueError("secret must start with whsec_")
    return base64.b64decode(secret[len("whsec_"):] + "==")


def signature_ok(keys, msg_id, timestamp, body, header):
    signed = msg_id.encode() + b"." + timestamp.encode() + b"." + body
    expected = [base64.b64encode(hmac.new(k, signed, hashlib.sha256).digest()) for k in keys]
    for item in header.split(" "):
        version, _, sig = item.partition(",")
        if version != "v1":
            continue
        if any(hmac.compare_digest(e, sig.encode()) for e in expected):
            return True
    return False


def parse_responses(text):
    script = []
    for item in filter(None, (x.strip() for x in text.split(","))):
        status, _, retry_after = item.partition(":")
        script.append((int(status), retry_after or None))
    return script


class State:
    def __init__(self, args):
        self.args = args
        self.keys = [decode_secret(s) for s in args.secret]
        self.script = parse_responses(args.responses)
        self.lock = threading.Lock()
        self.requests = 0  # every request, for --reset-first
        self.answered = 0  # verified requests, for --responses
        self.recorded = 0

    def next_request(self):
        with self.lock:
            self.requests += 1
            return self.requests

    def next_response(self):
        with self.lock:
            index = self.answered
            self.answered += 1
        if self.args.gone:
            return 410, None
        if index < len(self.script):
            return self.script[index]
        if self.args.sticky and self.script:
            return self.script[-1]
        return 200, None

    def record(self, delivery):
        with self.lock:
            self.recorded += 1
            n = self.recorded
        name = os.path.join(self.args.out, "delivery-%04d.json" % n)
        tmp = name + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(delivery, f, indent=1, sort_keys=True)
        os.rename(tmp, name)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state = None  # set in main

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        if self.state.args.verbose:
            sys.stderr.write("webhook_server: %s\n" % (format % args))

    def do_POST(self):  # noqa: N802 - http.server's naming
        state = self.state
        number = state.next_request()
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if number <= state.args.reset_first:
            self.reset()
            return
        problem = self.verify(body)
        if problem:
            self.answer(401, None, {"error": problem})
            return
        status, retry_after = state.next_response()
        if state.args.delay > 0:
            time.sleep(state.args.delay)
        if 200 <= status < 300 and state.args.out:
            state.record({
                "id": self.headers["webhook-id"],
                "timestamp": int(self.headers["webhook-timestamp"]),
                "body": body.decode("utf-8", errors="replace"),
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "path": self.path,
            })
        message = {"status": status}
        if state.args.echo:
            message["echo"] = self.headers.get("webhook-signature")
        self.answer(status, retry_after, message)

    def verify(self, body):
        msg_id = self.headers.get("webhook-id")
        timestamp = self.headers.get("webhook-timestamp")
        signature = self.headers.get("webhook-signature")
        if not (msg_id and timestamp and signature):
            return "missing webhook headers"
        try:
            skew = abs(time.time() - int(timestamp))
        except ValueError:
            return "bad webhook-timestamp"
        if skew > TOLERANCE_SECONDS:
            return "webhook-timestamp too far from now"
        if self.state.keys and not signature_ok(self.state.keys, msg_id, timestamp, body, signature):
            return "no matching signature"
        return None

    def answer(self, status, retry_after, message):
        raw = self.state.args.raw_body
        payload = raw.encode() if raw is not None and status != 401 else json.dumps(message).encode()
        try:
            self.send_response(status)
            if retry_after is not None:
                self.send_header("Retry-After", retry_after)
            if 300 <= status < 400:
                self.send_header("Location", "/moved")
            self.send_header("Content-Type", "text/plain" if raw is not None else "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout test)
        self.close_connection = True

    def reset(self):
        # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--secret", action="append", default=[],
                        help="whsec_... to verify with (repeatable; none = no signature check)")
    parser.add_argument("--out", help="folder for the recorded deliveries")
    parser.add_argument("--responses", default="")
    parser.add_argument("--sticky", action="store_true")
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--reset-first", type=int, default=0)
    parser.add_argument("--gone", action="store_true")
    parser.add_argument("--echo", action="store_true")
    parser.add_argument("--raw-body")
    parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--port-file", help="also write the port here (atomic rename)")
    args = parser.parse_args()

    Handler.state = State(args)
    server = http.server.ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    if args.tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls[0], args.tls[1])
        server.socket = context.wrap_socket(server.socket, server_side=True)
    port_file.announce(server.server_address[1], args.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
