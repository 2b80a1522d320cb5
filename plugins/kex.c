/* kex.c -- key-exchange registry, kex_allowed, checks all schemes share. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "handshake.h"
#include "kex.h"

static const struct kex_ops *const kex_registry[] = {
	&kex_shared_ops,
	&kex_rsa_ops,
	&kex_ecdhe_ops,
};

static const char *const kex_errstr[] = {
	"unknown key-exchange scheme",
	"key-exchange scheme not allowed here",
	"key-exchange scheme needs an RSA-2048 certificate key",
	"peer's key-exchange field is not covered by a verified signature",
	"peer's key-exchange field has the wrong length",
	"peer's ephemeral key gives an all-zero shared secret",
	"peer's key-exchange field does not decrypt",
	"key-exchange step out of order",
};

const char *
kex_strerror(int err)
{
	if (err >= KEX_E_FIRST && err <= KEX_E_LAST)
		return kex_errstr[err - KEX_E_FIRST];
	if (err < 0)
		return strerror(-err);
	return "success";
}

enum proto_status
kex_status(int err)
{
	switch (err) {
	case 0:
		return PROTO_STATUS_OK;
	case KEX_E_UNKNOWN:
	case KEX_E_NOT_ALLOWED:
		return PROTO_STATUS_KEX_NOT_ALLOWED;
	case KEX_E_KEY_TYPE:
		return PROTO_STATUS_CERT_INVALID;
	case KEX_E_UNVERIFIED:
	case KEX_E_PEER_KEY:
	case KEX_E_DECRYPT:
		/* PROTOCOL.md 9.2, 9.3: a signed but unusable share. */
		return PROTO_STATUS_AUTH_FAILED;
	case KEX_E_FIELD:
		return PROTO_STATUS_MALFORMED;
	default:
		return PROTO_STATUS_INTERNAL;
	}
}

const struct kex_ops *
kex_find(uint8_t id)
{
	size_t i;

	for (i = 0; i < sizeof(kex_registry) / sizeof(kex_registry[0]); i++)
		if (kex_registry[i]->id == id)
			return kex_registry[i];
	return NULL;
}

const struct kex_ops *
kex_find_name(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(kex_registry) / sizeof(kex_registry[0]); i++)
		if (strcmp(kex_registry[i]->name, name) == 0)
			return kex_registry[i];
	return NULL;
}

const char *
kex_name(uint8_t id)
{
	const struct kex_ops *ops = kex_find(id);

	return ops == NULL ? NULL : ops->name;
}

void
kex_allowed_default(struct kex_allowed *a)
{
	memset(a, 0, sizeof(*a));
	a->id[0] = PROTO_KEX_ECDHE;
	a->n = 1;
}

bool
kex_allowed_has(const struct kex_allowed *a, uint8_t id)
{
	size_t i;

	if (id == PROTO_KEX_INVALID)
		return false;
	for (i = 0; i < a->n && i < KEX_ALLOWED_MAX; i++)
		if (a->id[i] == id)
			return true;
	return false;
}

enum proto_kex
kex_allowed_first(const struct kex_allowed *a)
{
	return a->n > 0 ? a->id[0] : PROTO_KEX_INVALID;
}

/* Adds the name in s[0..len) to a; -EINVAL if unknown, repeated, too many. */
static int
kex_allowed_add(struct kex_allowed *a, const char *s, size_t len)
{
	char name[16];
	const struct kex_ops *ops;

	if (len == 0 || len >= sizeof(name))
		return -EINVAL;
	memcpy(name, s, len);
	name[len] = '\0';
	if ((ops = kex_find_name(name)) == NULL ||
	    kex_allowed_has(a, ops->id) || a->n >= KEX_ALLOWED_MAX)
		return -EINVAL;
	a->id[a->n++] = ops->id;
	return 0;
}

static bool
kex_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Trims blanks from both ends of s[0..*len) and returns the new start. */
static const char *
kex_trim(const char *s, size_t *len)
{
	while (*len > 0 && kex_blank(s[0])) {
		s++;
		(*len)--;
	}
	while (*len > 0 && kex_blank(s[*len - 1]))
		(*len)--;
	return s;
}

int
kex_allowed_parse(const char *text, struct kex_allowed *out)
{
	struct kex_allowed a;
	const char *p, *comma, *name;
	size_t len;

	if (text == NULL)
		return -EINVAL;
	memset(&a, 0, sizeof(a));
	for (p = text;; p = comma + 1) {
		comma = strchr(p, ',');
		len = comma == NULL ? strlen(p) : (size_t)(comma - p);
		name = kex_trim(p, &len);
		if (kex_allowed_add(&a, name, len) < 0)
			return -EINVAL;
		if (comma == NULL)
			break;
	}
	*out = a;
	return 0;
}

int
kex_allowed_from_names(char *const *names, size_t n, struct kex_allowed *out)
{
	struct kex_allowed a;
	const char *name;
	size_t i, len;

	if (n == 0 || names == NULL)
		return -EINVAL;
	memset(&a, 0, sizeof(a));
	for (i = 0; i < n; i++) {
		if (names[i] == NULL)
			return -EINVAL;
		len = strlen(names[i]);
		name = kex_trim(names[i], &len);
		if (kex_allowed_add(&a, name, len) < 0)
			return -EINVAL;
	}
	*out = a;
	return 0;
}

int
kex_allowed_format(const struct kex_allowed *a, char *buf, size_t cap)
{
	size_t i, off = 0;
	const char *name;
	int n;

	if (cap == 0)
		return -ENOSPC;
	buf[0] = '\0';
	for (i = 0; i < a->n && i < KEX_ALLOWED_MAX; i++) {
		if ((name = kex_name(a->id[i])) == NULL)
			return -EINVAL;
		n = snprintf(buf + off, cap - off, "%s%s", i > 0 ? ", " : "",
		    name);
		if (n < 0 || (size_t)n >= cap - off)
			return -ENOSPC;
		off += (size_t)n;
	}
	return (int)off;
}

int
kex_new_rekey(struct kex **out, const struct kex_allowed *allowed,
    uint8_t id, enum proto_role role, struct ntm_rng *rng)
{
	int ret;

	if ((ret = kex_new(out, allowed, id, role, rng)) == 0)
		(*out)->rekey = true;
	return ret;
}

int
kex_new(struct kex **out, const struct kex_allowed *allowed, uint8_t id,
    enum proto_role role, struct ntm_rng *rng)
{
	const struct kex_ops *ops;
	struct kex *kx;

	*out = NULL;
	if (allowed == NULL || rng == NULL ||
	    (role != PROTO_ROLE_INITIATOR && role != PROTO_ROLE_RESPONDER))
		return -EINVAL;
	if ((ops = kex_find(id)) == NULL)
		return KEX_E_UNKNOWN;
	if (!kex_allowed_has(allowed, id))
		return KEX_E_NOT_ALLOWED;
	if ((kx = calloc(1, sizeof(*kx))) == NULL)
		return -ENOMEM;
	kx->ops = ops;
	kx->role = role;
	kx->stage = KEX_STAGE_NEW;
	kx->rng = rng;
	*out = kx;
	return 0;
}

void
kex_free(struct kex *kx)
{
	if (kx == NULL)
		return;
	crypto_wipe(kx, sizeof(*kx));
	free(kx);
}

const struct kex_ops *
kex_ops(const struct kex *kx)
{
	return kx->ops;
}

/* A shared rekey exchanges nothing: no field, no call into the scheme. */
static bool
kex_no_field(const struct kex *kx)
{
	return kx->rekey && kx->ops->rekey_no_field;
}

uint16_t
kex_field_attr(const struct kex *kx)
{
	return kex_no_field(kx) ? PROTO_ATTR_INVALID : kx->ops->offer_attr;
}

size_t
kex_field_len(const struct kex *kx)
{
	return kex_no_field(kx) ? 0 : kx->ops->offer_len;
}

enum handshake_side
kex_token_side(const struct kex *kx, bool request)
{
	if (kx->rekey)
		return request ? HANDSHAKE_SIDE_REKEY_REQUEST :
		    HANDSHAKE_SIDE_REKEY_RESPONSE;
	return request ? HANDSHAKE_SIDE_REQUEST : HANDSHAKE_SIDE_RESPONSE;
}

/* After any failure the state is spent: secrets go, the stage says so. */
static int
kex_fail(struct kex *kx, int err)
{
	x25519_keypair_wipe(&kx->eph);
	crypto_wipe(kx->ikm, sizeof(kx->ikm));
	kx->ikm_len = 0;
	kx->stage = KEX_STAGE_FAILED;
	return err;
}

int
kex_offer(struct kex *kx, const struct kex_input *in, uint8_t *field,
    size_t cap, size_t *len)
{
	int ret;

	*len = 0;
	if (kx->role != PROTO_ROLE_INITIATOR || kx->stage != KEX_STAGE_NEW)
		return KEX_E_STATE;
	if (in == NULL || cap < kex_field_len(kx))
		return -EINVAL;
	if (!kex_no_field(kx) && (ret = kx->ops->offer(kx, in, field)) < 0) {
		crypto_wipe(field, kex_field_len(kx));
		return kex_fail(kx, ret);
	}
	*len = kex_field_len(kx);
	kx->stage = KEX_STAGE_OFFERED;
	return 0;
}

int
kex_respond(struct kex *kx, const struct kex_input *in,
    const struct handshake_verified *verified, const uint8_t *field,
    size_t len, uint8_t *answer, size_t cap, size_t *answer_len)
{
	const struct kex_ops *ops = kx->ops;
	int ret;

	*answer_len = 0;
	if (kx->role != PROTO_ROLE_RESPONDER || kx->stage != KEX_STAGE_NEW)
		return KEX_E_STATE;
	if (!handshake_verified_covers(verified, kex_token_side(kx, true),
	    (uint8_t)ops->id, kex_field_attr(kx), field, len))
		return kex_fail(kx, KEX_E_UNVERIFIED);
	if (len != kex_field_len(kx))
		return kex_fail(kx, KEX_E_FIELD);
	if (in == NULL || cap < ops->answer_len)
		return kex_fail(kx, -EINVAL);
	if (!kex_no_field(kx) &&
	    (ret = ops->respond(kx, in, verified, field, answer)) < 0)
		return kex_fail(kx, ret);
	*answer_len = ops->answer_len;
	kx->stage = KEX_STAGE_DONE;
	return 0;
}

int
kex_finish(struct kex *kx, const struct handshake_verified *verified,
    const uint8_t *answer, size_t len)
{
	const struct kex_ops *ops = kx->ops;
	int ret;

	if (kx->role != PROTO_ROLE_INITIATOR || kx->stage != KEX_STAGE_OFFERED)
		return KEX_E_STATE;
	if (!handshake_verified_covers(verified, kex_token_side(kx, false),
	    (uint8_t)ops->id, ops->answer_attr, answer, len))
		return kex_fail(kx, KEX_E_UNVERIFIED);
	if (len != ops->answer_len)
		return kex_fail(kx, KEX_E_FIELD);
	if (!kex_no_field(kx) && (ret = ops->finish(kx, answer)) < 0)
		return kex_fail(kx, ret);
	kx->stage = KEX_STAGE_DONE;
	return 0;
}

int
kex_derive(struct kex *kx, const uint8_t salt[PROTO_KEY_LEN],
    const uint8_t th[PROTO_HASH_LEN], struct handshake_keys *keys)
{
	int ret;

	if (kx->stage != KEX_STAGE_DONE ||
	    (kx->ikm_len == 0 && !kex_no_field(kx)))
		return KEX_E_STATE;
	if (kx->rekey)
		ret = handshake_rekey_derive(salt,
		    kx->ikm_len > 0 ? kx->ikm : NULL, kx->ikm_len, th, keys);
	else
		ret = handshake_derive(salt, kx->ikm, kx->ikm_len, th, keys);
	crypto_wipe(kx->ikm, sizeof(kx->ikm));
	kx->ikm_len = 0;
	kx->stage = ret == 0 ? KEX_STAGE_SPENT : KEX_STAGE_FAILED;
	return ret;
}

int
kex_ikm(const struct kex *kx, const uint8_t **ikm, size_t *len)
{
	if (kx->stage != KEX_STAGE_DONE ||
	    (kx->ikm_len == 0 && !kex_no_field(kx)))
		return KEX_E_STATE;
	*ikm = kx->ikm;
	*len = kx->ikm_len;
	return 0;
}
