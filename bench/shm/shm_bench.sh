#!/bin/sh
# Moving MIB MiB from the host into a guest, three ways in the same run, and a
# host memcpy of the same size as the anchor:
#   shared memory  the host copies the data into the --shared-mem file (one
#                  memcpy, bench/shm/shmcopy.c), then the guest reads every
#                  64-bit word of the region in place (arcvm-shm sum); the
#                  figure is the sum of both times
#   9p             the guest reads a file of that size from a share (cat)
#   vsock          the host pipes the same file into the command's stdin, which
#                  arcvm exec streams to the guest agent over virtio-vsock (cat)
# One `arcvm exec` per round does all three; guest times come from
# /proc/uptime, host times from CLOCK_MONOTONIC. The guest's XOR of the region
# must equal the host's, or the round fails. Median of ROUNDS rounds.
# Prints the figures; writes shm.md and shm.txt (raw times) to OUT, and with
# --results FILE rewrites the SHM section of FILE between its markers.
#
# usage: shm_bench.sh BUILD OUT [--mib N] [--rounds N] [--results FILE]
# Where this host's KVM cannot boot unmodified Linux (PVM), it runs in the
# test host, with its work folder on the test host's tmpfs.
# Environment: SHM_BENCH_TIMEOUT, seconds for the whole test-host run (5400).
set -eu
usage() {
	echo "usage: shm_bench.sh BUILD OUT [--mib N] [--rounds N] [--results FILE]" >&2
	exit 2
}
[ $# -ge 2 ] || usage
build=$(realpath "$1") out=$2
shift 2
mib=1024 rounds=3 results= inside=
while [ $# -gt 0 ]; do
	case "$1" in
	--mib) mib=${2:?}; shift 2 ;;
	--rounds) rounds=${2:?}; shift 2 ;;
	--results) results=$(realpath "${2:?}"); shift 2 ;;
	--inside) inside=1; shift ;;
	*) usage ;;
	esac
done
for n in "$mib" "$rounds"; do
	[ "$n" -ge 1 ] 2>/dev/null || usage
done
mkdir -p "$out"
out=$(realpath "$out")
here=$(dirname "$(realpath "$0")")
repo=$(dirname "$(dirname "$here")")
for f in "$build/arcvm" "$build/bench/shmcopy" "$build/guest/initrd.cpio.gz"; do
	[ -r "$f" ] || { echo "shm_bench: $f missing (make all guest bench-shm)" >&2; exit 2; }
done

guest_script='t() { cut -d" " -f1 /proc/uptime; }
a=$(t); cat >/dev/null; b=$(t)
cat /w/big >/dev/null; c=$(t)
x=$(arcvm-shm sum); d=$(t)
y=$(arcvm-shm sum); e=$(t)
[ "$x" = "$y" ] || x=mismatch
echo "SHMBENCH vsock=$(awk -v x=$a -v y=$b "BEGIN { print y - x }") p9=$(awk -v x=$b -v y=$c "BEGIN { print y - x }") cold=$(awk -v x=$c -v y=$d "BEGIN { print y - x }") warm=$(awk -v x=$d -v y=$e "BEGIN { print y - x }") xor=$x"'

median() {
	sort -g "$1" | awk '{ v[NR] = $1 } END { printf "%.3f\n", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
field() { echo "$1" | sed "s/.*$2=\([0-9a-f.]*\).*/\1/"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }
rate() { awk -v t="$1" -v m="$mib" 'BEGIN { printf "%.0f", m / t }'; }

series() {
	work=$(mktemp -d /tmp/shmbench.XXXXXX)
	trap 'rm -rf "$work"' EXIT
	head -c "$((mib << 20))" /dev/urandom >"$work/big"
	truncate -s "$((mib << 20))" "$work/region"
	for k in memcpy hostcopy cold warm shm shmcold p9 vsock; do : >"$out/$k"; done
	i=0
	while [ $i -lt "$rounds" ]; do
		echo "shm_bench: round $((i + 1)) of $rounds" >&2
		anchor=$("$build/bench/shmcopy" "$mib")
		field "$anchor" seconds >>"$out/memcpy"
		fill=$("$build/bench/shmcopy" "$mib" "$work/region")
		"$build/arcvm" exec --mem 512M --shared-mem "${mib}M,path=$work/region" \
			--share "$work:/w:ro" -- sh -c "$guest_script" sh "$mib" <"$work/big" >"$out/guest.log" 2>&1 ||
			{ echo "shm_bench: arcvm exec failed:" >&2; tail -20 "$out/guest.log" >&2; exit 1; }
		line=$(grep -a SHMBENCH "$out/guest.log" | tail -1)
		[ -n "$line" ] || { echo "shm_bench: no figures:" >&2; tail -20 "$out/guest.log" >&2; exit 1; }
		[ "$(field "$line" xor)" = "$(field "$fill" xor)" ] ||
			{ echo "shm_bench: the guest's XOR $(field "$line" xor) is not the host's $(field "$fill" xor)" >&2; exit 1; }
		hc=$(field "$fill" seconds) gc=$(field "$line" cold) gw=$(field "$line" warm)
		echo "$hc" >>"$out/hostcopy"
		echo "$gc" >>"$out/cold"
		echo "$gw" >>"$out/warm"
		awk -v a="$hc" -v b="$gw" 'BEGIN { print a + b }' >>"$out/shm"
		awk -v a="$hc" -v b="$gc" 'BEGIN { print a + b }' >>"$out/shmcold"
		field "$line" p9 >>"$out/p9"
		field "$line" vsock >>"$out/vsock"
		i=$((i + 1))
	done
	m=$(median "$out/memcpy") hc=$(median "$out/hostcopy") gc=$(median "$out/cold")
	gw=$(median "$out/warm") s=$(median "$out/shm") sc=$(median "$out/shmcold")
	p=$(median "$out/p9") v=$(median "$out/vsock")
	where=$( [ -n "${TESTHOST:-}" ] && echo "in the test host (QEMU TCG L1, nested KVM; every figure, the anchor too, runs under TCG), files on the L1's tmpfs" || echo "on this host")
	{
		echo "## Shared memory"
		echo
		echo "Moving $mib MiB from the host into a guest (\`arcvm exec --mem 512M\`, 1 vCPU) three ways in"
		echo "one run per round, against a host \`memcpy\` of $mib MiB between two touched buffers. Shared"
		echo "memory: the host copies the data into the \`--shared-mem ...,path=\` file (one \`memcpy\`, pages"
		echo "touched before) and the guest reads every 64-bit word of the region in place"
		echo "(\`arcvm-shm sum\`, checked against the host's XOR); the figure is both added. The guest reads"
		echo "twice: its first read of each 4 KiB page takes a nested page fault (the host's KVM maps the"
		echo "page into the guest then), the second finds the pages mapped, as a channel that is reused"
		echo "does; the steady-state row uses the second read, the first-touch row the first. 9p: the guest"
		echo "\`cat\`s a $mib MiB file from a share to \`/dev/null\`. vsock: the host pipes the same file into"
		echo "the command's stdin, which arcvm exec streams to the agent over virtio-vsock, and the guest"
		echo "\`cat\`s it to \`/dev/null\`. Guest times from \`/proc/uptime\` (10 ms), host times from"
		echo "\`CLOCK_MONOTONIC\`. Median of $rounds rounds, $where, $(date -u '+%Y-%m-%d %H:%M UTC'),"
		echo "load average $(cut -d' ' -f1-3 /proc/loadavg). Script: \`bench/shm/shm_bench.sh\` (\`make bench-shm\`)."
		echo
		echo "| way | time | MiB/s | vs shared memory |"
		echo "|---|---|---|---|"
		echo "| host memcpy (anchor) | $m s | $(rate "$m") | |"
		echo "| shared memory, steady state (host copy $hc s + guest read $gw s) | $s s | $(rate "$s") | 1 |"
		echo "| shared memory, first touch (host copy $hc s + guest read $gc s) | $sc s | $(rate "$sc") | $(ratio "$sc" "$s")x slower |"
		echo "| 9p | $p s | $(rate "$p") | $(ratio "$p" "$s")x slower |"
		echo "| vsock | $v s | $(rate "$v") | $(ratio "$v" "$s")x slower |"
		echo
		echo "Targets (steady state): shared memory at least 10x vsock: $(ratio "$v" "$s")x"
		echo "($(awk -v v="$v" -v s="$s" 'BEGIN { print (v / s >= 10) ? "met" : "missed" }')); within 2x of a host memcpy: $(ratio "$s" "$m")x"
		echo "($(awk -v m="$m" -v s="$s" 'BEGIN { print (s / m <= 2) ? "met" : "missed" }')). First touch: $(ratio "$v" "$sc")x vsock, $(ratio "$sc" "$m")x a memcpy."
	} >"$out/shm.md"
	paste "$out/memcpy" "$out/hostcopy" "$out/cold" "$out/warm" "$out/p9" "$out/vsock" \
		>"$out/shm.txt"
	cat "$out/shm.md"
}

if [ -n "$inside" ]; then
	series
else
	TESTHOST_BUILD=${TESTHOST_BUILD:-$build} "$repo/scripts/linux-kvm.sh" --mem 6G \
		--timeout "${SHM_BENCH_TIMEOUT:-5400}" --share-out "$out" -- \
		sh "$here/shm_bench.sh" "$build" "$out" --mib "$mib" --rounds "$rounds" --inside
	[ -s "$out/shm.md" ] || { echo "shm_bench: no $out/shm.md written" >&2; exit 1; }
fi

if [ -n "$results" ] && [ -z "$inside" ]; then
	"$repo/bench/section.sh" "$results" SHM "$out/shm.md"
fi
