/* test_buf.c -- unit tests for the bounds-checked cursors. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "buf.h"

static void
test_read_integers(void **state)
{
	static const uint8_t in[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
	    0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f };
	struct rbuf b;
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;

	rbuf_init(&b, in, sizeof(in));
	assert_int_equal(rbuf_get_u8(&b, &u8), 0);
	assert_int_equal(u8, 0x01);
	assert_int_equal(rbuf_get_u16(&b, &u16), 0);
	assert_int_equal(u16, 0x0203);
	assert_int_equal(rbuf_get_u32(&b, &u32), 0);
	assert_int_equal(u32, 0x04050607);
	assert_int_equal(rbuf_get_u64(&b, &u64), 0);
	assert_true(u64 == 0x08090a0b0c0d0e0fULL);
	assert_int_equal(rbuf_left(&b), 0);
	assert_int_equal(rbuf_get_u8(&b, &u8), -ENODATA);
}

static void
test_short_read_does_not_move(void **state)
{
	static const uint8_t in[] = { 0xaa, 0xbb, 0xcc };
	struct rbuf b, sub;
	uint32_t u32;
	uint16_t u16;

	rbuf_init(&b, in, sizeof(in));
	assert_int_equal(rbuf_get_u32(&b, &u32), -ENODATA);
	assert_int_equal(b.off, 0);
	assert_int_equal(rbuf_sub(&b, &sub, 4), -ENODATA);
	assert_int_equal(rbuf_sub(&b, &sub, 2), 0);
	assert_int_equal(rbuf_get_u16(&sub, &u16), 0);
	assert_int_equal(u16, 0xaabb);
	assert_int_equal(rbuf_get_u8(&sub, (uint8_t *)&u16), -ENODATA);
	assert_int_equal(rbuf_left(&b), 1);
	assert_int_equal(rbuf_skip(&b, 2), -ENODATA);
	assert_int_equal(rbuf_skip(&b, 1), 0);
}

static void
test_write_overflow_is_sticky(void **state)
{
	uint8_t out[5];
	struct wbuf w;
	size_t off;

	wbuf_init(&w, out, sizeof(out));
	off = wbuf_reserve(&w, 2);
	assert_int_equal(off, 0);
	wbuf_put_u16(&w, 0x1234);
	wbuf_set_u16(&w, off, 0xbeef);
	assert_int_equal(wbuf_error(&w), 0);
	assert_int_equal(out[0], 0xbe);
	assert_int_equal(out[2], 0x12);
	wbuf_put_u16(&w, 0x5678);	/* needs 2, 1 left */
	assert_int_equal(wbuf_error(&w), -ENOSPC);
	assert_int_equal(wbuf_len(&w), 4);
	wbuf_put_u8(&w, 1);		/* would fit, but the error is sticky */
	assert_int_equal(wbuf_len(&w), 4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_integers),
		cmocka_unit_test(test_short_read_does_not_move),
		cmocka_unit_test(test_write_overflow_is_sticky),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
