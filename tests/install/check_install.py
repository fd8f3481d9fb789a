#!/usr/bin/env python3
"""Checks what `meson install` gives an operator (tests/install/meson.build).

Installs the build into a temporary DESTDIR and checks:
  - the executables, the three systemd units, the setup script, the default
    dataplane.env, the examples and the state directory are there;
  - every command and file a unit names (Exec*=, EnvironmentFile=, --config)
    is where meson installed it, so the units match the install paths;
  - the setup script is valid sh;
  - a reinstall keeps an edited /etc/corridor/dataplane.env;
  - `systemd-analyze verify` accepts the units (when it is installed), with
    their command paths pointed into DESTDIR;
  - the installed corridor-control accepts the installed reference config.
Exits 1 with every failure listed. Only the systemd-analyze part can be
skipped (no systemd-analyze), and it says so.
"""
import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

# The units meson installs: all three, or corridor-control's alone in a
# build without DPDK (--units).
UNITS = []
EXAMPLES = ['corridor.reference.json', 'site-to-site-psk.json', 'site-to-site-certs.json',
            'ikev1-peer.json', 'nat-t-peer.json', 'static-sa-gateway.json', 'dataplane.env']
EXEC_KEYS = ('ExecStart', 'ExecStartPre', 'ExecStartPost', 'ExecReload', 'ExecStop', 'ExecStopPost',
             'ExecCondition')

failures = []


def fail(message):
    failures.append(message)
    print('FAIL: ' + message)


def ok(message):
    print('ok: ' + message)


def in_destdir(destdir, path):
    return os.path.join(destdir, os.path.relpath(path, os.sep))


def run(cmd, **kwargs):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kwargs)


def unit_settings(path):
    """(section, key, value) for every setting of a unit file."""
    out = []
    section = None
    with open(path, encoding='utf-8') as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in '#;':
                continue
            if line.startswith('[') and line.endswith(']'):
                section = line[1:-1]
                continue
            key, _, value = line.partition('=')
            out.append((section, key.strip(), value.strip()))
    return out


def exec_path(value):
    """The executable of an Exec*= value, without systemd's prefixes."""
    words = shlex.split(value)
    if not words:
        return None, []
    return words[0].lstrip('-@:+!|'), words[1:]


def check_files(args, destdir):
    for exe in args.executables.split(','):
        path = in_destdir(destdir, os.path.join(args.bindir, exe))
        if os.path.isfile(path) and os.access(path, os.X_OK):
            ok(f'executable {args.bindir}/{exe}')
        else:
            fail(f'{args.bindir}/{exe} is not installed (or not executable)')
    setup = in_destdir(destdir, os.path.join(args.libexecdir, 'corridor', 'corridor-dpdk-setup'))
    if 'corridor-hugepages.service' not in UNITS:
        pass  # no dataplane in this build: no setup script either
    elif os.path.isfile(setup) and os.access(setup, os.X_OK):
        r = run(['sh', '-n', setup])
        if r.returncode == 0:
            ok('corridor-dpdk-setup installed, valid sh')
        else:
            fail('corridor-dpdk-setup: sh -n: ' + r.stdout)
    else:
        fail(f'{args.libexecdir}/corridor/corridor-dpdk-setup is not installed (or not executable)')
    for unit in UNITS:
        if not os.path.isfile(in_destdir(destdir, os.path.join(args.unitdir, unit))):
            fail(f'unit {args.unitdir}/{unit} is not installed')
    for name in EXAMPLES:
        if not os.path.isfile(in_destdir(destdir, os.path.join(args.confdir, 'examples', name))):
            fail(f'example {args.confdir}/examples/{name} is not installed')
    if not os.path.isfile(in_destdir(destdir, os.path.join(args.confdir, 'dataplane.env'))):
        fail(f'{args.confdir}/dataplane.env is not installed')
    state = in_destdir(destdir, os.path.join(args.localstatedir, 'lib', 'corridor'))
    if os.path.isdir(state):
        ok(f'state directory {args.localstatedir}/lib/corridor')
    else:
        fail(f'state directory {args.localstatedir}/lib/corridor is not installed')


def check_unit_paths(args, destdir):
    """Every path a unit names exists where meson installed things."""
    for unit in UNITS:
        path = in_destdir(destdir, os.path.join(args.unitdir, unit))
        if not os.path.isfile(path):
            continue
        for section, key, value in unit_settings(path):
            if key in EXEC_KEYS:
                exe, rest = exec_path(value)
                if not exe or not os.path.isabs(exe):
                    fail(f'{unit}: {key}={value}: the command must be an absolute path')
                    continue
                installed = in_destdir(destdir, exe)
                if os.path.isfile(installed) and os.access(installed, os.X_OK):
                    ok(f'{unit}: {key} runs {exe}, installed')
                else:
                    fail(f'{unit}: {key} runs {exe}, which meson did not install there')
                for i, word in enumerate(rest[:-1]):
                    if word == '--config':
                        config_dir = os.path.dirname(rest[i + 1])
                        if config_dir == args.confdir:
                            ok(f'{unit}: {key} reads its config from {config_dir}')
                        else:
                            fail(f'{unit}: {key} reads {rest[i + 1]}, not a file in {args.confdir}')
            elif key == 'EnvironmentFile':
                env = value.lstrip('-')
                if os.path.isfile(in_destdir(destdir, env)):
                    ok(f'{unit}: EnvironmentFile {env} installed')
                else:
                    fail(f'{unit}: EnvironmentFile {env} is not installed')
                for name in re.findall(r'\$\{?([A-Z_][A-Z0-9_]*)', open(path, encoding='utf-8').read()):
                    with open(in_destdir(destdir, env), encoding='utf-8') as f:
                        if not re.search(rf'^#?\s*{name}=', f.read(), re.M):
                            fail(f'{unit} uses ${name}, which {env} does not document')


def check_conffile_kept(args, destdir, meson):
    env = in_destdir(destdir, os.path.join(args.confdir, 'dataplane.env'))
    if not os.path.isfile(env):
        return
    with open(env, 'a', encoding='utf-8') as f:
        f.write('CORRIDOR_NICS="0000:99:00.0"  # edited by the operator\n')
    r = run([meson, 'install', '-C', args.build_root, '--destdir', destdir, '--no-rebuild', '--quiet',
             '--tags', 'config'])
    if r.returncode != 0:
        fail('second meson install --tags config failed:\n' + r.stdout)
        return
    with open(env, encoding='utf-8') as f:
        if 'edited by the operator' in f.read():
            ok('a reinstall keeps the operator\'s dataplane.env')
        else:
            fail('a reinstall overwrote the operator\'s dataplane.env')


def check_systemd_analyze(args, destdir, work):
    analyze = shutil.which('systemd-analyze')
    if not analyze:
        print('SKIPPED: systemd-analyze verify (systemd-analyze not installed); '
              'unit paths were checked above')
        return
    # The units name their commands by their final paths (/usr/bin/...),
    # which exist only inside DESTDIR here; verify checks that they are
    # executable, so point them into DESTDIR. Nothing else is changed.
    verify_dir = os.path.join(work, 'verify')
    os.makedirs(verify_dir)
    copies = []
    for unit in UNITS:
        src = in_destdir(destdir, os.path.join(args.unitdir, unit))
        if not os.path.isfile(src):
            continue
        lines = []
        with open(src, encoding='utf-8') as f:
            for line in f:
                key = line.partition('=')[0].strip()
                if key in EXEC_KEYS:
                    value = line.partition('=')[2]
                    exe, _ = exec_path(value)
                    if exe and os.path.isabs(exe):
                        line = line.replace(exe, in_destdir(destdir, exe), 1)
                lines.append(line)
        dst = os.path.join(verify_dir, unit)
        with open(dst, 'w', encoding='utf-8') as f:
            f.writelines(lines)
        copies.append(dst)
    r = run([analyze, 'verify', '--man=no'] + copies)
    # verify exits 0 on some problems it only warns about (an unknown key is
    # "ignoring"): any line about our units is a failure.
    ours = [l for l in r.stdout.splitlines() if any(u in l for u in UNITS)]
    if r.returncode != 0 or ours:
        fail('systemd-analyze verify:\n' + r.stdout)
    else:
        ok('systemd-analyze verify: ' + ', '.join(UNITS))
        if r.stdout.strip():
            print('  (about other units: ' + r.stdout.strip() + ')')


def check_installed_binary(args, destdir):
    control = in_destdir(destdir, os.path.join(args.bindir, 'corridor-control'))
    reference = in_destdir(destdir, os.path.join(args.confdir, 'examples', 'corridor.reference.json'))
    if not (os.path.isfile(control) and os.path.isfile(reference)):
        return
    r = run([control, '--config', reference, '--check'])
    if r.returncode == 0:
        ok('installed corridor-control --check accepts the installed reference config')
    else:
        fail('installed corridor-control --config examples/corridor.reference.json --check:\n' + r.stdout)


def main():
    p = argparse.ArgumentParser()
    for name in ('meson', 'build-root', 'bindir', 'libexecdir', 'confdir', 'localstatedir', 'unitdir',
                 'units', 'executables'):
        p.add_argument('--' + name, required=True)
    args = p.parse_args()
    UNITS.extend(args.units.split(','))
    if 'corridor-control.service' not in UNITS:
        fail('--units must include corridor-control.service')

    work = tempfile.mkdtemp(prefix='corridor-install-')
    try:
        destdir = os.path.join(work, 'destdir')
        r = run([args.meson, 'install', '-C', args.build_root, '--destdir', destdir, '--no-rebuild', '--quiet'])
        if r.returncode != 0:
            fail('meson install failed:\n' + r.stdout)
        else:
            ok(f'meson install --destdir {destdir}')
            check_files(args, destdir)
            check_unit_paths(args, destdir)
            check_conffile_kept(args, destdir, args.meson)
            check_systemd_analyze(args, destdir, work)
            check_installed_binary(args, destdir)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if failures:
        print(f'{len(failures)} failure(s)')
        return 1
    print('install OK')
    return 0


if __name__ == '__main__':
    sys.exit(main())
