#!/bin/sh
# PID 1 of an arcvm guest (busybox sh): /init of the initramfs, and also
# /sbin/init of the root filesystem image (guest/mkrootfs.sh), so a guest
# booted from disk understands the same options.
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
#   arcvm.console=hvc0 after the modules, use the virtio console /dev/hvc0
#                      for the banner, the command and the shell
#   arcvm.root=DEV     after the modules, mount DEV (ext4) and switch_root to
#                      it, running its /sbin/init (this script again, which
#                      sees it is no longer /init and does not switch again)
#   arcvm.rootro=1     mount that root read-only
#   arcvm.overlay=1    mount that root read-only under an overlay whose
#                      writable layer is a tmpfs: the guest may write
#                      anywhere, the disk stays as it was (arcvm exec --image)
#   arcvm.init=PATH    run PATH on the new root instead of /sbin/init
#   arcvm.net=SPEC     after the modules (on the final root), configure eth0
#                      with /bin/arcvm-net SPEC (guest/net-up.sh): IP/N,GW,DNS,
#                      dhcp or up
#   arcvm.exit=HOW     how to end: poweroff (default), reboot, halt, panic
#   arcvm.agent=1      exec /sbin/arcvm-init at once (the `arcvm exec` agent)
# After a command it prints ARCVM-RUN-EXIT=<status>. With no arcvm.* option
# it only prints the banner and ends.
# Before the machine stops, filesystems on virtio disks (/dev/vd*) are
# synced and unmounted (the root remounted read-only), so the images are
# clean. Nothing here may exit: PID 1 exiting panics the kernel, so every
# path ends in finish(). Every wait is bounded (WAIT_DEV_S).

export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/ TERM=linux
WAIT_DEV_S=30

# The kernel runs the initramfs's /init; switch_root (or a kernel given
# root=) runs /sbin/init on the final root, with /proc, /sys and /dev
# already moved there in the first case.
[ "$0" = /init ] && stage=initramfs || stage=root

[ -e /proc/self ] || mount -t proc proc /proc
# arcvm exec: the agent does its own mounts and module loading (guest/agent/).
case " $(cat /proc/cmdline) " in *" arcvm.agent=1 "*) exec /sbin/arcvm-init ;; esac
[ -d /sys/kernel ] || mount -t sysfs sysfs /sys
[ -e /dev/null ] || mount -t devtmpfs devtmpfs /dev 2>/dev/null
# The cpio carries /dev/console; mounting devtmpfs over /dev hides it, so
# reopen the console from devtmpfs (harmless when it was already open).
exec </dev/console >/dev/console 2>&1

run= shell= modules= how=poweroff console= root= rootro= overlay= newinit=/sbin/init net=
set -f
for word in $(cat /proc/cmdline); do
	case "$word" in
	arcvm.run=*) run=$(echo "${word#arcvm.run=}" | tr + ' ') ;;
	arcvm.run64=*) run=$(echo "${word#arcvm.run64=}" | base64 -d) ;;
	arcvm.shell=1) shell=1 ;;
	arcvm.modules=1) modules=1 ;;
	arcvm.console=*) console=${word#arcvm.console=} ;;
	arcvm.root=*) root=${word#arcvm.root=} ;;
	arcvm.rootro=1) rootro=1 ;;
	arcvm.overlay=1) overlay=1 ;;
	arcvm.init=/*) newinit=${word#arcvm.init=} ;;
	arcvm.exit=*) how=${word#arcvm.exit=} ;;
	arcvm.net=*) net=${word#arcvm.net=} ;;
	esac
done
set +f

say() {
	echo "arcvm-guest: $*"
}

# wait_for PATH: until PATH exists, at most WAIT_DEV_S seconds.
wait_for() {
	n=$((WAIT_DEV_S * 10))
	while [ ! -e "$1" ]; do
		[ "$n" -gt 0 ] || return 1
		n=$((n - 1))
		sleep 0.1
	done
}

# Syncs, then unmounts what lives on virtio disks, innermost first, and
# remounts a disk root read-only: ext4 then needs no journal recovery.
release_disks() {
	mounts=
	while read -r dev dir _; do
		case "$dev" in /dev/vd*) mounts="$dir $mounts" ;; esac
	done </proc/mounts
	[ -n "$mounts" ] || return 0
	sync
	# Whatever still runs may hold files open for writing.
	kill -KILL -1 2>/dev/null
	for dir in $mounts; do
		if [ "$dir" = / ]; then
			mount -o remount,ro / 2>/dev/null
		else
			umount "$dir" 2>/dev/null || mount -o remount,ro "$dir" 2>/dev/null
		fi
	done
	sync
}

finish() {
	release_disks
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

# A root that cannot be used ends the boot the way the kernel's own
# "cannot mount root" does, in a panic, rather than silently running on the
# initramfs instead.
root_failed() {
	say "cannot use root $root: $*"
	how=panic
	finish
}

load_modules() {
	while read -r ko; do
		insmod "$ko" 2>/dev/null || say "insmod ${ko##*/} failed"
	done </lib/modules/load-order
}

use_console() {
	case "$console" in
	'') ;;
	hvc0)
		if wait_for /dev/hvc0; then
			exec </dev/hvc0 >/dev/hvc0 2>&1
		else
			say "no /dev/hvc0 after ${WAIT_DEV_S}s; staying on the serial console"
			console=
		fi
		;;
	*) say "unknown arcvm.console=$console ignored"; console= ;;
	esac
}

# The disk read-only below, a tmpfs above: writes live and die with the VM.
mount_overlay_root() {
	mkdir -p /lower /rw
	# A disk left unclean (a --persist run that did not power off) needs a
	# journal replay that a read-only disk cannot do: read it without.
	mount -t ext4 -o ro "$root" /lower 2>/dev/null ||
		{ mount -t ext4 -o ro,noload "$root" /lower &&
			say "$root was not cleanly unmounted: using it without its journal"; } ||
		root_failed "mount failed"
	mount -t tmpfs -o mode=0755 tmpfs /rw && mkdir -p /rw/upper /rw/work &&
		mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work \
			overlay /newroot || root_failed "cannot mount an overlay on it"
}

switch_to_root() {
	wait_for "$root" || root_failed "no such device after ${WAIT_DEV_S}s"
	mkdir -p /newroot
	mode=rw
	[ -n "$rootro" ] && mode=ro
	if [ -n "$overlay" ]; then
		mount_overlay_root
	else
		mount -t ext4 -o "$mode" "$root" /newroot ||
			root_failed "mount failed"
	fi
	if [ ! -x "/newroot$newinit" ]; then
		umount /newroot
		root_failed "no executable $newinit on it"
	fi
	for dir in /proc /sys /dev; do
		mount --move "$dir" "/newroot$dir" || {
			umount /newroot
			root_failed "cannot move $dir to it"
		}
	done
	# switch_root empties the initramfs and execs the new init as PID 1;
	# everything it checks was checked above.
	exec switch_root /newroot "$newinit"
}

if [ "$stage" = initramfs ]; then
	[ -n "$modules" ] && load_modules
	use_console
	[ -n "$root" ] && switch_to_root
else
	use_console
	# A read-only root still gets a writable /tmp.
	[ -n "$rootro" ] && mount -t tmpfs tmpfs /tmp 2>/dev/null
fi

if [ -n "$net" ]; then
	arcvm-net "$net" || say "network setup ($net) failed"
fi

read -r _ memtotal _ </proc/meminfo
say "kernel $(uname -r), $(nproc) cpus, MemTotal $memtotal kB"
echo ARCVM-INIT-READY

if [ -n "$run" ]; then
	sh -c "$run"
	echo "ARCVM-RUN-EXIT=$?"
elif [ -n "$shell" ]; then
	if [ "$console" = hvc0 ]; then
		# cttyhack would pick the kernel's console (ttyS0); a session
		# leader opening hvc0 makes it its controlling terminal instead.
		setsid sh -c 'exec sh </dev/hvc0 >/dev/hvc0 2>&1'
	else
		setsid cttyhack sh
	fi
fi
finish
