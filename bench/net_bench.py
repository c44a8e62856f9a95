#!/usr/bin/env python3
"""virtio-net throughput, guest <-> host, with iperf3: kvmpc against
Debian's QEMU, both on the same accelerator (tcg: kvmpc's tcg-lite against
QEMU's TCG; kvm: both -accel kvm, in the KVM lab), the same options, runs
interleaved, medians.

  python3 bench/net_bench.py [--runs 3] [--time 8] [--cases tap,user]
                             [--accel tcg|kvm]
                             [--kvmpc build/kvmpc] [--qemu qemu-system-x86_64]
                             [--base OLD-KVMPC]

  flock /work/wt/lab.lock tests/lab/lab-run --smp 1 --timeout 1800 -- \
      /usr/bin/python3 bench/net_bench.py --accel kvm --runs 3

--cases user runs the slirp case alone (no root needed for it).  --base
adds a second kvmpc binary (e.g. one built before a change) to the same
interleaved rotation, for a before/after table next to QEMU's.

Needs root (a network namespace and a tap), Debian's iperf3 on the host.
Both emulators get the same Debian kernel, the busybox initramfs plus
virtio_pci/virtio_net and iperf3 with its libraries (from the host,
tests/images/lib.sh packs them), -m 512, one vCPU, -accel tcg (or -accel
kvm with --accel kvm: everything else identical), direct -kernel boot,
and one virtio-net-pci NIC on:

  tap    -netdev tap,id=n0,ifname=nbtap0,script=no,downscript=no
         (vnet_hdr on by default in both: checksum and TSO offloads)
         inside a network namespace the script creates and removes; the
         guest is 10.0.9.2, the namespace's tap 10.0.9.1.
  user   -netdev user,id=n0,hostfwd=tcp:127.0.0.1:PORT-:5201 (slirp).

The guest runs `iperf3 -s -1` twice; the host runs `iperf3 -c GUEST -t T
-J` (host -> guest) then with -R (guest -> host) and reads the receiver's
rate from the JSON.  Every packet stays on this machine.  Also reported:
the emulator's CPU time (user+sys, all threads, from wait4) per run,
which includes the boot.

With --accel kvm the script refuses to run without a /dev/kvm it can
open and fails a run whose guest kernel did not see KVM ("Hypervisor
detected: KVM" on its console): no silent fallback to a software CPU.
The tap case needs /dev/net/tun: when it is missing, the script loads
the running kernel's tun module (modprobe, or in the lab, whose kernel's
modules are not under the host's /lib/modules, insmod from
$KVMPC_BUILD/images/linux/lib/modules/`uname -r`/), or says why not.

Prints each run and a Markdown table for docs/benchmarks.md.
"""
import argparse
import json
import os
import re
import select
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import kvmstats

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
B = os.environ.get("KVMPC_BUILD", os.path.join(TOP, "build"))
NS = "kvmpc-nbench-%d" % os.getpid()

GUEST = r'''for m in $(cat /lib/modules/load.order); do insmod /lib/modules/$m || echo INSMOD-FAILED; done
ifconfig lo 127.0.0.1 up
%s
echo "FEATURES=$(cat /sys/class/net/eth0/device/features)"
irqs() { echo "IRQS$1 $(grep -e virtio -e LOC: /proc/interrupts | awk '{n=$1=="LOC:" ? "LOC" : $NF; s=0; for (i=2; i<NF; i++) if ($i ~ /^[0-9]+$/) s+=$i; printf "%%s=%%d ", n, s}') $(for f in tx_packets tx_bytes rx_packets rx_bytes; do printf "%%s=%%s " $f $(cat /sys/class/net/eth0/statistics/$f); done)"; }
irqs 0
echo IPERF-READY
iperf3 -s -1 >/dev/null 2>&1
irqs 1
iperf3 -s -1 >/dev/null 2>&1
irqs 2
echo IPERF-DONE'''
GUEST_TAP = "ifconfig eth0 10.0.9.2 netmask 255.255.255.0 up"
GUEST_USER = "ifconfig eth0 10.0.2.15 netmask 255.255.255.0 up; route add default gw 10.0.2.2"


def initrd(tmp):
    """The test initramfs plus virtio_pci, virtio_net, iperf3 and its libraries."""
    iperf = shutil.which("iperf3")
    if not iperf:
        sys.exit("no iperf3 on the host (apt-get install iperf3)")
    sh = r'''set -e
. "$1/tests/images/lib.sh"
mkdir -p "$2/root/lib/modules" "$2/root/bin"
add_modules "$2/root" "$3/images/linux/modules" virtio_pci virtio_net
cp -L "$4" "$2/root/bin/iperf3"
for l in $(ldd "$4" | grep -o '/[^ ]*'); do
	mkdir -p "$2/root$(dirname "$l")"
	cp -L "$l" "$2/root$l"
done
pack_initramfs "$2/root" "$2/extra.cpio.gz"
cat "$3/images/initramfs.cpio.gz" "$2/extra.cpio.gz" > "$2/initrd.gz"'''
    subprocess.run(["bash", "-c", sh, "sh", TOP, tmp, B, iperf], check=True)
    return os.path.join(tmp, "initrd.gz")


def cmdline_for(script):
    return subprocess.check_output([os.path.join(TOP, "tests/images/busybox-initramfs.sh"),
                                    "--cmdline", script], text=True).strip()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def sh(*argv):
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def iperf_client(prefix, host, port, secs, reverse):
    """Receiver's rate in Mbit/s and the sender's TCP retransmissions (-1: not
    reported); retries while the guest's server starts."""
    argv = prefix + ["iperf3", "-c", host, "-p", str(port), "-t", str(secs), "-J"]
    if reverse:
        argv.append("-R")
    for _ in range(60):
        r = subprocess.run(argv, capture_output=True, text=True, timeout=secs + 120)
        try:
            j = json.loads(r.stdout)
        except ValueError:
            j = {}
        if "end" in j and "sum_received" in j["end"]:
            return (j["end"]["sum_received"]["bits_per_second"] / 1e6,
                    j["end"].get("sum_sent", {}).get("retransmits", -1))
        time.sleep(1)
    raise RuntimeError("iperf3 %s: %s" % (" ".join(argv), r.stdout[-500:] + r.stderr[-500:]))


def cpu_times():
    """The machine's CPU time counters (/proc/stat's first line)."""
    with open("/proc/stat") as f:
        return [int(x) for x in f.readline().split()[1:]]


def thread_cpu(pid):
    """CPU seconds (user+system) of the process's main thread and of its
    other threads, the guest time inside them (KVM), and the threads'
    context switches ("switches voluntary", "switches nonvoluntary")."""
    out = {}
    tick = os.sysconf("SC_CLK_TCK")
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return out
    for t in tids:
        try:
            with open("/proc/%d/task/%s/stat" % (pid, t)) as f:
                st = f.read()
        except OSError:
            continue
        name = "main" if t == str(pid) else "other"
        out["threads"] = out.get("threads", 0) + 1
        f = st[st.rindex(")") + 2:].split()
        out[name] = out.get(name, 0) + (int(f[11]) + int(f[12])) / tick
        out["guest"] = out.get("guest", 0) + int(f[40]) / tick     # inside the above
        try:
            with open("/proc/%d/task/%s/status" % (pid, t)) as fh:
                for line in fh:
                    if line.startswith(("voluntary_ctxt", "nonvoluntary_ctxt")):
                        key = "switches %s %s" % (line.split("_")[0], name)
                        out[key] = out.get(key, 0) + int(line.split()[-1])
        except OSError:
            pass
    return out


def cpu_split(c0, c1, t0, t1):
    """The machine's busy seconds between two cpu_times() and how much of
    it the emulator's threads took (from two thread_cpu())."""
    tick = os.sysconf("SC_CLK_TCK")
    d = [y - x for x, y in zip(c0, c1)]
    busy = (sum(d[:8]) - d[3] - d[4]) / tick
    thr = {k: t1[k] - (t0.get(k, 0) if k != "threads" else 0) for k in t1}
    return busy, thr


def idle_share(a, b):
    """The share of the machine's CPU time between a and b that was idle
    (idle + iowait): time nobody could use, a sign of waiting."""
    d = [y - x for x, y in zip(a, b)]
    return (d[3] + d[4]) / max(1, sum(d[:8]))


def ensure_tun():
    """/dev/net/tun for the tap case, loading tun.ko if needed."""
    if os.path.exists("/dev/net/tun"):
        return
    if subprocess.run(["modprobe", "tun"], capture_output=True).returncode != 0:
        ko = os.path.join(B, "images/linux/lib/modules", os.uname().release,
                          "kernel/drivers/net/tun.ko")
        if not os.path.exists(ko):
            sys.exit("tap case: no /dev/net/tun, modprobe tun failed and there is no %s "
                     "(run with --cases user)" % ko)
        r = subprocess.run(["insmod", ko], capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit("tap case: insmod %s: %s" % (ko, r.stderr.strip()))
    for _ in range(50):     # devtmpfs creates the node
        if os.path.exists("/dev/net/tun"):
            return
        time.sleep(0.1)
    sys.exit("tap case: tun loaded but no /dev/net/tun appeared")


def vm_run(emu, case, rd, secs, accel="tcg", kstats=False, timeout=900):
    port = 5201
    if case == "tap":
        prefix = ["ip", "netns", "exec", NS]
        net = ["-netdev", "tap,id=n0,ifname=nbtap0,script=no,downscript=no"]
        script = GUEST % GUEST_TAP
        host = "10.0.9.2"
    else:
        prefix = []
        port = free_port()
        net = ["-netdev", "user,id=n0,hostfwd=tcp:127.0.0.1:%d-:5201" % port]
        script = GUEST % GUEST_USER
        host = "127.0.0.1"
    argv = prefix + [emu, "-accel", accel, "-smp", "1", "-m", "512", "-nographic",
                     "-no-reboot", "-kernel", os.path.join(B, "images/linux/vmlinuz"),
                     "-initrd", rd] + net + [
                     "-device", "virtio-net-pci,netdev=n0",
                     "-append", "console=ttyS0 panic=-1 " + cmdline_for(script)]
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    t0 = time.monotonic()
    buf = b""
    res = {}
    try:
        if case == "tap":
            for _ in range(100):
                if subprocess.run(prefix + ["ip", "link", "show", "nbtap0"],
                                  capture_output=True).returncode == 0:
                    break
                time.sleep(0.1)
            sh(*prefix, "ip", "addr", "add", "10.0.9.1/24", "dev", "nbtap0")
            sh(*prefix, "ip", "link", "set", "nbtap0", "up")
        while b"IPERF-READY" not in buf:
            r, _, _ = select.select([p.stdout], [], [], 0.5)
            d = os.read(p.stdout.fileno(), 65536) if r else b""
            buf += d
            if time.monotonic() - t0 > timeout or (r and not d):
                raise RuntimeError("%s %s: the guest did not start iperf3:\n%s" % (
                    emu, case, buf[-2000:].decode("latin-1")))
        if not kvmstats.guest_saw_kvm(accel, buf):
            raise RuntimeError("%s %s: -accel kvm, but the guest did not see KVM (no "
                               "'Hypervisor detected: KVM' on its console)" % (emu, case))
        m = re.search(rb"FEATURES=([01]+)", buf)
        res["features"] = m.group(1).decode() if m else "?"
        k0 = kvmstats.snapshot(p.pid) if kstats else {}
        c0, t0 = cpu_times(), thread_cpu(p.pid)
        res["h2g"], res["retr_h2g"] = iperf_client(prefix, host, port, secs, False)
        k1 = kvmstats.snapshot(p.pid) if kstats else {}
        c1, t1 = cpu_times(), thread_cpu(p.pid)
        res["g2h"], res["retr_g2h"] = iperf_client(prefix, host, port, secs, True)
        k2 = kvmstats.snapshot(p.pid) if kstats else {}
        c2, t2 = cpu_times(), thread_cpu(p.pid)
        res["kvm"] = {"h2g": kvmstats.delta(k0, k1), "g2h": kvmstats.delta(k1, k2)}
        res["idle_h2g"], res["idle_g2h"] = idle_share(c0, c1), idle_share(c1, c2)
        res["split"] = {"h2g": cpu_split(c0, c1, t0, t1), "g2h": cpu_split(c1, c2, t1, t2)}
        t1 = time.monotonic()
        while time.monotonic() - t1 < 60:       # the guest powers off
            r, _, _ = select.select([p.stdout], [], [], 0.5)
            d = os.read(p.stdout.fileno(), 65536) if r else b""
            buf += d
            if r and not d:
                break
    finally:
        pid, _, ru = os.wait4(p.pid, os.WNOHANG)
        if pid == 0:
            os.kill(p.pid, 9)
            _, _, ru = os.wait4(p.pid, 0)
        p.returncode = 0
    res["cpu"] = ru.ru_utime + ru.ru_stime
    # the guest's virtio interrupts per vector during each direction
    irq = {int(i): dict((k.decode(), int(v)) for k, v in re.findall(rb"(\S+)=(\d+)", line))
           for i, line in re.findall(rb"IRQS(\d) ([^\r\n]*)", buf)}
    if all(i in irq for i in (0, 1, 2)):
        res["irqs"] = {d: {k: irq[b][k] - irq[a].get(k, 0) for k in irq[b]}
                       for d, a, b in (("h2g", 0, 1), ("g2h", 1, 2))}
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--time", type=int, default=8)
    ap.add_argument("--cases", default="tap,user")
    ap.add_argument("--accel", choices=["tcg", "kvm"], default="tcg",
                    help="both emulators' accelerator (kvm: in the KVM lab)")
    ap.add_argument("--kvm-stats", action="store_true",
                    help="with --accel kvm: KVM's exit counters (debugfs) per direction")
    ap.add_argument("--emus", default="kvmpc,qemu")
    ap.add_argument("--kvmpc", default=os.path.join(B, "kvmpc"))
    ap.add_argument("--qemu", default="qemu-system-x86_64")
    ap.add_argument("--base", help="another kvmpc binary (before a change) run in turn")
    a = ap.parse_args()
    if not shutil.which(a.qemu):
        sys.exit("no %s (Debian's qemu-system-x86)" % a.qemu)
    cases = a.cases.split(",")
    bad = [c for c in cases if c not in ("tap", "user")]
    if bad:
        sys.exit("--cases: unknown case %s (tap, user)" % ",".join(bad))
    if "tap" in cases and not shutil.which("ip"):
        sys.exit("tap case: no ip (iproute2)")
    kvmstats.check_kvm(a.accel)
    if a.kvm_stats:
        if a.accel != "kvm":
            sys.exit("--kvm-stats needs --accel kvm")
        err = kvmstats.ensure_debugfs()
        if err:
            sys.exit("--kvm-stats: " + err)
    if "tap" in cases:
        ensure_tun()
    emus = {k: v for k, v in (("kvmpc", a.kvmpc), ("qemu", a.qemu)) if k in a.emus.split(",")}
    if a.base:
        emus["base"] = a.base
    tmp = tempfile.mkdtemp(prefix="kvmpc-netbench-")
    res = {(k, c): {"h2g": [], "g2h": [], "cpu": []} for k in emus for c in cases}
    failed = 0
    kres = {}       # (emu, case, direction, counter) -> [values]
    ires = {}       # (case, direction, vector) -> {emu: [guest interrupts]}
    try:
        rd = initrd(tmp)
        if "tap" in cases:
            sh("ip", "netns", "add", NS)
            sh("ip", "netns", "exec", NS, "ip", "link", "set", "lo", "up")
        for i in range(a.runs):
            order = list(emus) if i % 2 == 0 else list(emus)[::-1]
            for c in cases:
                for k in order:
                    try:
                        r = vm_run(emus[k], c, rd, a.time, a.accel, a.kvm_stats)
                    except (RuntimeError, subprocess.TimeoutExpired) as ex:
                        failed += 1
                        print("run %d %-5s %-4s FAILED: %s" % (i + 1, k, c, str(ex)[-1500:]),
                              flush=True)
                        continue
                    for m in ("h2g", "g2h", "cpu"):
                        if m in r:
                            res[(k, c)][m].append(r[m])
                    print("run %d %-5s %-4s host->guest %7.1f Mbit/s guest->host %7.1f Mbit/s "
                          "cpu %.1fs features %s" % (i + 1, k, c, r["h2g"], r["g2h"],
                                                     r.get("cpu", 0), r["features"][:16]),
                          flush=True)
                    print("run %d %-5s %-4s retransmits h2g %d g2h %d, machine idle h2g "
                          "%.0f%% g2h %.0f%%" % (i + 1, k, c, r["retr_h2g"], r["retr_g2h"],
                                                 100 * r["idle_h2g"], 100 * r["idle_g2h"]),
                          flush=True)
                    for d, (busy, thr) in r.get("split", {}).items():
                        emu_s = thr.get("main", 0) + thr.get("other", 0)
                        print("run %d %-5s %-4s cpu %s: machine busy %.2fs, emulator %.2fs (main "
                              "thread %.2f, others %.2f, guest %.2f), rest %.2fs; the emulator's "
                              "thread switches (voluntary/involuntary): main %d/%d, others %d/%d"
                              " (%d threads)"
                              % (i + 1, k, c, d, busy, emu_s, thr.get("main", 0),
                                 thr.get("other", 0), thr.get("guest", 0), busy - emu_s,
                                 thr.get("switches voluntary main", 0),
                                 thr.get("switches nonvoluntary main", 0),
                                 thr.get("switches voluntary other", 0),
                                 thr.get("switches nonvoluntary other", 0),
                                 thr.get("threads", 0)), flush=True)
                    for d, st in r.get("irqs", {}).items():
                        for f, v in st.items():
                            ires.setdefault((c, d, f), {}).setdefault(k, []).append(v)
                        print("run %d %-5s %-4s guest irqs %s %s" % (i + 1, k, c, d, " ".join(
                            "%s=%d" % kv for kv in sorted(st.items()))), flush=True)
                        if st.get("tx_packets") and st.get("rx_packets"):
                            print("run %d %-5s %-4s guest frames %s: tx %d of %.0f bytes, rx %d "
                                  "of %.0f bytes (averages)" % (
                                      i + 1, k, c, d, st["tx_packets"],
                                      st["tx_bytes"] / st["tx_packets"], st["rx_packets"],
                                      st["rx_bytes"] / st["rx_packets"]), flush=True)
                    for d, st in r.get("kvm", {}).items():
                        for f, v in st.items():
                            kres.setdefault((k, c, d, f), []).append(v)
                        if st:
                            print("run %d %-5s %-4s kvm %s %s" % (i + 1, k, c, d, " ".join(
                                "%s=%d" % fv for fv in st.items())), flush=True)
    finally:
        if "tap" in cases:
            subprocess.run(["ip", "netns", "del", NS], stderr=subprocess.DEVNULL)
        shutil.rmtree(tmp, ignore_errors=True)
    print()
    print("| case | direction | kvmpc Mbit/s (median) | QEMU %s Mbit/s (median) | kvmpc / QEMU |"
          % a.accel.upper())
    print("|---|---|---|---|---|")
    names = {"h2g": "host -> guest", "g2h": "guest -> host"}
    for c in cases:
        for m in ("h2g", "g2h"):
            v = {k: statistics.median(res[(k, c)][m]) for k in emus if res[(k, c)][m]}
            if "kvmpc" in v and "qemu" in v:
                print("| %s | %s | %.0f | %.0f | %.2fx |" % (c, names[m], v["kvmpc"], v["qemu"],
                                                          v["kvmpc"] / v["qemu"]))
            else:
                for k, x in v.items():
                    print("| %s | %s | %s: %.0f | | |" % (c, names[m], k, x))
    if "base" in emus and "kvmpc" in emus:
        print()
        print("| case | direction | base Mbit/s (median) | kvmpc Mbit/s (median) | kvmpc / base |")
        print("|---|---|---|---|---|")
        for c in cases:
            for m in ("h2g", "g2h"):
                if res[("base", c)][m] and res[("kvmpc", c)][m]:
                    b = statistics.median(res[("base", c)][m])
                    k = statistics.median(res[("kvmpc", c)][m])
                    print("| %s | %s | %.0f | %.0f | %.2fx |" % (c, names[m], b, k, k / b))
    for c in cases:
        v = {k: statistics.median(res[(k, c)]["cpu"]) for k in emus if res[(k, c)]["cpu"]}
        print("| %s | CPU s per run (boot + both directions) | %s |" % (
            c, " | ".join("%s %.1f" % kv for kv in v.items())))
    print()
    print("Guest interrupts per direction (/proc/interrupts, medians)")
    print()
    print("| case | direction | vector | " + " | ".join(emus) + " |")
    print("|---|---|---|" + "---|" * len(emus))
    for (c, d, f), v in sorted(ires.items()):
        print("| %s | %s | %s | %s |" % (c, names[d], f, " | ".join(
            "%d" % statistics.median(v[k]) if k in v else "-" for k in emus)))
    if a.kvm_stats:
        print()
        print("KVM counters per direction (debugfs, medians): kvmpc / QEMU")
        print()
        print("| case | direction | " + " | ".join(kvmstats.FIELDS) + " |")
        print("|---|---|" + "---|" * len(kvmstats.FIELDS))
        for c in cases:
            for m in ("h2g", "g2h"):
                cells = []
                for f in kvmstats.FIELDS:
                    v = [kres.get((e, c, m, f)) for e in ("kvmpc", "qemu")]
                    cells.append(" / ".join("%d" % statistics.median(x) if x else "-"
                                            for x in v))
                print("| %s | %s | %s |" % (c, names[m], " | ".join(cells)))
    if failed:
        sys.exit("%d run(s) FAILED (above)" % failed)


if __name__ == "__main__":
    main()
