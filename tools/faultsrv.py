#!/usr/bin/env python3
"""tools/faultsrv.py: a hostile S3-ish server for tests (tests/s3/run).

Listens with TLS on 127.0.0.1:PORT (certificate and key given) and answers
every request in one way chosen on the command line:

  500         HTTP 500 with an S3 InternalError document
  slowdown    HTTP 503 with an S3 SlowDown document
  429         HTTP 429 Too Many Requests
  stall       headers promising a body, then silence
  stall-writes  reads answered as an empty bucket would (no keys, 404),
              every write (PUT, POST) stalled as above
  trickle     headers promising a body, then a byte every half second
  reset       reads part of the request, then resets the connection
  truncated   Content-Length 1000, 10 bytes of body, then close
  bigheaders  a status line and 100 KiB of headers
  garbagexml  HTTP 403 whose body is not XML
  nohttp      bytes that are not HTTP at all
  exists-same PUT: 412 Precondition Failed; HEAD: the ETag of that PUT's body
  exists-other PUT: 412; HEAD: some other object's ETag
  skew        its clock is 2 hours ahead: 403 RequestTimeTooSkewed (with its
              Date) unless x-amz-date is within 15 minutes of that clock

Or, as a proxy in front of a real S3 server (which keeps the request's Host
header, so signatures still hold), faults by request number:

  faultsrv.py proxy PORT CERT KEY UPSTREAM_PORT CA [PLAN]

PLAN: "N=FAULT,..." where request N (from 1, over all connections) gets
FAULT, or "TEXT=FAULT": the first request whose path holds TEXT (which may
itself hold "=", as in "partNumber=2=stall"), or "TEXT=FAULT+": every such
request (a server that keeps failing it). The fault, instead of being
forwarded: 500, slowdown, reset (no reply), stall,
or one of: cut (forwarded; the reply's body cut in the middle), tamper
(forwarded with one body byte flipped, signatures unchanged), lost
(forwarded, then the connection reset before the reply: done but unsaid).
Each request is logged on stderr as "N METHOD PATH -> STATUS (B bytes in T s)",
T from the end of its head to the end of its body, as received.

Usage: faultsrv.py MODE PORT CERT KEY. Listens on 127.0.0.1, or on
$FAULTSRV_ADDR (an address inside a test's own network namespace). Test
code only: never on a network.
"""
import http.client
import calendar
import os
import email.utils
import hashlib
import socket
import ssl
import sys
import threading
import time

MODE, PORT, CERT, KEY = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
LAST_MD5 = [""]
if MODE == "proxy":
    UPSTREAM, UPSTREAM_CA = int(sys.argv[5]), sys.argv[6]
    PLAN = dict(item.rsplit("=", 1) for item in sys.argv[7].split(",") if item) if len(sys.argv) > 7 else {}
COUNT = [0]
LOCK = threading.Lock()


def read_request(conn, data):
    """The rest of a request whose bytes so far are DATA: (head, body,
    leftover, seconds from the end of its head to the end of its body)."""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    start = time.monotonic()
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        body += chunk
    return head, body[:length], body[length:], time.monotonic() - start


def rst(conn):
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    conn.close()


def proxy(conn):
    """Forwards requests on CONN (kept alive) to the upstream, faulting as PLAN says."""
    ctx = ssl.create_default_context(cafile=UPSTREAM_CA)
    up = http.client.HTTPSConnection("localhost", UPSTREAM, context=ctx, timeout=60)
    data = b""
    try:
        while True:
            req = read_request(conn, data)
            if req is None:
                return
            head, body, data, took = req
            with LOCK:
                COUNT[0] += 1
                n = COUNT[0]
            lines = head.split(b"\r\n")
            method, path, _ = lines[0].decode().split(" ", 2)
            with LOCK:
                fault = PLAN.get(str(n), "")
                for key in list(PLAN):
                    if not fault and not key.isdigit() and key in path:
                        fault = PLAN[key]
                        if fault.endswith("+"):
                            fault = fault[:-1]
                        else:
                            PLAN.pop(key)
            if fault in ("500", "slowdown", "reset", "stall"):
                print("%d %s %s -> fault %s" % (n, method, path, fault), file=sys.stderr, flush=True)
                if fault == "500":
                    reply(conn, b"500 Internal Server Error", xml_error("InternalError", "try again"))
                    continue
                if fault == "slowdown":
                    reply(conn, b"503 Slow Down", xml_error("SlowDown", "Please reduce your request rate."))
                    continue
                if fault == "stall":
                    time.sleep(30)
                rst(conn)
                return
            if fault == "tamper" and body:
                body = body[:len(body) // 2] + bytes([body[len(body) // 2] ^ 1]) + body[len(body) // 2 + 1:]
            headers = {}
            for line in lines[1:]:
                name, _, value = line.decode().partition(":")
                headers[name.strip()] = value.strip()
            headers.pop("Content-Length", None)
            for attempt in (1, 2):
                # The server may have closed our idle kept-alive connection:
                # then once more on a new one.
                try:
                    up.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
                    for name, value in headers.items():
                        up.putheader(name, value)
                    up.putheader("Content-Length", str(len(body)))
                    up.endheaders(body if body else None)
                    resp = up.getresponse()
                    rbody = resp.read()
                    break
                except (OSError, http.client.HTTPException):
                    up.close()
                    if attempt == 2:
                        raise
            print("%d %s %s -> %d%s (%d bytes in %.3f s)" % (n, method, path, resp.status,
                                                           " " + fault if fault else "", len(body), took),
                  file=sys.stderr, flush=True)
            if fault == "lost":
                rst(conn)
                return
            out = b"HTTP/1.1 %d %s\r\n" % (resp.status, resp.reason.encode())
            for name, value in resp.getheaders():
                if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                    out += b"%s: %s\r\n" % (name.encode(), value.encode())
            length = resp.getheader("Content-Length", "0") if method == "HEAD" else str(len(rbody))
            out += b"Content-Length: %s\r\n\r\n" % length.encode()
            if fault == "cut":
                conn.sendall(out + rbody[:len(rbody) // 2])
                rst(conn)
                return
            conn.sendall(out + rbody)
    except (OSError, ssl.SSLError, http.client.HTTPException):
        pass
    finally:
        up.close()
        conn.close()


def xml_error(code, message):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code>'
            '<Message>%s</Message><RequestId>FAULT1</RequestId></Error>' % (code, message)).encode()


def reply(conn, status, body, extra=b""):
    conn.sendall(b"HTTP/1.1 " + status + b"\r\nContent-Length: " + str(len(body)).encode()
                 + b"\r\nContent-Type: application/xml\r\n" + extra + b"\r\n" + body)


def serve(conn):
    try:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return
            data += chunk
        if MODE == "reset":
            # Mid-upload: the request body is not read; the connection dies.
            rst(conn)
            return
        # Otherwise read the whole request, as a server does, then misbehave.
        req = read_request(conn, data)
        if req is None:
            return
        head, body = req[0], req[1]
        if MODE == "skew":
            now = time.time() + 7200
            sent = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"x-amz-date":
                    sent = calendar.timegm(time.strptime(value.strip().decode(), "%Y%m%dT%H%M%SZ"))
            date = b"Date: " + email.utils.formatdate(now, usegmt=True).encode() + b"\r\n"
            if abs(sent - now) > 900:
                reply(conn, b"403 Forbidden", xml_error("RequestTimeTooSkewed", "too skewed"), date)
            else:
                reply(conn, b"200 OK", b"", date)
            conn.close()
            return
        if MODE.startswith("exists-"):
            if head.startswith(b"PUT "):
                LAST_MD5[0] = hashlib.md5(body).hexdigest()
                reply(conn, b"412 Precondition Failed", xml_error("PreconditionFailed", "exists"))
            else:
                etag = LAST_MD5[0] if MODE == "exists-same" else "0" * 32
                conn.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nETag: "%s"\r\n\r\n'
                             % etag.encode())
            conn.close()
            return
        if MODE == "500":
            reply(conn, b"500 Internal Server Error", xml_error("InternalError", "try again"))
        elif MODE == "slowdown":
            reply(conn, b"503 Slow Down", xml_error("SlowDown", "Please reduce your request rate."))
        elif MODE == "429":
            reply(conn, b"429 Too Many Requests", b"")
        elif MODE == "stall":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc")
            time.sleep(30)
        elif MODE == "stall-writes":
            # Reads answered as an empty bucket would (a listing with no
            # keys, 404 for an object), every write stalled as above.
            line = head.split(b"\r\n")[0]
            if line.startswith(b"GET ") and b"list-type=2" in line:
                reply(conn, b"200 OK", b'<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult '
                      b'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><KeyCount>0</KeyCount>'
                      b'<IsTruncated>false</IsTruncated></ListBucketResult>')
            elif line.startswith(b"GET ") or line.startswith(b"HEAD "):
                reply(conn, b"404 Not Found", xml_error("NoSuchKey", "The specified key does not exist."))
            else:
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc")
                time.sleep(30)
        elif MODE == "trickle":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
            for _ in range(60):
                time.sleep(0.5)
                conn.sendall(b"x")
        elif MODE == "truncated":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789")
        elif MODE == "bigheaders":
            conn.sendall(b"HTTP/1.1 200 OK\r\n" + b"x-filler: " + b"a" * 100 + b"\r\n" * 1
                         + b"".join(b"x-h%d: %s\r\n" % (i, b"b" * 90) for i in range(1100)) + b"\r\n")
        elif MODE == "garbagexml":
            reply(conn, b"403 Forbidden", b"<<<not xml at all & >>>")
        elif MODE == "nohttp":
            conn.sendall(b"\x00\x01\x02 this is not HTTP\r\n\r\n")
        conn.close()
    except (OSError, ssl.SSLError):
        pass


ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(CERT, KEY)
srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
# Loopback, or the address of a test namespace's own interface (tests/net).
srv.bind((os.environ.get("FAULTSRV_ADDR", "127.0.0.1"), PORT))
srv.listen(16)
while True:
    raw, _ = srv.accept()
    try:
        conn = ctx.wrap_socket(raw, server_side=True)
    except (OSError, ssl.SSLError):
        raw.close()
        continue
    threading.Thread(target=proxy if MODE == "proxy" else serve, args=(conn,), daemon=True).start()
