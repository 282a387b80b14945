/*
 * cpu.c: run-time ISA detection (CPUID + XGETBV), capped by ITERA_ISA, read once
 * (itera.h "Instruction sets"), and the one rule that picks a variant row for an ISA.
 *
 * AVX2 means AVX2 + FMA + F16C with the OS saving YMM state; AVX512 means F/BW/DQ/VL
 * with the OS saving opmask/ZMM state; AVX512VNNI adds avx512_vnni; AMX adds AMX-TILE and
 * AMX-INT8 with the OS saving tile state (XCR0 bits 17, 18), and on Linux the process's
 * permission to use tile data, requested here once (arch_prctl ARCH_REQ_XCOMP_PERM: it
 * only lets the kernel allocate the 8 KiB state per thread on first use). The values are filled
 * once (pthread_once), so any thread may call these at any time.
 */
#include "itera.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>
#define CPU_X86 1
#else
#define CPU_X86 0
#endif

static const char *const isa_names[ITERA_ISA_COUNT] = {
    [ITERA_ISA_SCALAR] = "scalar",
    [ITERA_ISA_AVX2] = "avx2",
    [ITERA_ISA_AVX512] = "avx512",
    [ITERA_ISA_AVX512VNNI] = "avx512vnni",
    [ITERA_ISA_AMX] = "amx",
};

static pthread_once_t once = PTHREAD_ONCE_INIT;
static itera_isa hw_isa = ITERA_ISA_SCALAR;
static itera_isa best_isa = ITERA_ISA_SCALAR;
static char env_error[160];
static int env_bad;

#if CPU_X86
static unsigned long long xgetbv0(void) {
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}
#endif

static itera_isa detect(void) {
#if CPU_X86
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return ITERA_ISA_SCALAR;
    const int fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1,
              f16c = (c >> 29) & 1;
    if (!osxsave || !avx) return ITERA_ISA_SCALAR;
    const unsigned long long xcr0 = xgetbv0();
    if ((xcr0 & 0x6) != 0x6) return ITERA_ISA_SCALAR; /* XMM + YMM state */
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return ITERA_ISA_SCALAR;
    const int avx2 = (b >> 5) & 1, f = (b >> 16) & 1, dq = (b >> 17) & 1, bw = (b >> 30) & 1,
              vl = (b >> 31) & 1, vnni = (c >> 11) & 1;
    if (!(avx2 && fma && f16c)) return ITERA_ISA_SCALAR;
    if (!(f && dq && bw && vl) || (xcr0 & 0xe0) != 0xe0) return ITERA_ISA_AVX2; /* opmask, ZMM */
    if (!vnni) return ITERA_ISA_AVX512;
    const int amx_tile = (d >> 24) & 1, amx_int8 = (d >> 25) & 1;
    if (!amx_tile || !amx_int8 || (xcr0 & 0x60000) != 0x60000) return ITERA_ISA_AVX512VNNI;
#if defined(__linux__) && defined(SYS_arch_prctl)
    enum { ARCH_REQ_XCOMP_PERM = 0x1023, XFEATURE_XTILEDATA = 18 };
    if (syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) != 0) return ITERA_ISA_AVX512VNNI;
    return ITERA_ISA_AMX;
#else
    return ITERA_ISA_AVX512VNNI;
#endif
#else
    return ITERA_ISA_SCALAR;
#endif
}

bool itera_isa_parse(const char *s, itera_isa *out) {
    if (!s) return false;
    for (int i = 0; i < ITERA_ISA_COUNT; i++) {
        if (strcasecmp(s, isa_names[i]) == 0) {
            *out = (itera_isa)i;
            return true;
        }
    }
    if (strcasecmp(s, "avx512-vnni") == 0) {
        *out = ITERA_ISA_AVX512VNNI;
        return true;
    }
    return false;
}

static void init(void) {
    hw_isa = detect();
    best_isa = hw_isa;
    const char *env = getenv("ITERA_ISA");
    if (!env || !*env) return;
    itera_isa cap;
    if (itera_isa_parse(env, &cap)) {
        if (cap < best_isa) best_isa = cap;
    } else {
        snprintf(env_error, sizeof env_error,
                 "ITERA_ISA='%.40s' is not one of scalar, avx2, avx512, avx512vnni, amx; ignored",
                 env);
        env_bad = 1;
    }
}

itera_isa itera_isa_hw(void) {
    pthread_once(&once, init);
    return hw_isa;
}

itera_isa itera_isa_best(void) {
    pthread_once(&once, init);
    return best_isa;
}

bool itera_isa_has(itera_isa isa) { return isa >= ITERA_ISA_SCALAR && isa <= itera_isa_best(); }

const char *itera_isa_name(itera_isa isa) {
    return (isa >= 0 && isa < ITERA_ISA_COUNT) ? isa_names[isa] : "?";
}

const char *itera_isa_env_error(void) {
    pthread_once(&once, init);
    return env_bad ? env_error : NULL;
}

int itera_isa_pick(const itera_variant *const *rows, int n, itera_isa cap) {
    int best = 0;
    for (int i = 1; i < n; i++)
        if (rows[i] && rows[i]->isa <= cap) best = i;
    return best;
}
