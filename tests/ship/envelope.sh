# tests/ship/envelope.sh: sourced by tests/ship/run (its setup, expect, has,
# same, dump, gens). [replica] key_file: what is shipped is encrypted and
# authenticated, restore needs the key, and a replica someone else can write
# cannot feed it a forged history:
#   - restore with the key equals the source; without it, or with another
#     key (unknown id, or the same id with other bytes), it fails naming
#     the file; a key file open to others is refused;
#   - a segment copied over another seq's name, and a plaintext segment
#     dropped in as the next seq, are refused;
#   - migration: a plaintext replica, then a key: a new generation starts,
#     restore takes it (skipping the old one, said), and the old one still
#     restores with --allow-plaintext; a rotated key file (a new first key)
#     still restores all of it.

# ---- an encrypted replica ----------------------------------------------------------------
setup 16MiB 1h
kdir=$T_TMP/keys
rm -rf "$kdir"; mkdir -p "$kdir"
expect "replica keygen" 0 "$hf" replica keygen "$kdir/k1" --id one
same "the key file is 0600" "$(stat -c %a "$kdir/k1")" 600
expect "replica keygen never replaces a key" 1 "$hf" replica keygen "$kdir/k1"
has "saying so" "$ERR" "exists; not replaced"
"$hf" replica keygen "$kdir/k2" --id two >/dev/null
# The same id as k1 with other key bytes.
sed -E 's/0$/X/; s/[1-9a-f]$/0/; s/X$/1/' "$kdir/k1" >"$kdir/k1-wrong"
chmod 600 "$kdir/k1-wrong"
cmp -s "$kdir/k1" "$kdir/k1-wrong" && fail "k1-wrong" "same as k1"
printf 'key_file = %s\n' "$kdir/k1" >>"$HOLDFAST_DATA/holdfast.conf"
chmod 644 "$kdir/k1"
expect "a key file others can read is refused" 1 "$hf" sync now
has "saying how to fix it" "$ERR" "$kdir/k1: the replica key file is open to others (mode 0644); chmod 600 it"
chmod 600 "$kdir/k1"
for i in 1 2 3; do
	"$hf" submit -- sh -c "echo secret-$i" >/dev/null
	"$hf" run --until-idle >/dev/null 2>&1
	"$hf" sync now >/dev/null
done
dump >"$T_TMP/enc.sql"
g=$(gens | tail -1)
nseg=$(ls "$rep/dev1/$g/seg" | wc -l)
[ "$nseg" -ge 3 ] && ok "segments shipped ($nseg)" || fail "segments shipped" "$nseg"
plain=0
for f in $(find "$rep" -name '*.zst' -o -name manifest); do
	[ "$(head -c 5 "$f")" = HFENC ] || plain=$((plain + 1))
done
same "every segment, snapshot and manifest is in the envelope" "$plain" 0
# An independent reader (Python, pyca/cryptography) opens them as the format
# says, and finds the segment files inside whole (their SHA-256 trailers).
if python3 -c 'import cryptography' 2>/dev/null; then
	bad=0 n=0
	for f in $(cd "$rep" && find . -name '*.zst' | sed 's|^\./||'); do
		n=$((n + 1))
		python3 "$here/../../tools/rcrypt_open.py" "$kdir/k1" "$f" "$rep/$f" "$T_TMP/p.bin" &&
			python3 -c 'import hashlib, sys; d = open(sys.argv[1], "rb").read(); sys.exit(not (d[:5] == b"HFSEG" and hashlib.sha256(d[:-32]).digest() == d[-32:]))' "$T_TMP/p.bin" ||
			bad=$((bad + 1))
	done
	same "an independent reader opens all $n files, segments whole inside" "$bad" 0
	m=$(cd "$rep" && ls dev1/*/manifest | head -1)
	python3 "$here/../../tools/rcrypt_open.py" "$kdir/k1" "$m" "$rep/$m" >"$T_TMP/p.txt" &&
		has "and the manifest" "$(cat "$T_TMP/p.txt")" "$g" || fail "manifest opened independently" "no"
	f=$(cd "$rep" && ls dev1/*/seg/*1.zst)
	python3 "$here/../../tools/rcrypt_open.py" "$kdir/k1" "${f%1.zst}2.zst" "$rep/$f" >/dev/null 2>&1 &&
		fail "the independent reader binds the path" "seq 1 opened as seq 2" ||
		ok "the independent reader refuses seq 1 as seq 2 too"
else
	skip "an independent reader of the envelope" "python3-cryptography is not installed (tools/install-deps --test)"
fi
rm -f "$T_TMP/e.db"
expect "restore with the key" 0 "$hf" restore "$rep" -o "$T_TMP/e.db" --key-file "$kdir/k1"
sqlite3 "$T_TMP/e.db" .dump | cmp -s - "$T_TMP/enc.sql" && ok "equals the source" ||
	fail "encrypted restore" "differs"
expect "restore without the key fails" 1 "$hf" restore "$rep" -o "$T_TMP/e2.db"
has "saying the file is encrypted" "$ERR" "snapshot.zst: encrypted; set [replica] key_file"
expect "restore with another key fails" 1 "$hf" restore "$rep" -o "$T_TMP/e2.db" --key-file "$kdir/k2"
has "naming the key id it lacks" "$ERR" "sealed with key id 'one', which is not in $kdir/k2"
expect "restore with other bytes under the same key id fails" 1 "$hf" restore "$rep" \
	-o "$T_TMP/e2.db" --key-file "$kdir/k1-wrong"
has "authentication failed, naming the file" "$ERR" "$g/snapshot.zst: authentication failed"
[ ! -e "$T_TMP/e2.db" ] && ok "and nothing is written" || fail "failed restores" "wrote e2.db"
expect "replica ls with the key" 0 "$hf" replica ls "$rep" --key-file "$kdir/k1"
has "lists the generation" "$OUT" "$g       yes 0-$nseg"
expect "replica ls with no replica named uses key_file from holdfast.conf" 0 "$hf" replica ls
has "alike" "$OUT" "$g       yes 0-$nseg"
expect "debug segment with the key" 0 "$hf" debug segment "$rep/dev1/$g/seg/0000000000000002.zst" \
	--key-file "$kdir/k1"
has "prints the header" "$OUT" "seq: 2"
expect "debug segment without it" 1 "$hf" debug segment "$rep/dev1/$g/seg/0000000000000002.zst"
has "says it is encrypted" "$ERR" "encrypted; give --key-file"

# A forged history: seq 1's valid file under seq 2's name.
cp -a "$rep" "$T_TMP/forged"
cp "$T_TMP/forged/dev1/$g/seg/0000000000000001.zst" "$T_TMP/forged/dev1/$g/seg/0000000000000002.zst"
expect "a segment copied over another seq's name is refused" 1 "$hf" restore "$T_TMP/forged" \
	-o "$T_TMP/e2.db" --key-file "$kdir/k1"
has "naming it" "$ERR" "seg/0000000000000002.zst: authentication failed"
expect "debug segment of it, too" 1 "$hf" debug segment \
	"$T_TMP/forged/dev1/$g/seg/0000000000000002.zst" --key-file "$kdir/k1"
rm -rf "$T_TMP/forged"

# ---- migration: a plaintext replica, then a key ------------------------------------------
setup 16MiB 1h
"$hf" submit -- echo before >/dev/null
"$hf" sync now >/dev/null
"$hf" submit -- echo before2 >/dev/null
"$hf" sync now >/dev/null
dump >"$T_TMP/plain.sql"
g0=$(gens | tail -1)
cp "$rep/dev1/$g0/seg/0000000000000001.zst" "$T_TMP/plain-seg"
printf 'key_file = %s\n' "$kdir/k1" >>"$HOLDFAST_DATA/holdfast.conf"
"$hf" submit -- echo after >/dev/null
expect "sync after the key was added" 0 "$hf" sync now
has "starts a new generation" "$OUT" "key_file changed"
"$hf" submit -- echo after2 >/dev/null
"$hf" sync now >/dev/null
dump >"$T_TMP/mig.sql"
same "two generations" "$(gens | wc -l)" 2
g1=$(gens | tail -1)
[ "$(head -c 5 "$rep/dev1/$g1/snapshot.zst")" = HFENC ] && [ "$(head -c 5 "$rep/dev1/$g0/snapshot.zst")" != HFENC ] &&
	ok "the old generation plaintext, the new one encrypted" || fail "migration" "not so"
rm -f "$T_TMP/m.db"
expect "restore with the key takes the encrypted generation" 0 "$hf" restore "$rep" \
	-o "$T_TMP/m.db" --key-file "$kdir/k1"
has "saying the plaintext one is not read" "$ERR" "$g0/snapshot.zst: not encrypted but [replica] key_file is set"
sqlite3 "$T_TMP/m.db" .dump | cmp -s - "$T_TMP/mig.sql" && ok "and equals the source" ||
	fail "restore after migration" "differs"
expect "replica ls with the key after migration" 0 "$hf" replica ls
has "shows the old generation, not read" "$OUT" "$g0       yes 0-1 "
has "saying so" "$OUT" "plaintext, not read (--allow-plaintext)"
expect "replica ls without a key" 0 "$hf" replica ls "$rep"
has "shows the new generation as encrypted, not read" "$OUT" "encrypted, not read (--key-file)"
expect "the old generation with the key alone is refused" 1 "$hf" restore "$rep" -o "$T_TMP/m2.db" \
	--key-file "$kdir/k1" --generation "$g0"
has "saying why" "$ERR" "not encrypted but [replica] key_file is set"
rm -f "$T_TMP/m2.db"
expect "the old generation restores with --allow-plaintext" 0 "$hf" restore "$rep" -o "$T_TMP/m2.db" \
	--key-file "$kdir/k1" --generation "$g0" --allow-plaintext
sqlite3 "$T_TMP/m2.db" .dump | cmp -s - "$T_TMP/plain.sql" && ok "as it was" ||
	fail "old generation" "differs"
# A plaintext segment dropped in as the next seq of the encrypted generation.
cp -a "$rep" "$T_TMP/forged"
n=$(ls "$T_TMP/forged/dev1/$g1/seg" | wc -l)
cp "$T_TMP/plain-seg" "$T_TMP/forged/dev1/$g1/seg/$(printf %016x $((n + 1))).zst"
expect "a plaintext segment in an encrypted replica is refused" 1 "$hf" restore "$T_TMP/forged" \
	-o "$T_TMP/m3.db" --key-file "$kdir/k1"
has "naming it" "$ERR" "$(printf %016x $((n + 1))).zst: not encrypted but [replica] key_file is set"
rm -rf "$T_TMP/forged"
# Rotation: a new first key seals from now on, the old one still opens.
{ cat "$kdir/k2"; cat "$kdir/k1"; } >"$kdir/k21"
chmod 600 "$kdir/k21"
sed -i "s|^key_file = .*|key_file = $kdir/k21|" "$HOLDFAST_DATA/holdfast.conf"
"$hf" submit -- echo rotated >/dev/null
expect "sync after rotation" 0 "$hf" sync now
has "goes on in the same generation" "$OUT" "segment"
dump >"$T_TMP/rot.sql"
last=$(ls "$rep/dev1/$g1/seg" | tail -1)
expect "restore with the rotated key file" 0 "$hf" restore "$rep" -o "$T_TMP/m4.db" --key-file "$kdir/k21"
sqlite3 "$T_TMP/m4.db" .dump | cmp -s - "$T_TMP/rot.sql" && ok "reads old and new keys' files" ||
	fail "rotation" "differs"
expect "the old key file alone cannot read the newest segment" 1 "$hf" restore "$rep" \
	-o "$T_TMP/m5.db" --key-file "$kdir/k1"
has "naming the key id it lacks" "$ERR" "$last: sealed with key id 'two'"
