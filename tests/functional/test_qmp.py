#!/usr/bin/env python3
"""QMP and HMP against a running kvmpc (standard library only).

usage: test_qmp.py [KVMPC]        (or KVMPC=path in the environment)

Starts kvmpc with -accel qtest -display none -nodefaults and QMP on unix
sockets, then drives every command, event and error path kvmpc supports,
the streaming cases of the wire protocol, reconnects, two monitors at
once, HMP through human-monitor-command and a readline monitor.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qmp_client import QMPClient, QMPError  # noqa: E402

KVMPC = None


def find_kvmpc():
    if len(sys.argv) > 1 and not sys.argv[1].startswith('-'):
        return os.path.abspath(sys.argv.pop(1))
    if os.environ.get('KVMPC'):
        return os.environ['KVMPC']
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.join(here, '..', '..', 'build', 'kvmpc')


class VM:
    """One kvmpc process with a QMP unix socket (plus extra arguments)."""

    def __init__(self, *extra, qmp=True, stdin=subprocess.DEVNULL):
        self.dir = tempfile.mkdtemp(prefix='kvmpc-qmp-')
        self.sock = os.path.join(self.dir, 'qmp.sock')
        args = [KVMPC, '-accel', 'qtest', '-display', 'none', '-nodefaults']
        if qmp:
            args += ['-qmp', 'unix:%s,server=on,wait=off' % self.sock]
        args += list(extra)
        self.proc = subprocess.Popen(args, stdin=stdin, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)

    def path(self, name):
        return os.path.join(self.dir, name)

    def connect(self, sock=None, negotiate=True):
        q = QMPClient.unix(sock or self.sock)
        if negotiate:
            q.negotiate()
        return q

    def wait(self, timeout=10):
        return self.proc.wait(timeout)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for f in (self.proc.stdout, self.proc.stderr, self.proc.stdin):
            if f:
                f.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class QMPTestCase(unittest.TestCase):
    def setUp(self):
        self.vm = VM()
        self.q = self.vm.connect()

    def tearDown(self):
        self.q.close()
        self.vm.kill()

    def assertError(self, resp, cls, desc):
        self.assertIn('error', resp, resp)
        self.assertEqual(resp['error']['class'], cls, resp)
        if desc is not None:
            self.assertEqual(resp['error']['desc'], desc, resp)


class TestNameUUID(unittest.TestCase):
    """-name and -uuid read back over QMP as given (QEMU's spellings)."""

    def query(self, *args):
        vm = VM(*args)
        try:
            with vm.connect() as q:
                return q.cmd('query-name'), q.cmd('query-uuid')
        finally:
            vm.kill()

    def test_name_and_uuid(self):
        uuid = '6b9a2c6e-1f3d-4c5b-9a7e-0123456789ab'
        name, u = self.query('-name', 'guest-1', '-uuid', uuid)
        self.assertEqual(name, {'name': 'guest-1'})
        self.assertEqual(u, {'UUID': uuid})

    def test_name_options(self):
        # -name guest=NAME,debug-threads=on is the long form libvirt uses
        name, _ = self.query('-name', 'guest=vm,,two,debug-threads=on')
        self.assertEqual(name, {'name': 'vm,two'})

    def test_uuid_upper_case(self):
        _, u = self.query('-uuid', '6B9A2C6E-1F3D-4C5B-9A7E-0123456789AB')
        self.assertEqual(u, {'UUID': '6b9a2c6e-1f3d-4c5b-9a7e-0123456789ab'})

    def test_bad_uuid(self):
        vm = VM('-uuid', 'not-a-uuid', qmp=False)
        try:
            self.assertEqual(vm.wait(), 1)
            self.assertIn('-uuid', vm.proc.stderr.read().decode())
        finally:
            vm.kill()


class TestProtocol(unittest.TestCase):
    def setUp(self):
        self.vm = VM()

    def tearDown(self):
        self.vm.kill()

    def test_greeting(self):
        with self.vm.connect(negotiate=False) as q:
            g = q.greeting['QMP']
            self.assertEqual(sorted(g['version']['qemu']), ['major', 'micro', 'minor'])
            self.assertEqual(g['version']['qemu']['major'], 7)
            self.assertIn('kvmpc', g['version']['package'])
            self.assertEqual(g['capabilities'], ['oob'])

    def test_negotiation(self):
        with self.vm.connect(negotiate=False) as q:
            r = q.request('query-status', id=7)
            self.assertEqual(r['error'], {'class': 'CommandNotFound', 'desc':
                             "Expecting capabilities negotiation with 'qmp_capabilities'"})
            self.assertEqual(r['id'], 7)
            r = q.request('no-such-command')
            self.assertEqual(r['error']['class'], 'CommandNotFound')
            r = q.request('qmp_capabilities', {'enable': ['bogus']})
            self.assertEqual(r['error']['desc'], "Parameter 'null' does not accept value 'bogus'")
            self.assertEqual(q.request('qmp_capabilities', id='x'), {'return': {}, 'id': 'x'})
            r = q.request('qmp_capabilities')
            self.assertEqual(r['error'], {'class': 'CommandNotFound', 'desc':
                             'Capabilities negotiation is already complete, command ignored'})

    def test_oob(self):
        with self.vm.connect(negotiate=False) as q:
            q.negotiate(enable=['oob'])
            r = q.request('yank', {'instances': []}, id='o1', oob=True)
            self.assertEqual(r, {'return': {}, 'id': 'o1'})
            r = q.request('yank', {'instances': [{'type': 'chardev', 'id': 'x'}]}, oob=True)
            self.assertEqual(r['error']['class'], 'DeviceNotFound')
            self.assertEqual(q.cmd('query-yank'), [])
            r = q.request('query-status', oob=True)
            self.assertEqual(r['error']['desc'], 'The command query-status does not support OOB')
            r = q.request('query-status', id=3)
            self.assertEqual(r['return']['status'], 'running')
        with self.vm.connect() as q:
            r = q.request('yank', {'instances': []}, oob=True)
            self.assertEqual(r['error']['desc'], "QMP input member 'exec-oob' is unexpected")

    def test_ids(self):
        with self.vm.connect() as q:
            for ident in [1, 'abc', [1, {'x': None}], {'a': 'b'}, None, True, 1.5,
                          -5, 18446744073709551615, 'é€😀']:
                msg = json.dumps({'execute': 'query-name', 'id': ident}) + '\n'
                q.send_raw(msg)
                r = q.recv_response()
                self.assertEqual(r['id'], ident)
                self.assertIn('return', r)

    def test_request_shape_errors(self):
        with self.vm.connect() as q:
            cases = [
                ('[1, 2]', 'QMP input must be a JSON object'),
                ('"str"', 'QMP input must be a JSON object'),
                ('42 ', 'QMP input must be a JSON object'),
                ('{}', "QMP input lacks member 'execute'"),
                ('{"execute": 1}', "QMP input member 'execute' must be a string"),
                ('{"execute": "stop", "arguments": []}',
                 "QMP input member 'arguments' must be an object"),
                ('{"execute": "stop", "foo": 1}', "QMP input member 'foo' is unexpected"),
            ]
            for text, desc in cases:
                q.send_raw(text + '\n')
                r = q.recv_response()
                self.assertEqual(r['error'], {'class': 'GenericError', 'desc': desc}, text)
            self.assertIn('return', q.request('query-status'))

    def test_streaming(self):
        with self.vm.connect() as q:
            # byte by byte
            for b in b'{"execute": "query-status", "id": 1}':
                q.sock.send(bytes([b]))
            self.assertEqual(q.recv_response()['id'], 1)
            # several in one send, with and without whitespace between
            q.send_raw('{"execute":"query-name","id":2}{"execute":"query-uuid","id":3}\n\n '
                       '{"execute":"query-kvm","id":4}')
            self.assertEqual([q.recv_response()['id'] for _ in range(3)], [2, 3, 4])
            # pretty-printed input with tabs and CRLF
            q.send_raw('{\r\n\t"execute" : "query-target",\r\n\t"id" : 5\r\n}\r\n')
            r = q.recv_response()
            self.assertEqual(r, {'return': {'arch': 'x86_64'}, 'id': 5})
            # garbage, then a valid command
            q.send_raw('}')
            self.assertEqual(q.recv_response()['error']['desc'], 'JSON parse error, expecting value')
            q.send_raw('garbage ')
            self.assertEqual(q.recv_response()['error']['desc'],
                             "JSON parse error, invalid keyword 'garbage'")
            q.send_raw('{"execute": "query-status", oops}\n')
            self.assertEqual(q.recv_response()['error']['desc'],
                             "JSON parse error, invalid keyword 'oops'")
            self.assertEqual(q.request('query-status', id=6)['id'], 6)
            # strings with braces, escapes and UTF-8 do not confuse the splitter
            q.send_raw('{"execute": "query-name", "id": "}{\\"\\\\ \\u00e9 ✓ \\ud83d\\ude00"}')
            self.assertEqual(q.recv_response()['id'], '}{"\\ é ✓ 😀')
            # single-quoted strings, as QEMU accepts
            q.send_raw("{'execute': 'query-name', 'id': 'sq'}")
            self.assertEqual(q.recv_response()['id'], 'sq')

    def test_numbers(self):
        with self.vm.connect() as q:
            for val, ok in [(2 ** 63 - 1, True), (-2 ** 63, True), (2 ** 64 - 1, False),
                            (1.5, False), (2 ** 70, False)]:
                r = q.request('pmemsave', {'val': val, 'size': 0,
                                           'filename': self.vm.path('n.bin')})
                if ok:
                    self.assertEqual(r, {'return': {}}, val)
                else:
                    self.assertEqual(r['error']['desc'],
                                     "Invalid parameter type for 'val', expected: integer", val)
            r = q.request('query-name', id=2 ** 64 - 1)
            self.assertEqual(r['id'], 2 ** 64 - 1)
            r = q.request('query-name', id=1e300)
            self.assertEqual(r['id'], 1e300)

    def test_oversized(self):
        with self.vm.connect() as q:
            big = '{"execute": "query-name", "id": "' + 'x' * (11 << 20) + '"}'
            q.sock.settimeout(30)
            q.send_raw(big)
            r = q.recv_response()
            self.assertEqual(r['error']['desc'], 'JSON token size limit exceeded')
            self.assertEqual(q.request('query-status', id='after')['id'], 'after')
            q.send_raw('[' * 2000 + ']' * 2000)
            r = q.recv_response()
            self.assertEqual(r['error']['desc'], 'JSON nesting depth limit exceeded')
            self.assertEqual(q.request('query-status', id='after2')['id'], 'after2')

    def test_pipelined_large_replies(self):
        # 200 query-qmp-schema (MBs of replies) sent before reading any:
        # kvmpc stops reading requests until the client drains its replies.
        with self.vm.connect() as q:
            n = 200
            q.send_raw(''.join(json.dumps({'execute': 'query-qmp-schema', 'id': i}) + '\n'
                               for i in range(n)))
            time.sleep(0.5)
            for i in range(n):
                r = q.recv_response()
                self.assertEqual(r['id'], i)
                self.assertIsInstance(r['return'], list)
            self.assertEqual(q.cmd('query-status')['status'], 'running')

    def test_reconnect(self):
        for i in range(3):
            q = self.vm.connect()
            self.assertEqual(q.cmd('query-status')['status'], 'running')
            q.close()
        # disconnect in the middle of a message and of a command's reply
        q = self.vm.connect()
        q.send_raw('{"execute": "query-st')
        q.close()
        q = self.vm.connect()
        q.send_raw('{"execute": "query-qmp-schema"}\n')
        q.close()
        with self.vm.connect() as q:
            self.assertEqual(q.cmd('query-status')['status'], 'running')

    def test_unknown_command(self):
        with self.vm.connect() as q:
            r = q.request('no-such-command', id=1)
            self.assertEqual(r, {'error': {'class': 'CommandNotFound',
                                           'desc': 'The command no-such-command has not been found'},
                                 'id': 1})


class TestArguments(QMPTestCase):
    def test_argument_errors(self):
        q = self.q
        f = self.vm.path('m.bin')
        cases = [
            ('pmemsave', {'size': 1, 'filename': f}, "Parameter 'val' is missing"),
            ('pmemsave', {'val': 0, 'size': 1, 'filename': f, 'x': 1}, "Parameter 'x' is unexpected"),
            ('pmemsave', {'val': '0', 'size': 1, 'filename': f},
             "Invalid parameter type for 'val', expected: integer"),
            ('pmemsave', {'val': 0, 'size': 1, 'filename': 5},
             "Invalid parameter type for 'filename', expected: string"),
            ('qom-list-types', {'abstract': 'yes'},
             "Invalid parameter type for 'abstract', expected: boolean"),
            ('query-status', {'x': 1}, "Parameter 'x' is unexpected"),
            ('chardev-add', {'id': 'c', 'backend': {'type': 'file', 'data': {}}},
             "Parameter 'backend.data.out' is missing"),
            ('chardev-add', {'id': 'c', 'backend': {'type': 'nope', 'data': {}}},
             "Parameter 'type' does not accept value 'nope'"),
            ('chardev-add', {'id': 'c', 'backend': {'type': 'socket', 'data': {
                'addr': {'type': 'unix', 'data': {'path': 1}}}}},
             "Invalid parameter type for 'backend.data.addr.data.path', expected: string"),
            ('chardev-add', {'id': 'c', 'backend': 5},
             "Invalid parameter type for 'backend', expected: object"),
        ]
        for cmd, args, desc in cases:
            self.assertError(q.request(cmd, args), 'GenericError', desc)


class TestCommands(QMPTestCase):
    def test_query_version(self):
        v = self.q.cmd('query-version')
        self.assertEqual(v, self.q.greeting['QMP']['version'])

    def test_query_commands(self):
        names = {c['name'] for c in self.q.cmd('query-commands')}
        for n in ['qmp_capabilities', 'query-status', 'qom-list', 'chardev-add', 'getfd',
                  'human-monitor-command', 'quit']:
            self.assertIn(n, names)

    def test_query_qmp_schema(self):
        schema = self.q.cmd('query-qmp-schema')
        by_name = {e['name']: e for e in schema}
        metas = {e['meta-type'] for e in schema}
        self.assertTrue({'command', 'event', 'object', 'enum', 'array', 'builtin'} <= metas)
        cmd_names = {c['name'] for c in self.q.cmd('query-commands')}
        self.assertEqual({e['name'] for e in schema if e['meta-type'] == 'command'}, cmd_names)
        for ev in ['STOP', 'RESUME', 'SHUTDOWN', 'POWERDOWN', 'RESET']:
            self.assertEqual(by_name[ev]['meta-type'], 'event')
        # every referenced type exists
        for e in schema:
            refs = []
            if e['meta-type'] in ('command', 'event'):
                refs.append(e['arg-type'])
                if 'ret-type' in e:
                    refs.append(e['ret-type'])
            elif e['meta-type'] == 'object':
                refs += [m['type'] for m in e['members']]
                refs += [v['type'] for v in e.get('variants', [])]
            elif e['meta-type'] == 'array':
                refs.append(e['element-type'])
            elif e['meta-type'] == 'alternate':
                refs += [m['type'] for m in e['members']]
            for r in refs:
                self.assertIn(r, by_name, (e, r))
        st = by_name[by_name['query-status']['ret-type']]
        self.assertEqual([m['name'] for m in st['members']], ['running', 'singlestep', 'status'])
        self.assertTrue(by_name['yank'].get('allow-oob'))
        self.assertNotIn('allow-oob', by_name['query-status'])
        # masked names: non-builtin types are numbers
        self.assertTrue(st['name'].isdigit())
        # query-qmp-schema's own return value conforms to its declared type
        validate(self, schema, by_name, schema, by_name['query-qmp-schema']['ret-type'])
        self.schema = (schema, by_name)

    def test_returns_conform_to_schema(self):
        schema = self.q.cmd('query-qmp-schema')
        by_name = {e['name']: e for e in schema}
        for cmd in ['query-version', 'query-commands', 'query-status', 'query-name',
                    'query-uuid', 'query-kvm', 'query-target', 'query-machines',
                    'query-cpus-fast', 'query-hotpluggable-cpus', 'query-chardev',
                    'query-command-line-options', 'query-memory-size-summary',
                    'qom-list-types']:
            validate(self, self.q.cmd(cmd), by_name, schema, by_name[cmd]['ret-type'], cmd)
        validate(self, self.q.cmd('qom-list', path='/machine'), by_name, schema,
                 by_name['qom-list']['ret-type'])
        validate(self, self.q.cmd('device-list-properties', typename='isa-serial'), by_name,
                 schema, by_name['device-list-properties']['ret-type'])

    def test_status_stop_cont_events(self):
        q = self.q
        self.assertEqual(q.cmd('query-status'),
                         {'running': True, 'singlestep': False, 'status': 'running'})
        self.assertEqual(q.cmd('stop'), {})
        ev = q.wait_event('STOP')
        self.assertNotIn('data', ev)
        self.assertEqual(sorted(ev['timestamp']), ['microseconds', 'seconds'])
        self.assertLess(abs(ev['timestamp']['seconds'] - time.time()), 60)
        self.assertEqual(q.cmd('query-status')['status'], 'paused')
        self.assertEqual(q.cmd('cont'), {})
        q.wait_event('RESUME')
        self.assertEqual(q.cmd('query-status')['status'], 'running')

    def test_reset_powerdown_wakeup_nmi(self):
        q = self.q
        q.cmd('system_reset')
        ev = q.wait_event('RESET')
        self.assertEqual(ev['data'], {'guest': False, 'reason': 'host-qmp-system-reset'})
        q.cmd('system_powerdown')
        q.wait_event('POWERDOWN')
        self.assertError(q.request('system_wakeup'), 'GenericError',
                         'Unable to wake up: guest is not in suspended state')
        self.assertEqual(q.cmd('inject-nmi'), {})

    def test_quit(self):
        self.assertEqual(self.q.cmd('quit'), {})
        ev = self.q.wait_event('SHUTDOWN')
        self.assertEqual(ev['data'], {'guest': False, 'reason': 'host-qmp-quit'})
        self.assertEqual(self.vm.wait(), 0)

    def test_sigterm_shutdown_event(self):
        self.vm.proc.terminate()
        ev = self.q.wait_event('SHUTDOWN')
        self.assertEqual(ev['data'], {'guest': False, 'reason': 'host-signal'})
        self.vm.wait()

    def test_machine_queries(self):
        q = self.q
        self.assertEqual(q.cmd('query-name'), {})
        # without -uuid, QEMU reports the all-zero UUID
        self.assertEqual(q.cmd('query-uuid'), {'UUID': '00000000-0000-0000-0000-000000000000'})
        kvm = q.cmd('query-kvm')
        self.assertEqual(kvm['enabled'], False)
        self.assertIn('present', kvm)
        self.assertEqual(q.cmd('query-target'), {'arch': 'x86_64'})
        machines = q.cmd('query-machines')
        self.assertTrue(any(m.get('is-default') for m in machines))
        self.assertTrue(any(m['name'] == 'pc' or m.get('alias') == 'pc' for m in machines))
        self.assertIsInstance(q.cmd('query-cpus-fast'), list)
        self.assertIsInstance(q.cmd('query-hotpluggable-cpus'), list)
        mem = q.cmd('query-memory-size-summary')
        self.assertEqual(mem['base-memory'], 128 << 20)
        opts = q.cmd('query-command-line-options')
        self.assertIn('chardev', [o['option'] for o in opts])
        one = q.cmd('query-command-line-options', option='mon')
        self.assertEqual([o['option'] for o in one], ['mon'])
        self.assertError(q.request('query-command-line-options', {'option': 'bogus'}),
                         'GenericError', 'invalid option name: bogus')

    def test_qom(self):
        q = self.q
        root = {p['name']: p['type'] for p in q.cmd('qom-list', path='/')}
        self.assertIn('machine', root)
        machine = {p['name']: p['type'] for p in q.cmd('qom-list', path='/machine')}
        self.assertIn('type', machine)
        self.assertTrue(machine['type'] == 'string')
        self.assertTrue(q.cmd('qom-get', path='/machine', property='type').endswith('-machine'))
        # find a device and read its properties
        devs = [n for n, t in machine.items() if t.startswith('child<') and t != 'child<container>']
        self.assertTrue(devs, machine)
        path = '/machine/' + devs[0]
        props = {p['name']: p['type'] for p in q.cmd('qom-list', path=path)}
        self.assertEqual(q.cmd('qom-get', path=path, property='type'),
                         machine[devs[0]][6:-1])
        self.assertEqual(q.cmd('qom-get', path=path, property='realized'), True)
        self.assertIn('realized', props)
        self.assertError(q.request('qom-list', {'path': '/nope'}), 'DeviceNotFound',
                         "Device '/nope' not found")
        r = q.request('qom-get', {'path': path, 'property': 'nope'})
        self.assertEqual(r['error']['class'], 'GenericError')
        self.assertRegex(r['error']['desc'], r"^Property '[^']+\.nope' not found$")
        types = [t['name'] for t in q.cmd('qom-list-types')]
        self.assertIn('isa-serial', types)
        self.assertNotIn('device', types)
        abstract = [t['name'] for t in q.cmd('qom-list-types', abstract=True, implements='device')]
        self.assertIn('device', abstract)
        self.assertIn('isa-serial', abstract)
        self.assertNotIn('container', abstract)
        props = {p['name']: p for p in q.cmd('device-list-properties', typename='isa-serial')}
        self.assertIn('chardev', props)
        self.assertError(q.request('device-list-properties', {'typename': 'nope'}),
                         'DeviceNotFound', "Device 'nope' not found")

    def test_memsave_pmemsave(self):
        q = self.q
        f = self.vm.path('p.bin')
        self.assertEqual(q.cmd('pmemsave', val=0x1000, size=4096, filename=f), {})
        self.assertEqual(os.path.getsize(f), 4096)
        r = q.request('pmemsave', {'val': 0, 'size': 1, 'filename': '/nonexistent/dir/x'})
        self.assertTrue(r['error']['desc'].startswith("Could not open '/nonexistent/dir/x'"))
        # qtest's vCPU never ran: paging is off, so virtual == physical
        f2 = self.vm.path('v.bin')
        self.assertEqual(q.cmd('memsave', val=0x1000, size=4096, filename=f2), {})
        with open(f, 'rb') as a, open(f2, 'rb') as b:
            self.assertEqual(a.read(), b.read())
        r = q.request('memsave', {'val': 0, 'size': 16, 'filename': f, 'cpu-index': 99})
        self.assertEqual(r['error']['desc'], "Parameter 'cpu-index' expects a CPU number")

    def test_chardev_add_remove(self):
        q = self.q
        f = self.vm.path('chr.log')
        self.assertEqual(q.cmd('chardev-add', id='f0', backend={'type': 'file', 'data': {'out': f}}), {})
        self.assertTrue(os.path.exists(f))
        sock = self.vm.path('c.sock')
        self.assertEqual(q.cmd('chardev-add', id='s0', backend={'type': 'socket', 'data': {
            'addr': {'type': 'unix', 'data': {'path': sock}}, 'server': True, 'wait': False}}), {})
        r = q.cmd('chardev-add', id='p0', backend={'type': 'pty', 'data': {}})
        self.assertTrue(r['pty'].startswith('/dev/pts/'), r)
        info = {c['label']: c for c in q.cmd('query-chardev')}
        self.assertIn('f0', info)
        self.assertIn('unix:' + sock, info['s0']['filename'])
        self.assertTrue(info['p0']['filename'].startswith('pty:'))
        self.assertIn('frontend-open', info['f0'])
        self.assertError(q.request('chardev-add', {'id': 'f0', 'backend': {
            'type': 'null', 'data': {}}}), 'GenericError', None)
        for c in ('f0', 's0', 'p0'):
            self.assertEqual(q.cmd('chardev-remove', id=c), {})
        self.assertError(q.request('chardev-remove', {'id': 'f0'}), 'GenericError',
                         "Chardev 'f0' not found")
        self.assertNotIn('f0', [c['label'] for c in q.cmd('query-chardev')])
        self.assertFalse(os.path.exists(sock))

    def test_getfd_closefd(self):
        q = self.q
        r = q.request('getfd', {'fdname': 'x'})
        self.assertError(r, 'GenericError', 'No file descriptor supplied via SCM_RIGHTS')
        rd, wr = os.pipe()
        try:
            r = q.request('getfd', {'fdname': 'myfd'}, fds=[wr])
            self.assertEqual(r, {'return': {}})
            r = q.request('getfd', {'fdname': '1abc'}, fds=[wr])
            self.assertError(r, 'GenericError',
                             "Parameter 'fdname' expects a name not starting with a digit")
        finally:
            os.close(wr)
        self.assertEqual(q.cmd('closefd', fdname='myfd'), {})
        # every copy of the write end is closed now: the pipe reads EOF
        self.assertEqual(os.read(rd, 1), b'')
        os.close(rd)
        self.assertError(q.request('closefd', {'fdname': 'myfd'}), 'GenericError',
                         "File descriptor named 'myfd' not found")

    def test_hmp(self):
        q = self.q
        self.assertEqual(q.hmp('info status'), 'VM status: running\r\n')
        q.hmp('stop')
        q.wait_event('STOP')
        self.assertEqual(q.hmp('info status'), 'VM status: paused\r\n')
        q.hmp('cont')
        q.wait_event('RESUME')
        self.assertIn('7.2.0', q.hmp('info version'))
        self.assertEqual(q.hmp('info kvm'), 'kvm support: disabled\r\n')
        self.assertIn('bus: main-system-bus', q.hmp('info qtree'))
        # qtest has no in-kernel irqchip: CPU 0 has a userspace LAPIC, in virtual wire
        lapic = q.hmp('info lapic')
        self.assertIn('CPU#0 LAPIC id 0x0 base 0x00000000fee00900 xAPIC', lapic)
        self.assertIn('LVT0\t0x00000700', lapic)
        pic = q.hmp('info pic')
        self.assertIn('pic0: irr=00 imr=00 isr=00', pic)
        self.assertIn('pic1: ', pic)
        self.assertIn('ioapic0: ver=0x20 id=0x00', pic)
        mtree = q.hmp('info mtree')
        self.assertIn('address-space: memory', mtree)
        self.assertIn('pc.ram', mtree)
        self.assertIn('query-status', q.hmp('info commands'))
        self.assertIn('info', q.hmp('help'))
        self.assertIn('status', q.hmp('help info'))
        self.assertEqual(q.hmp('nosuchcmd'), "unknown command: 'nosuchcmd'\r\n")
        self.assertEqual(q.hmp('p 0x10+2*3'), '0x16\r\n')
        self.assertEqual(q.hmp('p (1+2)*3'), '0x9\r\n')
        self.assertEqual(q.hmp('p 1 ! 2'), "invalid char '!' in expression\r\n")
        self.assertEqual(q.hmp('p/d 100'), '100\r\n')
        # physical memory: write via pmemsave-known zeroes, dump with xp
        out = q.hmp('xp /4xw 0x2000')
        self.assertRegex(out, r'^0000000000002000: 0x[0-9a-f]{8} 0x[0-9a-f]{8} 0x[0-9a-f]{8} '
                              r'0x[0-9a-f]{8}\r\n$')
        self.assertEqual(len(q.hmp('xp /20xb 0').splitlines()), 2)
        # QEMU's label for the -qmp chardev, then its filename
        self.assertRegex(q.hmp('info chardev'),
                         r'(?m)^compat_monitor0: filename=unix:%s' % re.escape(self.vm.sock))
        f = self.vm.path('hmp.bin')
        self.assertEqual(q.hmp('pmemsave 0 256 %s' % f), '')
        self.assertEqual(os.path.getsize(f), 256)
        tid = q.cmd('query-cpus-fast')[0]['thread-id']
        self.assertEqual(q.hmp('info cpus'), '* CPU #0: thread_id=%d\r\n' % tid)
        q.hmp('system_reset')
        self.assertEqual(q.wait_event('RESET')['data']['reason'], 'host-qmp-system-reset')
        r = q.request('human-monitor-command', {'command-line': 'info status', 'cpu-index': 5})
        self.assertError(r, 'GenericError', "Parameter 'cpu-index' expects a CPU number")
        q.hmp('quit')
        self.assertEqual(self.vm.wait(), 0)


def validate(tc, value, by_name, schema, tname, where=''):
    """Checks value against SchemaInfo type tname (as a client would)."""
    t = by_name[tname]
    mt = t['meta-type']
    if mt == 'builtin':
        jt = t['json-type']
        ok = {'string': lambda v: isinstance(v, str),
              'int': lambda v: isinstance(v, int) and not isinstance(v, bool),
              'number': lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
              'boolean': lambda v: isinstance(v, bool),
              'null': lambda v: v is None,
              'value': lambda v: True}[jt](value)
        tc.assertTrue(ok, '%s: %r is not %s' % (where, value, jt))
    elif mt == 'enum':
        tc.assertIn(value, t['values'], where)
    elif mt == 'array':
        tc.assertIsInstance(value, list, where)
        for i, v in enumerate(value):
            validate(tc, v, by_name, schema, t['element-type'], '%s[%d]' % (where, i))
    elif mt == 'alternate':
        pass
    elif mt == 'object':
        tc.assertIsInstance(value, dict, where)
        members = list(t['members'])
        if 'tag' in t:
            for var in t['variants']:
                if var['case'] == value.get(t['tag']):
                    members += by_name[var['type']]['members']
        names = set()
        for m in members:
            names.add(m['name'])
            if m['name'] in value:
                validate(tc, value[m['name']], by_name, schema, m['type'],
                         '%s.%s' % (where, m['name']))
            else:
                tc.assertIn('default', m, '%s: missing %s' % (where, m['name']))
        for k in value:
            tc.assertIn(k, names, '%s: unexpected member %s' % (where, k))


class TestPowerButton(unittest.TestCase):
    def test_powerdown_reaches_acpi(self):
        """system_powerdown sets PWRBTN_STS in PM1a_STS (port 0x600) once the
        guest enabled PWRBTN_EN (0x602 bit 8), checked over qtest."""
        d = tempfile.mkdtemp(prefix='kvmpc-pwr-')
        self.addCleanup(shutil.rmtree, d, True)
        qt = os.path.join(d, 'qtest.sock')
        vm = VM('-qtest', 'unix:%s,server=on,wait=off' % qt)
        try:
            q = vm.connect()
            t = socket.socket(socket.AF_UNIX)
            t.connect(qt)
            t.settimeout(5)

            def qtest(line):
                t.sendall(line.encode() + b'\n')
                return read_until(t, b'\n').decode().strip()
            self.assertEqual(qtest('outw 0x602 0x100'), 'OK')
            self.assertEqual(int(qtest('inw 0x600').split()[1], 16) & 0x100, 0)
            q.cmd('system_powerdown')
            q.wait_event('POWERDOWN')
            self.assertEqual(int(qtest('inw 0x600').split()[1], 16) & 0x100, 0x100)
            t.close()
            q.close()
        finally:
            vm.kill()


class TestTransports(unittest.TestCase):
    def test_two_monitors_and_pretty(self):
        d = tempfile.mkdtemp(prefix='kvmpc-qmp2-')
        self.addCleanup(shutil.rmtree, d, True)
        s2 = os.path.join(d, 'b.sock')
        vm = VM('-chardev', 'socket,id=mon1,path=%s,server=on,wait=off' % s2,
                '-mon', 'chardev=mon1,mode=control,pretty=on')
        try:
            a = vm.connect()
            b = QMPClient.unix(s2)
            self.assertIn('QMP', b.greeting)
            b.negotiate()
            b.send_raw('{"execute": "query-status"}')
            text = read_until(b.sock, b'\n}\r\n').decode()
            self.assertEqual(text, '{\r\n    "return": {\r\n        "running": true,\r\n'
                                   '        "singlestep": false,\r\n        "status": "running"'
                                   '\r\n    }\r\n}\r\n')
            a.cmd('stop')
            a.wait_event('STOP')
            b.wait_event('STOP')
            self.assertEqual(b.cmd('query-status')['status'], 'paused')
            a.close()
            b.close()
        finally:
            vm.kill()

    def test_tcp(self):
        s = socket.socket()
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
        s.close()
        vm = VM('-qmp', 'tcp:127.0.0.1:%d,server=on,wait=off' % port, qmp=False)
        try:
            q = QMPClient.tcp('127.0.0.1', port)
            q.negotiate()
            self.assertEqual(q.cmd('query-status')['status'], 'running')
            q.close()
            q = QMPClient.tcp('127.0.0.1', port)
            q.negotiate()
            q.close()
        finally:
            vm.kill()

    def test_hmp_readline_socket(self):
        d = tempfile.mkdtemp(prefix='kvmpc-hmp-')
        self.addCleanup(shutil.rmtree, d, True)
        path = os.path.join(d, 'hmp.sock')
        vm = VM('-monitor', 'unix:%s,server=on,wait=off' % path, '-S')
        try:
            s = socket.socket(socket.AF_UNIX)
            for _ in range(100):
                try:
                    s.connect(path)
                    break
                except OSError:
                    time.sleep(0.05)
            s.settimeout(5)
            out = read_until(s, b'(qemu) ')
            self.assertIn(b'QEMU 7.2.0 monitor - type \'help\' for more information', out)
            s.sendall(b'info status\r\n')
            out = read_until(s, b'(qemu) ')
            self.assertIn(b'VM status: paused (prelaunch)\r\n', out)
            # history: up-arrow repeats the last command
            s.sendall(b'\x1b[A\r')
            out = read_until(s, b'(qemu) ')
            self.assertIn(b'VM status: paused (prelaunch)', out)
            # editing: type "info statux", backspace, "s"
            s.sendall(b'info statux\x7fs\r')
            out = read_until(s, b'(qemu) ')
            self.assertIn(b'VM status', out)
            # tab completion: "info sta<Tab>" becomes "info status "
            s.sendall(b'info sta\t\r')
            self.assertIn(b'VM status: paused (prelaunch)', read_until(s, b'(qemu) '))
            s.sendall(b'cont\n')
            read_until(s, b'(qemu) ')
            s.sendall(b'info status\n')
            self.assertIn(b'VM status: running', read_until(s, b'(qemu) '))
            s.sendall(b'quit\n')
            self.assertEqual(vm.wait(), 0)
            s.close()
        finally:
            vm.kill()

    def test_mon_stdio_mux(self):
        vm = VM('-serial', 'mon:stdio', '-S', qmp=False, stdin=subprocess.PIPE)
        try:
            vm.proc.stdin.write(b'\x01h')
            vm.proc.stdin.flush()
            vm.proc.stdin.write(b'\x01c')
            vm.proc.stdin.flush()
            time.sleep(0.3)
            vm.proc.stdin.write(b'info status\r')
            vm.proc.stdin.flush()
            time.sleep(0.3)
            vm.proc.stdin.write(b'\x01x')
            vm.proc.stdin.flush()
            self.assertEqual(vm.wait(), 0)
            out = vm.proc.stdout.read()
            self.assertIn(b'C-a c    switch between console and monitor', out)
            self.assertIn(b'(qemu) ', out)
            self.assertIn(b'VM status: paused (prelaunch)', out)
            self.assertIn(b'QEMU: Terminated', out)
        finally:
            vm.kill()


def read_until(s, marker, timeout=5):
    data = b''
    deadline = time.time() + timeout
    while not data.endswith(marker):
        if time.time() > deadline:
            raise TimeoutError(data)
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


if __name__ == '__main__':
    KVMPC = find_kvmpc()
    if not os.access(KVMPC, os.X_OK):
        sys.exit('kvmpc not found: %s (pass it as argument or KVMPC=)' % KVMPC)
    unittest.main(verbosity=2)
