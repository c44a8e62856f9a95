#!/bin/bash
# Sets up and builds kvmpc, prepares the default guest (Debian's 6.1 kernel
# and a busybox initramfs, cached under build/images) and boots it with the
# best accelerator the host has (KVM, else tcg-lite, kvmpc's software CPU),
# the serial console on this terminal.  Type `poweroff -f` in the guest to
# leave (or Ctrl-C).
#
# usage: scripts/run-default-vm.sh [extra kvmpc options]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
scripts/setup.sh --no-test-deps
export KVMPC_BUILD=$top/build
log=$top/build/setup.log
kernel=$(tests/images/debian-kernel.sh 2>>"$log") || { tail -5 "$log" >&2; echo "kvmpc: cannot prepare the guest kernel (log: $log)" >&2; exit 1; }
initrd=$(tests/images/busybox-initramfs.sh 2>>"$log") || { tail -5 "$log" >&2; echo "kvmpc: cannot prepare the initramfs (log: $log)" >&2; exit 1; }
exec build/kvmpc -m 512 -smp 2 -nographic \
	-kernel "$kernel" -initrd "$initrd" -append "console=ttyS0 quiet" "$@"
