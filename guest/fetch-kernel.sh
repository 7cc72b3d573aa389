#!/bin/sh
# Fetches Debian's stock kernel package and unpacks it into OUT, never
# installing it on the host:
#   OUT/kernel-pkg/             the unpacked .deb
#   OUT/vmlinuz                 the bzImage
#   OUT/modules/lib/modules/V/  the modules, with depmod's indexes
#   OUT/kernel.release          V, written last: its presence means "done"
# The versioned package is resolved from linux-image-amd64's dependency, so
# the newest kernel Debian offers is taken. The .deb is kept in OUT/dl, so
# a rebuild after `rm OUT/kernel.release` needs no network.
# Usage: fetch-kernel.sh OUT [META-PACKAGE]
set -eu
out=${1:?usage: fetch-kernel.sh OUT [META-PACKAGE]}
meta=${2:-linux-image-amd64}
mkdir -p "$out/dl"
out=$(cd "$out" && pwd)

deb=$(ls "$out"/dl/linux-image-*.deb 2>/dev/null | head -n 1 || true)
if [ -z "$deb" ]; then
	resolve() {
		apt-cache depends "$meta" 2>/dev/null |
			sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n 1
	}
	pkg=$(resolve)
	# A fresh machine has no package lists yet; root can fetch them.
	if [ -z "$pkg" ] && [ "$(id -u)" = 0 ]; then
		echo "fetch-kernel: apt-cache does not know $meta; running apt-get update"
		apt-get update -q >/dev/null && pkg=$(resolve)
	fi
	if [ -z "$pkg" ]; then
		echo "fetch-kernel: apt-cache cannot resolve $meta to a versioned kernel package" >&2
		echo "fetch-kernel: run 'apt-get update' first" >&2
		exit 1
	fi
	echo "fetch-kernel: $meta -> $pkg"
	# Download as root into our folder (apt's _apt user cannot write there).
	(cd "$out/dl" && apt-get download -q -o APT::Sandbox::User=root "$pkg")
	deb=$(ls "$out"/dl/linux-image-*.deb | head -n 1)
fi

rm -rf "$out/kernel-pkg" "$out/modules"
dpkg-deb -x "$deb" "$out/kernel-pkg"
ver=$(ls "$out/kernel-pkg/lib/modules" | head -n 1)
[ -n "$ver" ] && [ -f "$out/kernel-pkg/boot/vmlinuz-$ver" ] || {
	echo "fetch-kernel: $deb has no boot/vmlinuz-<version> and lib/modules/<version>" >&2
	exit 1
}
cp "$out/kernel-pkg/boot/vmlinuz-$ver" "$out/vmlinuz.tmp"
mv "$out/vmlinuz.tmp" "$out/vmlinuz"
mkdir -p "$out/modules/lib/modules"
cp -al "$out/kernel-pkg/lib/modules/$ver" "$out/modules/lib/modules/"
depmod -b "$out/modules" "$ver"
echo "$ver" > "$out/kernel.release.tmp"
mv "$out/kernel.release.tmp" "$out/kernel.release"
echo "fetch-kernel: $ver ready in $out"
