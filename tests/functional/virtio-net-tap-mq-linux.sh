#!/bin/bash
# Multiqueue virtio-net on a multiqueue tap (docs/net.md, "Multiqueue"):
# -netdev tap,ifname=kvmq0,queues=2 (kvmpc opens the interface twice with
# IFF_MULTI_QUEUE; with TAP_FDS=1 in the environment the test opens the
# two queues itself and passes them as fds=A:B, as libvirt does) and
# -device virtio-net-pci,mq=on, in a network namespace the test creates
# (removed at exit; no packet leaves it).  Debian's kernel (virtio_net.ko,
# -smp 2, 10.0.9.2) must see two combined channels
# (/sys/class/net/eth0/queues: rx-0 rx-1 tx-0 tx-1, MQ negotiated) and
# move traffic through both queue pairs: two processes pinned with taskset
# to CPU 0 and CPU 1 each fetch a file from a python http.server in the
# namespace, then each uploads one to a listener there (md5s compared
# both ways).
#
# Why that proves both pairs work end to end: Linux picks a socket's
# transmit queue by the sending CPU (XPS: virtio_net maps CPU i to queue
# i), so each process's flows leave on tx queue i, which kvmpc must write
# to tap queue i; tun sends a flow's packets back on the tap queue the
# flow came in on, and kvmpc must hand what tap queue i reads to receive
# queue i only.  So (1) the host's per-queue transmit counters of the tap
# (its mq qdisc, read before the uploads' connections close) must show
# each queue carrying at least half of one fetch, and (2) the guest's
# /proc/interrupts must show interrupts on all four virtio vectors
# (input.0, input.1, output.0, output.1) during the transfers.  With one
# queue pair the guest has no rx-1; with both pairs writing to tap queue 0
# tap queue 1 carries a few hundred bytes (1); with tap queue 1 read into
# receive queue 0 input.1 stays at 0 (2).
# SKIP (with the reason) without root, /dev/net/tun, ip, nsenter or
# python3, or when a network namespace cannot be created.
#
# usage: [TAP_FDS=1] tests/functional/virtio-net-tap-mq-linux.sh KVMPC ACCEL
#        (VMQ_DEBUG=1: print the guest's output on success too)
set -uo pipefail
. "$(dirname "$0")/linux-modules.inc.sh" "${1:-}" "${2:-}" virtio_pci virtio_net

command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }
. "$(dirname "$0")/tap-netns.inc.sh" kvmpc-vmq

KiB=${VMQ_KIB:-2048}            # per transfer; four transfers
mkdir -p "$tmp/www"
for i in 0 1; do
	head -c $((KiB << 10)) /dev/urandom > "$tmp/www/blob$i"
	md5[$i]=$(md5sum < "$tmp/www/blob$i" | cut -c1-32)
done

# The guest: queues, link, then per CPU c a fetch pinned to c, then per
# CPU an upload pinned to it; interrupt counts of the virtio vectors
# before and after.
script='for m in $(cat /lib/modules/load.order); do insmod /lib/modules/$m || echo "INSMOD-FAILED $m"; done
echo "QUEUES=$(ls /sys/class/net/eth0/queues | tr "\n" " ")"
echo "FEATURES=$(cat /sys/class/net/eth0/device/features)"
ifconfig eth0 10.0.9.2 netmask 255.255.255.0 up
i=0; while ! ping -c 1 -W 1 10.0.9.1 >/dev/null 2>&1; do i=$((i+1)); [ $i -gt 90 ] && break; done
ping -c 2 -W 2 10.0.9.1 >/dev/null 2>&1; echo "PING=$?"
for c in 0 1; do head -c '$((KiB << 10))' /dev/urandom > /tmp/up$c; echo "UPMD5$c=$(md5sum < /tmp/up$c | cut -c1-32)"; done
irqs() { awk '\''$NF ~ /^virtio[0-9]+-(input|output)\.[0-9]+$/ { s = 0; for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i; printf "%s=%d ", $NF, s }'\'' /proc/interrupts; }
echo "IRQ-BEFORE=$(irqs)"
for c in 0 1; do
	taskset $((c + 1)) sh -c "wget -q -O - http://10.0.9.1:8080/blob$c | md5sum | cut -c1-32 > /tmp/md5$c" &
done
wait
for c in 0 1; do
	taskset $((c + 1)) sh -c "timeout 60 nc 10.0.9.1 $((8081 + c)) < /tmp/up$c" &
done
wait
echo "IRQ-AFTER=$(irqs)"
for c in 0 1; do echo "MD5$c=$(cat /tmp/md5$c)"; done
grep virtio /proc/interrupts'
append="console=ttyS0 panic=-1 $("$top"/tests/images/busybox-initramfs.sh --cmdline "$script")"

# The host side of the uploads: one listener per port, each takes SIZE
# bytes and writes their md5 to OUT.PORT; once all are in (the fetches are
# over, the guest's nc waits for the close), the bytes the kernel sent on
# each queue of the tap (the tap's mq qdisc: one child per tun queue) go
# to OUT.tc, then the connections close.
cat > "$tmp/listen.py" <<'EOF2'
import hashlib, re, socket, subprocess, sys, threading, time
out, size, ports = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
conns = []
def serve(port):
    for _ in range(300):
        try:
            ls = socket.socket()
            ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            ls.bind(("10.0.9.1", int(port)))
            break
        except OSError:
            time.sleep(0.1)
    ls.listen(1)
    ls.settimeout(300)
    c, _ = ls.accept()
    conns.append(c)
    c.settimeout(120)
    h, n = hashlib.md5(), 0
    while n < size:
        d = c.recv(65536)
        if not d:
            break
        h.update(d)
        n += len(d)
    open("%s.%s" % (out, port), "w").write(h.hexdigest() if n == size else "short %d" % n)
ts = [threading.Thread(target=serve, args=(p,)) for p in ports]
for t in ts:
    t.start()
for t in ts:
    t.join()
# "qdisc pfifo_fast 0: parent :1 ..." then " Sent 2165430 bytes 1530 pkt ..."
tc = subprocess.run(["tc", "-s", "qdisc", "show", "dev", "kvmq0"], capture_output=True,
                    text=True).stdout
sent = {int(q, 16) - 1: int(b) for q, b in
        re.findall(r"parent :([0-9a-f]+)[^\n]*\n\s*Sent (\d+) bytes", tc)}
open(out + ".tc", "w").write(" ".join("q%d=%d" % (q, sent[q]) for q in sorted(sent)) + "\n")
for c in conns:
    c.close()
EOF2
if [ "${TAP_FDS:-0}" = 1 ]; then
	# open kvmq0's two queues here (IFF_VNET_HDR: kvmpc's default
	# vnet_hdr=on needs it), then become kvmpc with them inherited
	cat > "$tmp/tapfds.py" <<'EOF2'
import fcntl, os, struct, sys
TUNSETIFF, IFF_TAP, IFF_NO_PI, IFF_VNET_HDR, IFF_MULTI_QUEUE = 0x400454ca, 0x2, 0x1000, 0x4000, 0x100
fds = []
for _ in range(2):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", b"kvmq0",
                                           IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE))
    os.set_inheritable(fd, True)
    fds.append(str(fd))
args = [a.replace("@FDS@", ":".join(fds)) for a in sys.argv[1:]]
os.execvp(args[0], args)
EOF2
	netdev=tap,id=t0,fds=@FDS@ wrap="python3 $tmp/tapfds.py" how="fds= of 2 queues the test opened"
else
	netdev=tap,id=t0,ifname=kvmq0,queues=2,script=no,downscript=no wrap= how="ifname=kvmq0,queues=2"
fi
nsbg timeout -k 5 300 $wrap "$kvmpc" -accel "$accel" -smp 2 -m 256 -nographic -no-reboot \
	-kernel "$kernel" -initrd "$tmp/initrd.gz" -append "$append" \
	-netdev $netdev -device virtio-net-pci,netdev=t0,mq=on \
	>"$tmp/out" 2>&1
vm_pid=$!
tap_up kvmq0 10.0.9.1/24
nsbg python3 -m http.server 8080 --bind 10.0.9.1 --directory "$tmp/www" >"$tmp/http.log" 2>&1
srv_pid=$!
nsbg python3 "$tmp/listen.py" "$tmp/up" $((KiB << 10)) 8081 8082
up_pid=$!

guest_wait
val() { grep -a "^$1=" "$tmp/out" | head -1 | cut -d= -f2- | tr -d '\r'; }
queues=$(val QUEUES)
[ "$queues" = "rx-0 rx-1 tx-0 tx-1 " ] ||
	fail "eth0 has queues '$queues', expected two combined channels (rx-0 rx-1 tx-0 tx-1)"
feat=$(val FEATURES)
[ "${feat:22:1}" = 1 ] || fail "VIRTIO_NET_F_MQ (bit 22) not negotiated: features $feat"
[ "$(val PING)" = 0 ] || fail "no ping replies from 10.0.9.1"
for c in 0 1; do
	[ "$(val MD5$c)" = "${md5[$c]}" ] || fail "CPU $c's fetch: md5 $(val MD5$c), expected ${md5[$c]}"
done
# the listener is done once the guest's uploads are (it closed them)
for i in $(seq 100); do
	kill -0 $up_pid 2>/dev/null || break
	sleep 0.1
done
kill -0 $up_pid 2>/dev/null && fail "the host's listener still waits for an upload"
wait $up_pid
up_pid=
for c in 0 1; do
	got=$(cat "$tmp/up.$((8081 + c))" 2>/dev/null)
	[ "$got" = "$(val UPMD5$c)" ] || fail "CPU $c's upload: the host got '$got', the guest sent $(val UPMD5$c)"
done
# the kernel's transmits per tap queue: tun sends a flow back on the queue
# it came in on, so each CPU's fetch (and the ACKs of its upload) went out
# on the tap queue of the pair that CPU transmits on
tcq=$(cat "$tmp/up.tc" 2>/dev/null)
q0=$(printf '%s\n' $tcq | sed -n 's/^q0=//p') q1=$(printf '%s\n' $tcq | sed -n 's/^q1=//p')
[ -n "$q0" ] && [ -n "$q1" ] || fail "no per-queue counters of kvmq0 (tc -s qdisc: '$tcq')"
[ "$q0" -ge $((KiB << 9)) ] && [ "$q1" -ge $((KiB << 9)) ] ||
	fail "the host did not send on both tap queues (bytes per queue: $tcq; each CPU fetched $KiB KiB)"
# interrupts per vector during the transfers
before=$(val IRQ-BEFORE) after=$(val IRQ-AFTER)
delta() {   # delta NAME-SUFFIX (input.0 ...): the vector's count after minus before
	local a b
	a=$(printf '%s\n' $after | grep -- "-$1=" | cut -d= -f2)
	b=$(printf '%s\n' $before | grep -- "-$1=" | cut -d= -f2)
	[ -n "$a" ] && [ -n "$b" ] || { echo -1; return; }
	echo $((a - b))
}
in0=$(delta input.0) in1=$(delta input.1) out0=$(delta output.0) out1=$(delta output.1)
summary="interrupts during the transfers: input.0 +$in0, input.1 +$in1, output.0 +$out0, output.1 +$out1"
[ "$in0" -gt 0 ] && [ "$in1" -gt 0 ] || fail "not both receive queues used: $summary (before: $before; after: $after)"
[ "$out0" -gt 0 ] && [ "$out1" -gt 0 ] || fail "not both transmit queues used: $summary (before: $before; after: $after)"
kill $srv_pid 2>/dev/null
srv_pid=
[ -n "${VMQ_DEBUG:-}" ] && cat "$tmp/out"
echo "PASS: virtio-net mq=on on a 2-queue tap ($how): rx-0 rx-1 tx-0 tx-1, MQ negotiated, $KiB KiB fetched and sent from each CPU (md5), tap queue bytes $tcq, $summary"
