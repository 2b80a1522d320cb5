/* buf.c -- bounds-checked read and write cursors. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "buf.h"

void
rbuf_init(struct rbuf *b, const void *data, size_t len)
{
	b->p = data;
	b->len = data == NULL ? 0 : len;
	b->off = 0;
}

size_t
rbuf_left(const struct rbuf *b)
{
	return b->len - b->off;
}

int
rbuf_get_ptr(struct rbuf *b, const uint8_t **p, size_t n)
{
	if (rbuf_left(b) < n)
		return -ENODATA;
	*p = b->p + b->off;
	b->off += n;
	return 0;
}

int
rbuf_skip(struct rbuf *b, size_t n)
{
	const uint8_t *p;

	return rbuf_get_ptr(b, &p, n);
}

int
rbuf_get_bytes(struct rbuf *b, void *dst, size_t n)
{
	const uint8_t *p;

	if (rbuf_get_ptr(b, &p, n) < 0)
		return -ENODATA;
	if (n > 0)
		memcpy(dst, p, n);
	return 0;
}

int
rbuf_get_u8(struct rbuf *b, uint8_t *v)
{
	const uint8_t *p;

	if (rbuf_get_ptr(b, &p, 1) < 0)
		return -ENODATA;
	*v = p[0];
	return 0;
}

int
rbuf_get_u16(struct rbuf *b, uint16_t *v)
{
	const uint8_t *p;

	if (rbuf_get_ptr(b, &p, 2) < 0)
		return -ENODATA;
	*v = load_be16(p);
	return 0;
}

int
rbuf_get_u32(struct rbuf *b, uint32_t *v)
{
	const uint8_t *p;

	if (rbuf_get_ptr(b, &p, 4) < 0)
		return -ENODATA;
	*v = load_be32(p);
	return 0;
}

int
rbuf_get_u64(struct rbuf *b, uint64_t *v)
{
	const uint8_t *p;

	if (rbuf_get_ptr(b, &p, 8) < 0)
		return -ENODATA;
	*v = load_be64(p);
	return 0;
}

int
rbuf_sub(struct rbuf *b, struct rbuf *sub, size_t n)
{
	const uint8_t *p;

	if (rbuf_get_ptr(b, &p, n) < 0)
		return -ENODATA;
	rbuf_init(sub, p, n);
	return 0;
}

void
wbuf_init(struct wbuf *b, void *data, size_t cap)
{
	b->p = data;
	b->cap = data == NULL ? 0 : cap;
	b->len = 0;
	b->err = 0;
}

int
wbuf_error(const struct wbuf *b)
{
	return b->err;
}

size_t
wbuf_len(const struct wbuf *b)
{
	return b->len;
}

size_t
wbuf_reserve(struct wbuf *b, size_t n)
{
	size_t off;

	if (b->err != 0 || b->cap - b->len < n) {
		b->err = -ENOSPC;
		return (size_t)-1;
	}
	off = b->len;
	b->len += n;
	return off;
}

void
wbuf_put_bytes(struct wbuf *b, const void *src, size_t n)
{
	size_t off = wbuf_reserve(b, n);

	if (off != (size_t)-1 && n > 0)
		memcpy(b->p + off, src, n);
}

void
wbuf_put_u8(struct wbuf *b, uint8_t v)
{
	wbuf_put_bytes(b, &v, 1);
}

void
wbuf_put_u16(struct wbuf *b, uint16_t v)
{
	uint8_t tmp[2];

	store_be16(tmp, v);
	wbuf_put_bytes(b, tmp, sizeof(tmp));
}

void
wbuf_put_u32(struct wbuf *b, uint32_t v)
{
	uint8_t tmp[4];

	store_be32(tmp, v);
	wbuf_put_bytes(b, tmp, sizeof(tmp));
}

void
wbuf_put_u64(struct wbuf *b, uint64_t v)
{
	uint8_t tmp[8];

	store_be64(tmp, v);
	wbuf_put_bytes(b, tmp, sizeof(tmp));
}

void
wbuf_set_u16(struct wbuf *b, size_t off, uint16_t v)
{
	if (b->err != 0 || off > b->len || b->len - off < 2) {
		b->err = -ENOSPC;
		return;
	}
	store_be16(b->p + off, v);
}
