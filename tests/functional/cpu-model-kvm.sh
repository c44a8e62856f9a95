#!/bin/bash
# -cpu and -smp topologies under KVM, with the freestanding guest programs:
# the option forms users type (features, aliases, properties, kvm=off,
# max/host, the named models) boot and run long mode; a topology with
# non-contiguous APIC IDs (2 sockets of 3 cores) brings every AP up from the
# MADT; enforce refuses a feature the host lacks, naming it.
#
# usage: tests/functional/cpu-model-kvm.sh KVMPC [GUEST_BUILDDIR]
set -uo pipefail
kvmpc=${1:?kvmpc binary}
top=$(cd "$(dirname "$0")/../.." && pwd)
G=${2:-${KVMPC_BUILD:-$top/build}/tests/guest}
fails=0

guest() {       # guest ELF-STEM [emulator args...]
	local elf=$1; shift
	if out=$("$top"/tests/guest/run-guest-test --binary "$kvmpc" --accel kvm --elf "$G/$elf.elf" \
		"$@" 2>&1); then
		echo "ok: $elf $*"
	else
		echo "FAIL: $elf $*"; echo "$out" | tail -15 | sed 's/^/    /'
		fails=$((fails + 1))
	fi
}

guest smp -smp 6,sockets=2,cores=3 -append cpus=6
guest smp -smp 8,sockets=2,cores=2,threads=2 -append cpus=8
guest smp -smp 4 -cpu qemu64,+x2apic,-x2apic,+tsc-deadline -append cpus=4
guest long64 -cpu max,host-phys-bits
guest long64 -cpu qemu64,vendor=GenuineIntel
guest long64 -cpu qemu64,kvm=off
guest long64 -cpu host,kvmclock=off
guest long64 -cpu host
guest long64 -cpu EPYC
guest long64 -cpu Skylake-Client
guest long64 -cpu kvm64,sse4_1=on,lahf_lm

# enforce: a feature the (lab) host does not have is an error naming it.
out=$(timeout 30 "$kvmpc" -accel kvm -cpu qemu64,+avx512f,enforce -nodefaults -display none \
	-kernel "$G/long64.elf" 2>&1)
rc=$?
if [ $rc -eq 1 ] && grep -q "avx512f" <<<"$out"; then
	echo "ok: enforce refuses avx512f: $(head -1 <<<"$out")"
else
	echo "FAIL: -cpu qemu64,+avx512f,enforce: status $rc, output: $out"
	fails=$((fails + 1))
fi

[ $fails -eq 0 ] && echo "PASS: cpu model under kvm" || { echo "FAIL: $fails case(s)"; exit 1; }
