#!/usr/bin/env python3
"""tools/faultsrv.py: a hostile S3-ish server for tests (tests/s3/run).

Listens with TLS on 127.0.0.1:PORT (certificate and key given) and answers
every request in one way chosen on the command line:

  500         HTTP 500 with an S3 InternalError document
  slowdown    HTTP 503 with an S3 SlowDown document
  429         HTTP 429 Too Many Requests
  stall       headers promising a body, then silence
  reset       reads part of the request, then resets the connection
  truncated   Content-Length 1000, 10 bytes of body, then close
  bigheaders  a status line and 100 KiB of headers
  garbagexml  HTTP 403 whose body is not XML
  nohttp      bytes that are not HTTP at all
  exists-same PUT: 412 Precondition Failed; HEAD: the ETag of that PUT's body
  exists-other PUT: 412; HEAD: some other object's ETag
  skew        its clock is 2 hours ahead: 403 RequestTimeTooSkewed (with its
              Date) unless x-amz-date is within 15 minutes of that clock

Usage: faultsrv.py MODE PORT CERT KEY. Test code only: never on a network.
"""
import calendar
import email.utils
import hashlib
import socket
import ssl
import sys
import threading
import time

MODE, PORT, CERT, KEY = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
LAST_MD5 = [""]


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
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            conn.close()
            return
        # Otherwise read the whole request, as a server does, then misbehave.
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(body) < length:
            chunk = conn.recv(65536)
            if not chunk:
                return
            body += chunk
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
                LAST_MD5[0] = hashlib.md5(body[:length]).hexdigest()
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
srv.bind(("127.0.0.1", PORT))
srv.listen(16)
while True:
    raw, _ = srv.accept()
    try:
        conn = ctx.wrap_socket(raw, server_side=True)
    except (OSError, ssl.SSLError):
        raw.close()
        continue
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
