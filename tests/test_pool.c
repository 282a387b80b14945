/* test_pool.c: the persistent worker pool: every thread runs every task once, slices
 * cover the range, start callbacks run once per thread before any work. */
#include <stdatomic.h>
#include <pthread.h>

#include "testutil.h"
#include "pool.h"

typedef struct counter_arg {
    atomic_int calls[ITERA_MAX_THREADS];
    int covered[1000];
    int n;
} counter_arg;

static void count_task(int ith, int nth, void *v)
{
    counter_arg *a = v;
    atomic_fetch_add(&a->calls[ith], 1);
    int i0, i1;
    pool_slice(a->n, ith, nth, &i0, &i1);
    for (int i = i0; i < i1; i++) a->covered[i]++;
}

static atomic_int started[ITERA_MAX_THREADS];
static pthread_t start_thread[ITERA_MAX_THREADS];
static void on_start(int ith, void *user)
{
    assert_ptr_equal(user, (void *)started);
    atomic_fetch_add(&started[ith], 1);
    start_thread[ith] = pthread_self();
}

static void test_runs_and_slices(void **state)
{
    (void)state;
    for (int nth = 1; nth <= 5; nth++) {
        for (int i = 0; i < ITERA_MAX_THREADS; i++) atomic_store(&started[i], 0);
        itera_error err;
        itera_pool *p = pool_create(nth, on_start, (void *)started, &err);
        assert_non_null(p);
        assert_int_equal(pool_size(p), nth);
        for (int i = 0; i < nth; i++) assert_int_equal(atomic_load(&started[i]), 1);
        assert_true(pthread_equal(start_thread[0], pthread_self()));
        counter_arg *a = calloc(1, sizeof *a);
        a->n = 997;
        for (int r = 0; r < 500; r++) pool_run(p, count_task, a);
        for (int i = 0; i < nth; i++) assert_int_equal(atomic_load(&a->calls[i]), 500);
        for (int i = 0; i < a->n; i++) assert_int_equal(a->covered[i], 500);
        free(a);
        pool_destroy(p);
    }
}

static void test_sleep_wake(void **state)
{
    (void)state;
    /* gaps long enough for workers to fall asleep between runs */
    itera_pool *p = pool_create(3, NULL, NULL, NULL);
    assert_non_null(p);
    counter_arg *a = calloc(1, sizeof *a);
    a->n = 10;
    for (int r = 0; r < 5; r++) {
        usleep(20000);
        pool_run(p, count_task, a);
    }
    for (int i = 0; i < 3; i++) assert_int_equal(atomic_load(&a->calls[i]), 5);
    free(a);
    pool_destroy(p);
}

static void test_bad_thread_count(void **state)
{
    (void)state;
    itera_error err;
    assert_null(pool_create(0, NULL, NULL, &err));
    assert_non_null(strstr(err.msg, "threads"));
    assert_null(pool_create(ITERA_MAX_THREADS + 1, NULL, NULL, &err));
}

static void test_slices(void **state)
{
    (void)state;
    for (int n = 0; n < 50; n++)
        for (int nth = 1; nth < 9; nth++) {
            int prev = 0;
            for (int i = 0; i < nth; i++) {
                int a, b;
                pool_slice(n, i, nth, &a, &b);
                assert_int_equal(a, prev);
                assert_true(b >= a && b - a <= n / nth + 1);
                prev = b;
            }
            assert_int_equal(prev, n);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_runs_and_slices),
        cmocka_unit_test(test_sleep_wake),
        cmocka_unit_test(test_bad_thread_count),
        cmocka_unit_test(test_slices),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
