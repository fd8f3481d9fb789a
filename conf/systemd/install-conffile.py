#!/usr/bin/env python3
"""meson install script: installs a config file only where there is none.

    install-conffile.py SOURCE DIR [MODE]

`meson install` overwrites every file it installs; an operator's edited
/etc/corridor/dataplane.env must survive a reinstall, as a dpkg conffile
does. DIR is absolute (meson's sysconfdir); DESTDIR, when meson sets it, is
prepended. The pristine copy is always installed beside the examples.
"""
import os
import shutil
import sys


def main() -> int:
    if len(sys.argv) not in (3, 4):
        print(__doc__, file=sys.stderr)
        return 64
    source, directory = sys.argv[1], sys.argv[2]
    mode = int(sys.argv[3], 8) if len(sys.argv) == 4 else 0o644
    destdir = os.environ.get('DESTDIR', '')
    if destdir:
        # As meson joins them: DESTDIR + the absolute path without its root.
        directory = os.path.join(destdir, os.path.relpath(directory, os.sep))
    target = os.path.join(directory, os.path.basename(source))
    quiet = os.environ.get('MESON_INSTALL_QUIET')
    if os.path.lexists(target):
        if not quiet:
            print(f'Keeping {target} (already there; the default is among the examples)')
        return 0
    os.makedirs(directory, exist_ok=True)
    shutil.copyfile(source, target)
    os.chmod(target, mode)
    if not quiet:
        print(f'Installing {source} to {directory}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
