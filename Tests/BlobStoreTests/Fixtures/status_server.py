#!/usr/bin/env python3
"""A fake S3 endpoint that answers every request with one status and an S3 error document.

    status_server.py STATUS CODE
Prints the port it listens on (127.0.0.1, chosen by the system) as its first line, then serves
until stdin closes. GET /__count answers the number of other requests received so far, so a
test can count retries.
"""
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STATUS = int(sys.argv[1])
CODE = sys.argv[2]
count = 0
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self):
        global count
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        if self.path == "/__count":
            with lock:
                body = str(count).encode()
            status = 200
        else:
            with lock:
                count += 1
            body = (f"<?xml version=\"1.0\"?><Error><Code>{CODE}</Code><Message>fake</Message>"
                    f"<RequestId>fake-{count}</RequestId></Error>").encode()
            status = STATUS
        self.send_response(status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_PUT = do_DELETE = do_HEAD = do_POST = answer

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
threading.Thread(target=server.serve_forever, daemon=True).start()
sys.stdin.read()
server.shutdown()
