#!/usr/bin/env python3
"""Pads an option ROM to a multiple of 512 bytes, stores its size in
blocks at offset 2, fixes the PnP expansion header's checksum (its offset
is the word at 0x1a) and makes the whole ROM sum to 0 (last byte).

usage: signrom.py IN OUT
"""
import sys


def main():
    data = bytearray(open(sys.argv[1], 'rb').read())
    if data[:2] != b'\x55\xaa':
        sys.exit('%s: no 55 AA signature' % sys.argv[1])
    size = (len(data) + 1 + 511) // 512 * 512    # room for the checksum byte
    if size > 255 * 512:
        sys.exit('%s: too large for an option ROM' % sys.argv[1])
    data += bytes(size - len(data))
    data[2] = size // 512
    pnp = data[0x1a] | data[0x1b] << 8
    if pnp:
        if data[pnp:pnp + 4] != b'$PnP':
            sys.exit('%s: no $PnP header at 0x%x' % (sys.argv[1], pnp))
        length = data[pnp + 5] * 16
        data[pnp + 9] = 0
        data[pnp + 9] = -sum(data[pnp:pnp + length]) & 0xff
    data[-1] = 0
    data[-1] = -sum(data) & 0xff
    open(sys.argv[2], 'wb').write(data)


if __name__ == '__main__':
    main()
