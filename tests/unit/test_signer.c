/* test_signer.c -- unit tests for the AS signer process: forwarded signatures, key isolation, failures. */
#include "config.h"

#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "buf.h"
#include "cert.h"
#include "crl.h"
#include "log.h"
#include "ocsp.h"
#include "rand.h"
#include "signer.h"

enum { SECRET_LEN = 32 };

/* The P-256 scalar is kept only XORed with this pad (see key_make). */
static const uint8_t pad[SECRET_LEN] = {
	0x5a, 0x13, 0xc7, 0x88, 0x21, 0xfe, 0x09, 0x6d,
	0xb4, 0x30, 0x9e, 0x47, 0xe2, 0x7b, 0x55, 0x1c,
	0x83, 0xd9, 0x6a, 0x0f, 0xc1, 0x2e, 0x97, 0x74,
	0x3b, 0xa8, 0x40, 0xed, 0x16, 0xf5, 0x62, 0xcb,
};

struct fixture {
	char		 dir[PATH_MAX - 32];
	char		 key[PATH_MAX];		/* P-256, 0600 */
	char		 masked[PATH_MAX];	/* its scalar XOR pad */
	char		 ed[PATH_MAX];		/* Ed25519 or RSA, 0600 */
	struct signer	*signer;
	gnutls_privkey_t ext;
};

static const uint8_t message[] = "revocation notice for serial 42";

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int
write_file(const char *path, const void *p, size_t len, mode_t mode)
{
	int fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode)) < 0)
		return -1;
	if (write(fd, p, len) != (ssize_t)len) {
		close(fd);
		return -1;
	}
	return close(fd);
}

/*
 * Generates a key file in a child process, so the test process itself never
 * holds the private key: what it later finds in its memory can only have
 * come from the code under test.  For P-256 the scalar is written to
 * `maskpath` XORed with `pad`, and a key whose scalar starts or ends with a
 * zero byte is drawn again (mpz storage would then differ in length).
 */
static int
key_make(const char *path, gnutls_pk_algorithm_t pk, const char *maskpath)
{
	gnutls_privkey_t key;
	gnutls_datum_t k;
	gnutls_ecc_curve_t curve;
	uint8_t out[SECRET_LEN];
	unsigned int bits;
	size_t i;
	int status;
	pid_t pid;

	fflush(NULL);
	if ((pid = fork()) == -1)
		return -1;
	if (pid > 0) {
		if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
			return -1;
		return WEXITSTATUS(status) == 0 ? 0 : -1;
	}
	bits = pk == GNUTLS_PK_ECDSA ?
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1) :
	    pk == GNUTLS_PK_RSA ? 2048 :
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_ED25519);
	for (;;) {
		if (gnutls_privkey_init(&key) < 0 ||
		    gnutls_privkey_generate(key, pk, bits, 0) < 0)
			_exit(1);
		if (maskpath == NULL)
			break;
		if (gnutls_privkey_export_ecc_raw2(key, &curve, NULL, NULL, &k,
		    GNUTLS_EXPORT_FLAG_NO_LZ) < 0)
			_exit(1);
		if (k.size == SECRET_LEN && k.data[0] != 0 &&
		    k.data[SECRET_LEN - 1] != 0) {
			for (i = 0; i < SECRET_LEN; i++)
				out[i] = k.data[i] ^ pad[i];
			gnutls_free(k.data);
			if (write_file(maskpath, out, sizeof(out), 0600) < 0)
				_exit(1);
			break;
		}
		gnutls_free(k.data);
		gnutls_privkey_deinit(key);
	}
	_exit(cert_key_write(path, key) < 0 ? 1 : 0);
}

static int
setup(void **state)
{
	struct fixture *f;
	const char *tmp = getenv("TMPDIR");

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/test_signer.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(f->dir) == NULL)
		goto fail;
	snprintf(f->key, sizeof(f->key), "%s/as.key", f->dir);
	snprintf(f->masked, sizeof(f->masked), "%s/as.masked", f->dir);
	snprintf(f->ed, sizeof(f->ed), "%s/ed.key", f->dir);
	if (key_make(f->key, GNUTLS_PK_ECDSA, f->masked) < 0)
		goto fail;
	*state = f;
	return 0;
fail:
	free(f);
	return -1;
}

static void
rm(const char *dir, const char *name)
{
	char p[PATH_MAX + 32];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	unlink(p);
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	gnutls_privkey_deinit(f->ext);
	signer_stop(f->signer);
	rm(f->dir, "as.key");
	rm(f->dir, "as.masked");
	rm(f->dir, "ed.key");
	rm(f->dir, "bad.key");
	rmdir(f->dir);
	free(f);
	return 0;
}

static void
start(struct fixture *f)
{
	assert_int_equal(signer_start(f->key, &f->signer), 0);
	assert_non_null(f->signer);
	assert_int_equal(signer_privkey(f->signer, &f->ext), 0);
}

static void
verify_with(const struct signer *s, gnutls_sign_algorithm_t algo,
    const void *data, size_t len, const gnutls_datum_t *sig, bool good)
{
	gnutls_pubkey_t pub;
	gnutls_datum_t d = { (unsigned char *)(uintptr_t)data,
	    (unsigned int)len };
	int rv;

	assert_int_equal(signer_pubkey(s, &pub), 0);
	rv = gnutls_pubkey_verify_data2(pub, algo, 0, &d, sig);
	if (good)
		assert_true(rv >= 0);
	else
		assert_int_equal(rv, GNUTLS_E_PK_SIG_VERIFY_FAILED);
	gnutls_pubkey_deinit(pub);
}

/* Data signed through the forwarded GnuTLS key verifies with the CA key. */
static void
test_sign_data_verifies(void **state)
{
	struct fixture *f = *state;
	gnutls_datum_t d = { (unsigned char *)message, sizeof(message) };
	gnutls_datum_t sig = { NULL, 0 };
	uint8_t other[sizeof(message)];

	start(f);
	assert_int_equal(gnutls_privkey_get_pk_algorithm(f->ext, NULL),
	    GNUTLS_PK_ECDSA);
	assert_int_equal(gnutls_privkey_sign_data2(f->ext,
	    GNUTLS_SIGN_ECDSA_SHA256, 0, &d, &sig), 0);
	verify_with(f->signer, GNUTLS_SIGN_ECDSA_SHA256, message,
	    sizeof(message), &sig, true);
	memcpy(other, message, sizeof(other));
	other[0] ^= 1;
	verify_with(f->signer, GNUTLS_SIGN_ECDSA_SHA256, other,
	    sizeof(other), &sig, false);
	gnutls_free(sig.data);

	/* The same through the signer calls, and a digest signed as such. */
	assert_int_equal(signer_sign_data(f->signer, GNUTLS_SIGN_ECDSA_SHA384,
	    message, sizeof(message), &sig), 0);
	verify_with(f->signer, GNUTLS_SIGN_ECDSA_SHA384, message,
	    sizeof(message), &sig, true);
	gnutls_free(sig.data);
}

static void
test_sign_hash_verifies(void **state)
{
	struct fixture *f = *state;
	gnutls_datum_t d = { (unsigned char *)message, sizeof(message) };
	gnutls_datum_t sig = { NULL, 0 };
	gnutls_pubkey_t pub;
	uint8_t h[32];

	start(f);
	assert_int_equal(gnutls_hash_fast(GNUTLS_DIG_SHA256, message,
	    sizeof(message), h), 0);
	assert_int_equal(signer_sign_hash(f->signer, GNUTLS_SIGN_ECDSA_SHA256,
	    h, sizeof(h), &sig), 0);
	assert_int_equal(signer_pubkey(f->signer, &pub), 0);
	d.data = h;
	d.size = sizeof(h);
	assert_true(gnutls_pubkey_verify_hash2(pub, GNUTLS_SIGN_ECDSA_SHA256,
	    0, &d, &sig) >= 0);
	gnutls_pubkey_deinit(pub);
	gnutls_free(sig.data);
}

/* Makes a self-signed CA certificate for the signer's key through it. */
static gnutls_x509_crt_t
make_ca(struct fixture *f, time_t now)
{
	gnutls_x509_crt_t ca;
	gnutls_pubkey_t pub;
	gnutls_datum_t der;
	uint8_t serial[8] = { 0x11, 1, 2, 3, 4, 5, 6, 7 }, id[64];
	size_t idlen = sizeof(id);

	assert_int_equal(signer_pubkey(f->signer, &pub), 0);
	assert_int_equal(gnutls_x509_crt_init(&ca), 0);
	assert_int_equal(gnutls_x509_crt_set_version(ca, 3), 0);
	assert_int_equal(gnutls_x509_crt_set_serial(ca, serial,
	    sizeof(serial)), 0);
	assert_int_equal(gnutls_x509_crt_set_dn_by_oid(ca,
	    GNUTLS_OID_X520_COMMON_NAME, 0, "test AS CA", 10), 0);
	assert_int_equal(gnutls_x509_crt_set_issuer_dn_by_oid(ca,
	    GNUTLS_OID_X520_COMMON_NAME, 0, "test AS CA", 10), 0);
	assert_int_equal(gnutls_x509_crt_set_activation_time(ca, now - 60),
	    0);
	assert_int_equal(gnutls_x509_crt_set_expiration_time(ca,
	    now + 86400), 0);
	assert_int_equal(gnutls_x509_crt_set_pubkey(ca, pub), 0);
	assert_int_equal(gnutls_x509_crt_set_basic_constraints(ca, 1, -1), 0);
	assert_int_equal(gnutls_x509_crt_set_key_usage(ca,
	    GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN), 0);
	assert_int_equal(gnutls_pubkey_get_key_id(pub, 0, id, &idlen), 0);
	assert_int_equal(gnutls_x509_crt_set_subject_key_id(ca, id, idlen), 0);
	assert_int_equal(gnutls_x509_crt_privkey_sign(ca, ca, f->ext,
	    GNUTLS_DIG_SHA256, 0), 0);
	gnutls_pubkey_deinit(pub);
	/* Re-imported: GnuTLS caches stale fields of an edited certificate. */
	assert_int_equal(gnutls_x509_crt_export2(ca, GNUTLS_X509_FMT_DER,
	    &der), 0);
	gnutls_x509_crt_deinit(ca);
	assert_int_equal(gnutls_x509_crt_init(&ca), 0);
	assert_int_equal(gnutls_x509_crt_import(ca, &der,
	    GNUTLS_X509_FMT_DER), 0);
	gnutls_free(der.data);
	return ca;
}

/*
 * Issuance as the AS does it, with the forwarded key: cert_issue(),
 * crl_build() and ocsp_sign(); each verifies against the CA certificate.
 */
static void
issue_and_verify(struct fixture *f)
{
	time_t now = time(NULL);
	struct ntm_rng *rng;
	gnutls_x509_crt_t ca, leaf = NULL;
	gnutls_x509_crl_t crl;
	gnutls_datum_t der;
	struct crl_entry entry;
	struct ocsp_signer *os;
	struct ocsp_status st;
	struct ocsp_result res;
	gnutls_privkey_t nodekey;
	gnutls_pubkey_t nodepub;
	struct cert_request req;
	struct cert_issuer iss;
	unsigned int status = ~0u;

	ca = make_ca(f, now);
	assert_int_equal(gnutls_x509_crt_verify(ca, &ca, 1, 0, &status), 0);
	assert_int_equal(status, 0);
	assert_true(signer_matches_crt(f->signer, ca));

	assert_non_null(rng = rng_seeded_new("test_signer", 11));
	assert_int_equal(cert_key_generate(CERT_KEY_P256, &nodekey), 0);
	assert_int_equal(cert_pubkey_of(nodekey, &nodepub), 0);
	memset(&req, 0, sizeof(req));
	req.role = CERT_ROLE_NODE;
	req.fqdn = "alice.dc1.ntm.test";
	req.has_vip4 = true;
	assert_int_equal(inet_pton(AF_INET, "198.18.1.10", &req.vip4), 1);
	req.has_vip6 = true;
	assert_int_equal(inet_pton(AF_INET6, "fd6e:746d:6f62:1::10",
	    &req.vip6), 1);
	req.pubkey = nodepub;
	iss.crt = ca;
	iss.key = f->ext;
	assert_int_equal(cert_issue(&req, &iss, rng, now, &leaf), 0);
	status = ~0u;
	assert_int_equal(gnutls_x509_crt_verify(leaf, &ca, 1, 0, &status), 0);
	assert_int_equal(status, 0);
	/* The leaf's key is not the signer's. */
	assert_false(signer_matches_crt(f->signer, leaf));

	/* A CRL listing the leaf, built by lib/crl with the forwarded key. */
	memset(&entry, 0, sizeof(entry));
	entry.serial_len = sizeof(entry.serial);
	assert_int_equal(gnutls_x509_crt_get_serial(leaf, entry.serial,
	    &entry.serial_len), 0);
	entry.revoked_at = now;
	assert_int_equal(crl_build(&entry, 1, ca, f->ext, 1, now, now + 600,
	    &crl), 0);
	status = ~0u;
	assert_int_equal(gnutls_x509_crl_verify(crl, &ca, 1, 0, &status), 0);
	assert_int_equal(status, 0);
	assert_int_equal(gnutls_x509_crt_check_revocation(leaf, &crl, 1), 1);

	/* The leaf's status, signed by lib/ocsp with the forwarded key. */
	assert_int_equal(ocsp_signer_new(ca, &os), 0);
	memset(&st, 0, sizeof(st));
	st.status = OCSP_CERT_GOOD;
	st.produced_at = st.this_update = now;
	st.next_update = now + OCSP_VALIDITY_DEFAULT;
	assert_int_equal(ocsp_sign(os, f->ext, entry.serial, entry.serial_len,
	    &st, &der), 0);
	assert_int_equal(ocsp_verify(&der, ca, leaf, now, 0, &res), 0);
	assert_int_equal(res.status, OCSP_CERT_GOOD);
	gnutls_free(der.data);
	ocsp_signer_free(os);

	gnutls_x509_crl_deinit(crl);
	gnutls_x509_crt_deinit(leaf);
	gnutls_x509_crt_deinit(ca);
	gnutls_pubkey_deinit(nodepub);
	gnutls_privkey_deinit(nodekey);
	rng_free(rng);
}

static void
test_cert_crl_ocsp_verify(void **state)
{
	struct fixture *f = *state;

	start(f);
	issue_and_verify(f);
}

/*
 * An RSA CA key: GnuTLS hands the external key a PKCS#1 DigestInfo to sign
 * as RSA_RAW.
 */
static void
test_rsa_key_issues(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(key_make(f->ed, GNUTLS_PK_RSA, NULL), 0);
	assert_int_equal(signer_start(f->ed, &f->signer), 0);
	assert_int_equal(signer_privkey(f->signer, &f->ext), 0);
	assert_int_equal(gnutls_privkey_get_pk_algorithm(f->ext, NULL),
	    GNUTLS_PK_RSA);
	issue_and_verify(f);
}

/* EdDSA cannot sign a digest: the whole data goes through SIGN_DATA. */
static void
test_ed25519_signs_data(void **state)
{
	struct fixture *f = *state;
	gnutls_datum_t d = { (unsigned char *)message, sizeof(message) };
	gnutls_datum_t sig = { NULL, 0 };

	assert_int_equal(key_make(f->ed, GNUTLS_PK_EDDSA_ED25519, NULL), 0);
	assert_int_equal(signer_start(f->ed, &f->signer), 0);
	assert_int_equal(signer_privkey(f->signer, &f->ext), 0);
	assert_int_equal(gnutls_privkey_sign_data2(f->ext,
	    GNUTLS_SIGN_EDDSA_ED25519, 0, &d, &sig), 0);
	verify_with(f->signer, GNUTLS_SIGN_EDDSA_ED25519, message,
	    sizeof(message), &sig, true);
	gnutls_free(sig.data);
}

/*
 * True when the P-256 scalar is anywhere in this process's readable memory,
 * big-endian (DER, raw buffers) or little-endian (GMP limbs).  The scalar is
 * never formed: each byte read is XORed with the pad and compared with the
 * masked copy.  Only writable mappings can have received it; those over
 * 128 MiB are sanitizer shadow memory and are skipped.
 */
static bool
memory_holds_scalar(const uint8_t masked[SECRET_LEN])
{
	enum { CHUNK = 1 << 20 };
	unsigned long lo, hi, addr;
	char line[512], perms[8];
	uint8_t *buf;
	FILE *maps;
	ssize_t n;
	size_t p, i, want;
	bool found = false;
	int mem;

	assert_non_null(buf = malloc(CHUNK + SECRET_LEN));
	assert_non_null(maps = fopen("/proc/self/maps", "r"));
	assert_true((mem = open("/proc/self/mem", O_RDONLY)) >= 0);
	while (!found && fgets(line, sizeof(line), maps) != NULL) {
		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3 ||
		    perms[0] != 'r' || perms[1] != 'w' ||
		    hi - lo > (128ul << 20))
			continue;
		for (addr = lo; !found && addr < hi; addr += CHUNK) {
			want = hi - addr < CHUNK + SECRET_LEN ?
			    hi - addr : CHUNK + SECRET_LEN;
			n = pread(mem, buf, want, (off_t)addr);
			if (n < SECRET_LEN)
				break;
			for (p = 0; !found && p + SECRET_LEN <= (size_t)n;
			    p++) {
				for (i = 0; i < SECRET_LEN; i++)
					if ((buf[p + i] ^ pad[i]) != masked[i])
						break;
				if (i == SECRET_LEN) {
					found = true;
					break;
				}
				for (i = 0; i < SECRET_LEN; i++)
					if ((buf[p + i] ^
					    pad[SECRET_LEN - 1 - i]) !=
					    masked[SECRET_LEN - 1 - i])
						break;
				found = i == SECRET_LEN;
			}
		}
	}
	memset(buf, 0, CHUNK + SECRET_LEN);
	free(buf);
	close(mem);
	fclose(maps);
	return found;
}

static int
count_fds_to(const char *path)
{
	char link[PATH_MAX], fdpath[300];
	struct dirent *de;
	DIR *d;
	ssize_t n;
	int count = 0;

	assert_non_null(d = opendir("/proc/self/fd"));
	while ((de = readdir(d)) != NULL) {
		snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%s",
		    de->d_name);
		n = readlink(fdpath, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		if (strcmp(link, path) == 0)
			count++;
	}
	closedir(d);
	return count;
}

/*
 * The AS process never holds the key.  Shown four ways: the key file is
 * opened exactly once (inotify), and that open is the child's (this process
 * has no descriptor to it); the forwarded key refuses every export; and
 * after start-up and signing, the scalar is nowhere in this process's
 * memory -- while a process that does load the key (the control) is found
 * holding it by the same scan, so the scan can fail.
 */
static void
test_parent_never_holds_key(void **state)
{
	struct fixture *f = *state;
	gnutls_datum_t d = { (unsigned char *)message, sizeof(message) };
	gnutls_datum_t sig = { NULL, 0 }, x, y, k;
	gnutls_x509_privkey_t xk = NULL;
	gnutls_ecc_curve_t curve;
	gnutls_privkey_t loaded;
	uint8_t masked[SECRET_LEN], evbuf[4096];
	ssize_t n;
	size_t off;
	int fd, in, opens = 0, status;
	pid_t pid;

	fd = open(f->masked, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, masked, sizeof(masked)), SECRET_LEN);
	close(fd);

	assert_true((in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) >= 0);
	assert_true(inotify_add_watch(in, f->key, IN_OPEN) >= 0);
	start(f);
	assert_int_equal(gnutls_privkey_sign_data2(f->ext,
	    GNUTLS_SIGN_ECDSA_SHA256, 0, &d, &sig), 0);
	gnutls_free(sig.data);
	while ((n = read(in, evbuf, sizeof(evbuf))) > 0) {
		for (off = 0; off < (size_t)n;) {
			const struct inotify_event *ev =
			    (const struct inotify_event *)(evbuf + off);

			if ((ev->mask & IN_OPEN) != 0)
				opens++;
			off += sizeof(*ev) + ev->len;
		}
	}
	close(in);
	assert_int_equal(opens, 1);
	assert_int_equal(count_fds_to(f->key), 0);

	assert_true(gnutls_privkey_export_x509(f->ext, &xk) < 0);
	assert_null(xk);
	assert_true(gnutls_privkey_export_ecc_raw2(f->ext, &curve, &x, &y, &k,
	    0) < 0);

	assert_false(memory_holds_scalar(masked));

	/* Control: a process that loads the key is caught by the scan. */
	fflush(NULL);
	assert_true((pid = fork()) >= 0);
	if (pid == 0) {
		if (cert_key_read(f->key, &loaded) < 0)
			_exit(2);
		_exit(memory_holds_scalar(masked) ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/*
 * Each signer process draws its own ECDSA nonces: two children forked from
 * the same parent state sign the same digest differently (a repeated nonce
 * under one key would give the key away).
 */
static void
test_children_draw_own_nonces(void **state)
{
	struct fixture *f = *state;
	gnutls_datum_t a = { NULL, 0 }, b = { NULL, 0 };
	uint8_t h[32] = { 6 };

	start(f);
	assert_int_equal(signer_sign_hash(f->signer, GNUTLS_SIGN_ECDSA_SHA256,
	    h, sizeof(h), &a), 0);
	gnutls_privkey_deinit(f->ext);
	f->ext = NULL;
	signer_stop(f->signer);
	f->signer = NULL;
	start(f);
	assert_int_equal(signer_sign_hash(f->signer, GNUTLS_SIGN_ECDSA_SHA256,
	    h, sizeof(h), &b), 0);
	assert_false(a.size == b.size && memcmp(a.data, b.data, a.size) == 0);
	gnutls_free(a.data);
	gnutls_free(b.data);
}

/* A dead signer makes the next call fail at once, and every later one. */
static void
test_killed_child_fails_fast(void **state)
{
	struct fixture *f = *state;
	gnutls_datum_t d = { (unsigned char *)message, sizeof(message) };
	gnutls_datum_t sig = { NULL, 0 };
	uint8_t h[32] = { 1 };
	uint64_t t0;

	start(f);
	assert_int_equal(kill(signer_pid(f->signer), SIGKILL), 0);
	t0 = mono_ms();
	assert_int_equal(signer_sign_hash(f->signer, GNUTLS_SIGN_ECDSA_SHA256,
	    h, sizeof(h), &sig), -EPIPE);
	assert_null(sig.data);
	assert_int_equal(signer_sign_data(f->signer, GNUTLS_SIGN_ECDSA_SHA256,
	    message, sizeof(message), &sig), -EPIPE);
	assert_true(gnutls_privkey_sign_data2(f->ext,
	    GNUTLS_SIGN_ECDSA_SHA256, 0, &d, &sig) < 0);
	assert_true(mono_ms() - t0 < 1000);
}

/* A signer that stops answering times out, then is killed for good. */
static void
test_stuck_child_times_out(void **state)
{
	struct fixture *f = *state;
	gnutls_datum_t sig = { NULL, 0 };
	uint8_t h[32] = { 2 };
	uint64_t t0, dt;
	int status;

	start(f);
	signer_set_timeout(f->signer, 200);
	assert_int_equal(kill(signer_pid(f->signer), SIGSTOP), 0);
	t0 = mono_ms();
	assert_int_equal(signer_sign_hash(f->signer, GNUTLS_SIGN_ECDSA_SHA256,
	    h, sizeof(h), &sig), -ETIMEDOUT);
	dt = mono_ms() - t0;
	assert_true(dt >= 190 && dt < 2000);
	/* The late answer must never pair with a later request. */
	assert_int_equal(signer_sign_hash(f->signer, GNUTLS_SIGN_ECDSA_SHA256,
	    h, sizeof(h), &sig), -EPIPE);
	assert_int_equal(waitpid(signer_pid(f->signer), &status, 0),
	    signer_pid(f->signer));
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
}

/* Limits are checked before anything is sent; the signer stays usable. */
static void
test_oversized_request_refused(void **state)
{
	struct fixture *f = *state;
	gnutls_datum_t sig = { NULL, 0 };
	uint8_t *big;

	start(f);
	assert_non_null(big = calloc(1, SIGNER_DATA_MAX + 1));
	assert_int_equal(signer_sign_data(f->signer, GNUTLS_SIGN_ECDSA_SHA256,
	    big, SIGNER_DATA_MAX + 1, &sig), -EMSGSIZE);
	assert_int_equal(signer_sign_hash(f->signer, GNUTLS_SIGN_ECDSA_SHA256,
	    big, SIGNER_HASH_MAX + 1, &sig), -EMSGSIZE);
	assert_int_equal(signer_sign_hash(f->signer, GNUTLS_SIGN_UNKNOWN,
	    big, 32, &sig), -EINVAL);
	assert_int_equal(signer_sign_hash(f->signer, GNUTLS_SIGN_ECDSA_SHA256,
	    big, 0, &sig), -EINVAL);
	/* Data at the limit is fine. */
	assert_int_equal(signer_sign_data(f->signer, GNUTLS_SIGN_ECDSA_SHA256,
	    big, SIGNER_DATA_MAX, &sig), 0);
	verify_with(f->signer, GNUTLS_SIGN_ECDSA_SHA256, big, SIGNER_DATA_MAX,
	    &sig, true);
	gnutls_free(sig.data);
	free(big);
}

/* An algorithm of another key type is an answered error, not a crash. */
static void
test_wrong_algorithm_answered(void **state)
{
	struct fixture *f = *state;
	gnutls_datum_t sig = { NULL, 0 };
	uint8_t h[32] = { 3 };

	start(f);
	assert_int_equal(signer_sign_hash(f->signer, GNUTLS_SIGN_RSA_SHA256,
	    h, sizeof(h), &sig), -EINVAL);
	assert_null(sig.data);
	assert_int_equal(signer_sign_hash(f->signer, GNUTLS_SIGN_ECDSA_SHA256,
	    h, sizeof(h), &sig), 0);
	gnutls_free(sig.data);
}

static void
expect_exit_status(pid_t pid, int code)
{
	uint64_t t0 = mono_ms();
	int status;
	pid_t r;

	while ((r = waitpid(pid, &status, WNOHANG)) == 0 &&
	    mono_ms() - t0 < 3000)
		usleep(5000);
	assert_int_equal(r, pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), code);
}

/* A malformed request is a broken IPC contract: the child leaves. */
static void
test_malformed_request_ends_child(void **state)
{
	struct fixture *f = *state;
	static const uint8_t shapes[][7] = {
		{ 9, 0, 0, 0, 0, 0, 0 },		/* unknown type */
		{ 2, 0, 4, 0, 0, 0, 40 },		/* length > packet */
		{ 3, 0, 4, 0, 0, 0, 0 },		/* GET_PUBKEY + algo */
		{ 2, 0, 0, 0, 0, 0, 0 },		/* hash, algo 0 */
	};
	gnutls_datum_t sig = { NULL, 0 };
	uint8_t h[32] = { 4 };
	size_t i;

	for (i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		start(f);
		assert_int_equal(send(signer_fd(f->signer), shapes[i], 7, 0),
		    7);
		expect_exit_status(signer_pid(f->signer), 1);
		assert_int_equal(signer_sign_hash(f->signer,
		    GNUTLS_SIGN_ECDSA_SHA256, h, sizeof(h), &sig), -EPIPE);
		gnutls_privkey_deinit(f->ext);
		f->ext = NULL;
		signer_stop(f->signer);
		f->signer = NULL;
	}
	/* A short header too. */
	start(f);
	assert_int_equal(send(signer_fd(f->signer), "\x02", 1, 0), 1);
	expect_exit_status(signer_pid(f->signer), 1);
}

/*
 * Answers that break the format: the AS side of the socket is swapped for
 * one this test writes to, the answer queued before the request is made.
 */
static int
answer_with(struct fixture *f, const uint8_t *ans, size_t len)
{
	gnutls_datum_t sig = { NULL, 0 };
	uint8_t h[32] = { 5 };
	int sv[2], r;

	start(f);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	assert_int_equal(dup2(sv[1], signer_fd(f->signer)),
	    signer_fd(f->signer));
	close(sv[1]);
	assert_int_equal(send(sv[0], ans, len, 0), (ssize_t)len);
	r = signer_sign_hash(f->signer, GNUTLS_SIGN_ECDSA_SHA256, h,
	    sizeof(h), &sig);
	assert_null(sig.data);
	/* Broken for good after a malformed answer. */
	if (r == -EBADMSG)
		assert_int_equal(signer_sign_hash(f->signer,
		    GNUTLS_SIGN_ECDSA_SHA256, h, sizeof(h), &sig), -EPIPE);
	close(sv[0]);
	gnutls_privkey_deinit(f->ext);
	f->ext = NULL;
	signer_stop(f->signer);
	f->signer = NULL;
	return r;
}

static void
test_bad_answers_fail(void **state)
{
	struct fixture *f = *state;
	uint8_t *ans;
	struct wbuf w;
	size_t cap = SIGNER_ANS_HDR + SIGNER_ANSWER_MAX + 64;

	assert_non_null(ans = calloc(1, cap));

	/* Oversized: a signature beyond SIGNER_ANSWER_MAX. */
	wbuf_init(&w, ans, cap);
	wbuf_put_u8(&w, SIGNER_MSG_SIGN_HASH);
	wbuf_put_u32(&w, 0);
	wbuf_put_u32(&w, SIGNER_ANSWER_MAX + 1);
	w.len += SIGNER_ANSWER_MAX + 1;		/* zero bytes from calloc */
	assert_int_equal(answer_with(f, ans, wbuf_len(&w)), -EBADMSG);

	/* The answer to another request type. */
	wbuf_init(&w, ans, cap);
	wbuf_put_u8(&w, SIGNER_MSG_GET_PUBKEY);
	wbuf_put_u32(&w, 0);
	wbuf_put_u32(&w, 2);
	wbuf_put_u16(&w, 0x3000);
	assert_int_equal(answer_with(f, ans, wbuf_len(&w)), -EBADMSG);

	/* Length larger than the packet. */
	wbuf_init(&w, ans, cap);
	wbuf_put_u8(&w, SIGNER_MSG_SIGN_HASH);
	wbuf_put_u32(&w, 0);
	wbuf_put_u32(&w, 70);
	wbuf_put_u32(&w, 0);
	assert_int_equal(answer_with(f, ans, wbuf_len(&w)), -EBADMSG);

	/* A well-formed error status is returned as is. */
	wbuf_init(&w, ans, cap);
	wbuf_put_u8(&w, SIGNER_MSG_SIGN_HASH);
	wbuf_put_u32(&w, ENOMEM);
	wbuf_put_u32(&w, 0);
	assert_int_equal(answer_with(f, ans, wbuf_len(&w)), -ENOMEM);
	free(ans);
}

static void
test_key_file_refused(void **state)
{
	struct fixture *f = *state;
	struct signer *s = (struct signer *)&s;
	char bad[PATH_MAX + 16];

	assert_int_equal(chmod(f->key, 0644), 0);
	assert_int_equal(signer_start(f->key, &s), -EPERM);
	assert_null(s);
	assert_int_equal(chmod(f->key, 0640), 0);
	assert_int_equal(signer_start(f->key, &s), -EPERM);
	assert_int_equal(chmod(f->key, 0600), 0);

	snprintf(bad, sizeof(bad), "%s/missing.key", f->dir);
	assert_int_equal(signer_start(bad, &s), -ENOENT);
	snprintf(bad, sizeof(bad), "%s/bad.key", f->dir);
	assert_int_equal(write_file(bad, "not a key\n", 10, 0600), 0);
	assert_int_equal(signer_start(bad, &s), -EBADMSG);
	assert_null(s);

	/* And the good file still works. */
	start(f);
}

struct worker {
	struct signer	*signer;
	int		 failures;
};

static void *
worker_run(void *arg)
{
	struct worker *w = arg;
	gnutls_datum_t sig;
	uint8_t h[32];
	int i;

	for (i = 0; i < 100; i++) {
		memset(h, i, sizeof(h));
		h[0] = (uint8_t)(uintptr_t)w;
		if (signer_sign_hash(w->signer, GNUTLS_SIGN_ECDSA_SHA256, h,
		    sizeof(h), &sig) < 0) {
			w->failures++;
			continue;
		}
		gnutls_free(sig.data);
	}
	return NULL;
}

/* Worker threads may sign at once: requests never interleave. */
static void
test_threads_share_signer(void **state)
{
	struct fixture *f = *state;
	struct worker w[4];
	pthread_t t[4];
	size_t i;

	start(f);
	for (i = 0; i < 4; i++) {
		w[i].signer = f->signer;
		w[i].failures = 0;
		assert_int_equal(pthread_create(&t[i], NULL, worker_run,
		    &w[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(w[i].failures, 0);
	}
}

/* EOF ends the child: signer_stop() returns promptly and reaps it. */
static void
test_stop_reaps_child(void **state)
{
	struct fixture *f = *state;
	uint64_t t0;
	pid_t pid;

	start(f);
	pid = signer_pid(f->signer);
	gnutls_privkey_deinit(f->ext);
	f->ext = NULL;
	t0 = mono_ms();
	signer_stop(f->signer);
	f->signer = NULL;
	assert_true(mono_ms() - t0 < SIGNER_STOP_WAIT_MS);
	assert_int_equal(kill(pid, 0), -1);
	assert_int_equal(errno, ESRCH);
	signer_stop(NULL);
}

/* A child that does not leave on EOF is killed after the grace period. */
static void
test_stop_kills_stuck_child(void **state)
{
	struct fixture *f = *state;
	uint64_t t0, dt;
	pid_t pid;

	start(f);
	pid = signer_pid(f->signer);
	gnutls_privkey_deinit(f->ext);
	f->ext = NULL;
	assert_int_equal(kill(pid, SIGSTOP), 0);
	t0 = mono_ms();
	signer_stop(f->signer);
	f->signer = NULL;
	dt = mono_ms() - t0;
	assert_true(dt >= SIGNER_STOP_WAIT_MS - 20 &&
	    dt < SIGNER_STOP_WAIT_MS + 2000);
	assert_int_equal(kill(pid, 0), -1);
	assert_int_equal(errno, ESRCH);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sign_data_verifies,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_sign_hash_verifies,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_cert_crl_ocsp_verify,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_rsa_key_issues,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_ed25519_signs_data,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_parent_never_holds_key,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_children_draw_own_nonces,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_killed_child_fails_fast,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_stuck_child_times_out,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_oversized_request_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_algorithm_answered,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_malformed_request_ends_child, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_answers_fail,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_file_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_threads_share_signer,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_reaps_child,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_kills_stuck_child,
		    setup, teardown),
	};

	log_init("test_signer", 1, LOG_LEVEL_ERR);
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
