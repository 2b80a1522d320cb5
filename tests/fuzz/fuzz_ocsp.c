/* fuzz_ocsp.c -- libFuzzer target: OCSP responses through ocsp_verify. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>

#include "cert.h"
#include "log.h"
#include "ocsp.h"
#include "rand.h"

#include "../testca.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/*
 * Input: one control byte, then the body.
 *
 *   bit  7   6 5   4 3 2   1 0
 *       cert  seen  clock   mode
 *
 * mode 0, 1: the body is a DER OCSPResponse, checked with ocsp_verify
 * against the fixed AS CA for certificate `cert` (0 alice, 1 bob) at the
 * clock fz_clock[clock], with newest_seen fz_seen[seen].
 * mode 2: the body describes a status (fz_sign); ocsp_sign makes the
 * response and ocsp_verify must say exactly what the status said.
 * mode 3: the body is the DER tbsResponseData; it is signed here with the
 * AS key and wrapped (fz_wrap), so mutations of the signed part reach the
 * checks after the signature; then as mode 0.
 *
 * The AS key is fixed below and the certificates are issued from a seeded
 * generator at a fixed time, so their CertIDs (issuer name and key hash,
 * serial) are the same in every run: signed responses in the corpus keep
 * verifying.  The root and node keys are fresh each run; no CertID
 * depends on them.
 */
#define FZ_NOW	((time_t)1795000000)

static const char fz_as_key_pem[] =
    "-----BEGIN EC PRIVATE KEY-----\n"
    "MHcCAQEEIEJlose7Z7OLCyAEvjdCOpyMcI3TqIN9RJTY79gUQg/KoAoGCCqGSM49\n"
    "AwEHoUQDQgAESl/3sJQvapINCJyuKNgRWGjvPtKtZhlbWR+f5RYa3qRYcZy7mcQ7\n"
    "ep3eidbwxrGmEfLxtaFLHIcCZX44vHSc6A==\n"
    "-----END EC PRIVATE KEY-----\n";

static const time_t fz_clock[8] = {
	0, -OCSP_SKEW - 1, OCSP_SKEW, OCSP_VALIDITY_DEFAULT,
	OCSP_VALIDITY_DEFAULT + OCSP_SKEW + 1, -86400, 8 * 86400, 3600,
};
static const time_t fz_seen[4] = { 0, -60, 0, 3600 };	/* [2]: now */

struct fz_state {
	struct cert_ca		 ca;
	gnutls_privkey_t	 other_key, node_key;
	gnutls_pubkey_t		 node_pub;
	gnutls_x509_crt_t	 cert[2];
	uint8_t			 serial[2][32];
	size_t			 serial_len[2];
	struct ocsp_signer	*signer;
};

static struct fz_state	fz;

static void fz_fail(const char *) __attribute__((noreturn));

static void
fz_fail(const char *what)
{
	fprintf(stderr, "fuzz_ocsp: %s\n", what);
	abort();
}

static gnutls_x509_crt_t
fz_node(struct ntm_rng *rng, const char *fqdn, const char *v4)
{
	const struct testca_leaf l = { .fqdn = fqdn, .vip4 = v4,
	    .pubkey = fz.node_pub };
	gnutls_x509_crt_t crt;

	if (testca_issue(&fz.ca, &l, rng, FZ_NOW - 3600, NULL, &crt) < 0)
		fz_fail("testca_issue");
	return crt;
}

/* The trust setup every input is checked against, made on the first call. */
static void
fz_init(void)
{
	const struct testca_opts opts = { .as_key_pem = fz_as_key_pem };
	struct ntm_rng *rng;
	int i;

	log_init("fuzz_ocsp", 1, LOG_LEVEL_ERR);
	rng = rng_seeded_new("fuzz_ocsp", 9);
	if (rng == NULL ||
	    testca_make(&fz.ca, &opts, rng, FZ_NOW - 86400) < 0 ||
	    cert_key_generate(CERT_KEY_P256, &fz.other_key) < 0 ||
	    cert_key_generate(CERT_KEY_P256, &fz.node_key) < 0 ||
	    cert_pubkey_of(fz.node_key, &fz.node_pub) < 0)
		fz_fail("keys, root and AS CA");
	fz.cert[0] = fz_node(rng, "alice.dc1.ntm.test", "198.18.1.10");
	fz.cert[1] = fz_node(rng, "bob.dc2.ntm.test", "198.18.2.10");
	for (i = 0; i < 2; i++) {
		fz.serial_len[i] = sizeof(fz.serial[i]);
		if (gnutls_x509_crt_get_serial(fz.cert[i], fz.serial[i],
		    &fz.serial_len[i]) < 0)
			fz_fail("serial");
	}
	if (ocsp_signer_new(fz.ca.as, &fz.signer) < 0)
		fz_fail("ocsp_signer_new");
	rng_free(rng);
}

static bool
fz_known_error(int rv)
{
	return rv == -ENOMEM || (rv >= OCSP_E_FIRST && rv <= OCSP_E_LAST);
}

/* What ocsp_verify promises about a response it accepted or called revoked. */
static void
fz_check_result(int rv, const struct ocsp_result *res, time_t now,
    time_t seen)
{
	if (rv != 0 && !fz_known_error(rv))
		fz_fail("ocsp_verify: unexpected return value");
	if (strlen(ocsp_strerror(rv)) == 0)
		fz_fail("ocsp_strerror: empty");
	if (rv == 0) {
		if (res->status != OCSP_CERT_GOOD)
			fz_fail("accepted, but not good");
		if (res->this_update > now + OCSP_SKEW)
			fz_fail("accepted a response from the future");
		if (res->next_update < now - OCSP_SKEW)
			fz_fail("accepted an expired response");
		if (res->this_update < seen)
			fz_fail("accepted a response older than one seen");
	} else if (rv == OCSP_E_REVOKED) {
		if (res->status != OCSP_CERT_REVOKED)
			fz_fail("revoked, but the result says otherwise");
	} else if (res->status != OCSP_CERT_INVALID &&
	    res->status != OCSP_CERT_GOOD)
		fz_fail("refused with a status filled in");
}

static void
fz_raw(const uint8_t *body, size_t len, int which, time_t now, time_t seen)
{
	gnutls_datum_t der = { (unsigned char *)body, (unsigned int)len };
	struct ocsp_result res, res2;
	int rv, rv2;

	rv = ocsp_verify(&der, fz.ca.as, fz.cert[which], now, seen, &res);
	fz_check_result(rv, &res, now, seen);
	if (rv != 0 && rv != OCSP_E_REVOKED)
		return;
	/* A response speaks for one certificate only. */
	rv2 = ocsp_verify(&der, fz.ca.as, fz.cert[!which], now, seen, &res2);
	if (rv2 != OCSP_E_CERT_MISMATCH)
		fz_fail("a response is valid for two certificates");
	/* And only under the CA that signed it. */
	rv2 = ocsp_verify(&der, fz.ca.root, fz.cert[which], now, seen, &res2);
	if (rv2 != OCSP_E_SIGNATURE)
		fz_fail("a response verifies under the root too");
}

/* Size of a DER TLV whose contents are len bytes (len < 2^24). */
static size_t
fz_tlv_len(size_t len)
{
	return 2 + len + (len < 0x80 ? 0 : len < 0x100 ? 1 : len < 0x10000 ?
	    2 : 3);
}

/* Writes a DER tag and length at p; returns the end of what it wrote. */
static uint8_t *
fz_der_hdr(uint8_t *p, uint8_t tag, size_t len)
{
	size_t n = fz_tlv_len(len) - len - 2;

	*p++ = tag;
	if (n == 0)
		*p++ = (uint8_t)len;
	else {
		*p++ = (uint8_t)(0x80 | n);
		while (n-- > 0)
			*p++ = (uint8_t)(len >> (8 * n));
	}
	return p;
}

/*
 * OCSPResponse { successful, [0] { id-pkix-ocsp-basic, OCTET STRING
 * BasicOCSPResponse { tbs, ecdsa-with-SHA256, BIT STRING signature } } }
 * with tbs signed by the AS key.  Returns its length, 0 if cap is short.
 */
static size_t
fz_wrap(const uint8_t *tbs, size_t tbslen, uint8_t *out, size_t cap)
{
	static const uint8_t alg[] = { 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
	    0x48, 0xce, 0x3d, 0x04, 0x03, 0x02 };
	static const uint8_t basic_oid[] = { 0x06, 0x09, 0x2b, 0x06, 0x01,
	    0x05, 0x05, 0x07, 0x30, 0x01, 0x01 };
	static const uint8_t status[] = { 0x0a, 0x01, 0x00 };
	gnutls_datum_t t = { (unsigned char *)tbs, (unsigned int)tbslen };
	gnutls_datum_t sig = { NULL, 0 };
	size_t basic, bytes, outer;
	uint8_t *p = out;

	if (gnutls_privkey_sign_data2(fz.ca.as_key, GNUTLS_SIGN_ECDSA_SHA256, 0,
	    &t, &sig) < 0)
		fz_fail("signing");
	/* Contents lengths, from the inside out. */
	basic = tbslen + sizeof(alg) + fz_tlv_len(1 + sig.size);
	bytes = sizeof(basic_oid) + fz_tlv_len(fz_tlv_len(basic));
	outer = sizeof(status) + fz_tlv_len(fz_tlv_len(bytes));
	if (fz_tlv_len(outer) > cap) {
		gnutls_free(sig.data);
		return 0;
	}
	p = fz_der_hdr(p, 0x30, outer);
	memcpy(p, status, sizeof(status));
	p += sizeof(status);
	p = fz_der_hdr(p, 0xa0, fz_tlv_len(bytes));
	p = fz_der_hdr(p, 0x30, bytes);
	memcpy(p, basic_oid, sizeof(basic_oid));
	p += sizeof(basic_oid);
	p = fz_der_hdr(p, 0x04, fz_tlv_len(basic));
	p = fz_der_hdr(p, 0x30, basic);
	memcpy(p, tbs, tbslen);
	p += tbslen;
	memcpy(p, alg, sizeof(alg));
	p += sizeof(alg);
	p = fz_der_hdr(p, 0x03, 1 + sig.size);
	*p++ = 0;
	memcpy(p, sig.data, sig.size);
	p += sig.size;
	gnutls_free(sig.data);
	return (size_t)(p - out);
}

/* mode 3: a tbsResponseData, signed and wrapped here, then as mode 0. */
static void
fz_tbs(const uint8_t *body, size_t len, int which, time_t now, time_t seen)
{
	uint8_t *der;
	size_t n, cap = len + 256;

	if (len > 65536)
		return;
	if ((der = malloc(cap)) == NULL)
		fz_fail("malloc");
	if ((n = fz_wrap(body, len, der, cap)) == 0)
		fz_fail("wrapping");
	fz_raw(der, n, which, now, seen);
	free(der);
}

/* Bytes read from the front of the body; zeros once it runs out. */
struct fz_in {
	const uint8_t	*p;
	size_t		 len;
};

static uint8_t
fz_u8(struct fz_in *in)
{
	uint8_t v = 0;

	if (in->len > 0) {
		v = *in->p++;
		in->len--;
	}
	return v;
}

static int32_t
fz_i16(struct fz_in *in)
{
	uint16_t v = (uint16_t)(fz_u8(in) << 8);

	v |= fz_u8(in);
	return (int16_t)v;
}

/*
 * Body of mode 2: flags (bit 0 revoked, bit 1 another signing key, bit 2
 * own serial bytes), reason, then signed 16-bit offsets from FZ_NOW in
 * units of 8 s: producedAt, thisUpdate, validity (s, any sign),
 * revocationTime; with bit 2, a length byte and the serial.
 */
static void
fz_sign(const uint8_t *body, size_t len, int which, time_t now, time_t seen)
{
	struct fz_in in = { body, len };
	struct ocsp_status st;
	struct ocsp_result res;
	gnutls_datum_t der = { NULL, 0 };
	uint8_t flags, serial[32];
	const uint8_t *sp;
	size_t slen;
	bool other_key, same_serial;
	int rv, want;

	flags = fz_u8(&in);
	memset(&st, 0, sizeof(st));
	st.status = (flags & 1) ? OCSP_CERT_REVOKED : OCSP_CERT_GOOD;
	st.reason = (enum ocsp_reason)fz_u8(&in);
	st.produced_at = FZ_NOW + 8 * (time_t)fz_i16(&in);
	st.this_update = FZ_NOW + 8 * (time_t)fz_i16(&in);
	st.next_update = st.this_update + fz_i16(&in);
	st.revocation_time = FZ_NOW + 8 * (time_t)fz_i16(&in);
	other_key = (flags & 2) != 0;
	sp = fz.serial[which];
	slen = fz.serial_len[which];
	if (flags & 4) {
		slen = fz_u8(&in) % (sizeof(serial) + 1);
		memset(serial, 0, sizeof(serial));
		memcpy(serial, in.p, slen < in.len ? slen : in.len);
		sp = serial;
	}
	rv = ocsp_sign(fz.signer, other_key ? fz.other_key : fz.ca.as_key, sp,
	    slen, &st, &der);
	if (rv < 0) {
		/* Only a status ocsp_sign documents as wrong is refused. */
		bool bad = slen == 0 || slen > OCSP_SERIAL_MAX ||
		    st.next_update <= st.this_update ||
		    st.next_update - st.this_update > OCSP_VALIDITY_MAX ||
		    (st.status == OCSP_CERT_REVOKED &&
		    strcmp(ocsp_reason_name(st.reason), "none") == 0);

		if (rv != -EINVAL || !bad)
			fz_fail("ocsp_sign refused a valid status");
		return;
	}
	same_serial = slen == fz.serial_len[which] &&
	    memcmp(sp, fz.serial[which], slen) == 0;
	/* What ocsp_verify must answer, in the order it checks. */
	if (other_key)
		want = OCSP_E_SIGNATURE;
	else if (!same_serial)
		want = OCSP_E_CERT_MISMATCH;
	else if (st.status == OCSP_CERT_REVOKED)
		want = OCSP_E_REVOKED;
	else if (st.this_update > now + OCSP_SKEW)
		want = OCSP_E_NOT_YET_VALID;
	else if (st.next_update < now - OCSP_SKEW)
		want = OCSP_E_EXPIRED;
	else if (st.this_update < seen)
		want = OCSP_E_STALE;
	else
		want = 0;
	rv = ocsp_verify(&der, fz.ca.as, fz.cert[which], now, seen, &res);
	if (rv != want) {
		fprintf(stderr, "fuzz_ocsp: want %s, got %s\n",
		    ocsp_strerror(want), ocsp_strerror(rv));
		fz_fail("ocsp_verify disagrees with the status signed");
	}
	fz_check_result(rv, &res, now, seen);
	if (want == 0 || want == OCSP_E_REVOKED) {
		if (res.this_update != st.this_update ||
		    res.next_update != st.next_update)
			fz_fail("dates changed between sign and verify");
		if (want == OCSP_E_REVOKED &&
		    (res.revocation_time != st.revocation_time ||
		    res.reason != st.reason))
			fz_fail("revocation time or reason changed");
	}
	gnutls_free(der.data);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	time_t now, seen;
	int which, mode;

	if (!ready) {
		fz_init();
		ready = true;
	}
	if (size < 1)
		return 0;
	mode = data[0] & 3;
	now = FZ_NOW + fz_clock[(data[0] >> 2) & 7];
	seen = (data[0] >> 5) & 3;
	seen = seen == 0 ? 0 : seen == 2 ? now : FZ_NOW + fz_seen[seen];
	which = data[0] >> 7;
	if (mode == 2)
		fz_sign(data + 1, size - 1, which, now, seen);
	else if (mode == 3)
		fz_tbs(data + 1, size - 1, which, now, seen);
	else
		fz_raw(data + 1, size - 1, which, now, seen);
	return 0;
}

#ifdef FUZZ_CORPUS_GEN
/*
 * gen_ocsp_corpus DIR: writes the seed corpus (make pki-corpus).  Signed
 * responses are made here with the fixed AS key, so they verify in every
 * later run.
 */
static const char	*gen_dir;

static void
gen_write(const char *name, uint8_t ctl, const void *body, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", gen_dir, name);
	if ((f = fopen(path, "wb")) == NULL || fwrite(&ctl, 1, 1, f) != 1 ||
	    (len > 0 && fwrite(body, 1, len, f) != len) || fclose(f) != 0)
		fz_fail(path);
}

static void
gen_signed(const char *name, uint8_t ctl, gnutls_privkey_t key, int which,
    const struct ocsp_status *st)
{
	gnutls_datum_t der;

	if (ocsp_sign(fz.signer, key, fz.serial[which], fz.serial_len[which],
	    st, &der) < 0)
		fz_fail("ocsp_sign");
	gen_write(name, ctl, der.data, der.size);
	gnutls_free(der.data);
}

/* Reads a DER header at *p; returns the contents' length, *p at them. */
static size_t
gen_hdr(const uint8_t **p)
{
	size_t len = (*p)[1], n;

	*p += 2;
	if (len & 0x80) {
		n = len & 0x7f;
		for (len = 0; n > 0; n--)
			len = len << 8 | *(*p)++;
	}
	return len;
}

/* Mode-3 seed: the tbsResponseData of a response ocsp_sign made. */
static void
gen_tbs(const char *name, uint8_t ctl, int which,
    const struct ocsp_status *st)
{
	const uint8_t *p, *tbs;
	gnutls_datum_t der;
	size_t len;

	if (ocsp_sign(fz.signer, fz.ca.as_key, fz.serial[which],
	    fz.serial_len[which], st, &der) < 0)
		fz_fail("ocsp_sign");
	p = der.data;
	gen_hdr(&p);			/* OCSPResponse */
	p += gen_hdr(&p);		/* responseStatus */
	gen_hdr(&p);			/* [0] */
	gen_hdr(&p);			/* ResponseBytes */
	p += gen_hdr(&p);		/* responseType */
	gen_hdr(&p);			/* response OCTET STRING */
	gen_hdr(&p);			/* BasicOCSPResponse */
	tbs = p;
	len = gen_hdr(&p);
	gen_write(name, ctl, tbs, (size_t)(p - tbs) + len);
	gnutls_free(der.data);
}

int
main(int argc, char *argv[])
{
	static const uint8_t s_good[] = { 0, 0, 0, 0, 0, 0, 0x02, 0x58 };
	static const uint8_t s_rev[] = { 1, 1, 0, 0, 0, 0, 0x02, 0x58,
	    0xff, 0x00 };
	static const uint8_t s_rev0[] = { 1, 0, 0, 0, 0, 0, 0x02, 0x58 };
	static const uint8_t s_badreason[] = { 1, 7, 0, 0, 0, 0, 0x02, 0x58 };
	static const uint8_t s_long[] = { 0, 0, 0, 0, 0, 0, 0x0e, 0x11 };
	static const uint8_t s_other[] = { 2, 0, 0, 0, 0, 0, 0x02, 0x58 };
	static const uint8_t s_serial[] = { 4, 0, 0, 0, 0, 0, 0x02, 0x58,
	    0, 0, 0, 0x10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
	    15, 16 };
	static const uint8_t s_future[] = { 0, 0, 0, 0, 0x00, 0x40, 0x02,
	    0x58 };
	static const uint8_t junk[] = { 0x30, 0x03, 0x0a, 0x01, 0x01 };
	struct ocsp_status st;

	if (argc != 2) {
		fprintf(stderr, "usage: %s corpus-dir\n", argv[0]);
		return 2;
	}
	gen_dir = argv[1];
	fz_init();
	memset(&st, 0, sizeof(st));
	st.status = OCSP_CERT_GOOD;
	st.produced_at = st.this_update = FZ_NOW;
	st.next_update = FZ_NOW + OCSP_VALIDITY_DEFAULT;
	gen_signed("good-alice", 0x00, fz.ca.as_key, 0, &st);
	gen_signed("good-alice-seen-now", 0x40, fz.ca.as_key, 0, &st);
	gen_signed("good-alice-expired", 0x10, fz.ca.as_key, 0, &st);
	gen_signed("good-alice-day-early", 0x14, fz.ca.as_key, 0, &st);
	gen_signed("good-alice-asked-for-bob", 0x80, fz.ca.as_key, 0, &st);
	gen_signed("good-bob", 0x80, fz.ca.as_key, 1, &st);
	gen_signed("good-wrong-key", 0x00, fz.other_key, 0, &st);
	st.this_update = FZ_NOW - 3600;
	st.next_update = FZ_NOW - 3000;
	gen_signed("good-alice-old", 0x04, fz.ca.as_key, 0, &st);
	st.status = OCSP_CERT_REVOKED;
	st.revocation_time = FZ_NOW - 60;
	st.reason = OCSP_REASON_KEY_COMPROMISE;
	gen_signed("revoked-alice-old", 0x00, fz.ca.as_key, 0, &st);
	st.this_update = FZ_NOW;
	st.next_update = FZ_NOW + OCSP_VALIDITY_DEFAULT;
	st.reason = OCSP_REASON_UNSPECIFIED;
	gen_signed("revoked-alice-unspecified", 0x00, fz.ca.as_key, 0, &st);
	st.reason = OCSP_REASON_AA_COMPROMISE;
	gen_signed("revoked-bob-aa", 0x80, fz.ca.as_key, 1, &st);
	gen_tbs("tbs-revoked-alice", 0x03, 0, &st);
	st.status = OCSP_CERT_GOOD;
	gen_tbs("tbs-good-alice", 0x03, 0, &st);
	gen_tbs("tbs-good-alice-for-bob", 0x83, 0, &st);
	gen_write("junk-unsuccessful", 0x00, junk, sizeof(junk));
	gen_write("empty", 0x00, NULL, 0);
	gen_write("sign-good", 0x02, s_good, sizeof(s_good));
	gen_write("sign-good-bob-seen-later", 0xe2, s_good, sizeof(s_good));
	gen_write("sign-revoked", 0x02, s_rev, sizeof(s_rev));
	gen_write("sign-revoked-unspecified", 0x02, s_rev0, sizeof(s_rev0));
	gen_write("sign-bad-reason", 0x02, s_badreason, sizeof(s_badreason));
	gen_write("sign-too-long", 0x02, s_long, sizeof(s_long));
	gen_write("sign-other-key", 0x02, s_other, sizeof(s_other));
	gen_write("sign-own-serial", 0x02, s_serial, sizeof(s_serial));
	gen_write("sign-future", 0x0a, s_future, sizeof(s_future));
	return 0;
}
#endif
