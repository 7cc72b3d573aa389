/* test_p9_fid.c - the bounded fid table: limits, lookups after heavy churn
 * (the open-addressing index must keep every live fid reachable). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "p9/fid.h"
#include "p9/proto.h"

static void test_limits(void **state)
{
	struct p9_fids t;
	struct p9_fid *f;
	assert_int_equal(p9_fids_init(&t, 3), 0);
	assert_int_equal(p9_fid_add(&t, P9_NOFID, &f), -EBADF);
	assert_int_equal(p9_fid_add(&t, 1, &f), 0);
	assert_int_equal(f->fd, -1);
	assert_int_equal(p9_fid_add(&t, 1, &f), -EEXIST);
	assert_int_equal(p9_fid_add(&t, 2, &f), 0);
	assert_int_equal(p9_fid_add(&t, 3, &f), 0);
	assert_int_equal(p9_fid_add(&t, 4, &f), -EMFILE);
	assert_null(p9_fid_get(&t, 4));
	p9_fid_remove(&t, p9_fid_get(&t, 2));
	assert_null(p9_fid_get(&t, 2));
	assert_int_equal(p9_fid_add(&t, 4, &f), 0);
	assert_ptr_equal(p9_fid_get(&t, 4), f);
	/* Removing closes the fd and frees the path. */
	f->fd = dup(0);
	f->path = strdup("x");
	int fd = f->fd;
	p9_fid_remove(&t, f);
	assert_int_equal(fcntl(fd, F_GETFD), -1);
	p9_fids_clear(&t);
	assert_int_equal(t.count, 0);
	assert_null(p9_fid_get(&t, 1));
	p9_fids_free(&t);
}

/* A shadow set of live ids, checked against the table after every step. */
static void test_churn(void **state)
{
	enum { MAX = 512, IDS = 2048 };
	struct p9_fids t;
	assert_int_equal(p9_fids_init(&t, MAX), 0);
	static bool live[IDS];
	memset(live, 0, sizeof(live));
	unsigned seed = 7, nlive = 0;
	for (int step = 0; step < 200000; step++) {
		/* Ids that collide a lot: multiples of a power of two. */
		uint32_t id = (uint32_t)(rand_r(&seed) % IDS);
		uint32_t key = id << 13;
		struct p9_fid *f = p9_fid_get(&t, key);
		assert_int_equal(f != NULL, live[id]);
		if (live[id]) {
			assert_int_equal(f->id, key);
			p9_fid_remove(&t, f);
			live[id] = false;
			nlive--;
		} else {
			int r = p9_fid_add(&t, key, &f);
			if (nlive == MAX) {
				assert_int_equal(r, -EMFILE);
			} else {
				assert_int_equal(r, 0);
				live[id] = true;
				nlive++;
			}
		}
		assert_int_equal(t.count, nlive);
	}
	for (uint32_t id = 0; id < IDS; id++)
		assert_int_equal(p9_fid_get(&t, id << 13) != NULL, live[id]);
	p9_fids_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_churn),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
