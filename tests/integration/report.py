"""What an integration scenario tells the operator: `say` narrates a step (with --demo on the
command line), `check` records and prints one verdict. Shared by ike_tunnel.py and faults.py."""

import sys

demo = '--demo' in sys.argv
failures = []
passes = []


def say(text):
    if demo:
        print('\n== ' + text, flush=True)


def check(ok, what):
    print(('ok: ' if ok else 'FAIL: ') + what, flush=True)
    (passes if ok else failures).append(what)
