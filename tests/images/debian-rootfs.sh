#!/bin/bash
# Build an installed Debian 12 (bookworm) root filesystem, the userland of
# tests/functional/debian-qcow2-linux.sh, in $KVMPC_BUILD/images/debian-root
# and print that directory.
#
# mmdebstrap --variant=minbase from the mirrors apt is configured with
# (/etc/apt/sources.list.d/*.sources or sources.list), plus systemd-sysv
# (systemd, with systemd-networkd), udev, iproute2, and linux-image-amd64 with
# initramfs-tools: dpkg installs the kernel as on any Debian system, its
# postinst runs update-initramfs, so /boot holds Debian's vmlinuz and an
# initrd.img of its own (MODULES=list: the virtio and ext4 modules; GZIP,
# since zstd is only a Recommends).  The kernel .deb that
# tests/images/debian-kernel.sh fetched is reused when it is the same
# version.  Configured:
#   /etc/fstab                 LABEL=kvmpcroot (the label grub-disk.sh --ext4 gives)
#   systemd-networkd           DHCP on en* and eth*
#   kvmpc-report.service       after network-online.target: prints
#                              "kvmpc-debian: address ADDR" (the IPv4
#                              address networkd got), fetches
#                              http://10.0.2.2:PORT/blob with bash's
#                              /dev/tcp (PORT from kvmpc.http_port= on the
#                              kernel command line), prints
#                              "kvmpc-debian: blob md5 MD5 size N", waits
#                              for the boot to finish ("kvmpc-debian:
#                              system running", systemd-analyze's "Startup
#                              finished" line), then `systemctl poweroff`;
#                              all on /dev/console
#   root                       no password (a serial getty on ttyS0 comes
#                              from console=ttyS0)
# The directory belongs to root (the files keep Debian's owners); it is
# rebuilt when this script or lib.sh changes.  Needs root (mmdebstrap's
# root mode runs the maintainer scripts in a chroot) and the mirror.
#
# usage: tests/images/debian-rootfs.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=$KVMPC_BUILD/images/debian-root
if is_newer_than "$out/.done" "${BASH_SOURCE[0]}" "$kvmpc_repo/tests/images/lib.sh"; then
	echo "$out"
	exit 0
fi
[ "$(id -u)" = 0 ] || die "needs root (mmdebstrap runs the packages' maintainer scripts in a chroot)"
need_pkgs mmdebstrap
PATH=$PATH:/usr/sbin:/sbin

# the mirrors: whatever apt on the host uses
mirrors=()
for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list /etc/apt/sources.list; do
	[ -s "$f" ] && mirrors+=("$f")
done
[ ${#mirrors[@]} -gt 0 ] || die "no apt sources configured on the host"

# the files this script adds, copied in by a setup hook before any package
# is unpacked (so the kernel's postinst finds the initramfs-tools
# settings); a customize hook enables the units once systemd is installed
rm -rf "$out.tmp" "$out" "$out.files"
f=$out.files
mkdir -p "$f/etc/systemd/network" "$f/etc/systemd/system" "$f/usr/local/sbin" \
	"$f/etc/initramfs-tools/conf.d" "$f/usr/share/initramfs-tools/modules.d"
# what initramfs-tools puts in the initrd (not /etc/initramfs-tools/modules:
# that is a conffile of the package)
printf 'MODULES=list\nCOMPRESS=gzip\n' > "$f/etc/initramfs-tools/conf.d/kvmpc"
printf '%s\n' virtio_pci virtio_blk ext4 crc32c_generic > "$f/usr/share/initramfs-tools/modules.d/kvmpc"
echo 'LABEL=kvmpcroot / ext4 errors=remount-ro 0 1' > "$f/etc/fstab"
echo kvmpc-debian > "$f/etc/hostname"
cat > "$f/etc/systemd/network/50-kvmpc-dhcp.network" <<'EOF'
[Match]
Name=en* eth*

[Link]
RequiredForOnline=routable

[Network]
DHCP=ipv4
EOF
cat > "$f/etc/systemd/system/kvmpc-report.service" <<'EOF'
[Unit]
Description=kvmpc test: report the DHCP address and an HTTP fetch, then power off
Wants=network-online.target
After=network-online.target

[Service]
Type=simple
ExecStart=/usr/local/sbin/kvmpc-report
StandardOutput=tty
StandardError=tty
TTYPath=/dev/console

[Install]
WantedBy=multi-user.target
EOF
cat > "$f/usr/local/sbin/kvmpc-report" <<'EOF'
#!/bin/bash
# kvmpc-report.service: the address networkd got, an HTTP GET of
# http://10.0.2.2:PORT/blob (PORT: kvmpc.http_port= on the kernel command
# line) through bash's /dev/tcp, its md5, then power off
port=
for w in $(</proc/cmdline); do
	case $w in kvmpc.http_port=*) port=${w#kvmpc.http_port=} ;; esac
done
addr=$(ip -4 -o addr show scope global | awk '{ print $4; exit }')
echo "kvmpc-debian: address ${addr%/*}"
if [ -n "$port" ] && exec 3<>/dev/tcp/10.0.2.2/$port; then
	printf 'GET /blob HTTP/1.0\r\nHost: 10.0.2.2\r\n\r\n' >&3
	# the headers end at the first empty line
	cat <&3 > /run/kvmpc-http
	exec 3<&-
	hdr=$(grep -abo $'^\r$' /run/kvmpc-http | head -1 | cut -d: -f1)
	echo "kvmpc-debian: http $(head -1 /run/kvmpc-http | tr -d '\r')"
	tail -c +$((hdr + 3)) /run/kvmpc-http > /run/kvmpc-blob
	echo "kvmpc-debian: blob md5 $(md5sum < /run/kvmpc-blob | cut -c1-32) size $(stat -c %s /run/kvmpc-blob)"
else
	echo "kvmpc-debian: no connection to 10.0.2.2:${port:-?}"
fi
# the unit is Type=simple: the boot finishes without waiting for it, and
# systemd-analyze has its "Startup finished" line once it has
state=$(systemctl is-system-running --wait 2>/dev/null)
echo "kvmpc-debian: system $state"
systemd-analyze 2>/dev/null | head -1
systemctl poweroff
EOF
chmod 0755 "$f/usr/local/sbin/kvmpc-report"

# the kernel .deb debian-kernel.sh already downloaded is offered to apt
debs=$KVMPC_BUILD/images/deb
mkdir -p "$KVMPC_BUILD/images"
log=$KVMPC_BUILD/images/debian-root.log
start=$SECONDS
if ! mmdebstrap --mode=root --variant=minbase --format=directory \
	--include=systemd-sysv,udev,iproute2,linux-image-amd64,initramfs-tools \
	--aptopt='APT::Install-Recommends "false"' \
	--setup-hook="mkdir -p \"\$1/var/cache/apt/archives\" && { cp $debs/*.deb \"\$1/var/cache/apt/archives/\" 2>/dev/null || true; }" \
	--setup-hook="cp -a $f/. \"\$1/\"" \
	--customize-hook='chroot "$1" systemctl enable systemd-networkd.service kvmpc-report.service' \
	--customize-hook='passwd -R "$1" -d root' \
	bookworm "$out.tmp" "${mirrors[@]}" >"$log" 2>&1; then
	tail -20 "$log" >&2
	die "mmdebstrap failed (log: $log)"
fi
rm -rf "$f"
info "mmdebstrap took $((SECONDS - start)) s"
ls "$out.tmp"/boot/vmlinuz-* "$out.tmp"/boot/initrd.img-* >/dev/null || die "no kernel or initrd in /boot"
touch "$out.tmp/.done"
mv "$out.tmp" "$out"
echo "$out"
