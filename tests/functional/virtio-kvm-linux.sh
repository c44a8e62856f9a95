#!/bin/bash
# Issue 13's Linux functional tests, groups 1-3, in ONE Linux boot, so that
# they can run under KVM in the lab (each on its own would cost a boot,
# ~35 s of lab time) as well as under tcg-lite.  Their full versions are
# qcow2-root-linux.sh, virtio-net-linux.sh, virtio-scsi-linux.sh,
# virtio-linux.sh, virtio-balloon-linux.sh and virtio-serial-linux.sh; this
# one keeps the core of each (docs/virtio.md, "Testing"):
#  1. / is a virtio-blk qcow2 overlay of a qcow2 backing file holding an
#     ext4 filesystem (busybox + an /sbin/init): the initramfs loads every
#     driver below, mounts root=/dev/vda and switch_roots; the guest reads
#     a file of the backing file and writes a new one; after the power-off
#     kvmpc-img check and qemu-img check call the overlay clean, the
#     backing file is unchanged and the host reads the guest's file out of
#     the overlay (qemu-img convert + debugfs) with the guest's md5.
#  2. virtio-net on -netdev user: DHCP gives 10.0.2.15, the guest fetches a
#     random file from the host's HTTP server on 127.0.0.1 (10.0.2.2 in the
#     guest; md5 compared), and a hostfwd connection reaches a guest nc
#     listener, a line each way.
#  3. virtio-scsi: Linux reads a scsi-hd and a scsi-cd (md5 and size of
#     known random images); virtio-rng: hw_random picks virtio_rng and
#     /dev/hwrng gives bytes; virtio-balloon: QMP balloon 512 -> 384 MiB,
#     query-balloon and BALLOON_CHANGE say 384 MiB and the guest's MemTotal
#     drops by 128 MiB; virtio-serial: a named virtserialport carries a
#     line each way to a host unix socket.
# tests/functional/virtio_kvm_host.py is the whole host side (HTTP server,
# QMP, hostfwd and port peers) in one Python process.
#
# LINUX_BOOT_RETRY_TRIPLE_FAULT=N: a boot that triple-faults before it
# powers off boots again (from a fresh overlay), N times at most, as in
# linux-boot.sh (docs/testing-lab.md, "Known flakes"); a NOTE says so.
#
# usage: tests/functional/virtio-kvm-linux.sh KVMPC KVMPC-IMG ACCEL
set -uo pipefail
img_tool=${2:?kvmpc-img}
set -- "$1" "$3"
. "$(dirname "$0")/linux-modules.inc.sh" "${1:-}" "${2:-}" \
	virtio_pci virtio_blk crc32c_generic ext4 virtio_net virtio_scsi sd_mod sr_mod \
	virtio-rng virtio_balloon virtio_console
command -v qemu-img >/dev/null || { echo "SKIP: qemu-img (qemu-utils) is not installed"; exit 77; }
PATH=$PATH:/usr/sbin:/sbin
command -v mke2fs >/dev/null && command -v debugfs >/dev/null ||
	{ echo "SKIP: mke2fs/debugfs (e2fsprogs) are not installed"; exit 77; }
# the system's Python: a python3 on PATH may be a pyenv shim, which takes
# tens of seconds to start in the lab (docs/testing-lab.md)
py=/usr/bin/python3; [ -x "$py" ] || py=python3

# ---- 1. the root filesystem: busybox, an /sbin/init, a file of random bytes
mkdir -p "$tmp"/rootfs/{etc,data,bin,sbin,proc,sys,dev,tmp}
bb=/bin/busybox; [ -x "$bb" ] || bb=/usr/bin/busybox
cp "$bb" "$tmp/rootfs/bin/busybox" || fail "no busybox"
ln -s busybox "$tmp/rootfs/bin/sh"
# (the applet links are made by the guest: hundreds of ln processes cost
# tens of seconds in the lab)
cat > "$tmp/rootfs/sbin/init" <<'EOF'
#!/bin/sh
# the disk's init: runs the test's script (/etc/test.sh) with / on the disk
export PATH=/bin
/bin/busybox mount -t proc proc /proc
[ -e /bin/mount ] || /bin/busybox --install -s /bin
mount -t sysfs sysfs /sys
mount -t tmpfs tmpfs /tmp
echo "ROOTDEV=$(awk '$2 == "/" && $1 != "rootfs" {print $1, $3, substr($4, 1, 2)}' /proc/mounts)"
sh /etc/test.sh; rc=$?
echo "KVMPC-TEST-EXIT: $rc"
sync
mount -o remount,ro / || echo "REMOUNT-RO-FAILED"
poweroff -f
EOF
chmod +x "$tmp/rootfs/sbin/init"
# The guest's script (the disk's /etc/test.sh), run by its /sbin/init after
# switch_root (the initramfs loaded the modules; the HTTP port is on the
# kernel command line, kvmpc.http=).  The balloon goes first (the host inflates
# it while the rest runs), the serial port last: the host answers it only
# once query-balloon said 384 MiB, so the guest is still up when it does.
script='http=
for w in $(cat /proc/cmdline); do case $w in kvmpc.http=*) http=${w#kvmpc.http=} ;; esac; done
mem() { awk "/^MemTotal:/ { print \$2 }" /proc/meminfo; }
i=0; while ! ls /sys/bus/virtio/drivers/virtio_balloon/ | grep -q virtio && [ $i -lt 300 ]; do i=$((i+1)); sleep 0.1; done
m0=$(mem)
echo "MEM0=$m0"
echo "BALLOON-READY"
echo "HOST=$(cat /etc/hostname)"
echo "OLD=$(md5sum < /data/old.bin | cut -c1-32)"
dd if=/dev/urandom of=/data/new.bin bs=4096 count=256 2>/dev/null || echo "WRITE-FAILED"
echo "NEW=$(md5sum < /data/new.bin | cut -c1-32)"
i=0; while [ ! -b /dev/sda ] || [ ! -b /dev/sr0 ]; do i=$((i+1)); [ $i -gt 300 ] && break; sleep 0.1; done
echo "SD=$(md5sum < /dev/sda | cut -c1-32) $(cat /sys/block/sda/size)"
echo "CD=$(md5sum < /dev/sr0 | cut -c1-32) $(cat /sys/block/sr0/size)"
echo "RNG=$(cat /sys/class/misc/hw_random/rng_current)"
echo "HWRNG=$(dd if=/dev/hwrng bs=32 count=1 2>/dev/null | od -An -tx1 | tr -d " \n")"
printf "#!/bin/sh\n[ \"\$1\" = bound ] && ifconfig \$interface \$ip netmask \$subnet up && route add default gw \$router; echo DHCP-\$interface-\$1 \$ip gw=\$router dns=\$dns\n" > /tmp/dh; chmod +x /tmp/dh
ifconfig lo 127.0.0.1 up
ifconfig eth0 up
timeout 60 udhcpc -i eth0 -s /tmp/dh -n -q -t 20 -T 1
echo "NETDRV=$(basename $(readlink /sys/class/net/eth0/device/driver))"
echo "MD5=$(timeout 120 wget -q -O - http://10.0.2.2:$http/blob | md5sum | cut -c1-32)"
(echo GUEST-HELLO; sleep 30) | nc -l -p 7777 > /tmp/in &
i=0; while ! netstat -ltn | grep -q ":7777 "; do i=$((i+1)); [ $i -gt 50 ] && break; sleep 0.1; done
echo LISTENING
i=0; while ! grep -q HOST /tmp/in; do i=$((i+1)); [ $i -gt 600 ] && break; sleep 0.1; done
echo "GOT=$(cat /tmp/in)"
i=0; while [ $(mem) -gt $((m0 - 128 * 1024 + 256)) ] && [ $i -lt 1800 ]; do i=$((i+1)); sleep 0.1; done
echo "MEM1=$(mem)"
dev=
for p in /sys/class/virtio-ports/*; do
	[ "$(cat $p/name 2>/dev/null)" = org.kvmpc.test ] && dev=/dev/${p##*/}
done
echo "PORT=$dev"
exec 3<>"$dev"
echo "guest-says-$((6*7))" >&3
read -t 240 -r line <&3
echo "PORTGOT=$line"
exec 3<&-'
printf '%s\n' "$script" > "$tmp/rootfs/etc/test.sh"

echo kvmpc-virtio-kvm > "$tmp/rootfs/etc/hostname"
head -c 300000 /dev/urandom > "$tmp/rootfs/data/old.bin"
old_md5=$(md5sum < "$tmp/rootfs/data/old.bin" | cut -c1-32)
mke2fs -q -F -t ext4 -b 4096 -L kvmpcroot -d "$tmp/rootfs" "$tmp/base.raw" 64M >/dev/null ||
	fail "mke2fs -d"
"$img_tool" convert -O qcow2 "$tmp/base.raw" "$tmp/base.qcow2" || fail "kvmpc-img convert"
rm -f "$tmp/base.raw"
base_md5=$(md5sum < "$tmp/base.qcow2" | cut -c1-32)

echo "setup: rootfs image ready at ${SECONDS}s"
# ---- 2. the file the guest fetches
mkdir -p "$tmp/www"
head -c $((1 << 20)) /dev/urandom > "$tmp/www/blob"
blob_md5=$(md5sum < "$tmp/www/blob" | cut -c1-32)

# ---- 3. the SCSI disk and CD (random bytes; the CD a whole number of
# 2048-byte sectors)
head -c $((4 << 20)) /dev/urandom > "$tmp/sd.img"
head -c $((2 << 20)) /dev/urandom > "$tmp/cd.img"
sd_md5=$(md5sum < "$tmp/sd.img" | cut -c1-32)
cd_md5=$(md5sum < "$tmp/cd.img" | cut -c1-32)


boot() { # from a fresh overlay; guest serial in $tmp/out, host lines in $tmp/host
	local append
	rm -f "$tmp/top.qcow2" "$tmp/out" "$tmp/qmp.sock" "$tmp/port.sock"
	"$img_tool" create -q -f qcow2 -b base.qcow2 -F qcow2 "$tmp/top.qcow2" ||
		fail "kvmpc-img create -b"
	append="console=ttyS0 panic=-1 root=/dev/vda rootfstype=ext4 kvmpc.http=@HTTP@"
	t0=$SECONDS
	"$py" "$top/tests/functional/virtio_kvm_host.py" "$tmp" 384 \
		timeout -k 5 ${VT_TIMEOUT:-600} "$kvmpc" -accel "$accel" -m 512 -display none \
		-no-reboot -d cpu_reset -serial file:"$tmp/out" \
		-kernel "$kernel" -initrd "$tmp/initrd.gz" -append "$append" \
		-qmp unix:"$tmp/qmp.sock",server=on,wait=off \
		-drive file="$tmp/top.qcow2",if=virtio \
		-netdev user,id=n0,hostfwd=tcp:127.0.0.1:@FWD@-:7777 \
		-device virtio-net-pci,netdev=n0,mac=52:54:00:12:34:71 \
		-device virtio-scsi-pci,id=scsi0 \
		-drive file="$tmp/sd.img",format=raw,if=none,id=sd0 \
		-device scsi-hd,drive=sd0,bus=scsi0.0,scsi-id=0,lun=0 \
		-drive file="$tmp/cd.img",format=raw,if=none,id=cd0,media=cdrom \
		-device scsi-cd,drive=cd0,bus=scsi0.0,scsi-id=1,lun=0 \
		-object rng-random,id=rng0,filename=/dev/urandom -device virtio-rng-pci,rng=rng0 \
		-device virtio-balloon-pci,id=balloon0 \
		-device virtio-serial-pci,id=vs0 \
		-chardev socket,id=vp,path="$tmp/port.sock",server=on,wait=off \
		-device virtserialport,bus=vs0.0,chardev=vp,name=org.kvmpc.test \
		>"$tmp/host" 2>"$tmp/kvmpc.log"
	rc=$?
	secs=$((SECONDS - t0))
}
boot
n=0
while [ "$n" -lt "${LINUX_BOOT_RETRY_TRIPLE_FAULT:-0}" ] &&
	grep -aq "triple fault on CPU [0-9]*:" "$tmp/kvmpc.log" "$tmp/out" && ! grep -q "reboot: Power down" "$tmp/out"; do
	n=$((n + 1))
	echo "NOTE: booting again (after a triple fault in boot $n at guest time $(grep -a -o '^\[ *[0-9.]*\]' "$tmp/out" | tail -1))"
	boot
done
echo "--- host side (the boot: $secs s; setup before it ${t0}s) ---"; cat "$tmp/host"
# KEY=VALUE lines of the guest (G) and of the host side (H), the last of
# each; read without a process per line (process starts are slow in the lab)
declare -A G=() H=()
load() { # ARRAY FILE
	local -n a=$1
	local line k
	while IFS= read -r line || [ -n "$line" ]; do
		line=${line%$'\r'}
		k=${line%%=*}
		[[ $line == *=* && $k =~ ^[A-Z][A-Z0-9-]*$ ]] && a[$k]=${line#*=}
	done < "$2"
}
load G "$tmp/out"
load H "$tmp/host"
[ "${H[HOST-EMULATOR-EXIT]:-}" = 124 ] && fail "timed out"
grep -q "KVMPC-TEST-EXIT: 0" "$tmp/out" || fail "the guest script did not complete (exit status $rc; $(tail -3 "$tmp/kvmpc.log"))"
[ $rc -eq 0 ] || fail "the host side or kvmpc failed (exit status $rc)"
grep -q "insmod .* failed" "$tmp/out" && fail "a module did not load: $(grep -a 'insmod .* failed' "$tmp/out")"

# 1. the root filesystem
[ "${G[ROOTDEV]:-}" = "/dev/vda ext4 rw" ] || fail "(1) / is not /dev/vda (ext4, rw): ${G[ROOTDEV]:-}"
grep -q "REMOUNT-RO-FAILED" "$tmp/out" && fail "(1) the guest could not remount / read-only"
grep -q "WRITE-FAILED" "$tmp/out" && fail "(1) the guest could not write /data/new.bin"
[ "${G[HOST]:-}" = kvmpc-virtio-kvm ] || fail "(1) /etc/hostname read as ${G[HOST]:-}"
[ "${G[OLD]:-}" = "$old_md5" ] || fail "(1) the backing file's data/old.bin read as ${G[OLD]:-}, expected $old_md5"
new_md5=${G[NEW]:-}
[ ${#new_md5} -eq 32 ] || fail "(1) no checksum of the new file in the guest output"
"$img_tool" check "$tmp/top.qcow2" > "$tmp/check" 2>&1 || { cat "$tmp/check"; fail "(1) kvmpc-img check"; }
grep -q "No errors were found" "$tmp/check" || fail "(1) kvmpc-img check: $(cat "$tmp/check")"
qemu-img check "$tmp/top.qcow2" > "$tmp/check" 2>&1 || { cat "$tmp/check"; fail "(1) qemu-img check"; }
grep -q "No errors were found" "$tmp/check" || fail "(1) qemu-img check: $(cat "$tmp/check")"
[ "$(md5sum < "$tmp/base.qcow2" | cut -c1-32)" = "$base_md5" ] || fail "(1) the backing file changed"
qemu-img convert -O raw "$tmp/top.qcow2" "$tmp/flat.raw" || fail "(1) qemu-img convert"
debugfs -R "dump /data/new.bin $tmp/new.bin" "$tmp/flat.raw" >/dev/null 2>&1
[ "$(md5sum < "$tmp/new.bin" | cut -c1-32)" = "$new_md5" ] ||
	fail "(1) the guest's new file, read on the host, is not what the guest wrote ($new_md5)"
e2fsck -fn "$tmp/flat.raw" > "$tmp/fsck" 2>&1 || { cat "$tmp/fsck"; fail "(1) e2fsck of the guest's filesystem"; }

# 2. virtio-net on -netdev user
[ "${G[NETDRV]:-}" = virtio_net ] || fail "(2) eth0 is driven by ${G[NETDRV]:-}"
grep -q "^DHCP-eth0-bound 10.0.2.15 gw=10.0.2.2 dns=10.0.2.3\s*$" "$tmp/out" ||
	fail "(2) no DHCP lease 10.0.2.15 (gateway 10.0.2.2, DNS 10.0.2.3): $(grep -a DHCP-eth0 "$tmp/out")"
[ "${G[MD5]:-}" = "$blob_md5" ] || fail "(2) the guest fetched ${G[MD5]:-}, expected $blob_md5"
[ "${H[HOST-HTTP-GETS]:-}" = 1 ] || fail "(2) the host's HTTP server saw ${H[HOST-HTTP-GETS]:-} requests for /blob, expected 1"
[ "${H[HOST-FWD-GOT]:-}" = GUEST-HELLO ] || fail "(2) the host read '${H[HOST-FWD-GOT]:-}' through hostfwd"
[ "${G[GOT]:-}" = HOST-HELLO ] || fail "(2) the guest's nc read '${G[GOT]:-}'"

# 3. virtio-scsi, virtio-rng, virtio-balloon, virtio-serial
[ "${G[SD]:-}" = "$sd_md5 8192" ] || fail "(3) the guest read the scsi-hd as '${G[SD]:-}', expected '$sd_md5 8192'"
[ "${G[CD]:-}" = "$cd_md5 4096" ] || fail "(3) the guest read the scsi-cd as '${G[CD]:-}', expected '$cd_md5 4096'"
[ "${G[RNG]:-}" = virtio_rng.0 ] || [ "${G[RNG]:-}" = virtio_rng ] || fail "(3) hw_random uses '${G[RNG]:-}'"
hwrng=${G[HWRNG]:-}
[[ $hwrng =~ ^[0-9a-f]{64}$ ]] || fail "(3) /dev/hwrng gave '$hwrng'"
[[ $hwrng =~ ^(00)+$ ]] && fail "(3) /dev/hwrng gave only zeros"
[ "${H[HOST-BALLOON-BEFORE]:-}" = 512 ] || fail "(3) query-balloon before: ${H[HOST-BALLOON-BEFORE]:-} MiB"
[ "${H[HOST-BALLOON]:-}" = 384 ] || fail "(3) query-balloon says ${H[HOST-BALLOON]:-} MiB, target 384"
[ "${H[HOST-BALLOON-EVENT]:-}" = 384 ] || fail "(3) the last BALLOON_CHANGE said ${H[HOST-BALLOON-EVENT]:-} MiB"
m0=${G[MEM0]:-} m1=${G[MEM1]:-}
[ -n "$m0" ] && [ -n "$m1" ] || fail "(3) MemTotal lines missing"
drop=$(( (m0 - m1) / 1024 ))
[ $drop -ge 127 ] && [ $drop -le 129 ] || fail "(3) MemTotal dropped by $drop MiB, expected 128 ($m0 -> $m1 KiB)"
[[ ${G[PORT]:-} =~ ^/dev/vport[0-9]+p1$ ]] || fail "(3) no port named org.kvmpc.test: '${G[PORT]:-}'"
[ "${H[HOST-PORT-GOT]:-}" = guest-says-42 ] || fail "(3) the host read '${H[HOST-PORT-GOT]:-}' from the port"
[ "${G[PORTGOT]:-}" = host-says-hello ] || fail "(3) the guest read '${G[PORTGOT]:-}' from the port"
echo "checks done at ${SECONDS}s"
grep -a -E "^(ROOTDEV|DHCP-|MD5|SD|CD|RNG|HWRNG|MEM[01]|PORT)" "$tmp/out"
echo "PASS: one Linux boot under $accel ($secs s): / on a virtio-blk qcow2 overlay (host read back $new_md5, both checks clean); virtio-net DHCP, HTTP fetch and hostfwd; virtio-scsi hd+cd; virtio-rng; balloon 512 -> 384 MiB (MemTotal -$drop MiB); virtserialport both ways"
