# tests/local.mk -- shared test infrastructure: TAP helpers, fuzz replay driver.
# Unit tests live next to the code's own .mk; integration tests are listed here.
EXTRA_DIST += tests/tap.sh tests/asdc.sh tests/lab.sh

# Corpus replay driver: a fuzz target's .c plus tests/fuzz/replay.c.
FUZZ_REPLAY_SRC = tests/fuzz/replay.c

# lib/tls's client against OpenSSL (Python ssl), which sends TLS 1.3
# session tickets after the handshake (loopback, no root).
TESTS += tests/integration/tls-interop.sh
dist_check_SCRIPTS += tests/integration/tls-interop.sh
