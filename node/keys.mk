# node/keys.mk -- node key types and the lab refusal tests.

# Golden ntmd.conf tests: tests/ntmdconf/N.conf -> N.out through ntmd -n -v.
TESTS += tests/ntmdconf/golden.sh
dist_check_SCRIPTS += tests/ntmdconf/golden.sh
EXTRA_DIST += \
	tests/ntmdconf/keytype-bad.conf tests/ntmdconf/keytype-bad.out \
	tests/ntmdconf/keytype-default.conf \
	tests/ntmdconf/keytype-default.out \
	tests/ntmdconf/keytype-empty.conf tests/ntmdconf/keytype-empty.out \
	tests/ntmdconf/keytype-p256.conf tests/ntmdconf/keytype-p256.out \
	tests/ntmdconf/keytype-rsa.conf tests/ntmdconf/keytype-rsa.out

# Root: every kex scheme end to end in the lab, RSA-2048 node keys for rsa.
TESTS += tests/integration/kex.sh
dist_check_SCRIPTS += tests/integration/kex.sh
# Root: the refusals of issue 5 in the lab, each direction.
TESTS += tests/integration/refuse.sh
dist_check_SCRIPTS += tests/integration/refuse.sh
