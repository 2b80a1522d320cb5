/* cert.c -- X.509 keys, PEM files, issuance, CSR checks and chain checks. */
#include "config.h"

#include <sys/stat.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <gnutls/crypto.h>

#include "buf.h"
#include "cert.h"
#include "log.h"
#include "rand.h"

enum {
	CERT_FILE_MAX = 1 << 20,	/* PEM files we read */
	CERT_KEYID_MAX = 64,
};

static const char *const cert_role_names[] = {
	[CERT_ROLE_NODE] = "ntm-node",
	[CERT_ROLE_DC] = "ntm-dc",
	[CERT_ROLE_RS] = "ntm-rs",
	[CERT_ROLE_AS] = "ntm-as",
};

static const char *const cert_role_oids[] = {
	[CERT_ROLE_NODE] = NTM_OID_ROLE_NODE,
	[CERT_ROLE_DC] = NTM_OID_ROLE_DC,
	[CERT_ROLE_RS] = NTM_OID_ROLE_RS,
	[CERT_ROLE_AS] = NTM_OID_ROLE_AS,
};

static const char *const cert_errors[] = {
	[CERT_E_KEY_PERMS - CERT_E_FIRST] =
	    "key file is accessible by group or others (chmod 600)",
	[CERT_E_KEY_TYPE - CERT_E_FIRST] =
	    "key is neither ECDSA P-256 nor RSA-2048",
	[CERT_E_PARSE - CERT_E_FIRST] = "cannot parse PEM/DER data",
	[CERT_E_GNUTLS - CERT_E_FIRST] = "GnuTLS operation failed",
	[CERT_E_REQUEST - CERT_E_FIRST] = "invalid certificate request fields",
	[CERT_E_CHAIN - CERT_E_FIRST] =
	    "certificate does not chain to a trusted root",
	[CERT_E_SIGNATURE - CERT_E_FIRST] =
	    "certificate chain signature is invalid",
	[CERT_E_CONSTRAINTS - CERT_E_FIRST] =
	    "certificate violates basic or name constraints",
	[CERT_E_EXPIRED - CERT_E_FIRST] = "certificate has expired",
	[CERT_E_NOT_YET_VALID - CERT_E_FIRST] =
	    "certificate is not yet valid",
	[CERT_E_ROLE - CERT_E_FIRST] =
	    "certificate does not carry exactly the expected ntmobile role",
	[CERT_E_FQDN - CERT_E_FIRST] = "certificate is not for this FQDN",
	[CERT_E_VIP - CERT_E_FIRST] =
	    "certificate is not for this virtual IP address",
	[CERT_E_CSR_SIGNATURE - CERT_E_FIRST] =
	    "certificate request signature is invalid",
	[CERT_E_CSR_EXTENSION - CERT_E_FIRST] =
	    "certificate request asks for a forbidden extension",
	[CERT_E_CSR_NAME - CERT_E_FIRST] =
	    "certificate request names something it may not ask for",
};

const char *
cert_strerror(int err)
{
	if (err >= CERT_E_FIRST && err <= CERT_E_LAST)
		return cert_errors[err - CERT_E_FIRST];
	if (err < 0)
		return strerror(-err);
	return "success";
}

const char *
cert_role_name(enum cert_role role)
{
	if (role <= CERT_ROLE_INVALID || role > CERT_ROLE_AS)
		return "none";
	return cert_role_names[role];
}

const char *
cert_role_oid(enum cert_role role)
{
	if (role <= CERT_ROLE_INVALID || role > CERT_ROLE_AS)
		return NULL;
	return cert_role_oids[role];
}

enum cert_role
cert_role_parse(const char *s)
{
	enum cert_role r;

	if (strncmp(s, "ntm-", 4) == 0)
		s += 4;
	for (r = CERT_ROLE_NODE; r <= CERT_ROLE_AS; r++)
		if (strcmp(s, cert_role_names[r] + 4) == 0)
			return r;
	return CERT_ROLE_INVALID;
}

/* ---- names and prefixes ---- */

bool
cert_name_valid(const char *name)
{
	size_t len = strlen(name), lab = 0, i;

	if (len == 0 || len > CERT_FQDN_MAX)
		return false;
	for (i = 0; i <= len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '.' || c == '\0') {
			if (lab == 0 || lab > 63 || name[i - 1] == '-')
				return false;
			lab = 0;
			continue;
		}
		if (!isalnum(c) && c != '-')
			return false;
		if (lab == 0 && c == '-')
			return false;
		lab++;
	}
	return true;
}

/* Copies name lower-cased without one trailing dot; false if too long. */
static bool
cert_name_norm(const char *name, char *out, size_t outlen)
{
	size_t len = strlen(name), i;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len >= outlen)
		return false;
	for (i = 0; i < len; i++)
		out[i] = (char)tolower((unsigned char)name[i]);
	out[len] = '\0';
	return true;
}

int
cert_prefix_parse(const char *cidr, struct cert_prefix *p)
{
	char addr[INET6_ADDRSTRLEN];
	const char *slash;
	char *end;
	unsigned long plen;
	size_t alen, i, max;

	memset(p, 0, sizeof(*p));
	if ((slash = strchr(cidr, '/')) == NULL ||
	    (alen = (size_t)(slash - cidr)) >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, cidr, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, p->addr) == 1) {
		p->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, addr, p->addr) == 1) {
		p->family = AF_INET6;
		max = 128;
	} else
		return -EINVAL;
	errno = 0;
	plen = strtoul(slash + 1, &end, 10);
	if (slash[1] == '\0' || *end != '\0' || errno != 0 || plen > max)
		return -EINVAL;
	p->plen = (unsigned int)plen;
	/* Host bits must be zero: a typo is more likely than intent. */
	for (i = 0; i < max / 8; i++) {
		unsigned int keep = plen >= (i + 1) * 8 ? 8 :
		    plen > i * 8 ? (unsigned int)(plen - i * 8) : 0;
		uint8_t mask = (uint8_t)(0xff00u >> keep);

		if ((p->addr[i] & (uint8_t)~mask) != 0)
			return -EINVAL;
	}
	return 0;
}

int
cert_reverse_zones(const struct cert_prefix *p, char names[][CERT_REVZONE_MAX],
    size_t max)
{
	static const char hex[] = "0123456789abcdef";
	unsigned int unit = p->family == AF_INET ? 8 : 4;
	unsigned int r = (p->plen + unit - 1) / unit * unit;
	size_t count = (size_t)1 << (r - p->plen), i;

	if (count > max)
		return -E2BIG;
	for (i = 0; i < count; i++) {
		uint8_t a[16];
		unsigned int bit, k;
		size_t off = 0;

		memcpy(a, p->addr, sizeof(a));
		/* Spread i over the bits between plen and the boundary. */
		for (k = 0; k < r - p->plen; k++) {
			bit = r - 1 - k;
			if (i & ((size_t)1 << k))
				a[bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
		}
		for (k = r / unit; k > 0; k--) {
			if (p->family == AF_INET)
				off += (size_t)snprintf(names[i] + off,
				    CERT_REVZONE_MAX - off, "%u.", a[k - 1]);
			else {
				unsigned int n = k - 1;
				uint8_t v = n % 2 ? a[n / 2] & 0x0f :
				    a[n / 2] >> 4;

				names[i][off++] = hex[v];
				names[i][off++] = '.';
			}
		}
		snprintf(names[i] + off, CERT_REVZONE_MAX - off, "%s",
		    p->family == AF_INET ? "in-addr.arpa" : "ip6.arpa");
	}
	return (int)count;
}

/* ---- files ---- */

static int
cert_fd_read(int fd, gnutls_datum_t *out)
{
	struct stat st;
	uint8_t *p;
	size_t len = 0;
	ssize_t n;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if (st.st_size > CERT_FILE_MAX)
		return -EFBIG;
	if ((p = gnutls_malloc((size_t)st.st_size + 1)) == NULL)
		return -ENOMEM;
	while (len < (size_t)st.st_size) {
		n = read(fd, p + len, (size_t)st.st_size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			gnutls_memset(p, 0, len);
			gnutls_free(p);
			return n < 0 ? -errno : -EIO;
		}
		len += (size_t)n;
	}
	p[len] = '\0';
	out->data = p;
	out->size = (unsigned int)len;
	return 0;
}

static int
cert_fd_write(int fd, const gnutls_datum_t *d)
{
	size_t off = 0;
	ssize_t n;

	while (off < d->size) {
		n = write(fd, d->data + off, d->size - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		off += (size_t)n;
	}
	return 0;
}

static int
cert_file_write(const char *path, const gnutls_datum_t *d, int flags,
    mode_t mode)
{
	int fd, rv;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW |
	    flags, mode)) < 0)
		return -errno;
	rv = fchmod(fd, mode) < 0 ? -errno : 0;
	if (rv == 0)
		rv = cert_fd_write(fd, d);
	if (rv == 0 && fsync(fd) < 0)
		rv = -errno;
	if (close(fd) < 0 && rv == 0)
		rv = -errno;
	if (rv < 0)
		unlink(path);
	return rv;
}

int
cert_key_generate(enum cert_keytype type, gnutls_privkey_t *out)
{
	gnutls_privkey_t key;
	int rv;

	*out = NULL;
	if (gnutls_privkey_init(&key) < 0)
		return -ENOMEM;
	switch (type) {
	case CERT_KEY_P256:
		rv = gnutls_privkey_generate2(key, GNUTLS_PK_ECDSA,
		    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0,
		    NULL, 0);
		break;
	case CERT_KEY_RSA2048:
		rv = gnutls_privkey_generate2(key, GNUTLS_PK_RSA, 2048, 0,
		    NULL, 0);
		break;
	default:
		gnutls_privkey_deinit(key);
		return CERT_E_KEY_TYPE;
	}
	if (rv < 0) {
		log_debug("key generation: %s", gnutls_strerror(rv));
		gnutls_privkey_deinit(key);
		return CERT_E_GNUTLS;
	}
	*out = key;
	return 0;
}

enum cert_keytype
cert_key_type(gnutls_pubkey_t pub)
{
	gnutls_ecc_curve_t curve;
	unsigned int bits = 0;

	switch (gnutls_pubkey_get_pk_algorithm(pub, &bits)) {
	case GNUTLS_PK_ECDSA:
		if (gnutls_pubkey_export_ecc_raw2(pub, &curve, NULL, NULL,
		    0) == 0 && curve == GNUTLS_ECC_CURVE_SECP256R1)
			return CERT_KEY_P256;
		return CERT_KEY_INVALID;
	case GNUTLS_PK_RSA:
		return bits == 2048 ? CERT_KEY_RSA2048 : CERT_KEY_INVALID;
	default:
		return CERT_KEY_INVALID;
	}
}

int
cert_key_write(const char *path, gnutls_privkey_t key)
{
	gnutls_x509_privkey_t xk = NULL;
	gnutls_datum_t pem = { NULL, 0 };
	int rv;

	if (gnutls_privkey_export_x509(key, &xk) < 0 ||
	    gnutls_x509_privkey_export2_pkcs8(xk, GNUTLS_X509_FMT_PEM, NULL,
	    GNUTLS_PKCS_PLAIN, &pem) < 0) {
		rv = CERT_E_GNUTLS;
		goto out;
	}
	rv = cert_file_write(path, &pem, O_EXCL, 0600);
out:
	if (pem.data != NULL) {
		gnutls_memset(pem.data, 0, pem.size);
		gnutls_free(pem.data);
	}
	gnutls_x509_privkey_deinit(xk);
	return rv;
}

int
cert_key_read(const char *path, gnutls_privkey_t *out)
{
	gnutls_datum_t d = { NULL, 0 };
	gnutls_privkey_t key = NULL;
	struct stat st;
	int fd, rv;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		rv = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rv = -EINVAL;
		goto out;
	}
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		rv = CERT_E_KEY_PERMS;
		goto out;
	}
	if ((rv = cert_fd_read(fd, &d)) < 0)
		goto out;
	if (gnutls_privkey_init(&key) < 0) {
		rv = -ENOMEM;
		goto out;
	}
	if (gnutls_privkey_import_x509_raw(key, &d, GNUTLS_X509_FMT_PEM,
	    NULL, 0) < 0 && gnutls_privkey_import_x509_raw(key, &d,
	    GNUTLS_X509_FMT_DER, NULL, 0) < 0) {
		rv = CERT_E_PARSE;
		goto out;
	}
	*out = key;
	key = NULL;
out:
	gnutls_privkey_deinit(key);
	if (d.data != NULL) {
		gnutls_memset(d.data, 0, d.size);
		gnutls_free(d.data);
	}
	close(fd);
	return rv;
}

int
cert_crt_write(const char *path, gnutls_x509_crt_t crt)
{
	gnutls_datum_t pem = { NULL, 0 };
	int rv;

	if (gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &pem) < 0)
		return CERT_E_GNUTLS;
	rv = cert_file_write(path, &pem, O_TRUNC, 0644);
	gnutls_free(pem.data);
	return rv;
}

int
cert_crt_read(const char *path, gnutls_x509_crt_t *out)
{
	gnutls_datum_t d = { NULL, 0 };
	gnutls_x509_crt_t crt = NULL;
	int fd, rv;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	rv = cert_fd_read(fd, &d);
	close(fd);
	if (rv < 0)
		return rv;
	if (gnutls_x509_crt_init(&crt) < 0) {
		rv = -ENOMEM;
		goto out;
	}
	if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM) < 0 &&
	    gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER) < 0) {
		gnutls_x509_crt_deinit(crt);
		rv = CERT_E_PARSE;
		goto out;
	}
	*out = crt;
out:
	gnutls_free(d.data);
	return rv;
}

int
cert_pubkey_of(gnutls_privkey_t key, gnutls_pubkey_t *out)
{
	gnutls_pubkey_t pub;

	*out = NULL;
	if (gnutls_pubkey_init(&pub) < 0)
		return -ENOMEM;
	if (gnutls_pubkey_import_privkey(pub, key, 0, 0) < 0) {
		gnutls_pubkey_deinit(pub);
		return CERT_E_GNUTLS;
	}
	*out = pub;
	return 0;
}

/*
 * Reads a DER header at the cursor: tag, then a definite length (short or
 * long form, at most 4 length bytes); *len is checked against what is left.
 */
static int
cert_der_header(struct rbuf *c, uint8_t *tag, size_t *len)
{
	uint8_t b, n;
	size_t l = 0;

	if (rbuf_get_u8(c, tag) < 0 || rbuf_get_u8(c, &b) < 0)
		return -EINVAL;
	if (b < 0x80)
		l = b;
	else {
		n = b & 0x7f;
		if (n == 0 || n > 4)
			return -EINVAL;
		while (n-- > 0) {
			if (rbuf_get_u8(c, &b) < 0)
				return -EINVAL;
			l = l << 8 | b;
		}
	}
	if (l > rbuf_left(c))
		return -EINVAL;
	*len = l;
	return 0;
}

int
cert_pubkey_hash(gnutls_pubkey_t pub, uint8_t out[CERT_KEYHASH_LEN])
{
	gnutls_datum_t spki = { NULL, 0 };
	struct rbuf c, seq;
	const uint8_t *bits;
	uint8_t tag;
	size_t len;
	int rv = CERT_E_PARSE;

	if (gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &spki) < 0)
		return CERT_E_GNUTLS;
	/* SEQUENCE { AlgorithmIdentifier, BIT STRING subjectPublicKey } */
	rbuf_init(&c, spki.data, spki.size);
	if (cert_der_header(&c, &tag, &len) < 0 || tag != 0x30 ||
	    rbuf_sub(&c, &seq, len) < 0 ||
	    cert_der_header(&seq, &tag, &len) < 0 || tag != 0x30 ||
	    rbuf_skip(&seq, len) < 0 ||
	    cert_der_header(&seq, &tag, &len) < 0 || tag != 0x03 ||
	    len < 1 || rbuf_skip(&seq, 1) < 0 ||	/* unused bits: 0 */
	    rbuf_get_ptr(&seq, &bits, len - 1) < 0)
		goto out;
	if (gnutls_hash_fast(GNUTLS_DIG_SHA1, bits, len - 1, out) < 0) {
		rv = CERT_E_GNUTLS;
		goto out;
	}
	rv = 0;
out:
	gnutls_free(spki.data);
	return rv;
}

/* ---- issuance ---- */

static int	cert_dup(gnutls_x509_crt_t, gnutls_x509_crt_t *);

static int
cert_serial(struct ntm_rng *rng, uint8_t serial[CERT_SERIAL_LEN])
{
	int rv;

	/*
	 * Positive and exactly 16 bytes in DER: top bit clear, and a zero
	 * first byte (which DER would drop) is drawn again.
	 */
	do {
		if ((rv = rng_bytes(rng, serial, CERT_SERIAL_LEN)) < 0)
			return rv;
		serial[0] &= 0x7f;
	} while (serial[0] == 0);
	return 0;
}

/*
 * Fields every certificate of ours has: v3, serial, dates, subject CN,
 * public key, subject and authority key identifiers (SHA-1 of the key bits).
 */
static int
cert_body(gnutls_x509_crt_t crt, const char *cn, gnutls_pubkey_t pub,
    gnutls_x509_crt_t issuer, struct ntm_rng *rng, time_t now,
    uint32_t lifetime)
{
	uint8_t serial[CERT_SERIAL_LEN], id[CERT_KEYID_MAX];
	size_t idlen = CERT_KEYHASH_LEN;
	int rv;

	if ((rv = cert_serial(rng, serial)) < 0)
		return rv;
	if (gnutls_x509_crt_set_version(crt, 3) < 0 ||
	    gnutls_x509_crt_set_serial(crt, serial, sizeof(serial)) < 0 ||
	    gnutls_x509_crt_set_activation_time(crt, now - CERT_BACKDATE) < 0 ||
	    gnutls_x509_crt_set_expiration_time(crt,
	    now + (time_t)lifetime) < 0 ||
	    gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0,
	    cn, (unsigned int)strlen(cn)) < 0 ||
	    gnutls_x509_crt_set_pubkey(crt, pub) < 0)
		return CERT_E_GNUTLS;
	/* RFC 5280 4.2.1.2 method 1; also the OCSP responder's byKey hash. */
	if ((rv = cert_pubkey_hash(pub, id)) < 0)
		return rv;
	if (gnutls_x509_crt_set_subject_key_id(crt, id, idlen) < 0)
		return CERT_E_GNUTLS;
	if (issuer != NULL) {
		idlen = sizeof(id);
		if (gnutls_x509_crt_get_subject_key_id(issuer, id, &idlen,
		    NULL) < 0)
			return CERT_E_REQUEST;	/* issuer without SKI */
	}
	if (gnutls_x509_crt_set_authority_key_id(crt, id, idlen) < 0)
		return CERT_E_GNUTLS;
	return 0;
}

/*
 * Signs crt.  The caller then hands out a re-imported copy (cert_dup): a
 * GnuTLS certificate modified in memory keeps stale cached data that some
 * getters and the verifier read.
 */
static int
cert_sign(gnutls_x509_crt_t crt, gnutls_x509_crt_t issuer,
    gnutls_privkey_t key)
{
	int rv;

	if ((rv = gnutls_x509_crt_privkey_sign(crt, issuer, key,
	    GNUTLS_DIG_SHA256, 0)) < 0) {
		log_debug("certificate signing: %s", gnutls_strerror(rv));
		return CERT_E_GNUTLS;
	}
	return 0;
}

int
cert_make_root(gnutls_privkey_t key, const char *domain, uint32_t lifetime,
    struct ntm_rng *rng, time_t now, gnutls_x509_crt_t *out)
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_pubkey_t pub = NULL;
	char cn[CERT_FQDN_MAX + 64];
	int rv;

	*out = NULL;
	if (!cert_name_valid(domain))
		return CERT_E_REQUEST;
	snprintf(cn, sizeof(cn), "ntmobile root CA %s", domain);
	if ((rv = cert_pubkey_of(key, &pub)) < 0)
		return rv;
	if (gnutls_x509_crt_init(&crt) < 0) {
		rv = -ENOMEM;
		goto out;
	}
	if ((rv = cert_body(crt, cn, pub, NULL, rng, now,
	    lifetime ? lifetime : CERT_ROOT_LIFETIME)) < 0)
		goto out;
	if (gnutls_x509_crt_set_basic_constraints(crt, 1, 1) < 0 ||
	    gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_KEY_CERT_SIGN |
	    GNUTLS_KEY_CRL_SIGN) < 0) {
		rv = CERT_E_GNUTLS;
		goto out;
	}
	if ((rv = cert_sign(crt, crt, key)) < 0)
		goto out;
	rv = cert_dup(crt, out);
out:
	gnutls_x509_crt_deinit(crt);
	gnutls_pubkey_deinit(pub);
	return rv;
}

static int
cert_nc_add_prefix(gnutls_x509_name_constraints_t nc,
    const struct cert_prefix *p, bool with_reverse)
{
	char zones[16][CERT_REVZONE_MAX];
	uint8_t raw[32];
	size_t alen = p->family == AF_INET ? 4 : 16, i;
	gnutls_datum_t d;
	int n;

	if (p->family != AF_INET && p->family != AF_INET6)
		return CERT_E_REQUEST;
	/* RFC 5280 4.2.1.10: address then mask. */
	memset(raw, 0, sizeof(raw));
	memcpy(raw, p->addr, alen);
	for (i = 0; i < p->plen; i++)
		raw[alen + i / 8] |= (uint8_t)(0x80 >> (i % 8));
	d.data = raw;
	d.size = (unsigned int)(2 * alen);
	if (gnutls_x509_name_constraints_add_permitted(nc,
	    GNUTLS_SAN_IPADDRESS, &d) < 0)
		return CERT_E_GNUTLS;
	if (!with_reverse)
		return 0;
	if ((n = cert_reverse_zones(p, zones, 16)) < 0)
		return CERT_E_REQUEST;
	for (i = 0; i < (size_t)n; i++) {
		d.data = (unsigned char *)zones[i];
		d.size = (unsigned int)strlen(zones[i]);
		if (gnutls_x509_name_constraints_add_permitted(nc,
		    GNUTLS_SAN_DNSNAME, &d) < 0)
			return CERT_E_GNUTLS;
	}
	return 0;
}

int
cert_make_as_ca(const struct cert_ca_request *req,
    const struct cert_issuer *root, struct ntm_rng *rng, time_t now,
    gnutls_x509_crt_t *out)
{
	gnutls_x509_name_constraints_t nc = NULL;
	gnutls_x509_crt_t crt = NULL;
	char domain[CERT_FQDN_MAX + 1], cn[CERT_FQDN_MAX + 64];
	gnutls_datum_t d;
	size_t i;
	int rv;

	*out = NULL;
	if (!cert_name_norm(req->domain, domain, sizeof(domain)) ||
	    !cert_name_valid(domain) || req->vrange4.family != AF_INET ||
	    req->vrange6.family != AF_INET6 ||
	    cert_key_type(req->pubkey) != CERT_KEY_P256)
		return CERT_E_REQUEST;
	snprintf(cn, sizeof(cn), "ntmobile AS CA %s", domain);
	if (gnutls_x509_crt_init(&crt) < 0 ||
	    gnutls_x509_name_constraints_init(&nc) < 0) {
		rv = -ENOMEM;
		goto out;
	}
	if ((rv = cert_body(crt, cn, req->pubkey, root->crt, rng, now,
	    req->lifetime ? req->lifetime : CERT_AS_LIFETIME)) < 0)
		goto out;
	if (gnutls_x509_crt_set_basic_constraints(crt, 1, 0) < 0 ||
	    gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_KEY_CERT_SIGN |
	    GNUTLS_KEY_CRL_SIGN | GNUTLS_KEY_DIGITAL_SIGNATURE) < 0) {
		rv = CERT_E_GNUTLS;
		goto out;
	}
	d.data = (unsigned char *)domain;
	d.size = (unsigned int)strlen(domain);
	if (gnutls_x509_name_constraints_add_permitted(nc, GNUTLS_SAN_DNSNAME,
	    &d) < 0) {
		rv = CERT_E_GNUTLS;
		goto out;
	}
	if ((rv = cert_nc_add_prefix(nc, &req->vrange4, true)) < 0 ||
	    (rv = cert_nc_add_prefix(nc, &req->vrange6, true)) < 0)
		goto out;
	for (i = 0; i < req->nextra; i++)
		if ((rv = cert_nc_add_prefix(nc, &req->extra[i], false)) < 0)
			goto out;
	if (gnutls_x509_crt_set_name_constraints(crt, nc, 1) < 0) {
		rv = CERT_E_GNUTLS;
		goto out;
	}
	if ((rv = cert_sign(crt, root->crt, root->key)) < 0)
		goto out;
	rv = cert_dup(crt, out);
out:
	gnutls_x509_name_constraints_deinit(nc);
	gnutls_x509_crt_deinit(crt);
	return rv;
}

static int
cert_add_dns(gnutls_x509_crt_t crt, const char *name)
{
	char n[CERT_FQDN_MAX + 1];

	if (!cert_name_norm(name, n, sizeof(n)) || !cert_name_valid(n))
		return CERT_E_REQUEST;
	if (cert_has_dns(crt, n))
		return 0;
	if (gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, n,
	    (unsigned int)strlen(n), GNUTLS_FSAN_APPEND) < 0)
		return CERT_E_GNUTLS;
	return 0;
}

static int
cert_add_ip(gnutls_x509_crt_t crt, const void *addr, size_t len)
{
	if (gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS,
	    addr, (unsigned int)len, GNUTLS_FSAN_APPEND) < 0)
		return CERT_E_GNUTLS;
	return 0;
}

static int
cert_request_check(const struct cert_request *req)
{
	bool node = req->role == CERT_ROLE_NODE;

	if (cert_role_oid(req->role) == NULL || req->fqdn == NULL ||
	    req->pubkey == NULL || cert_key_type(req->pubkey) ==
	    CERT_KEY_INVALID || req->nzones > CERT_ZONES_MAX ||
	    req->naddrs > CERT_ADDRS_MAX)
		return CERT_E_REQUEST;
	/* Virtual IPs only for nodes; zones and server addresses not. */
	if (node && ((!req->has_vip4 && !req->has_vip6) || req->nzones > 0 ||
	    req->naddrs > 0))
		return CERT_E_REQUEST;
	if (!node && (req->has_vip4 || req->has_vip6))
		return CERT_E_REQUEST;
	if (req->role != CERT_ROLE_DC && req->nzones > 0)
		return CERT_E_REQUEST;
	return 0;
}

/* The issuer's nameConstraints, checked at issuance for a clear error. */
static int
cert_constraints_check(gnutls_x509_crt_t crt, gnutls_x509_crt_t issuer)
{
	gnutls_x509_name_constraints_t nc;
	int rv = 0;

	if (gnutls_x509_name_constraints_init(&nc) < 0)
		return -ENOMEM;
	if (gnutls_x509_crt_get_name_constraints(issuer, nc, 0, NULL) < 0)
		goto out;	/* none */
	if (!gnutls_x509_name_constraints_check_crt(nc, GNUTLS_SAN_DNSNAME,
	    crt) || !gnutls_x509_name_constraints_check_crt(nc,
	    GNUTLS_SAN_IPADDRESS, crt))
		rv = CERT_E_CONSTRAINTS;
out:
	gnutls_x509_name_constraints_deinit(nc);
	return rv;
}

int
cert_issue(const struct cert_request *req, const struct cert_issuer *iss,
    struct ntm_rng *rng, time_t now, gnutls_x509_crt_t *out)
{
	gnutls_x509_crt_t crt = NULL;
	char fqdn[CERT_FQDN_MAX + 1];
	unsigned int ku = GNUTLS_KEY_DIGITAL_SIGNATURE;
	uint32_t lifetime = req->lifetime;
	size_t i;
	int rv;

	*out = NULL;
	if ((rv = cert_request_check(req)) < 0)
		return rv;
	if (!cert_name_norm(req->fqdn, fqdn, sizeof(fqdn)) ||
	    !cert_name_valid(fqdn))
		return CERT_E_REQUEST;
	if (lifetime == 0)
		lifetime = req->role == CERT_ROLE_NODE ? CERT_NODE_LIFETIME :
		    CERT_SERVER_LIFETIME;
	/* RSA keys are also the target of RSA-KEM key transport. */
	if (cert_key_type(req->pubkey) == CERT_KEY_RSA2048)
		ku |= GNUTLS_KEY_KEY_ENCIPHERMENT;
	if (gnutls_x509_crt_init(&crt) < 0)
		return -ENOMEM;
	if ((rv = cert_body(crt, fqdn, req->pubkey, iss->crt, rng, now,
	    lifetime)) < 0)
		goto out;
	if (gnutls_x509_crt_set_basic_constraints(crt, 0, -1) < 0 ||
	    gnutls_x509_crt_set_key_usage(crt, ku) < 0 ||
	    gnutls_x509_crt_set_key_purpose_oid(crt, cert_role_oid(req->role),
	    0) < 0) {
		rv = CERT_E_GNUTLS;
		goto out;
	}
	if ((rv = cert_add_dns(crt, fqdn)) < 0)
		goto out;
	for (i = 0; i < req->nzones; i++)
		if ((rv = cert_add_dns(crt, req->zones[i])) < 0)
			goto out;
	if (req->has_vip4 && (rv = cert_add_ip(crt, &req->vip4, 4)) < 0)
		goto out;
	if (req->has_vip6 && (rv = cert_add_ip(crt, &req->vip6, 16)) < 0)
		goto out;
	for (i = 0; i < req->naddrs; i++) {
		const struct cert_addr *a = &req->addrs[i];

		if (a->family != AF_INET && a->family != AF_INET6) {
			rv = CERT_E_REQUEST;
			goto out;
		}
		if ((rv = cert_add_ip(crt, a->addr,
		    a->family == AF_INET ? 4 : 16)) < 0)
			goto out;
	}
	if ((rv = cert_sign(crt, iss->crt, iss->key)) < 0 ||
	    (rv = cert_dup(crt, out)) < 0)
		goto out;
	if ((rv = cert_constraints_check(*out, iss->crt)) < 0) {
		gnutls_x509_crt_deinit(*out);
		*out = NULL;
	}
out:
	gnutls_x509_crt_deinit(crt);
	return rv;
}

/* ---- reading certificates ---- */

enum cert_role
cert_role_of(gnutls_x509_crt_t crt)
{
	enum cert_role found = CERT_ROLE_INVALID, r;
	size_t arclen = strlen(NTM_OID_ROLE_ARC);
	unsigned int i, n = 0;
	char oid[128];
	size_t sz;
	int rv;

	for (i = 0;; i++) {
		sz = sizeof(oid);
		rv = gnutls_x509_crt_get_key_purpose_oid(crt, i, oid, &sz,
		    NULL);
		if (rv == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (rv < 0)
			return CERT_ROLE_INVALID;
		if (strncmp(oid, NTM_OID_ROLE_ARC, arclen) != 0 ||
		    oid[arclen] != '.')
			continue;	/* not ours */
		n++;
		found = CERT_ROLE_INVALID;
		for (r = CERT_ROLE_NODE; r <= CERT_ROLE_AS; r++)
			if (strcmp(oid, cert_role_oids[r]) == 0)
				found = r;
		if (found == CERT_ROLE_INVALID)
			return CERT_ROLE_INVALID;	/* unknown role */
	}
	return n == 1 ? found : CERT_ROLE_INVALID;
}

bool
cert_has_dns(gnutls_x509_crt_t crt, const char *name)
{
	char want[CERT_FQDN_MAX + 1], have[CERT_FQDN_MAX + 2];
	unsigned int i;
	size_t sz;
	int type;

	if (!cert_name_norm(name, want, sizeof(want)))
		return false;
	for (i = 0;; i++) {
		sz = sizeof(have);
		type = gnutls_x509_crt_get_subject_alt_name(crt, i, have, &sz,
		    NULL);
		if (type == GNUTLS_E_SHORT_MEMORY_BUFFER)
			continue;
		if (type < 0)
			return false;
		if (type != GNUTLS_SAN_DNSNAME || sz != strlen(have))
			continue;	/* embedded NUL: never equal */
		if (sz > 0 && have[sz - 1] == '.')
			have[--sz] = '\0';
		if (strcasecmp(have, want) == 0)
			return true;
	}
}

static bool
cert_has_ip(gnutls_x509_crt_t crt, const void *addr, size_t len)
{
	uint8_t have[16];
	unsigned int i;
	size_t sz;
	int type;

	for (i = 0;; i++) {
		sz = sizeof(have);
		type = gnutls_x509_crt_get_subject_alt_name(crt, i, have, &sz,
		    NULL);
		if (type == GNUTLS_E_SHORT_MEMORY_BUFFER)
			continue;
		if (type < 0)
			return false;
		if (type == GNUTLS_SAN_IPADDRESS && sz == len &&
		    memcmp(have, addr, len) == 0)
			return true;
	}
}

int
cert_info(gnutls_x509_crt_t crt, struct cert_info *info)
{
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t dn = { NULL, 0 };
	unsigned int ca = 0, i;
	uint8_t buf[CERT_FQDN_MAX + 2];
	size_t sz;
	int type;

	memset(info, 0, sizeof(*info));
	info->role = cert_role_of(crt);
	if (gnutls_pubkey_init(&pub) == 0 &&
	    gnutls_pubkey_import_x509(pub, crt, 0) == 0)
		info->keytype = cert_key_type(pub);
	gnutls_pubkey_deinit(pub);
	if (gnutls_x509_crt_get_basic_constraints(crt, NULL, &ca, NULL) >= 0)
		info->is_ca = ca != 0;
	if (gnutls_x509_crt_get_dn3(crt, &dn, 0) == 0) {
		snprintf(info->subject, sizeof(info->subject), "%.*s",
		    (int)dn.size, dn.data);
		gnutls_free(dn.data);
	}
	for (i = 0;; i++) {
		sz = sizeof(buf) - 1;
		type = gnutls_x509_crt_get_subject_alt_name(crt, i, buf, &sz,
		    NULL);
		if (type == GNUTLS_E_SHORT_MEMORY_BUFFER)
			continue;
		if (type < 0)
			break;
		if (type == GNUTLS_SAN_DNSNAME) {
			if (info->ndns++ == 0 && sz < sizeof(info->fqdn))
				snprintf(info->fqdn, sizeof(info->fqdn),
				    "%.*s", (int)sz, (char *)buf);
		} else if (type == GNUTLS_SAN_IPADDRESS) {
			info->nip++;
			if (sz == 4 && !info->has_vip4) {
				info->has_vip4 = true;
				memcpy(&info->vip4, buf, 4);
			} else if (sz == 16 && !info->has_vip6) {
				info->has_vip6 = true;
				memcpy(&info->vip6, buf, 16);
			}
		}
	}
	sz = sizeof(info->serial);
	if (gnutls_x509_crt_get_serial(crt, info->serial, &sz) < 0)
		return CERT_E_PARSE;
	info->serial_len = sz;
	info->not_before = gnutls_x509_crt_get_activation_time(crt);
	info->not_after = gnutls_x509_crt_get_expiration_time(crt);
	return 0;
}

/* ---- verification ---- */

struct cert_trust {
	gnutls_x509_trust_list_t tl;
};

static int
cert_dup(gnutls_x509_crt_t in, gnutls_x509_crt_t *out)
{
	gnutls_datum_t der = { NULL, 0 };
	int rv = 0;

	if (gnutls_x509_crt_init(out) < 0)
		return -ENOMEM;
	if (gnutls_x509_crt_export2(in, GNUTLS_X509_FMT_DER, &der) < 0 ||
	    gnutls_x509_crt_import(*out, &der, GNUTLS_X509_FMT_DER) < 0) {
		gnutls_x509_crt_deinit(*out);
		*out = NULL;
		rv = CERT_E_GNUTLS;
	}
	gnutls_free(der.data);
	return rv;
}

int
cert_trust_new(const gnutls_x509_crt_t *roots, size_t n,
    struct cert_trust **out)
{
	struct cert_trust *t;
	gnutls_x509_crt_t c;
	size_t i;
	int rv;

	*out = NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return -ENOMEM;
	if (gnutls_x509_trust_list_init(&t->tl, 0) < 0) {
		free(t);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		if ((rv = cert_dup(roots[i], &c)) < 0)
			goto fail;
		/* The list owns c from here on. */
		if (gnutls_x509_trust_list_add_cas(t->tl, &c, 1, 0) != 1) {
			gnutls_x509_crt_deinit(c);
			rv = CERT_E_GNUTLS;
			goto fail;
		}
	}
	*out = t;
	return 0;
fail:
	cert_trust_free(t);
	return rv;
}

void
cert_trust_free(struct cert_trust *t)
{
	if (t == NULL)
		return;
	gnutls_x509_trust_list_deinit(t->tl, 1);
	free(t);
}

static int
cert_dates(gnutls_x509_crt_t crt, time_t now)
{
	if (now < gnutls_x509_crt_get_activation_time(crt))
		return CERT_E_NOT_YET_VALID;
	if (now > gnutls_x509_crt_get_expiration_time(crt))
		return CERT_E_EXPIRED;
	return 0;
}

int
cert_verify(const struct cert_trust *t, gnutls_x509_crt_t leaf,
    gnutls_x509_crt_t intermediate, const struct cert_expect *ex,
    time_t now)
{
	gnutls_x509_crt_t chain[2], root = NULL;
	gnutls_typed_vdata_st vd;
	unsigned int status = 0, nvd = 0, n = 1;
	const char *oid;
	int rv;

	/*
	 * Leaves come only from the AS CA: its certificate must be there and
	 * must be the leaf's issuer (GnuTLS would otherwise skip a useless
	 * chain member and accept a leaf signed by the root itself).
	 */
	if (intermediate == NULL ||
	    !gnutls_x509_crt_check_issuer(leaf, intermediate))
		return CERT_E_CHAIN;
	chain[0] = leaf;
	chain[n++] = intermediate;
	if ((oid = cert_role_oid(ex->role)) != NULL) {
		vd.type = GNUTLS_DT_KEY_PURPOSE_OID;
		vd.data = (unsigned char *)oid;
		vd.size = 0;
		nvd = 1;
	}
	rv = gnutls_x509_trust_list_verify_crt2(t->tl, chain, n,
	    nvd ? &vd : NULL, nvd, GNUTLS_VERIFY_DISABLE_TIME_CHECKS |
	    GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS, &status, NULL);
	if (rv < 0)
		return CERT_E_GNUTLS;
	if (status & (GNUTLS_CERT_SIGNER_NOT_FOUND | GNUTLS_CERT_SIGNER_NOT_CA |
	    GNUTLS_CERT_INSECURE_ALGORITHM | GNUTLS_CERT_REVOKED))
		return CERT_E_CHAIN;
	if (status & GNUTLS_CERT_SIGNATURE_FAILURE)
		return CERT_E_SIGNATURE;
	if (status & GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE)
		return CERT_E_CONSTRAINTS;
	if (status & GNUTLS_CERT_PURPOSE_MISMATCH)
		return CERT_E_ROLE;
	if (status != 0)
		return CERT_E_CHAIN;
	/* Dates against the injected clock: leaf, intermediate, root. */
	if ((rv = cert_dates(leaf, now)) < 0)
		return rv;
	if ((rv = cert_dates(intermediate, now)) < 0)
		return rv;
	if (gnutls_x509_trust_list_get_issuer(t->tl, chain[n - 1], &root,
	    0) == 0 && (rv = cert_dates(root, now)) < 0)
		return rv;
	/* GnuTLS accepts a role among others; we want exactly one. */
	if (ex->role != CERT_ROLE_INVALID && cert_role_of(leaf) != ex->role)
		return CERT_E_ROLE;
	if (ex->fqdn != NULL && !cert_has_dns(leaf, ex->fqdn))
		return CERT_E_FQDN;
	if (ex->vip4 != NULL && !cert_has_ip(leaf, ex->vip4, 4))
		return CERT_E_VIP;
	if (ex->vip6 != NULL && !cert_has_ip(leaf, ex->vip6, 16))
		return CERT_E_VIP;
	return 0;
}

/* ---- PKCS#10 requests from nodes ---- */

/* One name asked for: valid LDH, equal to what was asked before. */
static int
cert_csr_name(const char *asked, size_t len, char *want, size_t wantlen)
{
	char name[CERT_FQDN_MAX + 1];

	if (len != strlen(asked) || !cert_name_norm(asked, name,
	    sizeof(name)) || !cert_name_valid(name))
		return CERT_E_CSR_NAME;
	if (want[0] == '\0')
		snprintf(want, wantlen, "%s", name);
	else if (strcmp(name, want) != 0)
		return CERT_E_CSR_NAME;
	return 0;
}

static int
cert_csr_names(gnutls_x509_crq_t crq, const char *fqdn)
{
	char buf[CERT_FQDN_MAX + 2], oid[128], want[CERT_FQDN_MAX + 1] = "";
	unsigned int i, type, critical;
	size_t sz;
	int rv;

	if (fqdn != NULL && (!cert_name_norm(fqdn, want, sizeof(want)) ||
	    !cert_name_valid(want)))
		return CERT_E_REQUEST;
	/* Subject: nothing, or one CN. */
	for (i = 0;; i++) {
		sz = sizeof(oid);
		rv = gnutls_x509_crq_get_dn_oid(crq, i, oid, &sz);
		if (rv == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (rv < 0 || strcmp(oid, GNUTLS_OID_X520_COMMON_NAME) != 0)
			return CERT_E_CSR_NAME;
	}
	sz = sizeof(buf);
	rv = gnutls_x509_crq_get_dn_by_oid(crq, GNUTLS_OID_X520_COMMON_NAME,
	    1, 0, buf, &sz);
	if (rv != GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
		return CERT_E_CSR_NAME;		/* two CNs */
	sz = sizeof(buf);
	rv = gnutls_x509_crq_get_dn_by_oid(crq, GNUTLS_OID_X520_COMMON_NAME,
	    0, 0, buf, &sz);
	if (rv == 0) {
		if ((rv = cert_csr_name(buf, sz, want, sizeof(want))) < 0)
			return rv;
	} else if (rv != GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
		return CERT_E_CSR_NAME;
	/* SAN: only dNSName equal to the name. */
	for (i = 0;; i++) {
		sz = sizeof(buf);
		rv = gnutls_x509_crq_get_subject_alt_name(crq, i, buf, &sz,
		    &type, &critical);
		if (rv == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (rv < 0 || type != GNUTLS_SAN_DNSNAME)
			return CERT_E_CSR_NAME;
		if ((rv = cert_csr_name(buf, sz, want, sizeof(want))) < 0)
			return rv;
	}
	return 0;
}

/*
 * Extensions a node may send because common tools add them; none of them is
 * copied.  Anything else, and any of these asking for more than a leaf's
 * signing key, is refused.
 */
static int
cert_csr_extensions(gnutls_x509_crq_t crq)
{
	unsigned int i, critical, ca, usage;
	char oid[128];
	size_t sz;
	int rv, pathlen;

	for (i = 0;; i++) {
		sz = sizeof(oid);
		rv = gnutls_x509_crq_get_extension_info(crq, i, oid, &sz,
		    &critical);
		if (rv == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			return 0;
		if (rv < 0)
			return CERT_E_PARSE;
		if (strcmp(oid, "2.5.29.17") == 0 ||	/* subjectAltName */
		    strcmp(oid, "2.5.29.14") == 0)	/* subjectKeyId */
			continue;
		/* basicConstraints */
		if (strcmp(oid, "2.5.29.19") == 0) {
			ca = 0;
			if (gnutls_x509_crq_get_basic_constraints(crq, NULL,
			    &ca, &pathlen) < 0 || ca)
				return CERT_E_CSR_EXTENSION;
			continue;
		}
		if (strcmp(oid, "2.5.29.15") == 0) {	/* keyUsage */
			usage = 0;
			if (gnutls_x509_crq_get_key_usage(crq, &usage,
			    NULL) < 0 || (usage & ~(unsigned int)(
			    GNUTLS_KEY_DIGITAL_SIGNATURE |
			    GNUTLS_KEY_KEY_ENCIPHERMENT)) != 0)
				return CERT_E_CSR_EXTENSION;
			continue;
		}
		return CERT_E_CSR_EXTENSION;
	}
}

int
cert_csr_check(gnutls_x509_crq_t crq, const char *fqdn,
    gnutls_pubkey_t *pubkey)
{
	gnutls_pubkey_t pub = NULL;
	int rv;

	*pubkey = NULL;
	if (gnutls_x509_crq_verify(crq, 0) < 0)
		return CERT_E_CSR_SIGNATURE;
	if (gnutls_pubkey_init(&pub) < 0)
		return -ENOMEM;
	if (gnutls_pubkey_import_x509_crq(pub, crq, 0) < 0) {
		rv = CERT_E_PARSE;
		goto out;
	}
	if (cert_key_type(pub) == CERT_KEY_INVALID) {
		rv = CERT_E_KEY_TYPE;
		goto out;
	}
	if ((rv = cert_csr_extensions(crq)) < 0 ||
	    (rv = cert_csr_names(crq, fqdn)) < 0)
		goto out;
	*pubkey = pub;
	pub = NULL;
out:
	gnutls_pubkey_deinit(pub);
	return rv;
}
