#!/bin/bash
# Fetch and unpack Debian 12's 6.1 kernel package (never installed) into
# $KVMPC_BUILD/images/linux/ and print the path of its vmlinuz.
#
# usage: tests/images/debian-kernel.sh [--modules]
#   prints  $KVMPC_BUILD/images/linux/vmlinuz      (a symlink to boot/vmlinuz-<ver>)
#   --modules  print the modules directory (.../lib/modules/<ver>) instead
# The versioned package (linux-image-6.1.0-N-amd64) is resolved from the
# linux-image-amd64 metapackage's Depends. Cached: once unpacked, a second
# run uses no network. KVMPC_BUILD defaults to <repo>/build.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=$KVMPC_BUILD/images/linux
want=vmlinuz
[ "${1:-}" = --modules ] && want=modules

if [ ! -e "$out/.done" ]; then
	need_pkgs kmod
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-6\.1[^ ]*-amd64\)$/\1/p' | head -1 || true)
	if [ -z "$pkg" ]; then
		apt_update_once
		pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-6\.1[^ ]*-amd64\)$/\1/p' | head -1 || true)
	fi
	[ -n "$pkg" ] || die "cannot resolve linux-image-amd64 to a 6.1 kernel package"
	info "fetching $pkg"
	dl=$KVMPC_BUILD/images/deb
	mkdir -p "$dl"
	if ! ls "$dl/${pkg}"_*.deb >/dev/null 2>&1; then
		# apt-get download runs as _apt: use a world-writable staging dir
		tmp=$(mktemp -d "$dl/.dl.XXXXXX"); chmod 0777 "$tmp"
		( cd "$tmp" && apt-get download -qq "$pkg" >/dev/null 2>&1 ) \
			|| { apt_update_once; ( cd "$tmp" && apt-get download -qq "$pkg" >/dev/null 2>&1 ); } \
			|| { rm -rf "$tmp"; die "apt-get download $pkg failed"; }
		mv "$tmp"/*.deb "$dl/" && rm -rf "$tmp"
	fi
	deb=$(ls "$dl/${pkg}"_*.deb | tail -1)
	rm -rf "$out.tmp" && mkdir -p "$out.tmp"
	dpkg-deb -x "$deb" "$out.tmp"
	v=$(ls "$out.tmp/boot" | sed -n 's/^vmlinuz-//p' | head -1)
	[ -n "$v" ] && [ -d "$out.tmp/lib/modules/$v" ] || die "unexpected layout in $deb"
	# the package ships no modules.dep (depmod runs at install time)
	need_pkgs kmod
	depmod -b "$out.tmp" "$v" || die "depmod failed"
	ln -s "boot/vmlinuz-$v" "$out.tmp/vmlinuz"
	ln -s "lib/modules/$v" "$out.tmp/modules"
	echo "$pkg $v" > "$out.tmp/.done"
	rm -rf "$out" && mv "$out.tmp" "$out"
fi

if [ "$want" = modules ]; then
	readlink -f "$out/modules"
else
	echo "$out/vmlinuz"
fi
