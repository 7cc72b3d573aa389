#!/bin/sh
# /init of the default arcvm guest initramfs (busybox sh, PID 1).
#
# It mounts /proc, /sys and /dev, prints a banner and the line
# ARCVM-INIT-READY, then acts on the kernel command line:
#   arcvm.run=CMD      run CMD with sh -c; '+' in CMD stands for a space
#                      (the kernel splits its command line on spaces and this
#                      script does not parse quotes)
#   arcvm.run64=B64    the same, CMD given in base64 (for any other byte)
#   arcvm.shell=1      interactive sh on the console
#   arcvm.modules=1    insmod the modules listed in /lib/modules/load-order
#                      (before ARCVM-INIT-READY)
#   arcvm.exit=HOW     how to end: poweroff (default), reboot, halt, panic
#   arcvm.agent=1      exec /sbin/arcvm-init at once (the `arcvm exec` agent)
# After a command it prints ARCVM-RUN-EXIT=<status>. With no arcvm.* option
# it only prints the banner and ends.
# Nothing here may exit: PID 1 exiting panics the kernel, so every path ends
# in finish().

export PATH=/bin HOME=/ TERM=linux

mount -t proc proc /proc
# arcvm exec: the agent does its own mounts and module loading (guest/agent/).
case " $(cat /proc/cmdline) " in *" arcvm.agent=1 "*) exec /sbin/arcvm-init ;; esac
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
# The cpio carries /dev/console; mounting devtmpfs over /dev hides it, so
# reopen the console from devtmpfs (harmless when it was already open).
exec </dev/console >/dev/console 2>&1

run= shell= modules= how=poweroff
set -f
for word in $(cat /proc/cmdline); do
	case "$word" in
	arcvm.run=*) run=$(echo "${word#arcvm.run=}" | tr + ' ') ;;
	arcvm.run64=*) run=$(echo "${word#arcvm.run64=}" | base64 -d) ;;
	arcvm.shell=1) shell=1 ;;
	arcvm.modules=1) modules=1 ;;
	arcvm.exit=*) how=${word#arcvm.exit=} ;;
	esac
done
set +f

finish() {
	case "$how" in
	reboot) reboot -f ;;
	halt) halt -f ;;
	panic)
		echo 1 >/proc/sys/kernel/sysrq
		echo c >/proc/sysrq-trigger
		;;
	*) poweroff -f ;;
	esac
	# Only reached when the machine could not be stopped: idle forever.
	while :; do sleep 3600; done
}

read -r _ memtotal _ </proc/meminfo
echo "arcvm-guest: kernel $(uname -r), $(nproc) cpus, MemTotal $memtotal kB"

if [ -n "$modules" ]; then
	while read -r ko; do
		insmod "$ko" 2>/dev/null || echo "arcvm-guest: insmod ${ko##*/} failed"
	done </lib/modules/load-order
fi

echo ARCVM-INIT-READY

if [ -n "$run" ]; then
	sh -c "$run"
	echo "ARCVM-RUN-EXIT=$?"
elif [ -n "$shell" ]; then
	setsid cttyhack sh
fi
finish
