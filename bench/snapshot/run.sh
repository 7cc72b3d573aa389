#!/bin/sh
# bench/snapshot/run.sh BUILD OUT RUNS ROUNDS: the snapshot benchmarks (see
# bench/snapshot/snapshot.mk), then the Snapshots section of bench/RESULTS.md.
set -eu
BUILD=$1 OUT=$2 RUNS=$3 ROUNDS=$4
mkdir -p "$OUT"
uptime >"$OUT/load-start.txt"
"$BUILD/bench/snap_native" "$OUT/scratch" "$RUNS" | tee "$OUT/native.txt"
LINUX="/usr/bin/python3 bench/snapshot/snap_linux.py $BUILD $OUT/linux.json $ROUNDS"
scripts/linux-kvm.sh --share-out "$OUT" -- $LINUX
uptime >"$OUT/load-end.txt"
/usr/bin/python3 bench/snapshot/report.py "$OUT"
bench/section.sh bench/RESULTS.md SNAPSHOTS "$OUT/snapshots.md"
