#!/usr/bin/python3
"""Writes the block benchmark's figures (OUTDIR/results.md from
blk_bench.py) into bench/RESULTS.md, between the markers
<!-- BEGIN BLOCK FIGURES --> and <!-- END BLOCK FIGURES -->. Everything else in
the file, including the prose of the "Block devices" section around the
markers, is left as it is.

Usage: record.py OUTDIR [RESULTS.md]
"""
import datetime
import json
import os
import pathlib
import platform
import sys

BEGIN, END = "<!-- BEGIN BLOCK FIGURES -->", "<!-- END BLOCK FIGURES -->"


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    out = pathlib.Path(sys.argv[1])
    results = pathlib.Path(sys.argv[2] if len(sys.argv) == 3 else
                           pathlib.Path(__file__).resolve().parents[1] / "RESULTS.md")
    table = (out / "results.md").read_text().strip()
    args = json.loads((out / "results.json").read_text())["args"]
    when = datetime.datetime.fromtimestamp((out / "results.md").stat().st_mtime,
                                           datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    figures = (f"{BEGIN}\nMeasured {when} on {cpu_model()}, {os.cpu_count()} cores "
               f"(`make bench-blk`: {args['runs']} boots of each VMM, {args['reps']} passes "
               f"per boot, {args['mib']} MiB per sequential pass, {args['rand_count']} random "
               f"reads per pass, a {args['image_mib']} MiB image).\n\n{table}\n{END}")
    text = results.read_text()
    if BEGIN not in text or END not in text:
        sys.exit(f"record: {results} has no {BEGIN} ... {END} markers")
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    results.write_text(head + figures + tail)
    print(f"record: figures written to {results}")


if __name__ == "__main__":
    main()
