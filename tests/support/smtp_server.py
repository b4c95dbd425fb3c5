#!/usr/bin/python3
"""A real SMTP server for the notifier tests (Debian's python3-aiosmtpd).

Prints "PORT n" as its first stdout line once it listens (and writes n to
--port-file, if given, by an atomic rename). Each accepted message
is written to --maildir as NNNN.eml (the bytes received) and NNNN.json (the
envelope), each by an atomic rename, before the server answers 250.
"""

import argparse
import asyncio
import json
import logging
import os
import socket
import ssl
import struct
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

import port_file  # tests/support/port_file.py


class Handler:
    def __init__(self, args):
        self.args = args
        self.count = 0  # messages that reached the end of DATA

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        if self.args.delay:
            await asyncio.sleep(self.args.delay)
        if self.args.reset:
            sock = server.transport.get_extra_info("socket")
            if sock is not None:  # RST instead of FIN
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            server.transport.abort()
            await asyncio.sleep(3600)  # cancelled when aiosmtpd sees the connection lost
        if self.count <= self.args.fail_first:
            code = self.args.fail_code
            text = "4.3.0 Try again later" if code < 500 else "5.7.1 Message rejected"
            return f"{code} {text}"
        if self.args.maildir:
            self.store(session, envelope)
        return f"250 2.0.0 Ok: queued as {self.count:04d}"

    def store(self, session, envelope):
        base = os.path.join(self.args.maildir, f"{self.count:04d}")
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "authenticated": bool(session.authenticated),
            "tls": session.ssl is not None or self.args.implicit_tls,
        }
        for suffix, data in ((".eml", envelope.original_content),
                             (".json", json.dumps(meta).encode())):
            tmp = os.path.join(self.args.maildir, ".tmp" + suffix)
            with open(tmp, "wb") as out:
                out.write(data)
            os.rename(tmp, base + suffix)


def tls_context(args):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(args.cert, args.key)
    return context


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--implicit-tls", action="store_true")
    parser.add_argument("--auth", help="user:password; AUTH required (after TLS)")
    parser.add_argument("--port-file")
    parser.add_argument("--maildir")
    parser.add_argument("--fail-first", type=int, default=0)
    parser.add_argument("--fail-code", type=int, default=451)
    parser.add_argument("--delay", type=float, default=0)
    parser.add_argument("--reset", action="store_true")
    args = parser.parse_args()
    if bool(args.cert) != bool(args.key) or (args.implicit_tls and not args.cert):
        parser.error("--cert and --key go together; --implicit-tls needs them")

    user, password = (args.auth.split(":", 1) + [""])[:2] if args.auth else (None, None)

    def authenticator(server, session, envelope, mechanism, data):
        ok = isinstance(data, LoginPassword) and \
            data.login.decode() == user and data.password.decode() == password
        return AuthResult(success=ok, handled=False)

    logging.getLogger("mail.log").setLevel(logging.ERROR)  # aiosmtpd's own deprecation chatter
    handler = Handler(args)
    context = tls_context(args) if args.cert else None
    starttls = context if context and not args.implicit_tls else None

    def factory():
        return SMTP(handler,
                    hostname="localhost",
                    tls_context=starttls,
                    require_starttls=starttls is not None,
                    authenticator=authenticator if args.auth else None,
                    auth_required=bool(args.auth),
                    # aiosmtpd only knows STARTTLS; with implicit TLS all is encrypted.
                    auth_require_tls=not args.implicit_tls)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(loop.create_server(
        factory, host=args.host, port=args.port,
        ssl=context if args.implicit_tls else None))
    port = server.sockets[0].getsockname()[1]
    port_file.announce(port, args.port_file)
    try:
        loop.run_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
