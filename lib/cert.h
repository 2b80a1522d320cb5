/* cert.h -- X.509 keys, PEM files, issuance, CSR checks and chain checks. */
#ifndef NTM_CERT_H
#define NTM_CERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <netinet/in.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>

struct ntm_rng;

/*
 * Private OID arc of ntmobile (doc/PKI.md).  It is Microsoft's documented
 * registration-free arc for OIDs derived from a GUID, 1.2.840.113556.1.8000.
 * 2554 followed by the GUID b780419d-0130-4be5-9949-924899814e86 cut into
 * 16, 16, 24, 24, 24, 24 bits.  The usual 2.25.<uuid> arc cannot be used:
 * libtasn1 (so GnuTLS) truncates OID arcs above 2^63-1 without an error.
 */
#define NTM_OID_ARC \
	"1.2.840.113556.1.8000.2554.46976.16797.77899.15046985.9586841.8474246"
#define NTM_OID_ROLE_ARC	NTM_OID_ARC ".1"
#define NTM_OID_ROLE_NODE	NTM_OID_ROLE_ARC ".1"	/* ntm-node */
#define NTM_OID_ROLE_DC		NTM_OID_ROLE_ARC ".2"	/* ntm-dc */
#define NTM_OID_ROLE_RS		NTM_OID_ROLE_ARC ".3"	/* ntm-rs */
#define NTM_OID_ROLE_AS		NTM_OID_ROLE_ARC ".4"	/* ntm-as */

/* The one role every leaf certificate carries as its extended key usage. */
enum cert_role {
	CERT_ROLE_INVALID = 0,
	CERT_ROLE_NODE,
	CERT_ROLE_DC,
	CERT_ROLE_RS,
	CERT_ROLE_AS,
};

enum cert_keytype {
	CERT_KEY_INVALID = 0,
	CERT_KEY_P256,		/* ECDSA on secp256r1, the default */
	CERT_KEY_RSA2048,	/* for the `rsa` key-exchange scheme */
};

enum cert_limits {
	CERT_SERIAL_LEN = 16,		/* serial bytes, top bit clear */
	CERT_KEYHASH_LEN = 20,		/* SHA-1 key identifiers */
	CERT_FQDN_MAX = 253,
	CERT_ZONES_MAX = 32,		/* SAN dNSNames per certificate */
	CERT_ADDRS_MAX = 8,		/* SAN iPAddresses of a server */
	CERT_BACKDATE = 300,		/* notBefore = issue - 5 min */
	CERT_NODE_LIFETIME = 7 * 86400,
	CERT_SERVER_LIFETIME = 365 * 86400,
	CERT_AS_LIFETIME = 5 * 365 * 86400,
	CERT_ROOT_LIFETIME = 20 * 365 * 86400,
};

/*
 * Errors of this module, each naming the check that failed.  Functions return
 * 0, one of these, or a negative errno; cert_strerror() describes either.
 */
enum cert_error {
	CERT_E_FIRST = -1100,
	CERT_E_KEY_PERMS = CERT_E_FIRST, /* key file mode & 077 */
	CERT_E_KEY_TYPE,		/* not P-256 or RSA-2048 */
	CERT_E_PARSE,			/* not a certificate / key / CSR */
	CERT_E_GNUTLS,			/* another GnuTLS failure */
	CERT_E_REQUEST,			/* bad issuance request fields */
	CERT_E_CHAIN,			/* no chain to a trusted root */
	CERT_E_SIGNATURE,		/* a signature in the chain is bad */
	CERT_E_CONSTRAINTS,		/* basic/name constraints broken */
	CERT_E_EXPIRED,			/* now > notAfter, any cert */
	CERT_E_NOT_YET_VALID,		/* now before notBefore */
	CERT_E_ROLE,			/* not exactly the expected role */
	CERT_E_FQDN,			/* no SAN dNSName is the FQDN */
	CERT_E_VIP,			/* no SAN iPAddress is the vIP */
	CERT_E_CSR_SIGNATURE,		/* CSR self-signature is bad */
	CERT_E_CSR_EXTENSION,		/* CSR asks for an extension */
	CERT_E_CSR_NAME,		/* CSR names something not allowed */
	CERT_E_LAST = CERT_E_CSR_NAME,
};

/*
 * What a certificate is issued from.  Only these typed fields reach the
 * certificate; nothing is copied from a CSR.  Pointers are borrowed for the
 * call.  Node certificates need fqdn and a vip4 and/or vip6; DC certificates
 * list their zones (forward and reverse), SAN dNSNames after the fqdn;
 * servers may add their own addresses (addrs) as SAN iPAddresses.
 */
struct cert_addr {
	int		 family;	/* AF_INET or AF_INET6 */
	uint8_t		 addr[16];
};

struct cert_request {
	enum cert_role		 role;
	const char		*fqdn;
	const char *const	*zones;
	size_t			 nzones;
	bool			 has_vip4;
	struct in_addr		 vip4;
	bool			 has_vip6;
	struct in6_addr		 vip6;
	const struct cert_addr	*addrs;
	size_t			 naddrs;
	uint32_t		 lifetime;	/* s; 0 = role default */
	gnutls_pubkey_t		 pubkey;
};

/* A prefix in nameConstraints or a virtual range. */
struct cert_prefix {
	int		 family;
	uint8_t		 addr[16];
	unsigned int	 plen;
};

/* The AS intermediate: domain and virtual ranges become nameConstraints. */
struct cert_ca_request {
	const char		*domain;	/* e.g. "ntm.test" */
	struct cert_prefix	 vrange4;
	struct cert_prefix	 vrange6;
	const struct cert_prefix *extra;	/* more permitted IP ranges */
	size_t			 nextra;	/* (server addresses) */
	uint32_t		 lifetime;
	gnutls_pubkey_t		 pubkey;
};

/* Issuer certificate and its key (borrowed; the key may be external). */
struct cert_issuer {
	gnutls_x509_crt_t	 crt;
	gnutls_privkey_t	 key;
};

/* What cert_verify() expects of a leaf; NULL / false fields are not checked. */
struct cert_expect {
	enum cert_role		 role;
	const char		*fqdn;
	const struct in_addr	*vip4;
	const struct in6_addr	*vip6;
};

/* Identity read back from a certificate (cert_info). */
struct cert_info {
	enum cert_role	 role;
	enum cert_keytype keytype;
	bool		 is_ca;
	char		 subject[256];
	char		 fqdn[CERT_FQDN_MAX + 1]; /* first SAN dNSName */
	size_t		 ndns;		/* SAN dNSNames in total */
	bool		 has_vip4;
	struct in_addr	 vip4;			/* first IPv4 SAN */
	bool		 has_vip6;
	struct in6_addr	 vip6;		/* first IPv6 SAN */
	size_t		 nip;
	uint8_t		 serial[CERT_SERIAL_LEN + 1];
	size_t		 serial_len;
	time_t		 not_before;
	time_t		 not_after;
};

struct cert_trust;

const char	*cert_strerror(int err);
const char	*cert_role_name(enum cert_role);	/* "ntm-node", ... */
const char	*cert_role_oid(enum cert_role);
/* Accepts "node" or "ntm-node" and so on. */
enum cert_role	 cert_role_parse(const char *);

/* Keys.  *out is the caller's (gnutls_privkey_deinit). */
int	 cert_key_generate(enum cert_keytype, gnutls_privkey_t *out);
enum cert_keytype cert_key_type(gnutls_pubkey_t);
/*
 * Writes the key as PKCS#8 PEM to a new file created 0600 (refuses to
 * replace an existing file: -EEXIST).  cert_key_read refuses a file whose
 * mode grants any group or world access (CERT_E_KEY_PERMS) or is not a
 * regular file.
 */
int	 cert_key_write(const char *path, gnutls_privkey_t);
int	 cert_key_read(const char *path, gnutls_privkey_t *out);

/* Certificates as PEM files (0644).  cert_crt_write replaces the file. */
int	 cert_crt_write(const char *path, gnutls_x509_crt_t);
int	 cert_crt_read(const char *path, gnutls_x509_crt_t *out);
int	 cert_pubkey_of(gnutls_privkey_t, gnutls_pubkey_t *out);
/*
 * SHA-1 of the subjectPublicKey BIT STRING's bits (RFC 5280 key identifier
 * method 1): our subject key identifiers and the OCSP responder key hash.
 */
int	 cert_pubkey_hash(gnutls_pubkey_t, uint8_t out[CERT_KEYHASH_LEN]);

/*
 * Issuance.  `now` is the issue time; serials are 16 random bytes from rng
 * with the top bit clear and a non-zero first byte.  *out is the caller's.
 */
int	 cert_make_root(gnutls_privkey_t key, const char *domain,
	    uint32_t lifetime, struct ntm_rng *, time_t now,
	    gnutls_x509_crt_t *out);
int	 cert_make_as_ca(const struct cert_ca_request *,
	    const struct cert_issuer *root, struct ntm_rng *, time_t now,
	    gnutls_x509_crt_t *out);
int	 cert_issue(const struct cert_request *, const struct cert_issuer *,
	    struct ntm_rng *, time_t now, gnutls_x509_crt_t *out);

/*
 * A whole CA as `ntmctl ca init` makes it: a new P-256 root key and the
 * root for req->domain, then the AS intermediate of req (req->pubkey is not
 * read) under it, both issued at `now`, their serials drawn from rng in
 * that order.  The AS key is a new P-256 key, or as_key if not NULL, which
 * *out then owns, also when this fails.  On failure *out is all NULL.
 */
struct cert_ca {
	gnutls_privkey_t	 root_key;
	gnutls_x509_crt_t	 root;
	gnutls_privkey_t	 as_key;
	gnutls_x509_crt_t	 as;
};

int	 cert_ca_make(const struct cert_ca_request *, gnutls_privkey_t as_key,
	    struct ntm_rng *, time_t now, struct cert_ca *out);
/* Frees what ca holds and zeroes it; accepts NULL and a cleared one. */
void	 cert_ca_clear(struct cert_ca *);

/*
 * Checks a PKCS#10 request from a node that will be named `fqdn` (NULL: any
 * valid LDH name): signature valid (CERT_E_CSR_SIGNATURE), key P-256 or
 * RSA-2048 (CERT_E_KEY_TYPE), subject empty or only CN=fqdn and SAN, if any,
 * only dNSName fqdn (CERT_E_CSR_NAME), no other extension requested
 * (CERT_E_CSR_EXTENSION).  On success *pubkey (caller's) is the key to
 * certify.
 */
int	 cert_csr_check(gnutls_x509_crq_t, const char *fqdn,
	    gnutls_pubkey_t *pubkey);

/*
 * Verification against trusted roots (copied in; the caller keeps its own).
 * cert_verify checks, in this order: the chain leaf -> intermediate -> root
 * (GnuTLS, time checks disabled, role as key purpose), every chain member's
 * dates against `now`, exactly one ntmobile role equal to expect->role, FQDN
 * equality (lower-case, one trailing dot ignored) and virtual IP equality.
 * `intermediate` is the AS CA certificate and must be the leaf's issuer.
 */
int	 cert_trust_new(const gnutls_x509_crt_t *roots, size_t n,
	    struct cert_trust **out);
void	 cert_trust_free(struct cert_trust *);
int	 cert_verify(const struct cert_trust *, gnutls_x509_crt_t leaf,
	    gnutls_x509_crt_t intermediate, const struct cert_expect *,
	    time_t now);

/*
 * An issuing CA verified once (doc/SECURITY.md "What peer verification
 * caches"): the AS intermediate checked against the trust list (chain to a
 * root, CA with keyCertSign, the role as key purpose, no time checks), and
 * what checking a leaf under it needs kept parsed: its P-256 key as a
 * nettle point, raw subject name, key identifier, nameConstraints, its
 * dates and its root's.  Then cert_anchor_verify() gives the answer
 * cert_verify(trust, leaf, intermediate, {role}, now) gives, for one
 * ECDSA verification and one parse of the leaf's SAN and EKU:
 *
 *   cert_anchor_check   what does not depend on the clock: issuer name and
 *                       key identifier, leaf signature (CERT_E_SIGNATURE),
 *                       name constraints on every SAN (CERT_E_CONSTRAINTS),
 *                       the role among the key purposes (CERT_E_ROLE);
 *   cert_anchor_dates   leaf, intermediate, root dates against now;
 *   then                exactly one role, the expected one.
 *
 * Leaves outside the profile cert_issue() writes (another signature
 * algorithm, an extension other than basicConstraints, keyUsage, EKU, SAN
 * and key identifiers, a CA leaf, a SAN other than dNSName and iPAddress,
 * no dNSName, no EKU or anyExtendedKeyUsage, another issuer name or key
 * identifier), and every leaf when the intermediate itself does not verify
 * or has constraints other than dNSName/iPAddress (or its root any), give
 * -ENOTSUP: the caller uses cert_verify(), which GnuTLS decides.
 */
struct cert_anchor;

/* 0 and *out (caller frees), also when not usable; -ENOMEM, -EINVAL. */
int	 cert_anchor_new(const struct cert_trust *,
	    gnutls_x509_crt_t intermediate, enum cert_role role,
	    struct cert_anchor **out);
void	 cert_anchor_free(struct cert_anchor *);
/* false: the intermediate did not verify; every check is -ENOTSUP. */
bool	 cert_anchor_usable(const struct cert_anchor *);
/* der: the leaf's DER, as leaf was imported from.  0, CERT_E_*, -ENOTSUP. */
int	 cert_anchor_check(const struct cert_anchor *, gnutls_x509_crt_t leaf,
	    const uint8_t *der, size_t len);
/* 0, CERT_E_NOT_YET_VALID or CERT_E_EXPIRED, as cert_verify orders them. */
int	 cert_anchor_dates(const struct cert_anchor *, time_t leaf_not_before,
	    time_t leaf_not_after, time_t now);
/* The three steps above, in cert_verify's order. */
int	 cert_anchor_verify(const struct cert_anchor *, gnutls_x509_crt_t leaf,
	    const uint8_t *der, size_t len, time_t now);

/* Reads role, names, addresses, serial and dates from a certificate. */
int	 cert_info(gnutls_x509_crt_t, struct cert_info *);
/* Role of a certificate: exactly one ntmobile role EKU, else INVALID. */
enum cert_role cert_role_of(gnutls_x509_crt_t);
/* true when a SAN dNSName equals name (lower-case, trailing dot ignored). */
bool	 cert_has_dns(gnutls_x509_crt_t, const char *name);

/* Name helpers shared by issuance and the CLI. */
/* LDH labels of 1-63 bytes, at most 253 bytes, no trailing dot. */
bool	 cert_name_valid(const char *name);
int	 cert_prefix_parse(const char *cidr, struct cert_prefix *);
/*
 * The reverse DNS zones covering a prefix: in-addr.arpa on octet and
 * ip6.arpa on nibble boundaries, so a prefix that is not on a boundary
 * yields 2^k zones.  Writes at most `max` names of up to 74 bytes each
 * into names[i]; returns the count or -E2BIG.
 */
enum { CERT_REVZONE_MAX = 74 };
int	 cert_reverse_zones(const struct cert_prefix *,
	    char names[][CERT_REVZONE_MAX], size_t max);

#endif
