#!/usr/bin/env python3
"""PS/2 keyboard and mouse behind the i8042, driven through ports 0x60/0x64
and fed through QMP (send-key, input-send-event, query-mice) and HMP
(sendkey, info mice).

usage: test_ps2_qmp.py [KVMPC]        (or KVMPC=path in the environment)

kvmpc runs under -accel qtest; this script is its QMP client and its qtest
peer (it plays the guest with outb/inb, watches IRQ 1 and 12 at the IOAPIC
with irq_intercept_in and moves the virtual clock for send-key's hold time).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qmp_client import QMPError  # noqa: E402
from qtest_peer import QTestQMPCase, main  # noqa: E402

DATA, CMD = 0x60, 0x64


class Ps2Test(QTestQMPCase):
    def setUp(self):
        self.make_tmp('kvmpc-ps2-')
        self.start()
        self.qt.cmd('irq_intercept_in ioapic')

    # -- the guest's side ---------------------------------------------------
    def read(self, n=1, aux=False):
        """n bytes from the output buffer, each from the keyboard (or mouse)."""
        out = []
        for _ in range(n):
            st = self.qt.inb(CMD)
            self.assertTrue(st & 0x01, 'output buffer empty, got %s so far' % out)
            self.assertEqual(bool(st & 0x20), aux, 'byte from the wrong device')
            self.assertTrue(self.qt.irq.get(12 if aux else 1), 'IRQ not raised')
            out.append(self.qt.inb(DATA))
        return out

    def empty(self):
        self.assertEqual(self.qt.inb(CMD) & 0x01, 0, 'unexpected data')
        self.assertFalse(self.qt.irq.get(1))
        self.assertFalse(self.qt.irq.get(12))

    def kbd(self, *bytes_, reply):
        for b in bytes_:
            self.qt.outb(DATA, b)
        self.assertEqual(self.read(len(reply)), reply)
        self.empty()

    def aux(self, *bytes_, reply):
        for b in bytes_:
            self.qt.outb(CMD, 0xd4)
            self.qt.outb(DATA, b)
        self.assertEqual(self.read(len(reply), aux=True), reply)
        self.empty()

    def set_mode(self, mode):
        self.qt.outb(CMD, 0x60)
        self.qt.outb(DATA, mode)

    def keys(self, names, hold_ms=20, **kw):
        self.qmp.cmd('send-key', keys=[{'type': 'qcode', 'data': k} if isinstance(k, str)
                                       else {'type': 'number', 'data': k} for k in names],
                     hold_time=hold_ms, **kw)

    def press(self, names, make, brk, hold_ms=20):
        """send-key: the makes at once, the breaks after the hold time."""
        self.keys(names, hold_ms)
        self.assertEqual(self.read(len(make)), make)
        self.empty()
        self.qt.clock_step((hold_ms - 1) * 1000000)
        self.empty()
        self.qt.clock_step(1000000)
        self.assertEqual(self.read(len(brk)), brk)
        self.empty()

    def event(self, *events):
        return self.qmp.cmd('input-send-event', events=list(events))

    # -- keyboard -------------------------------------------------------------
    def test_keyboard_commands(self):
        self.qt.outb(CMD, 0x20)
        self.assertEqual(self.read(), [0x03])           # reset mode: IRQs on, no XLATE
        self.kbd(0xff, reply=[0xfa, 0xaa])
        self.assertGreaterEqual(self.qt.raised.get(1, 0), 1)
        self.kbd(0xf2, reply=[0xfa, 0xab, 0x83])
        self.kbd(0xf0, 0x00, reply=[0xfa, 0xfa, 0x02])
        self.kbd(0xed, 0x07, reply=[0xfa, 0xfa])        # LEDs
        self.kbd(0xf3, 0x7f, reply=[0xfa, 0xfa])        # typematic: slowest
        self.kbd(0xee, reply=[0xee])
        self.kbd(0xf0, 0x03, reply=[0xfa, 0xfa])
        self.kbd(0xf0, 0x00, reply=[0xfa, 0xfa, 0x03])
        self.kbd(0xf0, 0x01, reply=[0xfa, 0xfa])
        self.kbd(0xf0, 0x00, reply=[0xfa, 0xfa, 0x01])
        self.kbd(0xf6, reply=[0xfa])                    # defaults: set 2 again
        self.kbd(0xf0, 0x00, reply=[0xfa, 0xfa, 0x02])
        self.set_mode(0x43)                             # XLATE as a BIOS leaves it
        self.kbd(0xf2, reply=[0xfa, 0xab, 0x41])
        self.kbd(0xf0, 0x00, reply=[0xfa, 0xfa, 0x41])
        self.set_mode(0x42)                             # no keyboard interrupt
        self.qt.outb(DATA, 0xee)
        self.assertEqual(self.qt.inb(CMD) & 0x01, 1)
        self.assertFalse(self.qt.irq.get(1))
        self.assertEqual(self.qt.inb(DATA), 0xee)

    def test_keys_set2(self):
        self.press(['a'], [0x1c], [0xf0, 0x1c])
        self.press(['shift', 0x1e], [0x12, 0x1c], [0xf0, 0x1c, 0xf0, 0x12])
        self.press(['delete'], [0xe0, 0x71], [0xe0, 0xf0, 0x71])
        self.press(['print'], [0xe0, 0x12, 0xe0, 0x7c], [0xe0, 0xf0, 0x7c, 0xe0, 0xf0, 0x12])
        self.press(['pause'], [0xe1, 0x14, 0x77, 0xe1, 0xf0, 0x14, 0xf0, 0x77], [])
        # HMP sendkey with the default hold time of 100 ms
        self.qmp.hmp('sendkey ctrl-alt-f1')
        self.assertEqual(self.read(3), [0x14, 0x11, 0x05])
        self.qt.clock_step(100 * 1000000)
        self.assertEqual(self.read(6), [0xf0, 0x05, 0xf0, 0x11, 0xf0, 0x14])
        self.empty()
        self.assertIn('invalid parameter', self.qmp.hmp('sendkey ctrl-nosuchkey'))
        self.empty()
        # input-send-event: no hold time, the key stays down
        self.event({'type': 'key', 'data': {'key': {'type': 'qcode', 'data': 'kp_enter'},
                                            'down': True}})
        self.assertEqual(self.read(2), [0xe0, 0x5a])
        self.event({'type': 'key', 'data': {'key': {'type': 'qcode', 'data': 'kp_enter'},
                                            'down': False}})
        self.assertEqual(self.read(3), [0xe0, 0xf0, 0x5a])
        self.empty()

    def test_keys_translated_and_other_sets(self):
        self.set_mode(0x43)
        self.press(['a'], [0x1e], [0x9e])
        self.press(['ctrl_r', 'up'], [0xe0, 0x1d, 0xe0, 0x48], [0xe0, 0xc8, 0xe0, 0x9d])
        self.press(['print'], [0xe0, 0x2a, 0xe0, 0x37], [0xe0, 0xb7, 0xe0, 0xaa])
        self.press(['pause'], [0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5], [])
        self.press(['f7'], [0x41], [0xc1])
        self.set_mode(0x03)
        self.kbd(0xf0, 0x01, reply=[0xfa, 0xfa])
        self.press(['a'], [0x1e], [0x9e])
        self.kbd(0xf0, 0x03, reply=[0xfa, 0xfa])
        self.press(['esc', 'up'], [0x08, 0x63], [0xf0, 0x63, 0xf0, 0x08])
        # scanning disabled: keys are dropped, not held back
        self.kbd(0xf5, reply=[0xfa])
        self.keys(['a'])
        self.qt.clock_step(50 * 1000000)
        self.empty()
        self.kbd(0xf4, reply=[0xfa])
        self.press(['a'], [0x1c], [0xf0, 0x1c])
        with self.assertRaises(QMPError):
            self.keys([0x7f])                           # no key has this number

    def test_queue_full_drops_whole_sequences(self):
        # 16 bytes of queue for keys: four 4-byte makes (set 2 "print":
        # E0 12 E0 7C) fit, a fifth is dropped whole.
        for _ in range(5):
            self.qmp.cmd('input-send-event', events=[
                {'type': 'key', 'data': {'key': {'type': 'qcode', 'data': 'print'},
                                         'down': True}}])
        # a command still gets its answer (8 bytes of headroom for replies)
        self.qt.outb(DATA, 0xf2)
        self.assertEqual(self.read(19), [0xe0, 0x12, 0xe0, 0x7c] * 4 + [0xfa, 0xab, 0x83])
        self.empty()

    # -- mouse --------------------------------------------------------------
    def mouse_reset(self):
        self.aux(0xff, reply=[0xfa, 0xaa, 0x00])

    def knock(self, *rates):
        for r in rates:
            self.aux(0xf3, r, reply=[0xfa, 0xfa])

    def test_mouse(self):
        self.mouse_reset()
        self.assertGreaterEqual(self.qt.raised.get(12, 0), 1)
        self.aux(0xf2, reply=[0xfa, 0x00])
        # disabled: events are not reported
        self.event({'type': 'rel', 'data': {'axis': 'x', 'value': 5}})
        self.empty()
        self.aux(0xf4, reply=[0xfa])
        self.event({'type': 'rel', 'data': {'axis': 'x', 'value': 5}},
                   {'type': 'rel', 'data': {'axis': 'y', 'value': 3}},
                   {'type': 'btn', 'data': {'button': 'right', 'down': True}})
        self.assertEqual(self.read(3, aux=True), [0x08 | 0x20 | 0x02, 0x05, 0xfd])
        self.empty()
        # nothing moved: a key (which syncs every device) sends no packet
        self.event({'type': 'key', 'data': {'key': {'type': 'qcode', 'data': 'a'},
                                            'down': True}})
        self.assertEqual(self.read(1), [0x1c])
        self.empty()
        # a plain mouse has no wheel: the wheel is not reported at all
        self.event({'type': 'btn', 'data': {'button': 'wheel-up', 'down': True}})
        self.assertEqual(self.read(3, aux=True), [0x0a, 0x00, 0x00])
        self.empty()
        # beyond 9 bits: overflow bit, clamped
        self.event({'type': 'rel', 'data': {'axis': 'x', 'value': -300}})
        self.assertEqual(self.read(3, aux=True), [0x08 | 0x40 | 0x10 | 0x02, 0x00, 0x00])
        self.event({'type': 'btn', 'data': {'button': 'right', 'down': False}})
        self.assertEqual(self.read(3, aux=True), [0x08, 0x00, 0x00])
        self.aux(0xe8, 0x03, reply=[0xfa, 0xfa])        # 8 counts/mm
        self.aux(0xe7, reply=[0xfa])                    # scaling 2:1
        self.aux(0xe9, reply=[0xfa, 0x30, 0x03, 100])
        self.aux(0xe6, reply=[0xfa])
        # remote mode: motion is kept for 0xEB
        self.aux(0xf0, reply=[0xfa])
        self.event({'type': 'rel', 'data': {'axis': 'y', 'value': -7}},
                   {'type': 'btn', 'data': {'button': 'middle', 'down': True}})
        self.empty()
        self.aux(0xeb, reply=[0xfa, 0x0c, 0x00, 0x07])
        self.aux(0xeb, reply=[0xfa, 0x0c, 0x00, 0x00])
        self.aux(0xe9, reply=[0xfa, 0x62, 0x03, 100])   # remote, enabled, middle
        # absolute motion has no device (PS/2 is relative)
        with self.assertRaises(QMPError) as cm:
            self.event({'type': 'abs', 'data': {'axis': 'x', 'value': 100}})
        self.assertIn('abs', str(cm.exception))

    def test_intellimouse(self):
        self.mouse_reset()
        self.knock(200, 100, 80)
        self.aux(0xf2, reply=[0xfa, 0x03])
        self.aux(0xf4, reply=[0xfa])
        self.event({'type': 'rel', 'data': {'axis': 'x', 'value': 1}},
                   {'type': 'btn', 'data': {'button': 'left', 'down': True}},
                   {'type': 'btn', 'data': {'button': 'wheel-down', 'down': True}},
                   {'type': 'btn', 'data': {'button': 'wheel-down', 'down': False}})
        self.assertEqual(self.read(4, aux=True), [0x09, 0x01, 0x00, 0x01])
        self.event({'type': 'btn', 'data': {'button': 'wheel-up', 'down': True}})
        self.assertEqual(self.read(4, aux=True), [0x09, 0x00, 0x00, 0xff])
        self.empty()
        # a reset returns to a plain mouse
        self.mouse_reset()
        self.aux(0xf2, reply=[0xfa, 0x00])
        # Explorer: 200, 200, 80 -> ID 4, buttons 4/5 in the fourth byte
        self.knock(200, 200, 80)
        self.aux(0xf2, reply=[0xfa, 0x04])
        self.aux(0xf4, reply=[0xfa])
        self.event({'type': 'btn', 'data': {'button': 'side', 'down': True}},
                   {'type': 'btn', 'data': {'button': 'extra', 'down': True}},
                   {'type': 'btn', 'data': {'button': 'wheel-up', 'down': True}})
        # left is still held: a reset does not change what the buttons are
        self.assertEqual(self.read(4, aux=True), [0x09, 0x00, 0x00, 0x30 | 0x0f])
        self.empty()

    def test_query_mice(self):
        mice = self.qmp.cmd('query-mice')
        self.assertEqual(len(mice), 1)
        self.assertEqual(mice[0]['name'], 'QEMU PS/2 Mouse')
        self.assertTrue(mice[0]['current'])
        self.assertFalse(mice[0]['absolute'])
        self.assertEqual(self.qmp.hmp('info mice'),
                         '* Mouse #%d: QEMU PS/2 Mouse\r\n' % mice[0]['index'])


if __name__ == '__main__':
    main()
