#!/bin/bash
# Installs what kvmpc needs to build and test (Debian 12 packages, as root),
# then configures and builds into build/.  Idempotent and quiet: the details
# go to build/setup.log and are shown only if something fails.
#
# usage: scripts/setup.sh [--no-test-deps]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
mkdir -p build
log=$top/build/setup.log
: > "$log"

# Build, plus what the default guest image needs (Debian's kernel package is
# fetched with apt-get download; the initramfs is built from busybox-static),
# capstone, the tcg-lite decoder tests' oracle (meson requires it), and
# SeaBIOS, the firmware kvmpc boots without -kernel (docs/firmware.md), and
# iPXE's ROMs, which e1000 and virtio-net-pci load by default (docs/net.md).
build_pkgs="gcc libc6-dev make meson ninja-build pkg-config libglib2.0-dev libjson-glib-dev
 liblzma-dev zlib1g-dev libzstd-dev liburing-dev python3
 busybox-static cpio gzip xz-utils zstd kmod ca-certificates
 libcapstone-dev seabios libslirp-dev ipxe-qemu libpng-dev"
# Guest test programs (-m32), the KVM lab (QEMU as a test tool only, never part
# of the product) and test clients.
# clang + its runtimes for the libFuzzer target (tests/fuzz); capstone for the
# tcg-lite differential oracle (tests/tcgl-diff); iasl to disassemble the
# DSDT (tests/unit/test-acpi.c); qemu-img (qemu-utils) as the qcow2
# oracle; boot loaders and memtest86+ for tests/functional/boot-loaders.sh.
test_pkgs="gcc-multilib qemu-system-x86 qemu-utils socat procps util-linux clang libclang-rt-14-dev
 libcapstone-dev acpica-tools xorriso iproute2
 grub-pc-bin isolinux syslinux-common pxelinux memtest86+ mtools dosfstools"
pkgs=$build_pkgs
[ "${1:-}" = --no-test-deps ] || pkgs="$pkgs $test_pkgs"

missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "kvmpc setup: missing packages:$missing (run as root to install them)" >&2
		exit 1
	fi
	echo "kvmpc setup: installing$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	{ apt-get update -q && apt-get install -y -q --no-install-recommends $missing; } >>"$log" 2>&1 || {
		tail -20 "$log" >&2
		echo "kvmpc setup: apt-get failed (full log: $log)" >&2
		exit 1
	}
fi

# Newly installed packages may enable more of the build (guest programs).
if [ ! -f build/build.ninja ] || [ -n "$missing" ]; then
	./configure >>"$log" 2>&1 || { tail -20 "$log" >&2; echo "kvmpc setup: configure failed" >&2; exit 1; }
fi
echo "kvmpc setup: building" >&2
# Without the test dependencies (gcc-multilib for the guest programs), build
# the emulator alone.
target=
[ "${1:-}" = --no-test-deps ] && target=kvmpc
ninja -C build $target >>"$log" 2>&1 || { grep -E "error|Error" "$log" | head -20 >&2; echo "kvmpc setup: build failed (full log: $log)" >&2; exit 1; }
