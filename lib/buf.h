/* buf.h -- bounds-checked cursors for reading and writing network bytes. */
#ifndef NTM_BUF_H
#define NTM_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A read cursor over bytes it does not own (borrowed for the cursor's life).
 * Every getter checks the remaining length first and returns 0 on success or
 * -ENODATA without moving the cursor when too few bytes remain.  Multi-byte
 * integers are big-endian (network order).
 */
struct rbuf {
	const uint8_t	*p;
	size_t		 len;
	size_t		 off;
};

/*
 * A write cursor into a caller-owned buffer of `cap` bytes.  Writes past the
 * end set a sticky error and write nothing; check wbuf_error() once at the end.
 */
struct wbuf {
	uint8_t		*p;
	size_t		 cap;
	size_t		 len;
	int		 err;
};

void	 rbuf_init(struct rbuf *, const void *data, size_t len);
size_t	 rbuf_left(const struct rbuf *);
int	 rbuf_get_u8(struct rbuf *, uint8_t *);
int	 rbuf_get_u16(struct rbuf *, uint16_t *);
int	 rbuf_get_u32(struct rbuf *, uint32_t *);
int	 rbuf_get_u64(struct rbuf *, uint64_t *);
int	 rbuf_get_bytes(struct rbuf *, void *dst, size_t n);
/* Points *p at the next n bytes (borrowed from the input) and skips them. */
int	 rbuf_get_ptr(struct rbuf *, const uint8_t **p, size_t n);
int	 rbuf_skip(struct rbuf *, size_t n);
/* Splits off the next n bytes as their own cursor and skips them here. */
int	 rbuf_sub(struct rbuf *, struct rbuf *sub, size_t n);

void	 wbuf_init(struct wbuf *, void *data, size_t cap);
int	 wbuf_error(const struct wbuf *);	/* 0 or -ENOSPC */
size_t	 wbuf_len(const struct wbuf *);
void	 wbuf_put_u8(struct wbuf *, uint8_t);
void	 wbuf_put_u16(struct wbuf *, uint16_t);
void	 wbuf_put_u32(struct wbuf *, uint32_t);
void	 wbuf_put_u64(struct wbuf *, uint64_t);
void	 wbuf_put_bytes(struct wbuf *, const void *, size_t);
/*
 * Reserves n bytes to be filled later (a length field, a signature) and
 * returns their offset, or (size_t)-1 after an error.
 */
size_t	 wbuf_reserve(struct wbuf *, size_t n);
/* Writes a big-endian u16 at an offset returned by wbuf_reserve(). */
void	 wbuf_set_u16(struct wbuf *, size_t off, uint16_t);

/* Plain big-endian loads and stores for already-checked memory. */
static inline uint16_t
load_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
load_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t
load_be64(const uint8_t *p)
{
	return (uint64_t)load_be32(p) << 32 | load_be32(p + 4);
}

static inline void
store_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
store_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void
store_be64(uint8_t *p, uint64_t v)
{
	store_be32(p, (uint32_t)(v >> 32));
	store_be32(p + 4, (uint32_t)v);
}

#endif
