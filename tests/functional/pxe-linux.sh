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
#   http: e1000, -boot n, and DHCP's boot file an http:// URL on the
#         host's loopback (10.0.2.2 through slirp): iPXE fetches an iPXE
#         script from a server the test runs on 127.0.0.1, then the kernel
#         and the initramfs over HTTP
# Every packet stays inside the slirp network or on 127.0.0.1.
#
# usage: tests/functional/pxe-linux.sh KVMPC ACCEL [CASE...]
#   CASE: e1000, virtio, virtio-bootindex, http (default: all four)
# Exits 77 (SKIP) without the guest images, SeaBIOS, iPXE or pxelinux.
set -uo pipefail
kvmpc=${1:?usage: pxe-linux.sh KVMPC ACCEL [CASE...]}
accel=${2:?accel}
shift 2
cases=${*:-e1000 virtio virtio-bootindex http}
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
http_pid=
trap '[ -n "$http_pid" ] && kill $http_pid 2>/dev/null; rm -rf "$tmp"' EXIT
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

# run_case NAME BANNER NETDEV_OPTIONS EXPECTED_MARKER EMULATOR ARGS...
run_case() {
	local name=$1 banner=$2 netdev=$3 marker=$4
	shift 4
	timeout -k 5 400 "$kvmpc" -accel "$accel" -m 256 -nographic -no-reboot \
		-netdev user,id=n0,"$netdev" "$@" >"$tmp/out" 2>&1
	local rc=$?
	[ $rc -eq 124 ] && fail "$name: timed out"
	tr -d '\r' < "$tmp/out" > "$tmp/out.txt"
	grep -aq "iPXE (PCI 00:0" "$tmp/out.txt" || fail "$name: SeaBIOS did not run an iPXE ROM"
	grep -aq "using $banner on" "$tmp/out.txt" || fail "$name: iPXE did not drive the NIC as $banner"
	grep -aq "^$marker" "$tmp/out.txt" ||
		fail "$name: the PXE-booted kernel did not run the script (exit status $rc)"
	grep -aq "KVMPC-TEST-EXIT: 0" "$tmp/out.txt" || fail "$name: the script did not complete"
}

# pxelinux.0 over TFTP; IPAPPEND 2: pxelinux tells the kernel which NIC it
# booted from
tftp_case() {
	local name=$1 banner=$2
	shift 2
	run_case "$name" "$banner" "tftp=$tftp,bootfile=pxelinux.0" \
		"PXE-BOOTED BOOTIF=01-52-54-00-12-34-56" "$@"
	echo "PASS: $name: iPXE ($banner) -> pxelinux.0 -> Linux over TFTP"
}

http_case() {
	local port i f
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	printf '#!ipxe\nkernel http://10.0.2.2:%s/vmlinuz %s\ninitrd http://10.0.2.2:%s/initrd.gz\nboot\n' \
		"$port" "$append" "$port" > "$tftp/boot.ipxe"
	python3 -m http.server "$port" --bind 127.0.0.1 --directory "$tftp" >"$tmp/http.log" 2>&1 &
	http_pid=$!
	for i in $(seq 50); do
		python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null && break
		sleep 0.1
	done
	run_case "e1000, HTTP boot" 82540em "restrict=off,bootfile=http://10.0.2.2:$port/boot.ipxe" \
		"PXE-BOOTED" -boot n -device e1000,netdev=n0
	kill $http_pid 2>/dev/null
	wait $http_pid 2>/dev/null
	http_pid=
	for f in boot.ipxe vmlinuz initrd.gz; do
		grep -q "\"GET /$f HTTP/1.[01]\" 200" "$tmp/http.log" ||
			fail "HTTP boot: the host's server never served /$f"
	done
	grep -aq "^PXE-BOOTED BOOTIF=" "$tmp/out.txt" && fail "HTTP boot: the kernel came through pxelinux"
	echo "PASS: e1000, HTTP boot: iPXE (82540em) -> boot.ipxe, kernel and initramfs over HTTP from 127.0.0.1"
}

for c in $cases; do
	case $c in
	e1000)
		tftp_case "e1000, -boot n" 82540em -boot n -device e1000,netdev=n0 ;;
	virtio)
		tftp_case "virtio-net-pci, -boot n" virtio-net -boot n -device virtio-net-pci,netdev=n0 ;;
	http)
		http_case ;;
	virtio-bootindex)
		tftp_case "virtio-net-pci, bootindex=1" virtio-net \
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
