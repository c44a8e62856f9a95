#!/usr/bin/env python3
"""QMP query-pci and HMP info pci (hw/pci/pci-monitor.c), and the `pc`
machine's default devices as QEMU lays them out: without -nodefaults and
-vga, a standard VGA at 00:02.0 (docs/vga.md), without any network option
an e1000 on slirp at 00:03.0 (docs/net.md), then the -device cards.

usage: test_pci_qmp.py [KVMPC]        (or KVMPC=path in the environment)

kvmpc runs under -accel qtest, paused; the script reads the bus with
query-pci and info pci, and compares what they say with the configuration
space read through the qtest protocol.
"""
import os
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qmp_client import QMPClient  # noqa: E402

KVMPC = sys.argv[1] if len(sys.argv) > 1 else os.environ.get('KVMPC', 'build/kvmpc')
results = []


class VM:
    def __init__(self, *args):
        self.tmp = tempfile.mkdtemp(prefix='kvmpc-pci-')
        msock = os.path.join(self.tmp, 'qmp.sock')
        qsock = os.path.join(self.tmp, 'qtest.sock')
        lis = socket.socket(socket.AF_UNIX)
        lis.bind(qsock)
        lis.listen(1)
        self.proc = subprocess.Popen(
            [KVMPC, '-accel', 'qtest', '-qtest', 'unix:' + qsock, '-display', 'none', '-S',
             '-qmp', 'unix:%s,server=on,wait=off' % msock] + list(args),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        lis.settimeout(10)
        self.qt, _ = lis.accept()
        lis.close()
        self.qtf = self.qt.makefile('rw')
        self.qmp = QMPClient.unix(msock)
        self.qmp.negotiate()

    def qtest(self, line):
        self.qtf.write(line + '\n')
        self.qtf.flush()
        while True:
            r = self.qtf.readline().strip()
            if r.startswith('OK') or r.startswith('FAIL') or r.startswith('ERR'):
                return r

    def cfg_read(self, devfn, reg):
        self.qtest('outl 0xcf8 0x%x' % (0x80000000 | devfn << 8 | reg))
        return int(self.qtest('inl 0xcfc').split()[1], 16)

    def cfg_write(self, devfn, reg, val):
        self.qtest('outl 0xcf8 0x%x' % (0x80000000 | devfn << 8 | reg))
        self.qtest('outl 0xcfc 0x%x' % val)

    def devices(self):
        buses = self.qmp.cmd('query-pci')
        assert len(buses) == 1 and buses[0]['bus'] == 0, buses
        return buses[0]['devices']

    def close(self):
        try:
            self.qmp.cmd('quit')
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        err = self.proc.stderr.read().decode(errors='replace')
        for w in ('Segmentation', 'Abort', 'runtime error', 'AddressSanitizer', 'CRITICAL'):
            assert w not in err, err


def case(name):
    def deco(fn):
        try:
            fn()
            results.append((name, None))
            print('PASS ' + name)
        except Exception as e:  # noqa: BLE001 - report every failure by name
            results.append((name, e))
            print('FAIL %s: %r' % (name, e))
        return fn
    return deco


def find(devs, vendor, device):
    return [d for d in devs if d['id']['vendor'] == vendor and d['id']['device'] == device]


@case('default pc: VGA at 00:02.0, e1000 on slirp at 00:03.0, then -device, as QEMU')
def _():
    vm = VM('-device', 'e1000,id=nic0')
    try:
        devs = vm.devices()
        slots = [(d['slot'], d['function']) for d in devs]
        assert slots == [(0, 0), (1, 0), (1, 1), (1, 3), (2, 0), (3, 0), (4, 0)], slots
        vga = devs[4]
        assert (vga['id']['vendor'], vga['id']['device']) == (0x1234, 0x1111), vga
        assert vga['class_info'] == {'desc': 'VGA controller', 'class': 0x0300}, vga
        dflt, nic = devs[5], devs[6]
        assert (dflt['id']['vendor'], dflt['id']['device']) == (0x8086, 0x100e), dflt
        assert dflt['class_info']['desc'] == 'Ethernet controller', dflt
        assert (nic['id']['vendor'], nic['id']['device'], nic['qdev_id']) == (0x8086, 0x100e, 'nic0'), nic
        assert nic['irq_pin'] == 1 and 'irq' in nic, nic
        assert devs[0]['class_info']['desc'] == 'Host bridge' and 'irq' not in devs[0], devs[0]
        # every device has subsystem IDs, QEMU's 1af4:1100 where the model
        # names none (the PIIX3 IDE function)
        ide = find(devs, 0x8086, 0x7010)[0]
        assert (ide['id']['subsystem-vendor'], ide['id']['subsystem']) == (0x1af4, 0x1100), ide
        # the default NIC sits on hub 0 with a user (slirp) backend
        net = vm.qmp.hmp('info network')
        assert 'hub 0' in net and 'user' in net and 'e1000' in net, net
    finally:
        vm.close()


@case('any network option turns the default NIC off')
def _():
    for args in (['-nic', 'none'], ['-net', 'none'], ['-netdev', 'user,id=n0'], ['-nodefaults']):
        vm = VM(*args)
        try:
            nics = [d for d in vm.devices() if d['class_info']['class'] == 0x0200]
            assert nics == [], (args, nics)
        finally:
            vm.close()


@case('query-pci BARs and IRQ line follow the configuration space')
def _():
    vm = VM('-nodefaults', '-device', 'e1000,id=nic0,addr=4')
    try:
        devfn = 4 << 3
        vm.cfg_write(devfn, 0x10, 0xfeb00000)       # BAR0: 128 KiB memory
        vm.cfg_write(devfn, 0x14, 0xc101)           # BAR1: 64 ports
        vm.cfg_write(devfn, 0x3c, 0x10b)            # IRQ line 11, pin stays A
        vm.cfg_write(devfn, 0x04, 0x3)              # I/O + memory decode
        nic = find(vm.devices(), 0x8086, 0x100e)[0]
        assert (nic['slot'], nic['irq'], nic['irq_pin']) == (4, 11, 1), nic
        regions = {r['bar']: r for r in nic['regions']}
        assert regions[0] == {'bar': 0, 'type': 'memory', 'address': 0xfeb00000, 'size': 0x20000,
                              'prefetch': False, 'mem_type_64': False}, regions[0]
        assert regions[1] == {'bar': 1, 'type': 'io', 'address': 0xc100, 'size': 0x40}, regions[1]
        assert regions[6]['address'] == -1, regions[6]      # ROM BAR unmapped (QEMU: -1)
        vid = vm.cfg_read(devfn, 0)
        assert vid == nic['id']['device'] << 16 | nic['id']['vendor'], hex(vid)
        hmp = vm.qmp.hmp('info pci').replace('\r\n', '\n')     # HMP ends lines with CR LF, as QEMU
        for want in ('  Bus  0, device   4, function 0:\n    Ethernet controller: PCI device 8086:100e\n',
                     '      IRQ 11, pin A\n',
                     '      BAR0: 32 bit memory at 0xfeb00000 [0xfeb1ffff].\n',
                     '      BAR1: I/O at 0xc100 [0xc13f].\n',
                     '      id "nic0"\n'):
            assert want in hmp, (want, hmp)
    finally:
        vm.close()


@case('-nodefaults, -vga none: no VGA; -device VGA replaces the default')
def _():
    for args, want in ((['-nodefaults'], []), (['-vga', 'none', '-nic', 'none'], []),
                       (['-device', 'VGA,addr=5', '-nic', 'none'], [5]),
                       (['-vga', 'std', '-nodefaults'], [2])):
        vm = VM(*args)
        try:
            got = [d['slot'] for d in vm.devices() if d['class_info']['class'] == 0x0300]
            assert got == want, (args, got)
        finally:
            vm.close()


failed = [n for n, e in results if e]
print('%d passed, %d failed%s' % (len(results) - len(failed), len(failed),
                                  ': ' + ', '.join(failed) if failed else ''))
sys.exit(1 if failed else 0)
