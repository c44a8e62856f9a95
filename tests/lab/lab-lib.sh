# Host side of the kvmpc lab (sourced by lab-run and lab-batch).
# See docs/testing-lab.md. Layout of one lab work dir ($LAB_WORK):
#   console.log           the lab's serial console (kernel + init messages)
#   share/                writable 9p share "labout" (/out in the lab,
#                         /run/kvmpc-lab inside the chroot)
#     tests/NNNN/cmd      bash script run chrooted in the host root
#     tests/NNNN/timeout  seconds (0 = none), enforced inside the lab
#     tests/NNNN/log      the command's stdout+stderr
#     tests/NNNN/artifacts/  writable by the command ($KVMPC_LAB_ARTIFACTS)
#     tests/NNNN/started, elapsed, status (exit status | "timeout"), timedout
#     ready, hb, done, broken   lab state: up / heartbeat / all done / lab-level failure
# Tunables (environment): KVMPC_LAB_MEM (MiB, 3072), KVMPC_LAB_SMP (2),
# KVMPC_LAB_BOOT_TIMEOUT (180 s), KVMPC_LAB_HEARTBEAT_TIMEOUT (90 s),
# KVMPC_LAB_GRACE (60 s past a test's timeout), KVMPC_LAB_KEEP=1 keeps $LAB_WORK.

lab_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$lab_here/../images/lib.sh"

LAB_MEM=${KVMPC_LAB_MEM:-3072}
LAB_SMP=${KVMPC_LAB_SMP:-2}
LAB_BOOT_TIMEOUT=${KVMPC_LAB_BOOT_TIMEOUT:-180}
LAB_HB_TIMEOUT=${KVMPC_LAB_HEARTBEAT_TIMEOUT:-90}
LAB_GRACE=${KVMPC_LAB_GRACE:-60}
LAB_CPU=qemu64,+svm,+npt,+sse4.1,+sse4.2,+ssse3,+popcnt
LAB_ACCEL=${KVMPC_LAB_ACCEL:-tcg}
LAB_EXIT=125   # status for "the lab broke"

lab_broken() { echo "LAB-BROKEN: $*" >&2; exit "$LAB_EXIT"; }

# lab_prepare: tools, kernel and initramfs (all cached); sets LAB_KERNEL LAB_INITRD.
# Also builds tests/images' busybox initramfs: the lab is read-only, so the
# images the nested guests boot must exist before it starts.
lab_prepare() {
	local log why
	log=$(mktemp)
	# in a subshell: a failing step (die) must not end the caller silently
	if ! ( need_pkgs qemu-system-x86 busybox-static cpio gzip kmod \
		&& "$lab_here/../images/debian-kernel.sh" >/dev/null \
		&& "$lab_here/build-lab-initramfs.sh" >/dev/null \
		&& "$lab_here/../images/busybox-initramfs.sh" >/dev/null ) 2>"$log"; then
		why=$(tail -1 "$log"); rm -f "$log"
		lab_broken "cannot prepare the lab: ${why:-unknown error}"
	fi
	rm -f "$log"
	LAB_KERNEL=$KVMPC_BUILD/images/linux/vmlinuz
	LAB_INITRD=$KVMPC_BUILD/lab/lab-initramfs.cpio.gz
}

# lab_new_work: a fresh work dir in $LAB_WORK (removed on exit unless KVMPC_LAB_KEEP=1)
lab_new_work() {
	LAB_WORK=$(mktemp -d "${TMPDIR:-/tmp}/kvmpc-lab.XXXXXX")
	mkdir -p "$LAB_WORK/share/tests"
	LAB_NTESTS=0
}
lab_cleanup() {
	[ -n "${LAB_QPID:-}" ] && kill -KILL "$LAB_QPID" 2>/dev/null
	[ -n "${LAB_TAILPID:-}" ] && kill "$LAB_TAILPID" 2>/dev/null
	if [ -n "${LAB_WORK:-}" ] && [ "${KVMPC_LAB_KEEP:-0}" != 1 ]; then rm -rf "$LAB_WORK"; fi
	return 0
}

# lab_env_exports: "export VAR=value" lines for the environment essentials
lab_env_exports() {
	local v
	for v in PATH HOME USER LOGNAME LANG LANGUAGE LC_ALL TZ TERM CI $(compgen -e | grep -E '^(KVMPC_|LC_)' || true) ${LAB_PASS_ENV:-}; do
		[ -n "${!v+x}" ] && printf 'export %s=%q\n' "$v" "${!v}"
	done
	echo 'export KVMPC_IN_LAB=1'
}

# lab_add_test NAME TIMEOUT CWD BODY: queue a test; BODY is bash code.
# Sets LAB_TEST_DIR to the test's directory.
lab_add_test() {
	local name=$1 timeout=$2 cwd=$3 body=$4 d
	LAB_NTESTS=$((LAB_NTESTS + 1))
	d=$LAB_WORK/share/tests/$(printf %04d "$LAB_NTESTS")
	mkdir -p "$d"
	printf '%s\n' "$name" > "$d/name"
	printf '%s\n' "$timeout" > "$d/timeout"
	{
		echo '#!/bin/bash'
		lab_env_exports
		# a writable directory that ends up on the host (lab-run --artifacts, lab-batch NAME.artifacts/)
		echo "export KVMPC_LAB_ARTIFACTS=/run/kvmpc-lab/tests/${d##*/}/artifacts"
		printf 'cd -- %q || { echo "lab: cannot cd to %q inside the lab" >&2; exit 126; }\n' "$cwd" "$cwd"
		printf '%s\n' "$body"
	} > "$d/cmd"
	: > "$d/log"
	mkdir -p "$d/artifacts"
	LAB_TEST_DIR=$d
}

# lab_check_cwd DIR: fail if DIR is not visible from the lab's chroot
lab_check_cwd() {
	case $1/ in
	/run/*|/proc/*|/sys/*|/dev/*)
		echo "lab: working directory $1 is hidden inside the lab (tmpfs/proc/sys/dev there); run from elsewhere" >&2
		return 1 ;;
	esac
}

_mtime() { stat -c %Y "$1" 2>/dev/null || echo 0; }

# lab_boot [STREAM_FILE]: boot the lab once; it runs every queued test that has
# no status yet, then powers off. Returns when QEMU has exited. Sets:
#   LAB_REASON   empty if the lab finished normally, else why it broke
#   LAB_BOOT_S   seconds from QEMU start to the lab being ready (or empty)
#   LAB_CUR      dir of the test that was running when the lab broke (or empty)
# Calls lab_on_finished DIR (if defined) for each test as it finishes.
lab_boot() {
	local stream=${1:-} share=$LAB_WORK/share start now d t ready=0 qrc keep
	rm -f "$share/ready" "$share/hb" "$share/done" "$share/broken"
	LAB_REASON='' LAB_BOOT_S='' LAB_CUR=''
	start=$EPOCHSECONDS
	local -A reported=()
	for d in "$share"/tests/*; do [ -e "$d/status" ] && reported[$d]=1; done
	qemu-system-x86_64 -accel "$LAB_ACCEL" -cpu "$LAB_CPU" -m "$LAB_MEM" -smp "$LAB_SMP" \
		-nodefaults -display none -no-reboot \
		-kernel "$LAB_KERNEL" -initrd "$LAB_INITRD" \
		-append "console=ttyS0 quiet loglevel=3 panic=-1 oops=panic ${KVMPC_LAB_APPEND:-}" \
		-serial "file:$LAB_WORK/console.log" \
		-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
		-virtfs "local,path=$share,mount_tag=labout,security_model=none,multidevs=remap" \
		</dev/null >"$LAB_WORK/qemu.log" 2>&1 &
	LAB_QPID=$!
	if [ -n "$stream" ]; then
		tail -c +1 -f --pid="$LAB_QPID" "$stream" &
		LAB_TAILPID=$!
	fi
	while kill -0 "$LAB_QPID" 2>/dev/null; do
		sleep 0.5
		now=$EPOCHSECONDS
		if [ "$ready" = 0 ]; then
			if [ -e "$share/ready" ]; then
				ready=1; LAB_BOOT_S=$(( $(_mtime "$share/ready") - start ))
			elif (( now - start > LAB_BOOT_TIMEOUT )); then
				LAB_REASON="the lab did not come up within ${LAB_BOOT_TIMEOUT}s"; break
			fi
			continue
		fi
		if (( now - $(_mtime "$share/hb") > LAB_HB_TIMEOUT )); then
			LAB_REASON="the lab stopped responding (no heartbeat for ${LAB_HB_TIMEOUT}s)"; break
		fi
		for d in "$share"/tests/*; do
			[ -n "${reported[$d]:-}" ] && continue
			if [ -e "$d/status" ]; then
				reported[$d]=1
				declare -F lab_on_finished >/dev/null && lab_on_finished "$d"
			elif [ -e "$d/started" ]; then
				t=$(cat "$d/timeout")
				if (( t > 0 && now - $(_mtime "$d/started") > t + LAB_GRACE )); then
					LAB_REASON="the lab did not end a test ${LAB_GRACE}s past its ${t}s timeout (hung)"; break 2
				fi
			fi
		done
	done
	if kill -0 "$LAB_QPID" 2>/dev/null; then
		kill -TERM "$LAB_QPID" 2>/dev/null
		for t in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$LAB_QPID" 2>/dev/null || break; sleep 0.5; done
		kill -KILL "$LAB_QPID" 2>/dev/null
	fi
	wait "$LAB_QPID" && qrc=0 || qrc=$?
	LAB_QPID=
	if [ -n "${LAB_TAILPID:-}" ]; then wait "$LAB_TAILPID" 2>/dev/null || true; LAB_TAILPID=; fi
	for d in "$share"/tests/*; do
		[ -e "$d/status" ] && [ -z "${reported[$d]:-}" ] && declare -F lab_on_finished >/dev/null && lab_on_finished "$d"
		[ -e "$d/started" ] && [ ! -e "$d/status" ] && LAB_CUR=$d
	done
	[ "$ready" = 0 ] && [ -e "$share/ready" ] && LAB_BOOT_S=$(( $(_mtime "$share/ready") - start ))
	if [ -z "$LAB_REASON" ]; then
		if [ -e "$share/broken" ]; then
			LAB_REASON=$(head -1 "$share/broken")
		elif [ -e "$share/done" ]; then
			return 0
		elif [ ! -e "$share/ready" ]; then
			LAB_REASON="the lab exited before it was ready (qemu status $qrc: $(tail -1 "$LAB_WORK/qemu.log" 2>/dev/null))"
		elif [ "$qrc" != 0 ]; then
			LAB_REASON="the lab's QEMU died (status $qrc: $(tail -1 "$LAB_WORK/qemu.log" 2>/dev/null))"
		else
			LAB_REASON="the lab reset or powered off unexpectedly"
		fi
	fi
	local panic
	panic=$(grep -a -m1 -E 'Kernel panic|BUG:|Oops|general protection|watchdog: ' "$LAB_WORK/console.log" 2>/dev/null | tr -d '\r' | cut -c1-160 || true)
	[ -n "$panic" ] && LAB_REASON="$LAB_REASON; console: $panic"
	# keep the console log of a broken lab
	keep=$KVMPC_BUILD/lab/logs/console-$(date +%Y%m%d-%H%M%S)-$$.log
	mkdir -p "${keep%/*}" && cp "$LAB_WORK/console.log" "$keep" 2>/dev/null && LAB_REASON="$LAB_REASON (console log: $keep)"
	return 1
}
