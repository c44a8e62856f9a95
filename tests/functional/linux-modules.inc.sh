# Sourced by the Linux tests whose guest needs driver modules the test
# initramfs lacks (ide-linux.sh, floppy-linux.sh), with "$@" = KVMPC ACCEL
# MODULE...: sets kvmpc, accel, top, B, kernel, tmp (removed at exit),
# fail() and guest_wait(); builds $tmp/initrd.gz = the test initramfs followed by an archive
# with the modules (and what they depend on) and /lib/modules/load.order,
# which the guest script loads with
#   for m in $(cat /lib/modules/load.order); do insmod /lib/modules/$m ...
# Exits 77 (SKIP) when the guest images are not there.
kvmpc=${1:?kvmpc} accel=${2:?accel}
shift 2
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
B=${KVMPC_BUILD:-$top/build}
export KVMPC_BUILD=$B
kernel=$B/images/linux/vmlinuz
mods=$B/images/linux/modules
[ -r "$kernel" ] && [ -r "$B/images/initramfs.cpio.gz" ] && [ -r "$mods/modules.dep" ] ||
	{ echo "SKIP: guest images missing under $B/images"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "--- guest output (last 40 lines) ---"; tail -40 "$tmp/out"; echo "FAIL: $*"; exit 1; }
# guest_wait: waits for the guest's kvmpc ($vm_pid, then cleared; its
# status in $rc) and fails unless the guest script ran to its end with
# every module loaded
guest_wait() {
	wait $vm_pid
	rc=$?
	vm_pid=
	[ $rc -eq 124 ] && fail "timed out"
	grep -q "KVMPC-TEST-EXIT: 0" "$tmp/out" || fail "the guest script did not complete (exit status $rc)"
	grep -q "INSMOD-FAILED" "$tmp/out" && fail "a module did not load"
	return 0
}

. "$top/tests/images/lib.sh"
# The modules' archive is kept under $B/images/modcache, one per module
# list, and rebuilt when the modules or the scripts change: collecting the
# modules starts ~50 processes, ~10 s in the lab, whose view of $B is
# read-only (there a cached archive is only read; tests/run-all runs the
# tcg-lite functional tests, which fill the cache, before the lab's).
modcache=$B/images/modcache/$(IFS=+; echo "$*").cpio.gz
if ! is_newer_than "$modcache" "$mods/modules.dep" "$top/tests/images/lib.sh" "${BASH_SOURCE[0]}"; then
	mkdir -p "$tmp/root/lib/modules"
	add_modules "$tmp/root" "$mods" "$@" || fail "cannot collect the modules $*"
	pack_initramfs "$tmp/root" "$tmp/extra.cpio.gz"
	{ mkdir -p "${modcache%/*}" && cp "$tmp/extra.cpio.gz" "$modcache.$$" &&
		mv "$modcache.$$" "$modcache"; } 2>/dev/null || rm -f "$modcache.$$" 2>/dev/null
	modcache=$tmp/extra.cpio.gz
fi
cat "$B/images/initramfs.cpio.gz" "$modcache" > "$tmp/initrd.gz"
