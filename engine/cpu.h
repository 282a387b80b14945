/*
 * cpu.h: run-time ISA detection. Kernel families keep one table entry per ISA and
 * pick the best one the CPU (and the ITERA_ISA environment cap) allows.
 */
#ifndef ITERA_CPU_H
#define ITERA_CPU_H

#include <stdbool.h>

typedef enum cpu_isa {
    CPU_ISA_SCALAR = 0,
    CPU_ISA_AVX2 = 1,        /* AVX2 + FMA + F16C */
    CPU_ISA_AVX512 = 2,      /* AVX-512 F/BW/DQ/VL */
    CPU_ISA_AVX512VNNI = 3,  /* AVX-512 + VNNI (vpdpbusd) */
    CPU_ISA_COUNT
} cpu_isa;

/* Highest ISA usable here: CPUID + OS (XGETBV) support, capped by the environment
 * variable ITERA_ISA=scalar|avx2|avx512|avx512vnni when set. Cached after first call. */
cpu_isa cpu_isa_best(void);
/* isa <= cpu_isa_best(). */
bool cpu_isa_has(cpu_isa isa);
/* "scalar", "avx2", "avx512", "avx512vnni" (the ITERA_ISA spellings); "?" out of range. */
const char *cpu_isa_name(cpu_isa isa);

/* Highest ISA the CPU and OS support, ignoring ITERA_ISA. Cached. */
cpu_isa cpu_isa_hw(void);
/* Parses an ITERA_ISA value (the cpu_isa_name spellings, case-insensitive; "avx512-vnni"
 * also accepted). Returns false (and leaves *out alone) for NULL or an unknown name. */
bool cpu_isa_parse(const char *s, cpu_isa *out);
/* ITERA_ISA was set to an unknown value: a one-line message naming it and the valid
 * choices (the value is then ignored: no cap). NULL when ITERA_ISA is unset or valid.
 * The library never prints; the CLI reports this. */
const char *cpu_isa_env_error(void);

#endif
