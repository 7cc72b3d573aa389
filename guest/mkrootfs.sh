#!/bin/sh
# Builds a small busybox ext4 root filesystem image, without root and
# without mounting anything (mke2fs -d copies a staging folder in):
#   /bin/busybox (busybox-static) and a symlink per applet (except init),
#   /sbin/init (the given script: guest/init.sh, which knows it runs on the
#   final root), /etc basics, and empty /proc /sys /dev /tmp /mnt /root /run.
# The UUID and hash seed are fixed; mke2fs 1.47.0 still stamps the build
# time into the superblock and the root folder, so rebuilds differ there.
# Usage: mkrootfs.sh OUT.ext4 INIT [SIZE]   (SIZE for mke2fs, default 64M)
set -eu
out=${1:?usage: mkrootfs.sh OUT.ext4 INIT [SIZE]}
init=${2:?init script missing}
size=${3:-64M}
busybox=${BUSYBOX:-/bin/busybox}
# Any fixed values will do; these spell "arcvm root" and "arcvm hash".
uuid=61726376-6d20-4072-af6f-740000000001
hash_seed=61726376-6d20-4861-b368-000000000001

command -v mke2fs >/dev/null 2>&1 || PATH=$PATH:/sbin:/usr/sbin
command -v mke2fs >/dev/null 2>&1 || {
	echo "mkrootfs: mke2fs not found (install e2fsprogs)" >&2
	exit 1
}
"$busybox" --list >/dev/null 2>&1 || {
	echo "mkrootfs: $busybox is not a working busybox (install busybox-static)" >&2
	exit 1
}
file -L "$busybox" 2>/dev/null | grep -q 'dynamically linked' && {
	echo "mkrootfs: $busybox is dynamically linked; the image needs busybox-static" >&2
	exit 1
}

[ -r "$init" ] || { echo "mkrootfs: cannot read $init" >&2; exit 1; }
stage=$out.d
rm -rf "$stage"
mkdir -p "$stage"
cp "$init" "$stage/init.tmp"
# Network setup, as in the initramfs (guest/net-up.sh).
cp "$(dirname "$0")/net-up.sh" "$stage/net.tmp"
cd "$stage"
mkdir -p bin sbin etc proc sys dev tmp mnt root run var usr
chmod 1777 tmp
cp "$busybox" bin/busybox
for applet in $("$busybox" --list); do
	case "$applet" in
	busybox | init | linuxrc) ;;
	*) ln -s busybox "bin/$applet" ;;
	esac
done
mv init.tmp sbin/init
mv net.tmp bin/arcvm-net
chmod 755 bin/arcvm-net
chmod 755 sbin/init

cat >etc/passwd <<'EOF'
root:x:0:0:root:/root:/bin/sh
EOF
cat >etc/group <<'EOF'
root:x:0:
EOF
echo arcvm >etc/hostname
cat >etc/fstab <<'EOF'
# The guest's /sbin/init mounts what it needs; nothing is listed here.
EOF
cat >etc/profile <<'EOF'
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
EOF
ln -s /proc/mounts etc/mtab
cd - >/dev/null

find "$stage" -exec touch -h -d @0 {} +
rm -f "$out.tmp"
truncate -s "$size" "$out.tmp"
mke2fs -q -F -t ext4 -b 4096 -L arcvm-root -U "$uuid" \
	-E "hash_seed=$hash_seed,root_owner=0:0" -d "$stage" "$out.tmp"
# Fail here, not in a test, if the image is not clean.
e2fsck -fn "$out.tmp" >/dev/null 2>&1 || {
	echo "mkrootfs: e2fsck found problems in $out.tmp" >&2
	exit 1
}
mv "$out.tmp" "$out"
