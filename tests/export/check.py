#!/usr/bin/env python3
"""tests/export/check.py DB DEVICE FILE...: reads history export parts
(JSON lines, already decompressed by the zstd CLI) with Python's json module
and compares every field of every line with the job log DB, read with
Python's sqlite3 module (read-only): the oracle is the log, not holdfast's
own reading of it. Prints one line per problem and "checked N jobs"; exits
1 on any problem. Also: every fin_seq at most once across the files, and
each line's key set exactly the documented one (so no value of an
environment variable can ride along in a field of its own).
"""
import datetime
import json
import sqlite3
import sys

HEAD = 4096
JOB_KEYS = {
    "device", "id", "fin_seq", "name", "state", "reason", "day", "pipeline", "run", "argv",
    "env_names", "cwd", "group", "user", "key", "priority", "retries", "timeout_ms",
    "attempt_count", "failures", "submitted", "submitted_utc_ms", "submitted_boot",
    "submitted_mono_ms", "ended", "ended_utc_ms", "ended_boot", "ended_mono_ms",
    "ended_dev_ms", "attempts",
}
ATTEMPT_KEYS = {
    "n", "boot", "pid", "started", "start_utc_ms", "start_mono_ms", "ended", "end_utc_ms",
    "end_boot", "end_mono_ms", "end_reason", "exit_code", "signal", "output_bytes",
    "output_truncated", "output_head",
}


def iso(ms):
    if ms is None:
        return None
    t = datetime.datetime.fromtimestamp(ms // 1000, datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S") + ".%03dZ" % (ms % 1000)


def day(end_utc_ms, end_boot):
    if end_utc_ms is None:
        return "boot-%d" % end_boot
    t = datetime.datetime.fromtimestamp(end_utc_ms // 1000, datetime.timezone.utc)
    return t.strftime("%Y-%m-%d")


def main():
    db, device, files = sys.argv[1], sys.argv[2], sys.argv[3:]
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    con.row_factory = sqlite3.Row
    problems, seen, n = [], set(), 0

    def want(where, field, got, exp):
        if got != exp:
            problems.append("%s: %s is %r, the log says %r" % (where, field, got, exp))

    for f in files:
        with open(f, "rb") as fh:
            data = fh.read()
        if data and not data.endswith(b"\n"):
            problems.append("%s: the last line has no newline" % f)
        for ln, raw in enumerate(data.splitlines(), 1):
            where = "%s:%d" % (f, ln)
            o = json.loads(raw)
            n += 1
            if set(o) != JOB_KEYS:
                problems.append("%s: keys %s" % (where, sorted(set(o) ^ JOB_KEYS)))
                continue
            if o["fin_seq"] in seen:
                problems.append("%s: fin_seq %d exported twice" % (where, o["fin_seq"]))
            seen.add(o["fin_seq"])
            r = con.execute("SELECT * FROM jobs WHERE id = ?", (o["id"],)).fetchone()
            if r is None:
                problems.append("%s: job %d is not in the log" % (where, o["id"]))
                continue
            run = r["run"]
            pipe = None
            if run is not None:
                pipe = con.execute("SELECT pipeline FROM pipeline_runs WHERE id = ?",
                                   (run,)).fetchone()[0]
            exp = {
                "device": device, "id": r["id"], "fin_seq": r["fin_seq"], "name": r["name"],
                "state": r["state"], "reason": r["reason"],
                "day": day(r["end_utc_ms"], r["end_boot"]), "pipeline": pipe, "run": run,
                "argv": json.loads(r["argv"]),
                "env_names": [e.split("=", 1)[0] for e in json.loads(r["env"])],
                "cwd": r["cwd"], "group": r["grp"], "user": r["user"], "key": r["idem_key"],
                "priority": r["priority"], "retries": r["retries"],
                "timeout_ms": r["timeout_ms"], "attempt_count": r["attempts"],
                "failures": r["failures"], "submitted": iso(r["submit_utc_ms"]),
                "submitted_utc_ms": r["submit_utc_ms"], "submitted_boot": r["submit_boot"],
                "submitted_mono_ms": r["submit_mono_ms"], "ended": iso(r["end_utc_ms"]),
                "ended_utc_ms": r["end_utc_ms"], "ended_boot": r["end_boot"],
                "ended_mono_ms": r["end_mono_ms"], "ended_dev_ms": r["end_dev_ms"],
            }
            for k, v in exp.items():
                want(where, k, o[k], v)
            atts = con.execute("SELECT * FROM attempts WHERE job = ? ORDER BY n",
                               (r["id"],)).fetchall()
            if len(o["attempts"]) != len(atts):
                problems.append("%s: %d attempts, the log has %d" %
                                (where, len(o["attempts"]), len(atts)))
                continue
            for a, ra in zip(o["attempts"], atts):
                aw = "%s attempt %d" % (where, ra["n"])
                if set(a) != ATTEMPT_KEYS:
                    problems.append("%s: keys %s" % (aw, sorted(set(a) ^ ATTEMPT_KEYS)))
                    continue
                out = b"".join(bytes(c[0]) for c in con.execute(
                    "SELECT data FROM output WHERE job = ? AND n = ? ORDER BY seq",
                    (r["id"], ra["n"])))
                exp = {
                    "n": ra["n"], "boot": ra["boot"], "pid": ra["pid"],
                    "started": iso(ra["start_utc_ms"]), "start_utc_ms": ra["start_utc_ms"],
                    "start_mono_ms": ra["start_mono_ms"], "ended": iso(ra["end_utc_ms"]),
                    "end_utc_ms": ra["end_utc_ms"], "end_boot": ra["end_boot"],
                    "end_mono_ms": ra["end_mono_ms"], "end_reason": ra["end_reason"],
                    "exit_code": ra["exit_code"], "signal": ra["signal"],
                    "output_bytes": ra["out_bytes"],
                    "output_truncated": bool(ra["out_truncated"]),
                    "output_head": out[:HEAD].decode("utf-8", "replace"),
                }
                for k, v in exp.items():
                    want(aw, k, a[k], v)
    for p in problems[:20]:
        print(p)
    print("checked %d jobs, %d problem(s)" % (n, len(problems)))
    sys.exit(1 if problems else 0)


main()
