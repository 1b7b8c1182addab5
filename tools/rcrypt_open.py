#!/usr/bin/env python3
"""tools/rcrypt_open.py KEYFILE REL FILE [OUT]: opens a holdfast replica
envelope (firmware/fmt/rcrypt.c, README "Encrypted, authenticated replicas") with
an implementation of its own: Python's hmac/hashlib for HKDF-SHA-256 and the
salt, pyca/cryptography's ChaCha20Poly1305 for the chunks. Written from the
format's description, not from the C code, so the tests can show that what
holdfast writes is what the format says (an oracle, not holdfast checking
itself). Writes the plaintext to OUT (default: standard output); exits 1
with a message if the file does not open, 2 on usage errors.
"""
import hashlib
import hmac
import sys

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

HDR, CHUNK, TAG = 64, 65536, 16


def hkdf(salt, ikm, info, n=32):
    prk = hmac.new(salt or b"\0" * 32, ikm, hashlib.sha256).digest()
    out, t, i = b"", b"", 1
    while len(out) < n:
        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest()
        out += t
        i += 1
    return out[:n]


def keys(path):
    ks = {}
    for line in open(path):
        line = line.strip()
        if line and not line.startswith("#"):
            kid, hexkey = line.split()
            ks[kid.encode()] = bytes.fromhex(hexkey)
    return ks


def open_envelope(ks, rel, data):
    if len(data) < HDR or data[:6] != b"HFENC\0":
        raise ValueError("not an envelope")
    if data[6] != 1 or data[7] != 1 or data[56:64] != b"\0" * 8:
        raise ValueError("unknown version, cipher or reserved bytes")
    kid = data[8:24].rstrip(b"\0")
    if kid not in ks:
        raise ValueError("unknown key id %r" % kid)
    master, salt = ks[kid], data[24:56]
    aead = ChaCha20Poly1305(hkdf(salt, master, b"holdfast replica v1"))
    ad = data[:HDR] + rel.encode()
    body, plain, i = data[HDR:], b"", 0
    while True:
        piece = body[i * (CHUNK + TAG):(i + 1) * (CHUNK + TAG)]
        last = (i + 1) * (CHUNK + TAG) >= len(body)
        if len(piece) < TAG or (last and i > 0 and len(piece) == TAG):
            raise ValueError("truncated")
        nonce = i.to_bytes(11, "big") + bytes([1 if last else 0])
        try:
            plain += aead.decrypt(nonce, piece, ad)
        except InvalidTag:
            raise ValueError("chunk %d does not authenticate" % (i + 1))
        if last:
            break
        i += 1
    # The salt is the synthetic IV: HMAC of the path and the plaintext
    # under a key derived from the master key.
    want = hmac.new(hkdf(b"", master, b"holdfast replica v1 salt"),
                    rel.encode() + b"\0" + plain, hashlib.sha256).digest()
    if want != salt:
        raise ValueError("the salt is not the HMAC of the path and plaintext")
    return plain


def main():
    if len(sys.argv) not in (4, 5):
        print(__doc__, file=sys.stderr)
        return 2
    try:
        plain = open_envelope(keys(sys.argv[1]), sys.argv[2], open(sys.argv[3], "rb").read())
    except ValueError as e:
        print("rcrypt_open.py: %s: %s" % (sys.argv[3], e), file=sys.stderr)
        return 1
    if len(sys.argv) == 5:
        open(sys.argv[4], "wb").write(plain)
    else:
        sys.stdout.buffer.write(plain)
    return 0


if __name__ == "__main__":
    sys.exit(main())
