#!/bin/sh
# /init of the test host's L1 initramfs (busybox sh, PID 1 of the QEMU TCG
# machine that tests/testhost/run starts).
#
# It loads kvm-amd and the 9p / virtio-serial modules, mounts the host's
# root read-only at /host with fresh proc, sys, dev, /tmp and /run inside,
# mounts the job share (tag "testhost") at /host/run/testhost and each
# writable share listed in its "mounts" file at its host path, then runs
# /run/testhost/job.sh chrooted into /host with stdout and stderr on the
# virtio-serial ports named testhost.out and testhost.err.
#
# Talks to `run` through the console (ttyS0), one marker per line:
#   TESTHOST-L1-INIT            this script started
#   TESTHOST-RUN                the command starts now
#   TESTHOST-FAIL <code> <why>  setting up failed; `run` exits with <code>
#   TESTHOST-EXIT <status>      the command ended with <status>
#   TESTHOST-ALIVE              every HEARTBEAT_S seconds while the command
#                               runs: L1 still gets its timer interrupts
# and writes the status to /run/testhost/status as well, which `run` reads
# after the machine is off (the console may lose its last bytes at poweroff).
# PID 1 must not exit, so every path ends in poweroff -f.

export PATH=/bin HOME=/

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1
echo TESTHOST-L1-INIT

SHARE=/host/run/testhost
P9OPTS=trans=virtio,version=9p2000.L,msize=262144
# The read-only root may be cached by L1 (testhost.rootcache=loose on the
# kernel command line; `run` passes it): much faster, blind to host-side
# changes made while the command runs.
rootcache=none
set -f
for word in $(cat /proc/cmdline); do
	case "$word" in
	testhost.rootcache=*) rootcache=${word#testhost.rootcache=} ;;
	esac
done
set +f

stop() {
	sync
	poweroff -f
	while :; do sleep 3600; done
}

# fail CODE MESSAGE: report a set-up failure to `run` and stop.
fail() {
	code=$1
	shift
	echo "testhost-l1: $*"
	echo "TESTHOST-FAIL $code $*"
	[ -d "$SHARE" ] && echo "$code" >"$SHARE/setup-failed" 2>/dev/null
	stop
}

while read -r ko; do
	insmod "$ko" 2>/dev/null || echo "testhost-l1: insmod ${ko##*/} failed"
done </lib/modules/load-order

# Loopback up: tests serve on 127.0.0.1 (the NAT's host side, 10.0.2.2).
ip link set lo up 2>/dev/null || echo "testhost-l1: cannot bring lo up"

if [ ! -c /dev/kvm ]; then
	echo "testhost-l1: what the kernel said about kvm:"
	dmesg | grep -iE 'kvm|svm|ccp|irqbypass' | tail -n 20
	fail 123 "/dev/kvm is missing inside the test host: kvm-amd did not load (kernel log in the console lines)"
fi

mkdir -p /host
mount -t 9p -o "$P9OPTS,ro,cache=$rootcache" hostroot /host ||
	fail 125 "cannot mount the host's root filesystem (9p tag hostroot)"
mount -t proc proc /host/proc &&
	mount -t sysfs sysfs /host/sys &&
	mount -t devtmpfs devtmpfs /host/dev &&
	mount -t tmpfs -o mode=1777 tmpfs /host/tmp &&
	mount -t tmpfs -o mode=755 tmpfs /host/run ||
	fail 125 "cannot mount proc, sys, dev, /tmp or /run inside /host"
mkdir -p /host/dev/pts /host/dev/shm
mount -t devpts -o newinstance,ptmxmode=0666 devpts /host/dev/pts
mount -t tmpfs -o mode=1777 tmpfs /host/dev/shm
ln -sf /proc/self/fd /host/dev/fd
ln -sf /proc/self/fd/0 /host/dev/stdin
ln -sf /proc/self/fd/1 /host/dev/stdout
ln -sf /proc/self/fd/2 /host/dev/stderr

mkdir -p "$SHARE"
mount -t 9p -o "$P9OPTS" testhost "$SHARE" ||
	fail 125 "cannot mount the job share (9p tag testhost)"

# Writable shares: one "TAG PATH" per line, mounted at PATH as on the host.
if [ -f "$SHARE/mounts" ]; then
	while read -r tag path; do
		mkdir -p "/host$path" 2>/dev/null
		mount -t 9p -o "$P9OPTS" "$tag" "/host$path" ||
			fail 125 "cannot mount the writable share $path (9p tag $tag)"
	done <"$SHARE/mounts"
fi

# The virtio-serial ports carry the command's stdout and stderr.
out= err=
for port in /sys/class/virtio-ports/*; do
	case "$(cat "$port/name" 2>/dev/null)" in
	testhost.out) out=/dev/${port##*/} ;;
	testhost.err) err=/dev/${port##*/} ;;
	esac
done
[ -c "$out" ] && [ -c "$err" ] ||
	fail 125 "the virtio-serial ports testhost.out/testhost.err are missing"

# QEMU's TCG emulation of nested SVM can stop delivering L1's own interrupts
# (L1 then makes no progress at all, whatever its timeouts say); `run` kills
# the machine when these lines stop coming.
HEARTBEAT_S=10
while :; do echo TESTHOST-ALIVE; sleep $HEARTBEAT_S; done &
heartbeat=$!
echo "$heartbeat" >"$SHARE/heartbeat.pid"   # the self-test stops it

echo TESTHOST-RUN
chroot /host /bin/sh /run/testhost/job.sh </dev/null >"$out" 2>"$err"
status=$?
kill "$heartbeat" 2>/dev/null
echo "$status" >"$SHARE/status"
echo "TESTHOST-EXIT $status"
stop
