#!/usr/bin/python3
"""A fake of Supabase Auth's token endpoint for the buyer page's live-mode sign-in
(test/e2e/web_test.sh): POST /auth/v1/token?grant_type=password|refresh_token,
answered with HS256 access tokens signed with the shim's secret. Needs the anon
key in the `apikey` header, and answers the browser's CORS preflight.
GET /__count answers how many grants of each kind it gave.

Usage: fake_auth.py --secret SECRET --anon-key KEY --email E --password P
Prints "listening on 127.0.0.1:PORT" once ready (port 0: any free port).
"""
import argparse
import base64
import hashlib
import hmac
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

USER_ID = "7e57a11c-0000-4000-8000-00000000a11c"
TTL = 65  # seconds: the page renews a minute before expiry, so within about 5 s


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Handler(BaseHTTPRequestHandler):
    counts = {"password": 0, "refresh_token": 0}
    refresh = set()
    lock = threading.Lock()

    def log_message(self, *args):  # quiet
        pass

    def cors(self):
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Allow-Headers", "apikey, content-type, authorization")
        self.send_header("Access-Control-Allow-Methods", "POST, OPTIONS")

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.cors()
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_OPTIONS(self):
        self.send_response(204)
        self.cors()
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        if self.path == "/__count":
            return self.answer(200, self.counts)
        self.answer(404, {"error": "not found"})

    def token(self, email):
        now = int(time.time())
        claims = {"sub": USER_ID, "aud": "authenticated", "role": "authenticated", "email": email,
                  "iss": ARGS.url + "/auth/v1", "iat": now, "exp": now + TTL}
        head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        body = b64(json.dumps(claims).encode())
        sig = b64(hmac.new(ARGS.secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest())
        refresh = b64(hashlib.sha256(f"{now}{time.monotonic()}".encode()).digest())[:20]
        with self.lock:
            self.refresh.add(refresh)
        return {"access_token": f"{head}.{body}.{sig}", "token_type": "bearer", "expires_in": TTL,
                "expires_at": now + TTL, "refresh_token": refresh, "user": {"id": USER_ID, "email": email}}

    def do_POST(self):
        url = urlparse(self.path)
        grant = parse_qs(url.query).get("grant_type", [""])[0]
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            body = {}
        if url.path != "/auth/v1/token":
            return self.answer(404, {"error": "not found"})
        if self.headers.get("apikey") != ARGS.anon_key:
            return self.answer(401, {"message": "Invalid API key"})
        if grant == "password":
            if body.get("email") != ARGS.email or body.get("password") != ARGS.password:
                return self.answer(400, {"error": "invalid_grant", "error_description": "Invalid login credentials"})
        elif grant == "refresh_token":
            with self.lock:
                known = body.get("refresh_token") in self.refresh
                self.refresh.discard(body.get("refresh_token"))
            if not known:
                return self.answer(400, {"error": "invalid_grant", "error_description": "Invalid Refresh Token"})
        else:
            return self.answer(400, {"error": "unsupported_grant_type"})
        with self.lock:
            self.counts[grant] += 1
        self.answer(200, self.token(ARGS.email))


def main():
    global ARGS
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--secret", required=True)
    p.add_argument("--anon-key", required=True)
    p.add_argument("--email", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--port", type=int, default=0)
    ARGS = p.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", ARGS.port), Handler)
    ARGS.url = f"http://127.0.0.1:{server.server_address[1]}"
    print(f"listening on 127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
