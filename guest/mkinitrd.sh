#!/bin/sh
# Builds a gzip'd newc initramfs from a staging folder, without root:
#   /bin/busybox (busybox-static) and a symlink per applet, /sbin -> bin,
#   /init (the given script), the named kernel modules with everything they
#   depend on under /lib/modules/<version>/, and /lib/modules/load-order
#   listing their paths in insmod order; /dev/console comes from devnodes.py.
# Usage: mkinitrd.sh OUT.cpio.gz INIT MODDIR [MODULE...]
#   MODDIR is the folder holding modules.dep (lib/modules/<version>).
set -eu
out=${1:?usage: mkinitrd.sh OUT.cpio.gz INIT MODDIR [MODULE...]}
init=${2:?init script missing}
moddir=${3:?module folder missing}
shift 3
here=$(cd "$(dirname "$0")" && pwd)
busybox=${BUSYBOX:-/bin/busybox}
ver=$(basename "$moddir")

"$busybox" --list >/dev/null 2>&1 || {
	echo "mkinitrd: $busybox is not a working busybox (install busybox-static)" >&2
	exit 1
}
file -L "$busybox" 2>/dev/null | grep -q 'dynamically linked' && {
	echo "mkinitrd: $busybox is dynamically linked; the initramfs needs busybox-static" >&2
	exit 1
}

stage=$out.d
rm -rf "$stage"
mkdir -p "$stage/bin" "$stage/proc" "$stage/sys" "$stage/tmp" \
	"$stage/root" "$stage/mnt" "$stage/lib/modules/$ver"
ln -s bin "$stage/sbin"
cp "$busybox" "$stage/bin/busybox"
for applet in $("$busybox" --list); do
	[ "$applet" = busybox ] || ln -s busybox "$stage/bin/$applet"
done
cp "$init" "$stage/init"
chmod 755 "$stage/init"
# Network setup, shared by /init and the agent (guest/net-up.sh).
cp "$here/net-up.sh" "$stage/bin/arcvm-net"
chmod 755 "$stage/bin/arcvm-net"
mkdir -p "$stage/etc"
# The exec agent (/sbin/arcvm-init), when the build names it (guest/agent/agent.mk).
# Called as arcvm-shm it is the shared-memory tool (docs/shared-memory.md).
if [ -n "${ARCVM_INIT_BIN:-}" ]; then
	cp "$ARCVM_INIT_BIN" "$stage/bin/arcvm-init"
	ln -s arcvm-init "$stage/bin/arcvm-shm"
fi

: >"$stage/lib/modules/load-order"
if [ $# -gt 0 ]; then
	"$here/modorder.py" "$moddir" "$@" >"$stage/modorder.tmp"
	while read -r rel; do
		mkdir -p "$stage/lib/modules/$ver/$(dirname "$rel")"
		cp "$moddir/$rel" "$stage/lib/modules/$ver/$rel"
		echo "/lib/modules/$ver/$rel" >>"$stage/lib/modules/load-order"
	done <"$stage/modorder.tmp"
	rm "$stage/modorder.tmp"
fi

# Same inputs, same bytes: fixed mtimes, inode numbers from cpio's counter.
find "$stage" -exec touch -h -d @0 {} +
(
	cd "$stage"
	find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet --reproducible
	"$here/devnodes.py"
) | gzip -9n >"$out.tmp"
mv "$out.tmp" "$out"
