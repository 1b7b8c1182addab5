#!/usr/bin/env python3
"""tests/hostile/mkhostile.py DB SNAPSHOT OUT: hostile segment files.

DB is a database restored from a good replica (its pages are real pages),
SNAPSHOT that replica's good snapshot (its header fields are real ones).
Writes OUT/NAME.zst for each case below and OUT/cases, one line per case:
"NAME KIND FIELD": KIND is where the file goes (snap: in place of the
snapshot, seg: as segment 1 after the good snapshot), FIELD what the
refusal must name. zstd frames are written by hand (raw and RLE blocks:
the format is RFC 8878), so no zstd module is needed and a frame can say
anything.
"""
import hashlib
import os
import struct
import sys

HDR = struct.Struct(">6sHB3xI32sQQIIIIIIQqQQ8x")
assert HDR.size == 128
FIELDS = ("magic version kind page_size device generation seq db_pages npages "
          "salt0 salt1 frame_first frame_end boot utc_ms mono_ms body_len").split()
BLOCK = 128 * 1024


def frame(raw, window_log=17, blocks=None):
    """One zstd frame of raw blocks (or the BLOCKS given, as bytes)."""
    out = struct.pack("<I", 0xFD2FB528) + bytes([0x00, (window_log - 10) << 3])
    if blocks is None:
        blocks = []
        for i in range(0, max(len(raw), 1), BLOCK):
            chunk = raw[i:i + BLOCK]
            blocks.append((0, chunk, len(chunk)))
    for n, (btype, content, size) in enumerate(blocks):
        last = 1 if n == len(blocks) - 1 else 0
        hdr = last | btype << 1 | size << 3
        out += struct.pack("<I", hdr)[:3] + content
    return out


def rle_blocks(byte, total):
    """RLE blocks regenerating TOTAL copies of BYTE: 4 bytes per 128 KiB."""
    blocks = []
    while total > 0:
        n = min(total, BLOCK)
        blocks.append((1, bytes([byte]), n))
        total -= n
    return blocks


def seg(fields, body):
    f = dict(fields)
    f["body_len"] = len(body)
    head = HDR.pack(*[f[k] for k in FIELDS])
    return head + body + hashlib.sha256(head + body).digest()


def records(pages, page_size, pgnos):
    def page(p):
        return pages[p - 1] if 1 <= p <= len(pages) else pages[-1]
    return b"".join(struct.pack(">I", p) + page(p)[:page_size].ljust(page_size, b"\0")
                    for p in pgnos)


def main():
    db, snap, out = sys.argv[1:4]
    data = open(db, "rb").read()
    good = open(snap, "rb").read()
    h = dict(zip(FIELDS, HDR.unpack(good[:128])))
    ps = h["page_size"]
    pages = [data[i:i + ps] for i in range(0, len(data), ps)]
    n = len(pages)
    os.makedirs(out, exist_ok=True)
    cases = []

    def add(name, kind, field, blob):
        open(os.path.join(out, name + ".zst"), "wb").write(blob)
        cases.append("%s %s %s" % (name, kind, field))

    def snapshot(body=None, **kw):
        f = dict(h, npages=n, db_pages=n)
        f.update(kw)
        if body is None:
            body = frame(records(pages, f["page_size"], range(1, n + 1)))
        return seg(f, body)

    seg1 = dict(h, kind=2, seq=1, frame_first=h["frame_end"], frame_end=h["frame_end"] + 1,
                db_pages=n)

    def segment(pgnos, body=None, **kw):
        f = dict(seg1, npages=len(pgnos))
        f.update(kw)
        if body is None:
            body = frame(records(pages, f["page_size"], pgnos))
        return seg(f, body)

    # A good snapshot built here: the generator itself is right (and the
    # seed of the fuzz corpora).
    add("good", "good", "-", snapshot())
    add("good-seg", "good-seg", "-", segment([1, 2]))
    # Page number 0 (wrote before the page buffer), above db_pages, descending.
    add("pgno-zero", "snap", "page number 0",
        snapshot(body=frame(records(pages, ps, [0] + list(range(2, n + 1))))))
    add("pgno-zero-seg", "seg", "page number 0", segment([0]))
    add("pgno-past-end", "seg", "page number", segment([1, n + 5], db_pages=n))
    add("pgno-descending", "seg", "page number", segment([2, 1]))
    add("pgno-repeated", "seg", "page number", segment([2, 2]))
    # Huge counts: db_pages x page_size sized an allocation and the output.
    add("huge-db-pages-snap", "snap", "npages", snapshot(db_pages=0xfffffffe))
    add("huge-npages", "snap", "npages", snapshot(npages=0xffffffff, db_pages=0xfffffffe))
    add("db-pages-max", "snap", "db_pages", snapshot(db_pages=0xffffffff, npages=0xffffffff))
    add("db-pages-zero", "snap", "db_pages", snapshot(db_pages=0, npages=0))
    add("npages-over-db-pages", "seg", "npages", segment([1, 2], db_pages=1))
    add("huge-db-pages-seg", "seg", "db_pages", segment([1], db_pages=0xfffffffe))
    # Bombs: a small frame that decompresses to 1 GiB.
    gib = 1 << 30
    add("bomb-zeros", "snap", "page number 0",
        snapshot(npages=gib // (4 + ps), db_pages=gib // (4 + ps),
                 body=frame(b"", blocks=rle_blocks(0, gib))))
    page1 = records(pages, ps, [1])
    add("bomb-after-page1", "snap", "page number",
        snapshot(npages=gib // (4 + ps), db_pages=gib // (4 + ps),
                 body=frame(b"", blocks=[(0, page1, len(page1))] + rle_blocks(0, gib))))
    add("bomb-more-than-npages", "snap", "npages",
        snapshot(body=frame(b"", blocks=[(0, records(pages, ps, range(1, n + 1)),
                                          n * (4 + ps))] + rle_blocks(0, gib))))
    add("bomb-claims-small-body", "snap", "npages",
        snapshot(npages=0xfffffffe, db_pages=0xfffffffe, body=frame(b"", blocks=rle_blocks(0, 4 << 20))))
    add("window-too-big", "snap", "zstd", snapshot(body=frame(records(pages, ps, range(1, n + 1)),
                                                                window_log=31)))
    # Header fields the format does not allow.
    for v in (4097, 256, 131072, 0):
        add("page-size-%d" % v, "snap", "page_size", snapshot(page_size=v))
    add("kind-3", "snap", "kind", snapshot(kind=3))
    add("version-0", "snap", "version", snapshot(version=0))
    add("version-2", "snap", "version", snapshot(version=2))
    bad_len = bytearray(snapshot())
    struct.pack_into(">Q", bad_len, 112, len(bad_len))
    add("body-len", "snap", "body_len", bytes(bad_len))
    # Bodies that do not hold what the header says.
    add("fewer-records", "snap", "npages", snapshot(body=frame(records(pages, ps, range(1, n)))))
    add("part-record", "snap", "npages", snapshot(body=frame(records(pages, ps, range(1, n + 1))[:-7])))
    full = frame(records(pages, ps, range(1, n + 1)))
    add("frame-cut", "snap", "cut short", snapshot(body=full[:len(full) // 2]))
    add("after-frame", "snap", "after the zstd frame", snapshot(body=full + b"garbage"))
    add("not-zstd", "snap", "zstd", snapshot(body=b"\0" * 64))
    # Page 1 must be SQLite's, with the header's page size.
    p1 = bytearray(pages[0])
    p1[:16] = b"Not SQLite here\0"
    add("page1-magic", "snap", "page 1",
        snapshot(body=frame(b"".join([struct.pack(">I", 1) + bytes(p1)] +
                                     [struct.pack(">I", i) + pages[i - 1] for i in range(2, n + 1)]))))
    add("page1-size", "snap", "page 1", snapshot(page_size=ps * 2))
    # Escape sequences in the device field (debug segment prints it).
    add("device-escape", "debug", "\\x1b", snapshot(device=b"\x1b]0;owned\x07\n\x1b[2J"))
    # Truncated at every offset of the header and the trailer's length.
    for k in range(0, 160):
        open(os.path.join(out, "cut-%03d.zst" % k), "wb").write(good[:k])
    open(os.path.join(out, "cases"), "w").write("\n".join(cases) + "\n")


if __name__ == "__main__":
    main()
