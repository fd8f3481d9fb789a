#!/usr/bin/env python3
"""Writes a unit for the install paths meson was configured with.

    relocate-unit.py IN OUT BINDIR LIBEXECDIR SYSCONFDIR

The units in conf/systemd/ are written for `meson setup --prefix=/usr
--sysconfdir=/etc` (the paths a Debian package uses), so they can be read,
copied and checked as they are. For that setup this script copies them
unchanged; for any other prefix it points them at the binaries and the
config directory meson installs: /usr/bin/corridor-* -> BINDIR/corridor-*,
/usr/libexec/corridor/ -> LIBEXECDIR/corridor/, /etc/corridor ->
SYSCONFDIR/corridor. Runtime paths (/run/corridor, StateDirectory=) are
systemd's and stay.
"""
import re
import sys


def main() -> int:
    if len(sys.argv) != 6:
        print(__doc__, file=sys.stderr)
        return 64
    src, dst, bindir, libexecdir, sysconfdir = sys.argv[1:]
    replacements = {
        '/usr/bin/corridor-': bindir.rstrip('/') + '/corridor-',
        '/usr/libexec/corridor/': libexecdir.rstrip('/') + '/corridor/',
        '/etc/corridor': sysconfdir.rstrip('/') + '/corridor',
    }
    pattern = re.compile('|'.join(re.escape(k) for k in replacements))
    with open(src, encoding='utf-8') as f:
        text = f.read()
    text = pattern.sub(lambda m: replacements[m.group(0)], text)
    with open(dst, 'w', encoding='utf-8') as f:
        f.write(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
