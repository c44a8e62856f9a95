#!/bin/bash
# PXE boot under SeaBIOS (docs/net.md, PXE): the NIC's iPXE ROM (Debian's
# ipxe-qemu, behind the PCI ROM BAR) gets a DHCP lease from -netdev user,
# fetches syslinux's pxelinux.0 over its TFTP server, pxelinux.0 fetches
# ldlinux.c32, pxelinux.cfg/default, Debian's kernel and the test
# initramfs, and the kernel runs the test script, which prints the
# BOOTIF= (the booting NIC's MAC) pxelinux put on its command line:
#   e1000,            -boot n
#   virtio-net-pci,   -boot n
#   virtio-net-pci,   bootindex=1 (no -boot), with an e1000 that has
#                     romfile= (empty: no ROM) beside it
# Every packet stays inside the slirp network.
#
# usage: tests/functional/pxe-linux.sh KVMPC ACCEL [CASE...]
#   CASE: e1000, virtio, virtio-bootindex (default: all three)
# Exits 77 (SKIP) without the guest images, SeaBIOS, iPXE or pxelinux.
set -uo pipefail
kvmpc=${1:?usage: pxe-linux.sh KVMPC ACCEL [CASE...]}
accel=${2:?accel}
shift 2
cases=${*:-e1000 virtio virtio-bootindex}
top=$(cd "$(dirname "$0")/../.." && pwd)
B=${KVMPC_BUILD:-$top/build}
export KVMPC_BUILD=$B
kernel=$B/images/linux/vmlinuz
initrd=$B/images/initramfs.cpio.gz
pxelinux=/usr/lib/PXELINUX/pxelinux.0
ldlinux=/usr/lib/syslinux/modules/bios/ldlinux.c32
[ -r "$kernel" ] && [ -r "$initrd" ] || { echo "SKIP: guest images missing under $B/images"; exit 77; }
[ -r "$pxelinux" ] && [ -r "$ldlinux" ] ||
	{ echo "SKIP: install Debian's pxelinux and syslinux-common"; exit 77; }
[ -r /usr/lib/ipxe/qemu/efi-e1000.rom ] && [ -r /usr/lib/ipxe/qemu/efi-virtio.rom ] ||
	{ echo "SKIP: install Debian's ipxe-qemu"; exit 77; }
[ -r /usr/share/seabios/bios-256k.bin ] || { echo "SKIP: install Debian's seabios"; exit 77; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "--- guest output (last 40 lines) ---"; tail -40 "$tmp/out" | tr -d '\r'; echo "FAIL: $*"; exit 1; }

tftp=$tmp/tftp
mkdir -p "$tftp/pxelinux.cfg"
cp "$pxelinux" "$ldlinux" "$tftp/"
cp -L "$kernel" "$tftp/vmlinuz"
cp "$initrd" "$tftp/initrd.gz"
append="console=ttyS0 panic=-1 $("$top"/tests/images/busybox-initramfs.sh --cmdline \
	'echo "PXE-BOOTED $(tr " " "\n" < /proc/cmdline | grep ^BOOTIF=)"')"
cat > "$tftp/pxelinux.cfg/default" <<EOF
DEFAULT pxetest
PROMPT 0
TIMEOUT 0
LABEL pxetest
  KERNEL vmlinuz
  INITRD initrd.gz
  APPEND $append
  IPAPPEND 2
EOF

run_case() {
	local name=$1 banner=$2
	shift 2
	timeout -k 5 400 "$kvmpc" -accel "$accel" -m 256 -nographic -no-reboot \
		-netdev user,id=n0,tftp="$tftp",bootfile=pxelinux.0 "$@" >"$tmp/out" 2>&1
	local rc=$?
	[ $rc -eq 124 ] && fail "$name: timed out"
	tr -d '\r' < "$tmp/out" > "$tmp/out.txt"
	grep -aq "iPXE (PCI 00:0" "$tmp/out.txt" || fail "$name: SeaBIOS did not run an iPXE ROM"
	grep -aq "using $banner on" "$tmp/out.txt" || fail "$name: iPXE did not drive the NIC as $banner"
	# IPAPPEND 2: pxelinux tells the kernel which NIC it booted from
	grep -aq "^PXE-BOOTED BOOTIF=01-52-54-00-12-34-56" "$tmp/out.txt" ||
		fail "$name: the PXE-booted kernel did not run the script (exit status $rc)"
	grep -aq "KVMPC-TEST-EXIT: 0" "$tmp/out.txt" || fail "$name: the script did not complete"
	echo "PASS: $name: iPXE ($banner) -> pxelinux.0 -> Linux over TFTP"
}

for c in $cases; do
	case $c in
	e1000)
		run_case "e1000, -boot n" 82540em -boot n -device e1000,netdev=n0 ;;
	virtio)
		run_case "virtio-net-pci, -boot n" virtio-net -boot n -device virtio-net-pci,netdev=n0 ;;
	virtio-bootindex)
		run_case "virtio-net-pci, bootindex=1" virtio-net \
			-netdev user,id=n1,restrict=on -device e1000,netdev=n1,romfile=,mac=52:54:00:00:00:99 \
			-device virtio-net-pci,netdev=n0,bootindex=1
		if grep -aq "using 82540em" "$tmp/out.txt"; then
			fail "the e1000 with romfile= ran a ROM"
		fi
		;;
	*) echo "unknown case $c"; exit 2 ;;
	esac
done
exit 0
