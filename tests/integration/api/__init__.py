"""The parts of tests/integration/api_test.py: common (names, checks,
sections), client (HTTP in a namespace, problem documents), harness
(namespaces, daemons, corridorctl, setup/teardown) and one module per group of
sections."""
