#!/bin/sh
# Runs the network benchmark (bench/net/net_bench.py) where Debian's kernel
# boots under KVM: directly, or inside the test host when this host's KVM is
# PVM (docs/testhost.md). Results land in OUTDIR.
# Usage: run.sh OUTDIR [net_bench.py options]
set -eu
cd "$(dirname "$0")/../.."
out=${1:?usage: run.sh OUTDIR [net_bench.py options]}
shift
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -f "$out/results.md" "$out/results.json"
bench="/usr/bin/python3 bench/net/net_bench.py --out $out"
exec scripts/linux-kvm.sh --timeout 5400 --share-out "$out" -- $bench "$@"
