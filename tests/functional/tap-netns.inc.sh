# Sourced by the Linux tap tests (after linux-modules.inc.sh, which sets
# $tmp and fail): a network namespace of their own, removed at exit with
# whatever they started in it.  Every packet stays inside it.
#
#   . tap-netns.inc.sh NAME     creates namespace NAME-$$ (SKIP, exit 77,
#                               with the reason when that cannot be done)
#   nsexec CMD...               runs CMD in the namespace
#   nsbg CMD...                 the same in the background ($! is CMD)
#   tap_up IFNAME ADDR/LEN      waits for kvmpc's tap IFNAME to appear in
#                               the namespace, gives it ADDR, brings it
#                               and lo up
#   vm_pid, srv_pid, up_pid     killed at exit when set
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (a network namespace and a tap in it)"; exit 77; }
[ -c /dev/net/tun ] || { echo "SKIP: no /dev/net/tun"; exit 77; }
command -v ip >/dev/null || { echo "SKIP: no ip (iproute2)"; exit 77; }
command -v nsenter >/dev/null || { echo "SKIP: no nsenter (util-linux)"; exit 77; }
ns=$1-$$
ip netns add "$ns" 2>/dev/null || { echo "SKIP: cannot create a network namespace (ip netns add)"; exit 77; }
# nsenter switches the network namespace only: `ip netns exec` also
# remounts /sys and makes / a slave mount, which fails where / is not a
# mount point (a chroot).
nsexec() { nsenter --net=/run/netns/"$ns" "$@"; }
# In the background $! is the command itself (nsenter execs it), so the
# exit trap's kill reaches it; `nsexec ... &` would leave it behind as the
# orphan of a killed subshell.
nsbg() { nsenter --net=/run/netns/"$ns" "$@" & }
vm_pid= srv_pid= up_pid=
trap '[ -n "$vm_pid" ] && kill $vm_pid 2>/dev/null; [ -n "$srv_pid" ] && kill $srv_pid 2>/dev/null;
      [ -n "$up_pid" ] && kill $up_pid 2>/dev/null; ip netns del "$ns" 2>/dev/null; rm -rf "$tmp"' EXIT

tap_up() {
	local i
	for i in $(seq 100); do
		nsexec ip link show "$1" >/dev/null 2>&1 && break
		sleep 0.1
	done
	nsexec ip addr add "$2" dev "$1" || fail "kvmpc did not create $1"
	nsexec ip link set "$1" up
	nsexec ip link set lo up
}
