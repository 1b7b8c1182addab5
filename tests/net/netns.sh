# tests/net/netns.sh WHAT: sourced by tests/net/run and tests/idle/run,
# after lib.sh and t_setup, with $hf (holdfast) and $here set. Skips WHAT
# and exits unless this machine can make network namespaces and has s3rver.
# Otherwise makes two namespaces joined by a veth pair, "$dev" (the device:
# its end is hfd$id, address $dip) and "$srv" (the server: s3rver, and
# tools/faultsrv.py's proxy in front of it on $sip:$port, logging every
# request to requests.log), addresses only inside them; a test CA (ca.pem);
# and cd's to $T_TMP. Defines wait_for, in_dev, proxy [PLAN] and requests;
# the EXIT trap removes everything.
tools=$here/../../tools
s3rver=$tools/s3rver
if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null; then
	skip "$1" "needs root and iproute2 (network namespaces)"
	exit 0
fi
if ! command -v node >/dev/null || [ ! -d "$s3rver/node_modules/@20minutes/s3rver" ] ||
	! command -v python3 >/dev/null; then
	skip "$1" "s3rver or python3 missing (tools/install-deps --test)"
	exit 0
fi
cd "$T_TMP" || exit 1
id=$$
dev=hf-dev-$id srv=hf-srv-$id
# Addresses from a /30 of our own, only inside the two namespaces.
net=10.$((200 + id % 50)).$((id / 50 % 250)).
dip=${net}1 sip=${net}2
cleanup() {
	[ -n "${dpid:-}" ] && kill "$dpid" 2>/dev/null
	ip netns pids "$srv" 2>/dev/null | xargs -r kill 2>/dev/null
	ip netns pids "$dev" 2>/dev/null | xargs -r kill -9 2>/dev/null
	ip netns del "$dev" 2>/dev/null
	ip netns del "$srv" 2>/dev/null
	t_cleanup
}
trap cleanup EXIT
ip netns add "$dev" && ip netns add "$srv" &&
	ip link add "hfd$id" netns "$dev" type veth peer name "hfs$id" netns "$srv" &&
	ip -n "$dev" addr add "$dip/30" dev "hfd$id" && ip -n "$srv" addr add "$sip/30" dev "hfs$id" &&
	ip -n "$dev" link set lo up && ip -n "$srv" link set lo up &&
	ip -n "$dev" link set "hfd$id" up && ip -n "$srv" link set "hfs$id" up ||
	{ fail "network namespaces" "cannot make them here"; exit 1; }
ok "two namespaces joined by a veth pair"
wait_for() { # SECONDS CMD...: until CMD succeeds, polling every 0.1 s
	local end=$(($(date +%s%N) / 1000000 + $1 * 1000))
	shift
	until "$@"; do
		[ "$(($(date +%s%N) / 1000000))" -gt "$end" ] && return 1
		sleep 0.1
	done
}
in_dev() { ip netns exec "$dev" "$@"; }
# (The daemon is started with ip netns exec itself, not through in_dev: ip
# execs it, so $! is the daemon's pid, for kill -9.)
t_ca .
t_cert . srv "IP:$sip,DNS:localhost,IP:127.0.0.1"
port=9443 sport=9000
ip netns exec "$srv" node --openssl-legacy-provider "$s3rver/run.js" -d "$T_TMP/s3data" -a 127.0.0.1 \
	-p "$sport" --key srv.key --cert srv.pem --configure-bucket test --silent >s3rver.log 2>&1 &
# proxy [PLAN]: (re)starts the logging, faulting proxy in front of s3rver.
# (ip netns exec execs it: $! is the proxy's own pid.)
proxy() {
	[ -n "${ppid_:-}" ] && { kill "$ppid_" 2>/dev/null; wait "$ppid_" 2>/dev/null; }
	ip netns exec "$srv" env FAULTSRV_ADDR="$sip" python3 "$tools/faultsrv.py" proxy "$port" \
		srv.pem srv.key "$sport" ca.pem "${1:-}" 2>>requests.log &
	ppid_=$!
	wait_for 5 in_dev bash -c "exec 3<>/dev/tcp/$sip/$port" 2>/dev/null
}
: >requests.log
ip netns exec "$srv" bash -c ". '$here/../lib.sh'; t_wait_port $sport" && proxy ||
	{ fail "S3 server starts" "$(cat s3rver.log)"; exit 1; }
requests() { grep -c ' -> ' requests.log; }
