#!/bin/sh
# arcvm-net: configures the guest's eth0 (virtio-net) as the kernel command
# line's arcvm.net=SPEC says; run by guest/init.sh and by arcvm-init, so both
# guests behave alike. Installed as /bin/arcvm-net in the initramfs and in
# the images of `arcvm image debian`.
#   arcvm-net IP/PREFIX,GW,DNS   static address, default route, resolv.conf
#   arcvm-net dhcp               ask the network (slirp answers with 10.0.2.15)
#   arcvm-net up                 only bring the link up (TAP without an address)
# udhcpc calls this same script with deconfig, bound or renew as $1 and the
# lease in its environment. Every wait is bounded; exit status 0 means eth0 is
# configured as asked.
dev=eth0
# A Debian image (arcvm image debian) may lack iproute2 and udhcpc: it
# carries the initramfs's busybox as /usr/lib/arcvm/busybox for them.
bb=
command -v ip >/dev/null 2>&1 && command -v udhcpc >/dev/null 2>&1 ||
	bb=/usr/lib/arcvm/busybox
if [ -n "$bb" ]; then
	ip() { "$bb" ip "$@"; }
fi

resolv() {
	mkdir -p /etc
	: >/etc/resolv.conf
	for ns in "$@"; do
		echo "nameserver $ns" >>/etc/resolv.conf
	done
}

case "$1" in
deconfig)
	ip addr flush dev "$interface" 2>/dev/null
	ip link set "$interface" up
	exit 0
	;;
bound|renew)
	ip addr flush dev "$interface" 2>/dev/null
	ip addr add "$ip/${mask:-24}" dev "$interface" || exit 1
	for r in $router; do
		ip route replace default via "$r" dev "$interface" && break
	done
	# shellcheck disable=SC2086
	resolv $dns
	exit 0
	;;
esac

spec=${1:?usage: arcvm-net IP/PREFIX,GW,DNS | dhcp | up}
# The driver may still be probing: wait for eth0 at most 10 s.
n=100
while [ ! -e /sys/class/net/$dev ]; do
	[ "$n" -gt 0 ] || { echo "arcvm-net: no $dev after 10 s" >&2; exit 1; }
	n=$((n - 1))
	sleep 0.1
done
ip link set lo up
ip link set $dev up || exit 1
case "$spec" in
up) exit 0 ;;
dhcp) exec ${bb:+"$bb"} udhcpc -i $dev -f -q -n -t 5 -T 2 -s "$0" >/dev/null ;;
esac
old_ifs=$IFS
IFS=,
# shellcheck disable=SC2086
set -- $spec
IFS=$old_ifs
ip addr add "$1" dev $dev || exit 1
[ -z "$2" ] || ip route add default via "$2" dev $dev || exit 1
[ -z "$3" ] || resolv "$3"
exit 0
