# Shared helpers for tests/images/*.sh and tests/lab/* (sourced, not run).
#   kvmpc_repo        absolute path of the repository
#   KVMPC_BUILD       build folder (default: <repo>/build), exported absolute
#   need_pkgs PKG...  apt-get install -y the Debian packages that are missing
#   log MSG           message on stderr (quiet unless KVMPC_VERBOSE=1 for info)

kvmpc_repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
KVMPC_BUILD=${KVMPC_BUILD:-$kvmpc_repo/build}
mkdir -p "$KVMPC_BUILD"
KVMPC_BUILD=$(cd "$KVMPC_BUILD" && pwd)
export KVMPC_BUILD

info() { [ "${KVMPC_VERBOSE:-0}" = 1 ] && echo "${0##*/}: $*" >&2 || true; }
die()  { echo "${0##*/}: $*" >&2; exit 1; }

_apt_updated=0
apt_update_once() {
	[ "$_apt_updated" = 1 ] && return 0
	info "apt-get update"
	apt-get update -qq >/dev/null 2>&1 || die "apt-get update failed"
	_apt_updated=1
}

# need_pkgs PKG...: install the missing ones (idempotent, quiet).
need_pkgs() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
			|| missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" = 0 ] || die "missing Debian packages (run as root or install): ${missing[*]}"
	info "installing ${missing[*]}"
	# a fresh debootstrap has no package lists yet
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			"${missing[@]}" >/dev/null 2>&1; then
		apt_update_once
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			"${missing[@]}" >/dev/null 2>&1 || die "apt-get install ${missing[*]} failed"
	fi
}

# newest_mtime FILE...: fail (status 1) if any FILE is newer than the target ($1)
is_newer_than() { # is_newer_than TARGET SRC...: true if TARGET exists and is newer than all SRC
	local t=$1 s; shift
	[ -e "$t" ] || return 1
	for s in "$@"; do [ "$s" -nt "$t" ] && return 1; done
	return 0
}

# busybox_root DIR: a minimal root in DIR with a static busybox and its applet links.
busybox_root() {
	local d=$1 bb a
	need_pkgs busybox-static cpio gzip
	bb=/bin/busybox
	[ -x "$bb" ] || bb=/usr/bin/busybox
	file_is_static "$bb" || die "$bb is not the static busybox (install busybox-static)"
	mkdir -p "$d"/{bin,sbin,dev,proc,sys,tmp,run,etc,mnt,root,lib/modules}
	cp "$bb" "$d/bin/busybox"
	for a in $("$bb" --list); do
		[ "$a" = busybox ] || ln -sf busybox "$d/bin/$a"
	done
	# the kernel needs /dev/console before /init runs when devtmpfs is not automounted
	echo 'root:x:0:0:root:/root:/bin/sh' > "$d/etc/passwd"
	echo 'root:x:0:' > "$d/etc/group"
}
file_is_static() { ! LC_ALL=C ldd "$1" >/dev/null 2>&1; }

# add_modules DIR MODULES_DIR MOD...: copy MODs and their dependencies (from
# modules.dep, dependencies first) into DIR/lib/modules/, decompressed, and
# list the load order in DIR/lib/modules/load.order.
add_modules() {
	local d=$1 md=$2 m; shift 2
	local -a order=()
	declare -A seen=()
	_mod_path() { # module name -> path relative to $md
		local n=${1//-/_} p
		p=$(awk -F: -v n="$n" '{ f=$1; sub(/.*\//,"",f); sub(/\.ko(\.(xz|zst|gz))?$/,"",f); gsub(/-/,"_",f); if (f==n) { print $1; exit } }' "$md/modules.dep")
		[ -n "$p" ] || die "module $1 not found in $md/modules.dep"
		echo "$p"
	}
	_mod_add() {
		local p=$1 dep
		[ -n "${seen[$p]:-}" ] && return 0
		seen[$p]=1
		for dep in $(awk -F: -v p="$p" '$1==p { print $2; exit }' "$md/modules.dep"); do
			_mod_add "$dep"
		done
		order+=("$p")
	}
	local p
	for m in "$@"; do p=$(_mod_path "$m") || exit 1; _mod_add "$p"; done
	: > "$d/lib/modules/load.order"
	for m in "${order[@]}"; do
		local base=${m##*/} out
		out=$d/lib/modules/${base%%.ko*}.ko
		case $m in
		*.ko.xz)  need_pkgs xz-utils; xz -dc "$md/$m" > "$out" ;;
		*.ko.zst) need_pkgs zstd; zstd -qdc "$md/$m" > "$out" ;;
		*.ko.gz)  gzip -dc "$md/$m" > "$out" ;;
		*)        cp "$md/$m" "$out" ;;
		esac
		echo "${base%%.ko*}.ko" >> "$d/lib/modules/load.order"
	done
}

# pack_initramfs DIR OUT.cpio.gz
pack_initramfs() {
	local d=$1 out=$2
	( cd "$d" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0 ) | gzip -6n > "$out.tmp"
	mv "$out.tmp" "$out"
}
