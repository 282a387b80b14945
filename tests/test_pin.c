/*
 * test_pin.c: worker placement plans on synthetic hwloc topologies (12, 4, 2 cores, SMT,
 * fewer cores than asked, emulation) and a real bind of this thread read back from the OS.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "pin.h"
#include "pool.h"

static pin_topo *load(const char *synthetic)
{
    pin_topo *t = NULL;
    bench_error err = { { 0 } };
    int rc = pin_topology_load(&t, synthetic, &err);
    if (rc != 0)
        print_error("pin_topology_load(%s): %s\n", synthetic ? synthetic : "this machine", err.msg);
    assert_int_equal(rc, 0);
    assert_non_null(t);
    return t;
}

static void test_desktop_12_cores(void **state)
{
    (void)state;
    pin_topo *t = load("pack:1 core:12 pu:1");
    assert_int_equal(pin_topo_packages(t), 1);
    assert_int_equal(pin_topo_cores(t), 12);
    assert_int_equal(pin_topo_pus(t), 12);
    assert_false(pin_topo_is_this_system(t));
    char d[256];
    pin_topo_describe(t, d, sizeof d);
    assert_non_null(strstr(d, "1 package, 12 cores, 12 PUs"));
    assert_non_null(strstr(d, "synthetic"));

    pin_plan p;
    bench_error err = { { 0 } };
    assert_int_equal(pin_plan_make(t, 12, PIN_BIND_CORE, false, &p, &err), BENCH_OK);
    assert_int_equal(p.workers, 12);
    assert_int_equal(p.slots, 12);
    assert_false(p.emulated);
    for (int i = 0; i < 12; i++) {
        assert_int_equal(p.cpu[i], i);
        assert_int_equal(p.core[i], i);
    }
    assert_int_equal(p.cpu[12], -1);
    /* binding a synthetic plan is refused, never silently "done" */
    assert_int_equal(pin_bind_self(&p, 0, &err), BENCH_ERR_INPUT);
    assert_non_null(strstr(err.msg, "synthetic"));
    pin_topology_free(t);
}

static void test_4_and_2_cores(void **state)
{
    (void)state;
    const struct { const char *syn; int cores; } cases[] = {{"core:4 pu:1", 4}, {"core:2 pu:1", 2}};
    for (size_t c = 0; c < 2; c++) {
        pin_topo *t = load(cases[c].syn);
        assert_int_equal(pin_topo_cores(t), cases[c].cores);
        pin_plan p;
        bench_error err = { { 0 } };
        for (int w = 1; w <= cases[c].cores; w++) {
            assert_int_equal(pin_plan_make(t, w, PIN_BIND_CORE, false, &p, &err), BENCH_OK);
            assert_false(p.emulated);
            for (int i = 0; i < w; i++)
                assert_int_equal(p.cpu[i], i);
        }
        pin_topology_free(t);
    }
}

/* SMT: one worker per physical core, on each core's first PU, never two on one core. */
static void test_smt_one_worker_per_core(void **state)
{
    (void)state;
    pin_topo *t = load("pack:1 core:4 pu:2");
    assert_int_equal(pin_topo_cores(t), 4);
    assert_int_equal(pin_topo_pus(t), 8);
    pin_plan p;
    bench_error err = { { 0 } };
    assert_int_equal(pin_plan_make(t, 4, PIN_BIND_CORE, false, &p, &err), BENCH_OK);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(p.cpu[i], 2 * i); /* PUs 0,2,4,6: the first of each core */
        assert_int_equal(p.core[i], i);
    }
    /* 8 workers need 8 cores: refused in core mode, fine in PU mode */
    assert_int_equal(pin_plan_make(t, 8, PIN_BIND_CORE, false, &p, &err), BENCH_ERR_INPUT);
    assert_non_null(strstr(err.msg, "8 workers"));
    assert_non_null(strstr(err.msg, "has 4 cores"));
    assert_int_equal(pin_plan_make(t, 8, PIN_BIND_PU, false, &p, &err), BENCH_OK);
    assert_false(p.emulated);
    for (int i = 0; i < 8; i++) {
        assert_int_equal(p.cpu[i], i);
        assert_int_equal(p.core[i], i / 2);
    }
    pin_topology_free(t);
}

static void test_fewer_cores_than_asked(void **state)
{
    (void)state;
    pin_topo *t = load("pack:1 core:2 pu:1");
    pin_plan p;
    memset(&p, 0x5a, sizeof p);
    pin_plan before = p;
    bench_error err = { { 0 } };
    assert_int_equal(pin_plan_make(t, 12, PIN_BIND_CORE, false, &p, &err), BENCH_ERR_INPUT);
    assert_non_null(strstr(err.msg, "12 workers"));
    assert_non_null(strstr(err.msg, "has 2 cores"));
    assert_non_null(strstr(err.msg, "emulate"));
    assert_memory_equal(&p, &before, sizeof p); /* unchanged on failure */

    /* with oversubscription allowed: round-robin on the 2 cores, flagged emulated */
    assert_int_equal(pin_plan_make(t, 12, PIN_BIND_CORE, true, &p, &err), BENCH_OK);
    assert_true(p.emulated);
    assert_int_equal(p.workers, 12);
    assert_int_equal(p.slots, 2);
    for (int i = 0; i < 12; i++)
        assert_int_equal(p.cpu[i], i % 2);
    /* exactly enough cores is not emulated */
    assert_int_equal(pin_plan_make(t, 2, PIN_BIND_CORE, true, &p, &err), BENCH_OK);
    assert_false(p.emulated);
    pin_topology_free(t);
}

static void test_bad_input(void **state)
{
    (void)state;
    pin_topo *t = NULL;
    bench_error err = { { 0 } };
    assert_int_equal(pin_topology_load(&t, "bogus:7 thing", &err), BENCH_ERR_INPUT);
    assert_null(t);
    assert_non_null(strstr(err.msg, "bogus:7"));
    t = load("core:2 pu:1");
    pin_plan p;
    assert_int_equal(pin_plan_make(t, 0, PIN_BIND_CORE, true, &p, &err), BENCH_ERR_INPUT);
    assert_non_null(strstr(err.msg, "0 workers"));
    assert_int_equal(pin_plan_make(t, PIN_MAX_WORKERS + 1, PIN_BIND_CORE, true, &p, &err), BENCH_ERR_INPUT);
    pin_binding b = PIN_BIND_PU;
    assert_int_equal(pin_binding_parse("socket", &b), -1);
    assert_int_equal(b, PIN_BIND_PU);
    assert_int_equal(pin_binding_parse("none", &b), 0);
    assert_int_equal(b, PIN_BIND_NONE);
    assert_string_equal(pin_binding_name(PIN_BIND_CORE), "core");
    pin_topology_free(t);
}

/* The real thing: bind this thread to CPU 0 and read it back; restore afterwards. */
static void test_real_bind_cpu0(void **state)
{
    (void)state;
    pin_topo *t = load(NULL);
    assert_true(pin_topo_is_this_system(t));
    assert_true(pin_topo_cores(t) >= 1);
    char d[256];
    print_message("this machine: %s\n", pin_topo_describe(t, d, sizeof d));
    pin_affinity saved;
    assert_int_equal(pin_save_self(&saved), 0);

    pin_plan p;
    bench_error err = { { 0 } };
    assert_int_equal(pin_plan_make(t, 1, PIN_BIND_CORE, false, &p, &err), BENCH_OK);
    int rc = pin_bind_self(&p, 0, &err);
    if (rc != 0)
        print_error("%s\n", err.msg);
    assert_int_equal(rc, 0);
    int cpu = -1;
    assert_int_equal(pin_read_self(&cpu), 1);
    assert_int_equal(cpu, p.cpu[0]);

    assert_int_equal(pin_restore_self(&saved), 0);
    assert_true(pin_read_self(&cpu) >= 1);
    pin_topology_free(t);
}

struct worker_arg {
    pin_ctx *ctx;
    int ith;
};

static void *worker(void *arg)
{
    struct worker_arg *w = arg;
    pin_on_thread_start(w->ith, w->ctx);
    return NULL;
}

/* The start callback on real threads, emulated when the plan wants more cores than exist. */
static void test_ctx_on_threads(void **state)
{
    (void)state;
    pin_topo *t = load(NULL);
    pin_affinity saved;
    assert_int_equal(pin_save_self(&saved), 0);
    int cores = pin_topo_cores(t);
    int workers = cores < 4 ? cores + 1 : 4; /* at least one shared core when cores < 4 */
    pin_plan p;
    bench_error err = { { 0 } };
    assert_int_equal(pin_plan_make(t, workers, PIN_BIND_CORE, true, &p, &err), BENCH_OK);
    assert_int_equal(p.emulated, workers > cores);

    pin_ctx ctx;
    pin_ctx_init(&ctx, &p);
    char cpus[256];
    assert_int_equal(pin_ctx_check(&ctx, &err), BENCH_ERR_SYSTEM); /* nobody started yet */
    assert_non_null(strstr(err.msg, "never ran"));

    pthread_t th[PIN_MAX_WORKERS];
    struct worker_arg wa[PIN_MAX_WORKERS];
    pin_on_thread_start(0, &ctx); /* the caller is worker 0 */
    for (int i = 1; i < workers; i++) {
        wa[i] = (struct worker_arg){&ctx, i};
        assert_int_equal(pthread_create(&th[i], NULL, worker, &wa[i]), 0);
    }
    for (int i = 1; i < workers; i++)
        pthread_join(th[i], NULL);
    int rc = pin_ctx_check(&ctx, &err);
    if (rc != 0)
        print_error("%s\n", err.msg);
    assert_int_equal(rc, 0);
    pin_ctx_cpus(&ctx, cpus, sizeof cpus);
    print_message("worker cpus: %s (%d workers on %d cores%s)\n", cpus, workers, cores,
                  p.emulated ? ", emulated" : "");
    char want[256] = "";
    size_t len = 0;
    for (int i = 0; i < workers; i++)
        len += (size_t)snprintf(want + len, sizeof want - len, "%s%d", i ? "," : "", p.cpu[i]);
    assert_string_equal(cpus, want);

    /* a recorded CPU that differs from the plan is caught */
    ctx.cpu_read[workers - 1] = p.cpu[workers - 1] + 1;
    assert_int_equal(pin_ctx_check(&ctx, &err), BENCH_ERR_SYSTEM);
    assert_non_null(strstr(err.msg, "planned CPU"));

    assert_int_equal(pin_restore_self(&saved), 0);
    pin_topology_free(t);
}

static void record_cpu(int ith, int nth, void *arg)
{
    (void)nth;
    int *cpus = arg;
    pin_read_self(&cpus[ith]);
}

/* With the engine's pool: pin_on_thread_start as its start callback binds every worker,
 * and tasks then run where the plan says. */
static void test_engine_pool(void **state)
{
    (void)state;
    pin_topo *t = load(NULL);
    pin_affinity saved;
    assert_int_equal(pin_save_self(&saved), 0);
    int workers = pin_topo_cores(t);
    pin_plan p;
    bench_error err = { { 0 } };
    assert_int_equal(pin_plan_make(t, workers, PIN_BIND_CORE, false, &p, &err), BENCH_OK);
    pin_ctx ctx;
    pin_ctx_init(&ctx, &p);
    itera_error ierr;
    itera_pool *pool = pool_create(workers, pin_on_thread_start, &ctx, &ierr);
    assert_non_null(pool);
    int rc = pin_ctx_check(&ctx, &err);
    if (rc != 0)
        print_error("%s\n", err.msg);
    assert_int_equal(rc, 0);
    int cpus[PIN_MAX_WORKERS];
    for (int i = 0; i < workers; i++)
        cpus[i] = -1;
    pool_run(pool, record_cpu, cpus);
    for (int i = 0; i < workers; i++)
        assert_int_equal(cpus[i], p.cpu[i]);
    char list[256];
    print_message("pool workers on CPUs %s\n", pin_ctx_cpus(&ctx, list, sizeof list));
    pool_destroy(pool);
    assert_int_equal(pin_restore_self(&saved), 0);
    pin_topology_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_desktop_12_cores),
        cmocka_unit_test(test_4_and_2_cores),
        cmocka_unit_test(test_smt_one_worker_per_core),
        cmocka_unit_test(test_fewer_cores_than_asked),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_real_bind_cpu0),
        cmocka_unit_test(test_ctx_on_threads),
        cmocka_unit_test(test_engine_pool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
