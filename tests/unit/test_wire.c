/* ikecore/wire.c: the reader never goes past its buffer; the writer never past its capacity. */
#include "../../ikecore/wire.h"
#include "unit.h"

START_TEST(reads_big_endian)
{
    const uint8_t b[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    struct wire_rd r;
    wire_rd_init(&r, b, sizeof(b));
    ck_assert_uint_eq(wire_u8(&r), 1);
    ck_assert_uint_eq(wire_u16(&r), 0x0203);
    ck_assert_uint_eq(wire_u32(&r), 0x04050607);
    ck_assert_uint_eq(wire_u64(&r), 0x08090a0b0c0d0e0full);
    ck_assert(!r.err);
    ck_assert_uint_eq(wire_rd_left(&r), 0);
}
END_TEST

START_TEST(overrun_sticks_and_reads_zero)
{
    const uint8_t b[] = {0xff, 0xff, 0xff};
    struct wire_rd r;
    wire_rd_init(&r, b, sizeof(b));
    ck_assert_uint_eq(wire_u32(&r), 0);     /* 4 > 3: nothing consumed */
    ck_assert(r.err);
    ck_assert_uint_eq(wire_u8(&r), 0);      /* stays failed */
    ck_assert_ptr_null(wire_bytes(&r, 1));
    ck_assert_uint_eq(wire_rd_left(&r), 0);
}
END_TEST

START_TEST(huge_lengths_do_not_wrap)
{
    const uint8_t b[4] = {0};
    struct wire_rd r;
    wire_rd_init(&r, b, sizeof(b));
    wire_u16(&r);
    ck_assert_ptr_null(wire_bytes(&r, SIZE_MAX));
    ck_assert(r.err);
    wire_rd_init(&r, b, sizeof(b));
    ck_assert(!wire_skip(&r, SIZE_MAX - 1));
    wire_rd_init(&r, NULL, 100);            /* no buffer: nothing to read */
    ck_assert_uint_eq(wire_u8(&r), 0);
    ck_assert(r.err);
}
END_TEST

START_TEST(copy_and_skip)
{
    const uint8_t b[] = {1, 2, 3, 4};
    uint8_t out[4] = {0};
    struct wire_rd r;
    wire_rd_init(&r, b, sizeof(b));
    ck_assert(wire_skip(&r, 1));
    ck_assert(wire_copy(&r, out, 3));
    ck_assert_mem_eq(out, b + 1, 3);
    ck_assert(wire_copy(&r, out, 0));
    ck_assert(!wire_copy(&r, out, 1));
}
END_TEST

START_TEST(writer_stops_at_capacity)
{
    uint8_t b[6];
    struct wire_wr w;
    wire_wr_init(&w, b, sizeof(b));
    wire_put_u32(&w, 0xdeadbeef);
    size_t at = wire_reserve(&w, 2);
    ck_assert_uint_eq(at, 4);
    wire_set_u16(&w, at, 0x1234);
    ck_assert(!w.err);
    ck_assert_uint_eq(w.len, 6);
    ck_assert_uint_eq(wire_get32(b), 0xdeadbeef);
    ck_assert_uint_eq(wire_get16(b + 4), 0x1234);
    wire_put_u8(&w, 1);
    ck_assert(w.err);
    ck_assert_uint_eq(w.len, 6);
    ck_assert_uint_eq(wire_reserve(&w, 0), SIZE_MAX);
    wire_set_u32(&w, 4, 0);                 /* out of range set: ignored */
    ck_assert_uint_eq(wire_get16(b + 4), 0x1234);
}
END_TEST

START_TEST(writer_u64_round_trip)
{
    uint8_t b[8];
    struct wire_wr w;
    wire_wr_init(&w, b, sizeof(b));
    wire_put_u64(&w, 0x0102030405060708ull);
    ck_assert(!w.err);
    ck_assert_uint_eq(wire_get64(b), 0x0102030405060708ull);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("wire");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, reads_big_endian);
    tcase_add_test(tc, overrun_sticks_and_reads_zero);
    tcase_add_test(tc, huge_lengths_do_not_wrap);
    tcase_add_test(tc, copy_and_skip);
    tcase_add_test(tc, writer_stops_at_capacity);
    tcase_add_test(tc, writer_u64_round_trip);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
