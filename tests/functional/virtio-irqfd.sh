#!/bin/bash
# virtio completions through irqfds under KVM (docs/virtio.md, "Interrupts"):
# Linux reads a virtio-blk disk (MSI-X) and its md5 is right; the trace log
# shows the device's vectors bound to KVM routes and interrupts sent
# through the irqfds (msix_notify() writes the eventfd, KVM injects).
# Under another accelerator no irqfd is made and the read works the same.
#
# usage: tests/functional/virtio-irqfd.sh KVMPC ACCEL
set -uo pipefail
. "$(dirname "$0")/linux-modules.inc.sh" "${1:-}" "${2:-}" virtio_pci virtio_blk

head -c $((4 << 20)) /dev/urandom > "$tmp/disk.img"
want=$(md5sum < "$tmp/disk.img" | cut -c1-32)
script='for m in $(cat /lib/modules/load.order); do insmod /lib/modules/$m || echo "INSMOD-FAILED $m"; done
i=0; while [ ! -b /dev/vda ]; do i=$((i+1)); [ $i -gt 600 ] && break; sleep 0.1; done
echo "DISK=$(md5sum < /dev/vda | cut -c1-32)"
grep -c virtio /proc/interrupts | sed "s/^/VIRTIO-IRQ-LINES=/"'
append="console=ttyS0 panic=-1 $("$top"/tests/images/busybox-initramfs.sh --cmdline "$script")"
timeout -k 5 500 "$kvmpc" -accel "$accel" -m 256 -nographic -no-reboot \
	-kernel "$kernel" -initrd "$tmp/initrd.gz" -append "$append" -d trace -D "$tmp/log" \
	-drive file="$tmp/disk.img",if=none,id=d0,format=raw -device virtio-blk-pci,drive=d0 \
	>"$tmp/out" 2>&1
rc=$?
[ $rc -eq 124 ] && fail "timed out"
grep -q "KVMPC-TEST-EXIT: 0" "$tmp/out" || fail "the guest script did not complete (exit status $rc)"
grep -q "INSMOD-FAILED" "$tmp/out" && fail "a module did not load"
grep -q "^DISK=$want" "$tmp/out" || fail "the guest read the disk as $(grep -a '^DISK=' "$tmp/out"), expected $want"
# MSI-X in use: Linux lists the config vector and the request queue's
grep -Eq "^VIRTIO-IRQ-LINES=[2-9]" "$tmp/out" || fail "the guest has no MSI-X virtio vectors: $(grep -a VIRTIO-IRQ "$tmp/out")"
if [ "$accel" = kvm ]; then
	grep -Eq "virtio-blk[^:]*: MSI-X vector [0-9]+: irqfd bound to virq" "$tmp/log" ||
		fail "no virtio-blk MSI-X vector was bound to a KVM route (log: $(grep -c irqfd "$tmp/log") irqfd lines)"
	grep -Eq "virtio-blk[^:]*: MSI-X vector [0-9]+: sent through its irqfd" "$tmp/log" ||
		fail "no virtio-blk interrupt went through an irqfd"
	echo "PASS: Linux read a virtio-blk disk under KVM (md5 right); its MSI-X vectors were bound to KVM routes and completions went through the irqfds"
else
	grep -q "irqfd" "$tmp/log" && fail "irqfds were made under -accel $accel: $(grep -m1 irqfd "$tmp/log")"
	echo "PASS: Linux read a virtio-blk disk under -accel $accel (md5 right), MSI-X without irqfds"
fi
