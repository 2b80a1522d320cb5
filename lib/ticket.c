/* ticket.c -- DC tickets: the AS seals {K_ND, FQDN, virtual IPs, expiry}, the DC opens them. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "aead.h"
#include "buf.h"
#include "config_table.h"
#include "crypto.h"
#include "msg.h"
#include "rand.h"
#include "ticket.h"

void
ticket_keyring_init(struct ticket_keyring *kr)
{
	memset(kr, 0, sizeof(*kr));
}

void
ticket_keyring_clear(struct ticket_keyring *kr)
{
	size_t i;

	for (i = 0; i < kr->n; i++)
		aead_free(kr->key[i].aead);
	memset(kr, 0, sizeof(*kr));
}

static int
ticket_keyring_index(const struct ticket_keyring *kr, uint32_t id)
{
	size_t i;

	for (i = 0; i < kr->n; i++)
		if (kr->key[i].id == id)
			return (int)i;
	return -1;
}

bool
ticket_keyring_has(const struct ticket_keyring *kr, uint32_t id)
{
	return ticket_keyring_index(kr, id) >= 0;
}

int
ticket_keyring_add(struct ticket_keyring *kr, uint32_t id,
    const uint8_t key[PROTO_KEY_LEN])
{
	struct aead *a;
	size_t i, slot;
	int rc, idx;

	if (key == NULL)
		return -EINVAL;
	if ((rc = aead_new(&a, AEAD_ALG_AES256GCM, key, PROTO_KEY_LEN)) < 0)
		return rc;
	if ((idx = ticket_keyring_index(kr, id)) >= 0)
		slot = (size_t)idx;
	else if (kr->n < TICKET_KEYS_MAX)
		slot = kr->n++;
	else {
		/* Full: the oldest key goes. */
		slot = 0;
		for (i = 1; i < kr->n; i++)
			if (kr->key[i].added < kr->key[slot].added)
				slot = i;
	}
	if (slot < kr->n && kr->key[slot].aead != NULL)
		aead_free(kr->key[slot].aead);
	kr->key[slot].id = id;
	kr->key[slot].aead = a;
	kr->key[slot].added = ++kr->next;
	return 0;
}

int
ticket_key_id(const void *ticket, size_t len, uint32_t *key_id)
{
	struct msg_ticket t;
	int rc;

	if ((rc = msg_ticket_split(ticket, len, &t)) < 0)
		return rc;
	*key_id = t.key_id;
	return 0;
}

int
ticket_seal(const struct ticket_keyring *kr, uint32_t key_id,
    const struct ticket_body *b, struct ntm_rng *rng, uint8_t *out,
    size_t cap, size_t *outlen)
{
	struct msg m;
	struct wbuf w;
	uint8_t body[PROTO_TICKET_MAX];
	size_t blen, total;
	int idx, rc;

	if ((idx = ticket_keyring_index(kr, key_id)) < 0)
		return -ENOKEY;
	msg_init(&m, PROTO_MSG_TICKET_BODY);
	rc = msg_add_bytes(&m, PROTO_ATTR_TICKET_ID, b->id, TICKET_ID_LEN);
	rc |= msg_add_bytes(&m, PROTO_ATTR_TICKET_KEY, b->key, PROTO_KEY_LEN);
	rc |= msg_add_bytes(&m, PROTO_ATTR_FQDN, b->fqdn, b->fqdn_len);
	if (b->has_vip4)
		rc |= msg_add_bytes(&m, PROTO_ATTR_VIP4, b->vip4, 4);
	if (b->has_vip6)
		rc |= msg_add_bytes(&m, PROTO_ATTR_VIP6, b->vip6, 16);
	rc |= msg_add_u64(&m, PROTO_ATTR_EXPIRY, b->expiry);
	if (b->serial_len > 0)
		rc |= msg_add_bytes(&m, PROTO_ATTR_SERIAL, b->serial,
		    b->serial_len);
	if (rc != 0)
		return -E2BIG;
	wbuf_init(&w, body, sizeof(body));
	if ((rc = msg_ticket_body_encode(&m, &w)) < 0) {
		crypto_wipe(body, sizeof(body));
		return rc == -ENOSPC ? -EMSGSIZE : rc;
	}
	blen = wbuf_len(&w);
	total = PROTO_TICKET_HEADER_LEN + blen + PROTO_TAG_LEN;
	if (total > PROTO_TICKET_MAX) {
		rc = -EMSGSIZE;
		goto done;
	}
	if (cap < total) {
		rc = -ENOSPC;
		goto done;
	}
	wbuf_init(&w, out, cap);
	wbuf_put_u8(&w, PROTO_VERSION_1);
	wbuf_put_u32(&w, key_id);
	if ((rc = rng_bytes(rng, out + w.len, PROTO_NONCE_LEN)) < 0)
		goto done;
	(void)wbuf_reserve(&w, PROTO_NONCE_LEN);
	rc = aead_seal(kr->key[idx].aead, out + 1 + 4, out,
	    PROTO_TICKET_HEADER_LEN, body, blen, out + PROTO_TICKET_HEADER_LEN,
	    cap - PROTO_TICKET_HEADER_LEN);
	if (rc == 0)
		*outlen = total;
done:
	crypto_wipe(body, sizeof(body));
	return rc;
}

/* Copies the validated body's attributes into *b. */
static void
ticket_body_copy(const struct msg *m, struct ticket_body *b)
{
	const struct msg_attr *a;

	memset(b, 0, sizeof(*b));
	if ((a = msg_attr_find(m, PROTO_ATTR_TICKET_ID)) != NULL)
		memcpy(b->id, a->val, TICKET_ID_LEN);
	if ((a = msg_attr_find(m, PROTO_ATTR_TICKET_KEY)) != NULL)
		memcpy(b->key, a->val, PROTO_KEY_LEN);
	if ((a = msg_attr_find(m, PROTO_ATTR_FQDN)) != NULL) {
		memcpy(b->fqdn, a->val, a->len);
		b->fqdn[a->len] = '\0';
		b->fqdn_len = a->len;
	}
	if ((a = msg_attr_find(m, PROTO_ATTR_VIP4)) != NULL) {
		memcpy(b->vip4, a->val, 4);
		b->has_vip4 = true;
	}
	if ((a = msg_attr_find(m, PROTO_ATTR_VIP6)) != NULL) {
		memcpy(b->vip6, a->val, 16);
		b->has_vip6 = true;
	}
	(void)msg_attr_u64(m, PROTO_ATTR_EXPIRY, &b->expiry);
	if ((a = msg_attr_find(m, PROTO_ATTR_SERIAL)) != NULL) {
		memcpy(b->serial, a->val, a->len);
		b->serial_len = a->len;
	}
}

int
ticket_open(const struct ticket_keyring *kr, const void *ticket, size_t len,
    time_t now, struct ticket_body *b)
{
	struct msg_ticket t;
	struct msg m;
	uint8_t pt[PROTO_TICKET_MAX];
	int idx, rc;

	memset(b, 0, sizeof(*b));
	if ((rc = msg_ticket_split(ticket, len, &t)) < 0)
		return rc;
	if ((idx = ticket_keyring_index(kr, t.key_id)) < 0)
		return -ENOKEY;
	/* ct and tag are contiguous: the ticket ends with the tag. */
	if ((rc = aead_open(kr->key[idx].aead, t.nonce, t.aad, t.aad_len, t.ct,
	    t.ct_len + PROTO_TAG_LEN, pt, sizeof(pt))) < 0)
		return rc == -EBADMSG ? -EBADMSG : rc;
	if ((rc = msg_ticket_body_decode(pt, t.ct_len, &m)) < 0)
		goto done;
	ticket_body_copy(&m, b);
	if (now < 0 || (uint64_t)now >= b->expiry)
		rc = -EKEYEXPIRED;
done:
	crypto_wipe(pt, sizeof(pt));
	crypto_wipe(&m, sizeof(m));
	return rc;
}

void
ticket_session_keys(const uint8_t k_nd[PROTO_KEY_LEN],
    const uint8_t nonce[PROTO_RANDOM_LEN],
    const uint8_t cookie[PROTO_RANDOM_LEN], uint8_t k_n2dc[PROTO_KEY_LEN],
    uint8_t k_dc2n[PROTO_KEY_LEN])
{
	static const char l_n2dc[] = "ntmobile v1 node to dc";
	static const char l_dc2n[] = "ntmobile v1 dc to node";
	uint8_t salt[2 * PROTO_RANDOM_LEN], prk[CRYPTO_SHA256_SIZE];

	memcpy(salt, nonce, PROTO_RANDOM_LEN);
	memcpy(salt + PROTO_RANDOM_LEN, cookie, PROTO_RANDOM_LEN);
	crypto_hkdf_extract(prk, salt, sizeof(salt), k_nd, PROTO_KEY_LEN);
	/* Cannot fail: 32 bytes from a full-size PRK. */
	(void)crypto_hkdf_expand(k_n2dc, PROTO_KEY_LEN, prk, sizeof(prk),
	    l_n2dc, sizeof(l_n2dc) - 1);
	(void)crypto_hkdf_expand(k_dc2n, PROTO_KEY_LEN, prk, sizeof(prk),
	    l_dc2n, sizeof(l_dc2n) - 1);
	crypto_wipe(prk, sizeof(prk));
}

static int
ticket_hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = tolower(ch);
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

int
ticket_key_read(const char *path, uint8_t key[PROTO_KEY_LEN], uint32_t *id,
    char *why, size_t whylen)
{
	uint8_t buf[2 * PROTO_KEY_LEN + 2], digest[CRYPTO_SHA256_SIZE];
	ssize_t n;
	size_t len, i;
	int fd, hi, lo, rv = -EINVAL;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		rv = -errno;
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return rv;
	}
	if (config_check_private_fd(fd, path, why, whylen) < 0) {
		close(fd);
		return -EPERM;
	}
	n = read(fd, buf, sizeof(buf));
	close(fd);
	len = n < 0 ? 0 : (size_t)n;
	if (len > 0 && buf[len - 1] == '\n' && len != PROTO_KEY_LEN)
		len--;
	if (len == PROTO_KEY_LEN) {
		memcpy(key, buf, PROTO_KEY_LEN);
		rv = 0;
	} else if (len == 2 * PROTO_KEY_LEN) {
		rv = 0;
		for (i = 0; i < PROTO_KEY_LEN && rv == 0; i++) {
			hi = ticket_hexval(buf[2 * i]);
			lo = ticket_hexval(buf[2 * i + 1]);
			if (hi < 0 || lo < 0)
				rv = -EINVAL;
			else
				key[i] = (uint8_t)(hi << 4 | lo);
		}
	}
	crypto_wipe(buf, sizeof(buf));
	if (rv < 0) {
		crypto_wipe(key, PROTO_KEY_LEN);
		snprintf(why, whylen, "%s: a ticket key is 32 bytes, raw or "
		    "as 64 hex digits", path);
		return rv;
	}
	crypto_sha256(digest, key, PROTO_KEY_LEN);
	*id = load_be32(digest);
	return 0;
}
