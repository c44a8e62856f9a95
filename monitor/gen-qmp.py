#!/usr/bin/env python3
"""Generate QMP marshalling, dispatch and introspection from the schema.

usage: gen-qmp.py SCHEMA OUT.c OUT.h

From monitor/qapi-schema.json this writes:
  OUT.h  one argument struct per command (QmpArgs_NAME), the handler
         prototypes (JsonNode *qmp_NAME(Monitor *, const QmpArgs_NAME *,
         Error **)) and the event names;
  OUT.c  a type descriptor per schema type (checked generically by
         monitor/qmp-dispatch.c), the command table with one marshal
         function per command, and the query-qmp-schema answer in QEMU's
         SchemaInfo format, with non-builtin type names masked as numbers
         as QEMU does.
"""
import json
import sys

BUILTINS = {
    # name: (C kind, SchemaInfo json-type, C field type, getter)
    'str': ('QK_STR', 'string', 'const char *', 'qmp_arg_str'),
    'int': ('QK_INT', 'int', 'int64_t', 'qmp_arg_int'),
    'int8': ('QK_INT8', 'int', 'int64_t', 'qmp_arg_int'),
    'int16': ('QK_INT16', 'int', 'int64_t', 'qmp_arg_int'),
    'int32': ('QK_INT32', 'int', 'int64_t', 'qmp_arg_int'),
    'int64': ('QK_INT64', 'int', 'int64_t', 'qmp_arg_int'),
    'uint8': ('QK_UINT8', 'int', 'uint64_t', 'qmp_arg_uint'),
    'uint16': ('QK_UINT16', 'int', 'uint64_t', 'qmp_arg_uint'),
    'uint32': ('QK_UINT32', 'int', 'uint64_t', 'qmp_arg_uint'),
    'uint64': ('QK_UINT64', 'int', 'uint64_t', 'qmp_arg_uint'),
    'size': ('QK_SIZE', 'int', 'uint64_t', 'qmp_arg_uint'),
    'number': ('QK_NUMBER', 'number', 'double', 'qmp_arg_number'),
    'bool': ('QK_BOOL', 'boolean', 'bool', 'qmp_arg_bool'),
    'any': ('QK_ANY', 'value', 'JsonNode *', 'qmp_arg_node'),
    'null': ('QK_NULL', 'null', 'JsonNode *', 'qmp_arg_node'),
}


def die(msg):
    sys.stderr.write('gen-qmp.py: %s\n' % msg)
    sys.exit(1)


C_KEYWORDS = {'restrict', 'default', 'int', 'char', 'static', 'inline', 'register'}


def c_name(name):
    n = name.replace('-', '_').replace('.', '_')
    return 'q_' + n if n in C_KEYWORDS else n   # QAPI's own rule for C keywords


def type_key(t):
    """Schema type reference (str or [str]) -> canonical name ('[int]')."""
    if isinstance(t, list):
        if len(t) != 1:
            die('array type must have one element: %r' % (t,))
        return '[%s]' % type_key(t[0])
    return t


class Schema:
    def __init__(self, entries):
        self.types = {}         # name -> entry dict (enum/struct/union/alternate)
        self.commands = []
        self.events = []
        self.implicit = 0
        for e in entries:
            if isinstance(e, str):
                continue
            for kind in ('enum', 'struct', 'union', 'alternate'):
                if kind in e:
                    if e[kind] in self.types or e[kind] in BUILTINS:
                        die('type %s defined twice' % e[kind])
                    self.types[e[kind]] = dict(e, kind=kind, name=e[kind])
            if 'command' in e:
                self.commands.append(e)
            if 'event' in e:
                self.events.append(e)
        for e in self.commands + self.events:
            if isinstance(e.get('data'), dict):
                e['arg-type'] = self.implicit_struct(
                    'q_obj_%s-arg' % (e.get('command') or e.get('event')), e['data'])
        for t in list(self.types.values()):
            if t['kind'] == 'union' and isinstance(t.get('base'), dict):
                t['base'] = self.implicit_struct('q_obj_%s-base' % t['name'], t['base'])
        self.check()

    def implicit_struct(self, name, data):
        self.types[name] = {'kind': 'struct', 'name': name, 'data': data, 'implicit': True}
        return name

    def lookup(self, ref):
        ref = type_key(ref)
        if ref.startswith('['):
            self.lookup(ref[1:-1])
            return ref
        if ref not in BUILTINS and ref not in self.types:
            die('unknown type %s' % ref)
        return ref

    def members(self, tname):
        """All members of struct/union tname (base first): [(name, typeref, optional)]."""
        t = self.types[tname]
        out = []
        if t.get('base'):
            out += self.members(t['base'])
        for k, v in t.get('data', {}).items() if t['kind'] == 'struct' else []:
            opt = k.startswith('*')
            out.append((k.lstrip('*'), type_key(v), opt))
        return out

    def check(self):
        for t in self.types.values():
            if t['kind'] == 'struct':
                for _, ref, _ in self.members(t['name']):
                    self.lookup(ref)
            elif t['kind'] == 'union':
                tags = [m for m in self.members(t['base']) if m[0] == t['discriminator']]
                if not tags or self.types.get(tags[0][1], {}).get('kind') != 'enum':
                    die('union %s: discriminator must be an enum member of the base' % t['name'])
                values = self.types[tags[0][1]]['data']
                for case, ref in t['data'].items():
                    if case not in values:
                        die('union %s: %s is not a value of %s' % (t['name'], case, tags[0][1]))
                    self.lookup(ref)
            elif t['kind'] == 'alternate':
                for ref in t['data'].values():
                    self.lookup(ref)
        for c in self.commands:
            if 'returns' in c:
                self.lookup(c['returns'])


def collect_used(s):
    """Types reachable from commands and events, in first-use order."""
    order = []
    seen = set()

    def visit(ref):
        ref = type_key(ref)
        if ref in seen:
            return
        seen.add(ref)
        order.append(ref)
        if ref.startswith('['):
            visit(ref[1:-1])
            return
        if ref in BUILTINS:
            return
        t = s.types[ref]
        if t['kind'] == 'struct':
            for _, r, _ in s.members(ref):
                visit(r)
        elif t['kind'] == 'union':
            visit(t['base'])
            for r in t['data'].values():
                visit(r)
        elif t['kind'] == 'alternate':
            for r in t['data'].values():
                visit(r)

    for c in s.commands:
        visit(c.get('arg-type', 'q_empty'))
        visit(c.get('returns', 'q_empty'))
    for e in s.events:
        visit(e.get('arg-type', 'q_empty'))
    return order


def introspection(s):
    s.types['q_empty'] = {'kind': 'struct', 'name': 'q_empty', 'data': {}, 'implicit': True}
    used = collect_used(s)
    masks = {}

    def mask(ref):
        if ref.startswith('['):
            return '[%s]' % mask(ref[1:-1])
        if ref in BUILTINS:
            return ref
        if ref not in masks:
            masks[ref] = str(len(masks))
        return masks[ref]

    out = []
    for c in s.commands:
        info = {'name': c['command'], 'meta-type': 'command',
                'arg-type': mask(c.get('arg-type', 'q_empty')),
                'ret-type': mask(type_key(c.get('returns', 'q_empty')))}
        if c.get('allow-oob'):
            info['allow-oob'] = True
        out.append(info)
    for e in s.events:
        out.append({'name': e['event'], 'meta-type': 'event',
                    'arg-type': mask(e.get('arg-type', 'q_empty'))})
    for ref in used:
        if ref.startswith('['):
            out.append({'name': mask(ref), 'meta-type': 'array',
                        'element-type': mask(ref[1:-1])})
            continue
        if ref in BUILTINS:
            out.append({'name': ref, 'meta-type': 'builtin', 'json-type': BUILTINS[ref][1]})
            continue
        t = s.types[ref]
        if t['kind'] == 'enum':
            out.append({'name': mask(ref), 'meta-type': 'enum',
                        'members': [{'name': v} for v in t['data']],
                        'values': list(t['data'])})
        elif t['kind'] == 'alternate':
            out.append({'name': mask(ref), 'meta-type': 'alternate',
                        'members': [{'type': mask(type_key(r))} for r in t['data'].values()]})
        else:
            members = []
            for name, r, opt in s.members(t['base'] if t['kind'] == 'union' else ref):
                m = {'name': name, 'type': mask(r)}
                if opt:
                    m['default'] = None
                members.append(m)
            info = {'name': mask(ref), 'meta-type': 'object', 'members': members}
            if t['kind'] == 'union':
                info['tag'] = t['discriminator']
                info['variants'] = [{'case': k, 'type': mask(type_key(v))}
                                    for k, v in t['data'].items()]
            out.append(info)
    return out


def c_type_ref(ref):
    if ref.startswith('['):
        return 'qmp_type_arr_' + c_name(ref[1:-1]).replace('[', '').replace(']', '_arr')
    return 'qmp_type_' + c_name(ref)


def c_string(text):
    return json.dumps(text)


def gen_c(s, schema_json):
    out = ['/* Generated by monitor/gen-qmp.py from monitor/qapi-schema.json: do not edit. */',
           '#include "monitor/qmp-internal.h"', '#include "monitor/qmp-gen.h"', '']
    refs = set()
    for t in s.types:
        refs.add(t)
    for b in BUILTINS:
        refs.add(b)
    arrays = set()

    def note_arrays(ref):
        if ref.startswith('['):
            arrays.add(ref)
            note_arrays(ref[1:-1])
    for t in s.types.values():
        if t['kind'] == 'struct':
            for _, r, _ in s.members(t['name']):
                note_arrays(r)
        elif t['kind'] in ('union', 'alternate'):
            for r in t['data'].values():
                note_arrays(type_key(r))
    for c in s.commands:
        if 'returns' in c:
            note_arrays(type_key(c['returns']))
    all_refs = sorted(refs) + sorted(arrays)
    for r in all_refs:
        out.append('extern const QmpType %s;' % c_type_ref(r))
    out.append('')
    for b, (kind, _, _, _) in sorted(BUILTINS.items()):
        out.append('const QmpType %s = { .name = "%s", .kind = %s };' % (c_type_ref(b), b, kind))
    for a in sorted(arrays):
        out.append('const QmpType %s = { .name = "%s", .kind = QK_ARRAY, .element = &%s };'
                   % (c_type_ref(a), a, c_type_ref(a[1:-1])))
    for name, t in sorted(s.types.items()):
        cn = c_type_ref(name)
        if t['kind'] == 'enum':
            out.append('static const char *const %s_values[] = { %s, NULL };'
                       % (cn, ', '.join(c_string(v) for v in t['data'])))
            out.append('const QmpType %s = { .name = "%s", .kind = QK_ENUM, .values = %s_values };'
                       % (cn, name, cn))
        elif t['kind'] in ('struct', 'union'):
            mem = s.members(t['base'] if t['kind'] == 'union' else name)
            out.append('static const QmpMember %s_members[] = {' % cn)
            for mname, r, opt in mem:
                out.append('    { "%s", &%s, %s },' % (mname, c_type_ref(r), 'true' if opt else 'false'))
            out.append('    { NULL },')
            out.append('};')
            extra = ''
            if t['kind'] == 'union':
                out.append('static const QmpVariant %s_variants[] = {' % cn)
                for case, r in t['data'].items():
                    out.append('    { "%s", &%s },' % (case, c_type_ref(type_key(r))))
                out.append('    { NULL },')
                out.append('};')
                extra = ', .tag = "%s", .variants = %s_variants' % (t['discriminator'], cn)
            out.append('const QmpType %s = { .name = "%s", .kind = QK_OBJECT, .members = %s_members%s };'
                       % (cn, name, cn, extra))
        elif t['kind'] == 'alternate':
            out.append('static const QmpMember %s_members[] = {' % cn)
            for mname, r in t['data'].items():
                out.append('    { "%s", &%s, false },' % (mname, c_type_ref(type_key(r))))
            out.append('    { NULL },')
            out.append('};')
            out.append('const QmpType %s = { .name = "%s", .kind = QK_ALTERNATE, .members = %s_members };'
                       % (cn, name, cn))
    out.append('')

    for c in s.commands:
        cn = c_name(c['command'])
        out.append('static JsonNode *qmp_marshal_%s(Monitor *mon, JsonObject *args, Error **errp)' % cn)
        out.append('{')
        out.append('    QmpArgs_%s a = { 0 };' % cn)
        out.append('')
        if 'arg-type' in c:
            for mname, r, opt in s.members(c['arg-type']):
                field = c_name(mname)
                getter = BUILTINS[r][3] if r in BUILTINS else (
                    'qmp_arg_enum' if s.types.get(r, {}).get('kind') == 'enum' else 'qmp_arg_node')
                extra = ', &%s' % c_type_ref(r) if getter == 'qmp_arg_enum' else ''
                if opt:
                    out.append('    a.has_%s = json_object_has_member(args, "%s");' % (field, mname))
                    out.append('    if (a.has_%s) {' % field)
                    out.append('        a.%s = %s(args, "%s"%s);' % (field, getter, mname, extra))
                    out.append('    }')
                else:
                    out.append('    a.%s = %s(args, "%s"%s);' % (field, getter, mname, extra))
        else:
            out.append('    (void)args;')
        out.append('    return qmp_%s(mon, &a, errp);' % cn)
        out.append('}')
        out.append('')

    out.append('const QmpCommand qmp_commands[] = {')
    for c in s.commands:
        cn = c_name(c['command'])
        arg = c_type_ref(c['arg-type']) if 'arg-type' in c else 'qmp_type_q_empty'
        ret = '&' + c_type_ref(type_key(c['returns'])) if 'returns' in c else 'NULL'
        out.append('    { "%s", qmp_marshal_%s, &%s, %s, %s },'
                   % (c['command'], cn, arg, ret, 'true' if c.get('allow-oob') else 'false'))
    out.append('    { NULL },')
    out.append('};')
    out.append('')
    out.append('const QmpEventDesc qmp_events[] = {')
    for e in s.events:
        arg = c_type_ref(e['arg-type']) if 'arg-type' in e else 'qmp_type_q_empty'
        out.append('    { "%s", &%s },' % (e['event'], arg))
    out.append('    { NULL },')
    out.append('};')
    out.append('')
    text = json.dumps(schema_json, separators=(',', ':'))
    out.append('const char qmp_schema_json[] =')
    for i in range(0, len(text), 100):
        out.append('    %s' % c_string(text[i:i + 100]))
    out.append(';')
    return '\n'.join(out) + '\n'


def c_field_type(s, ref):
    if ref in BUILTINS:
        return BUILTINS[ref][2]
    if s.types.get(ref, {}).get('kind') == 'enum':
        return 'int'
    return 'JsonNode *'


def gen_h(s):
    out = ['/* Generated by monitor/gen-qmp.py from monitor/qapi-schema.json: do not edit. */',
           '#ifndef KVMPC_QMP_GEN_H', '#define KVMPC_QMP_GEN_H', '',
           '#include "monitor/qmp-internal.h"', '']
    for name, t in sorted(s.types.items()):
        if t['kind'] == 'enum':
            for i, v in enumerate(t['data']):
                out.append('#define %s_%s %d' % (c_name(name).upper(), c_name(v).upper(), i))
            out.append('#define %s__MAX %d' % (c_name(name).upper(), len(t['data'])))
            out.append('extern const QmpType qmp_type_%s;' % c_name(name))
    out.append('')
    for c in s.commands:
        cn = c_name(c['command'])
        out.append('/* %s */' % c['command'])
        out.append('typedef struct QmpArgs_%s {' % cn)
        members = s.members(c['arg-type']) if 'arg-type' in c else []
        if not members:
            out.append('    char unused_;')
        for mname, r, opt in members:
            if opt:
                out.append('    bool has_%s;' % c_name(mname))
            out.append('    %s%s%s;' % (c_field_type(s, r),
                                      '' if c_field_type(s, r).endswith('*') else ' ',
                                      c_name(mname)))
        out.append('} QmpArgs_%s;' % cn)
        out.append('JsonNode *qmp_%s(Monitor *mon, const QmpArgs_%s *args, Error **errp);' % (cn, cn))
        out.append('')
    out.append('#endif')
    return '\n'.join(out) + '\n'


def main():
    if len(sys.argv) != 4:
        die('usage: gen-qmp.py SCHEMA OUT.c OUT.h')
    with open(sys.argv[1]) as f:
        s = Schema(json.load(f))
    info = introspection(s)
    with open(sys.argv[2], 'w') as f:
        f.write(gen_c(s, info))
    with open(sys.argv[3], 'w') as f:
        f.write(gen_h(s))


if __name__ == '__main__':
    main()
