/* rsakem.c -- RSA-KEM: c = r^e mod n; r back by blinded rsa_compute_root_tr. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <nettle/bignum.h>

#include "crypto.h"
#include "rand.h"
#include "rsakem.h"

/*
 * Draws of r before giving up: each lands in [1, n) with odds of about one
 * half or better, so 128 misses in a row mean a broken generator.
 */
enum { RSAKEM_MAX_DRAWS = 128 };

/*
 * mpz_clear frees limbs without zeroing them; this wipes the whole
 * allocation first.  GMP's internal temporaries are not reachable and are
 * not wiped.
 */
static void
rsakem_mpz_clear(mpz_t x)
{
	if (x->_mp_alloc > 0)
		crypto_wipe(x->_mp_d, (size_t)x->_mp_alloc * sizeof(mp_limb_t));
	mpz_clear(x);
}

static void
rsakem_datum_free(gnutls_datum_t *d)
{
	if (d->data != NULL) {
		crypto_wipe(d->data, d->size);
		gnutls_free(d->data);
	}
	d->data = NULL;
	d->size = 0;
}

/* Whether pub is a key the KEM accepts (the limits in rsakem.h). */
static bool
rsakem_pub_ok(const struct rsa_public_key *pub)
{
	size_t bits;

	if (mpz_sgn(pub->n) <= 0)
		return false;
	bits = mpz_sizeinbase(pub->n, 2);
	if (bits < RSAKEM_MIN_BITS || bits > RSAKEM_MAX_BITS ||
	    pub->size != (bits + 7) / 8)
		return false;
	/* powm_sec needs an odd modulus; e = 1 would send r in the clear. */
	return mpz_odd_p(pub->n) && mpz_odd_p(pub->e) &&
	    mpz_cmp_ui(pub->e, 3) >= 0 && mpz_cmp(pub->e, pub->n) < 0;
}

static int
rsakem_pub_check(struct rsa_public_key *pub)
{
	if (!rsa_public_key_prepare(pub) || !rsakem_pub_ok(pub))
		return -EINVAL;
	return 0;
}

static struct rsakem_key *
rsakem_key_alloc(void)
{
	struct rsakem_key *k;

	if ((k = calloc(1, sizeof(*k))) == NULL)
		return NULL;
	rsa_public_key_init(&k->pub);
	rsa_private_key_init(&k->priv);
	return k;
}

void
rsakem_key_free(struct rsakem_key *k)
{
	if (k == NULL)
		return;
	rsakem_mpz_clear(k->priv.d);
	rsakem_mpz_clear(k->priv.p);
	rsakem_mpz_clear(k->priv.q);
	rsakem_mpz_clear(k->priv.a);
	rsakem_mpz_clear(k->priv.b);
	rsakem_mpz_clear(k->priv.c);
	rsa_public_key_clear(&k->pub);
	crypto_wipe(k, sizeof(*k));
	free(k);
}

size_t
rsakem_key_size(const struct rsakem_key *k)
{
	return k->pub.size;
}

static int
rsakem_gnutls_err(int ret)
{
	switch (ret) {
	case GNUTLS_E_MEMORY_ERROR:
		return -ENOMEM;
	case GNUTLS_E_INVALID_REQUEST:
		return -EINVAL;
	default:
		return -EOPNOTSUPP;
	}
}

int
rsakem_key_from_pubkey(struct rsakem_key **out, gnutls_pubkey_t gk)
{
	gnutls_datum_t m = { NULL, 0 }, e = { NULL, 0 };
	struct rsakem_key *k = NULL;
	int ret;

	*out = NULL;
	if (gnutls_pubkey_get_pk_algorithm(gk, NULL) != GNUTLS_PK_RSA)
		return -EINVAL;
	if ((ret = gnutls_pubkey_export_rsa_raw2(gk, &m, &e, 0)) < 0) {
		ret = rsakem_gnutls_err(ret);
		goto done;
	}
	if ((k = rsakem_key_alloc()) == NULL) {
		ret = -ENOMEM;
		goto done;
	}
	nettle_mpz_set_str_256_u(k->pub.n, m.size, m.data);
	nettle_mpz_set_str_256_u(k->pub.e, e.size, e.data);
	if ((ret = rsakem_pub_check(&k->pub)) < 0)
		goto done;
	*out = k;
	k = NULL;
 done:
	rsakem_key_free(k);
	rsakem_datum_free(&e);
	rsakem_datum_free(&m);
	return ret;
}

int
rsakem_key_from_privkey(struct rsakem_key **out, gnutls_privkey_t gk)
{
	gnutls_datum_t m = { NULL, 0 }, e = { NULL, 0 }, d = { NULL, 0 },
	    p = { NULL, 0 }, q = { NULL, 0 }, u = { NULL, 0 },
	    e1 = { NULL, 0 }, e2 = { NULL, 0 };
	struct rsakem_key *k = NULL;
	struct rsa_private_key *pk;
	int ret;

	*out = NULL;
	if (gnutls_privkey_get_pk_algorithm(gk, NULL) != GNUTLS_PK_RSA)
		return -EINVAL;
	if ((ret = gnutls_privkey_export_rsa_raw2(gk, &m, &e, &d, &p, &q, &u,
	    &e1, &e2, 0)) < 0) {
		ret = rsakem_gnutls_err(ret);
		goto done;
	}
	if ((k = rsakem_key_alloc()) == NULL) {
		ret = -ENOMEM;
		goto done;
	}
	pk = &k->priv;
	nettle_mpz_set_str_256_u(k->pub.n, m.size, m.data);
	nettle_mpz_set_str_256_u(k->pub.e, e.size, e.data);
	if ((ret = rsakem_pub_check(&k->pub)) < 0)
		goto done;
	nettle_mpz_set_str_256_u(pk->d, d.size, d.data);
	nettle_mpz_set_str_256_u(pk->p, p.size, p.data);
	nettle_mpz_set_str_256_u(pk->q, q.size, q.data);
	nettle_mpz_set_str_256_u(pk->a, e1.size, e1.data);
	nettle_mpz_set_str_256_u(pk->b, e2.size, e2.data);
	/*
	 * nettle wants c = q^-1 mod p.  GnuTLS documents u only as "the
	 * coefficient", so c is derived from p and q rather than depend on
	 * which of the two conventions an exporter follows.
	 */
	if (mpz_sgn(pk->p) <= 0 || mpz_sgn(pk->q) <= 0 ||
	    !mpz_invert(pk->c, pk->q, pk->p)) {
		ret = -EINVAL;
		goto done;
	}
	if (!rsa_private_key_prepare(pk) || pk->size != k->pub.size) {
		ret = -EINVAL;
		goto done;
	}
	k->has_priv = true;
	*out = k;
	k = NULL;
	ret = 0;
 done:
	rsakem_key_free(k);
	rsakem_datum_free(&e2);
	rsakem_datum_free(&e1);
	rsakem_datum_free(&u);
	rsakem_datum_free(&q);
	rsakem_datum_free(&p);
	rsakem_datum_free(&d);
	rsakem_datum_free(&e);
	rsakem_datum_free(&m);
	return ret;
}

int
rsakem_encapsulate(const struct rsa_public_key *pub, struct ntm_rng *rng,
    uint8_t *c, size_t clen, uint8_t *secret, size_t secretlen)
{
	mpz_t r, x;
	size_t bits, excess;
	int i, ret;

	if (pub == NULL || c == NULL || secret == NULL || !rsakem_pub_ok(pub) ||
	    clen != pub->size || secretlen != pub->size)
		return -EINVAL;
	bits = mpz_sizeinbase(pub->n, 2);
	excess = pub->size * 8 - bits;
	mpz_init(r);
	mpz_init(x);
	/* r uniform in [1, n): draw bits(n) bits, redraw when 0 or >= n. */
	ret = -EIO;
	for (i = 0; i < RSAKEM_MAX_DRAWS; i++) {
		if ((ret = rng_bytes(rng, secret, secretlen)) < 0)
			goto done;
		secret[0] &= (uint8_t)(0xff >> excess);
		nettle_mpz_set_str_256_u(r, secretlen, secret);
		if (mpz_sgn(r) > 0 && mpz_cmp(r, pub->n) < 0)
			break;
		ret = -EIO;
	}
	if (i == RSAKEM_MAX_DRAWS)
		goto done;
	mpz_powm_sec(x, r, pub->e, pub->n);
	nettle_mpz_get_str_256(clen, c, x);
	ret = 0;
 done:
	if (ret < 0)
		crypto_wipe(secret, secretlen);
	rsakem_mpz_clear(x);
	rsakem_mpz_clear(r);
	return ret;
}

/*
 * nettle's blinding draws through a callback that cannot fail.  On an rng
 * error it gets distinct filler bytes (so nettle's search for an invertible
 * factor still ends) and the error is reported after the call.
 */
struct rsakem_blind {
	struct ntm_rng	*rng;
	int		 err;
	uint8_t		 filler;
};

static void
rsakem_blind_random(void *ctx, size_t len, uint8_t *dst)
{
	struct rsakem_blind *b = ctx;
	size_t i;

	if (rng_bytes(b->rng, dst, len) == 0)
		return;
	b->err = -EIO;
	for (i = 0; i < len; i++)
		dst[i] = ++b->filler;
}

int
rsakem_decapsulate(const struct rsa_public_key *pub,
    const struct rsa_private_key *priv, struct ntm_rng *rng,
    const uint8_t *c, size_t clen, uint8_t *secret, size_t secretlen)
{
	struct rsakem_blind blind = { rng, 0, 0 };
	mpz_t m, r;
	int ret;

	if (pub == NULL || priv == NULL || c == NULL || secret == NULL ||
	    !rsakem_pub_ok(pub) || priv->size != pub->size ||
	    clen != pub->size || secretlen != pub->size)
		return -EINVAL;
	mpz_init(m);
	mpz_init(r);
	nettle_mpz_set_str_256_u(m, clen, c);
	if (mpz_sgn(m) <= 0 || mpz_cmp(m, pub->n) >= 0) {
		ret = -EBADMSG;
		goto done;
	}
	if (!rsa_compute_root_tr(pub, priv, &blind, rsakem_blind_random, r,
	    m) || blind.err < 0) {
		ret = -EIO;
		goto done;
	}
	nettle_mpz_get_str_256(secretlen, secret, r);
	ret = 0;
 done:
	if (ret < 0)
		crypto_wipe(secret, secretlen);
	rsakem_mpz_clear(r);
	rsakem_mpz_clear(m);
	return ret;
}
