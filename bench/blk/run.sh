#!/bin/sh
# Runs the block benchmark (bench/blk/blk_bench.py) where Debian's kernel can
# boot under KVM: directly, or inside the test host when this host's KVM is
# PVM (docs/testhost.md); the image then lives on the test host's /tmp.
# Then writes the figures into bench/RESULTS.md (bench/blk/record.py).
# Usage: run.sh OUTDIR [blk_bench.py options]
set -eu
cd "$(dirname "$0")/../.."
out=${1:?usage: run.sh OUTDIR [blk_bench.py options]}
shift
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -f "$out/results.md" "$out/results.json"
bench="/usr/bin/python3 bench/blk/blk_bench.py --out $out"
scripts/linux-kvm.sh --timeout 3600 --share-out "$out" -- $bench "$@"
/usr/bin/python3 bench/blk/record.py "$out" bench/RESULTS.md
