#!/usr/bin/env python3
"""tests/hostile/peak.py RSS_FILE TIMEOUT_S AS_MIB CMD...: runs CMD with its
address space capped at AS_MIB MiB (0: not capped) and killed after TIMEOUT_S seconds (exit
124, as timeout(1)); appends CMD's peak RSS in KiB (getrusage ru_maxrss of
the child) to RSS_FILE. Exits with CMD's status."""
import resource
import subprocess
import sys

rss_file, timeout, as_mib = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])


def cap():
    if as_mib:
        resource.setrlimit(resource.RLIMIT_AS, (as_mib << 20, as_mib << 20))


try:
    rc = subprocess.run(sys.argv[4:], preexec_fn=cap, timeout=timeout).returncode
except subprocess.TimeoutExpired:
    rc = 124
with open(rss_file, "a") as f:
    f.write("%d\n" % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(rc if rc >= 0 else 128 - rc)
