#!/bin/sh
# Installs the Debian packages arcvm's build, guest image and tests need, when
# any is missing. Safe to run again: it does nothing once all are present.
set -eu
PKGS="gcc make libcjson-dev libhttp-parser-dev curl libseccomp-dev libzip-dev libcmocka-dev libslirp-dev
zlib1g-dev python3 python3-pytest python3-pytest-rerunfailures busybox-static cpio kmod e2fsprogs xz-utils zstd
qemu-system-x86 lua5.4 erlang-base acpica-tools clang time debootstrap iproute2"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing Debian packages:$missing (run as root, or install them)" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends $missing
