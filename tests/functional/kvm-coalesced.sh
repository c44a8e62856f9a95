#!/bin/bash
# KVM's coalesced writes (docs/ide.md, "Coalesced writes"): the windows the
# machine declares before any vCPU exists (i440FX CONFIG_ADDRESS, the IDE
# taskfile of both channels) and the ones that come later (the VGA legacy
# window, the IDE bus-master PRD address once its BAR is mapped) are all
# registered with KVM, and a guest that goes through them (the pcitest
# guest program: PCI configuration space through 0xcf8/0xcfc) still passes.
# Until session 12 the first kind was silently left out.
#
# usage: tests/functional/kvm-coalesced.sh KVMPC GUEST_BUILDDIR
set -uo pipefail
kvmpc=${1:?kvmpc} gdir=${2:?guest build dir}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; [ -s "$tmp/log" ] && tail -20 "$tmp/log"; exit 1; }

timeout 60 "$kvmpc" -accel kvm -machine pc -m 128 -nographic -serial "file:$tmp/serial" \
	-device isa-debug-exit,iobase=0xf4,iosize=4 -device pci-testdev -d trace -D "$tmp/log" \
	-kernel "$gdir/pcitest.elf" >"$tmp/out" 2>&1
rc=$?
# isa-debug-exit: the guest's pass() writes 0, which exits (0 << 1) | 1
[ $rc -eq 1 ] && grep -q "^PASS" "$tmp/serial" || { cat "$tmp/out" "$tmp/serial"; fail "pcitest under KVM: exit status $rc"; }
for w in "I/O 0xcf8+0x4" "I/O 0x1f1+0x6" "I/O 0x171+0x6" "MMIO 0xa0000+0x20000"; do
	grep -q "kvm: coalesced $w registered" "$tmp/log" || fail "no coalesced window $w registered with KVM"
done
# the PRD address registers: BAR4 + 4 and + 12, wherever the BAR went
grep -Eq "kvm: coalesced I/O 0x[0-9a-f]*4\+0x4 registered" "$tmp/log" &&
	grep -Eq "kvm: coalesced I/O 0x[0-9a-f]*c\+0x4 registered" "$tmp/log" ||
	fail "no coalesced window for the IDE bus-master PRD address registers"
echo "PASS: coalesced windows registered with KVM: CONFIG_ADDRESS, both IDE taskfiles, the PRD registers, the VGA window"
