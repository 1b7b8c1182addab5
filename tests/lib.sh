# tests/lib.sh: shared helpers for the shell test suites.
#
# Every suite prints one line per check, "ok - NAME" or "FAIL - NAME: why",
# and the runners (tests/run-board, tests/run-all) count those lines. A
# suite's own exit status is non-zero if any of its checks failed.

T_FAILED=0
T_PREFIX=${T_PREFIX:-}

ok()   { printf 'ok - %s%s\n' "$T_PREFIX" "$1"; }
fail() { printf 'FAIL - %s%s: %s\n' "$T_PREFIX" "$1" "$2"; T_FAILED=$((T_FAILED + 1)); }
# A check that could not run here: counted apart, never as passed.
skip() { printf 'skip - %s%s: %s\n' "$T_PREFIX" "$1" "$2"; }

# expect NAME WANT_STATUS CMD...: runs CMD, keeping stdout in $OUT and stderr
# in $ERR; passes if it exits with WANT_STATUS.
expect() {
	local name=$1 want=$2 got
	shift 2
	OUT=$("$@" 2>"$T_TMP/stderr") && got=0 || got=$?
	ERR=$(cat "$T_TMP/stderr")
	if [ "$got" = "$want" ]; then
		ok "$name"
		return 0
	fi
	fail "$name" "exit $got, want $want; stderr: ${ERR:0:400}"
	return 1
}

# has NAME TEXT NEEDLE: passes if TEXT contains NEEDLE.
has() {
	case "$2" in
	*"$3"*) ok "$1" ;;
	*) fail "$1" "expected to find '$3' in: ${2:0:400}" ;;
	esac
}

# same NAME A B: passes if A and B are equal strings.
same() {
	if [ "$2" = "$3" ]; then ok "$1"; else fail "$1" "'${2:0:300}' != '${3:0:300}'"; fi
}

# t_lintian DEB: lintian reports no error on the package (its warnings are
# printed as a comment); a skip where lintian is not installed.
t_lintian() {
	local lint errs
	if ! command -v lintian >/dev/null; then
		skip "lintian" "not installed (tools/install-deps --test)"
		return 0
	fi
	lint=$(lintian --tag-display-limit 0 "$1" 2>&1)
	errs=$(grep '^E: ' <<<"$lint")
	[ -z "$errs" ] && ok "lintian: no errors" || fail "lintian: no errors" "$errs"
	[ -n "$lint" ] && echo "# lintian: $(grep -v 'root privileges' <<<"$lint" | tr '\n' ';')"
	return 0
}

# tree DIR: a digest of everything below DIR (names, modes, sizes, contents),
# to show that a refused operation changed nothing.
tree() {
	(cd "$1" && find . -printf '%p %m %s\n' | LC_ALL=C sort &&
		find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum)
}

t_setup() {
	local base=${TMPDIR:-/tmp}
	# holdfast refuses a job log on tmpfs (init, run): test on disk then.
	if [ "$(stat -f -c %T "$base" 2>/dev/null)" = tmpfs ]; then
		base=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build/tmp
		mkdir -p "$base"
	fi
	T_TMP=$(mktemp -d "$base/hf-test.XXXXXX")
	chmod 755 "$T_TMP"
	trap 't_cleanup' EXIT
}

t_cleanup() {
	chmod -R u+rwX "$T_TMP" 2>/dev/null
	rm -rf "$T_TMP"
}

t_done() { [ "$T_FAILED" = 0 ]; }

# ---- a test CA (openssl), for TLS servers on loopback ----------------------
# t_ca DIR [KIND]: DIR/ca.pem and DIR/ca.key; t_cert DIR NAME SAN [KIND]:
# DIR/NAME.pem and DIR/NAME.key, a server certificate for SAN signed by that
# CA. KIND is the key: ec:CURVE (default ec:P-256) or rsa:BITS.
t_key() {
	local kind=${2:-ec:P-256}
	case $kind in
	ec:*) openssl genpkey -algorithm EC -pkeyopt "ec_paramgen_curve:${kind#ec:}" -out "$1" 2>/dev/null ;;
	rsa:*) openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:${kind#rsa:}" -out "$1" 2>/dev/null ;;
	*) echo "t_key: unknown key kind '$kind'" >&2; return 2 ;;
	esac
}
t_ca() {
	t_key "$1/ca.key" "${2:-}"
	openssl req -x509 -key "$1/ca.key" -out "$1/ca.pem" -days 30 -subj /CN=holdfast-test-ca \
		2>/dev/null
}
t_cert() {
	t_key "$1/$2.key" "${4:-}"
	openssl req -new -key "$1/$2.key" -out "$1/$2.csr" -subj "/CN=$2" 2>/dev/null
	printf 'subjectAltName=%s\n' "$3" >"$1/$2.ext"
	openssl x509 -req -in "$1/$2.csr" -CA "$1/ca.pem" -CAkey "$1/ca.key" -CAcreateserial \
		-days 30 -out "$1/$2.pem" -extfile "$1/$2.ext" 2>/dev/null
}

# t_wait_port PORT: until something listens on 127.0.0.1:PORT (5 s at most).
t_wait_port() {
	for _ in $(seq 1 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}
