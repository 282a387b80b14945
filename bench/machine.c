/*
 * machine.c: the machine fingerprint (see machine.h): reading it from /proc and /sys under
 * a root folder, the derived name, context keys both ways, and the comparison.
 */
#include "machine.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema.h"
#include "sha256.h"

#define MAX_CPUS 4096
#define ID_SALT "itera-bench machine id:"

/* ---- reading files under the root ---- */

static void trim_end(char *s)
{
    size_t len = strlen(s);
    while (len && (s[len - 1] == '\n' || s[len - 1] == '\r' || s[len - 1] == ' ' ||
                   s[len - 1] == '\t'))
        s[--len] = '\0';
}

/* src into dst[n], cut to fit. */
static void set_str(char *dst, size_t n, const char *src)
{
    size_t len = strlen(src);
    if (len >= n)
        len = n - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
}

static void root_path(const char *root, const char *rel, char *out, size_t n)
{
    if (!root || !*root || strcmp(root, "/") == 0)
        snprintf(out, n, "/%s", rel);
    else
        snprintf(out, n, "%s/%s", root, rel);
}

/* The first line of root/rel, trimmed, into out[n]; -1 (out "") when it cannot be read. */
static int read_line(const char *root, const char *rel, char *out, size_t n)
{
    char path[PATH_MAX];
    root_path(root, rel, path, sizeof path);
    out[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    if (!fgets(out, (int)n, f))
        out[0] = '\0';
    fclose(f);
    trim_end(out);
    return 0;
}

/* The whole of root/rel (NUL-terminated, malloc'd), or NULL. */
static char *read_text(const char *root, const char *rel)
{
    char path[PATH_MAX];
    root_path(root, rel, path, sizeof path);
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t cap = 1 << 14, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        len += fread(buf + len, 1, cap - 1 - len, f);
        if (len < cap - 1)
            break;
        char *nb = realloc(buf, cap * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    if (buf && ferror(f)) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf)
        buf[len] = '\0';
    return buf;
}

/* The value of "key<spaces/tabs>: value" at the first line of text starting with key,
 * trimmed, into out[n]; false when no line has it. */
static bool kv_value(const char *text, const char *key, char *out, size_t n)
{
    out[0] = '\0';
    size_t klen = strlen(key);
    for (const char *line = text; line && *line;) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        if (len > klen && strncmp(line, key, klen) == 0) {
            size_t i = klen;
            while (i < len && (line[i] == ' ' || line[i] == '\t'))
                i++;
            if (i < len && line[i] == ':') {
                i++;
                while (i < len && (line[i] == ' ' || line[i] == '\t'))
                    i++;
                size_t vlen = len - i;
                if (vlen >= n)
                    vlen = n - 1;
                memcpy(out, line + i, vlen);
                out[vlen] = '\0';
                trim_end(out);
                return true;
            }
        }
        line = eol ? eol + 1 : NULL;
    }
    return false;
}

/* A whole number in base (0: decimal, or hex with 0x) from s; def when s is not one. */
static long long to_ll(const char *s, long long def, int base)
{
    if (!s || !*s)
        return def;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, base);
    while (*end == ' ')
        end++;
    return end == s || *end || errno == ERANGE ? def : v;
}

/* Marks the CPUs of a kernel cpu list ("0-3,8,10-11") in set[MAX_CPUS]; returns how many,
 * or -1 when the text is not a list. "" is the empty list. */
static int cpulist_parse(const char *s, bool *set)
{
    memset(set, 0, MAX_CPUS * sizeof *set);
    int count = 0;
    while (*s == ' ')
        s++;
    if (!*s)
        return 0;
    for (;;) {
        char *end;
        long a = strtol(s, &end, 10), b = a;
        if (end == s || a < 0 || a >= MAX_CPUS)
            return -1;
        s = end;
        if (*s == '-') {
            b = strtol(s + 1, &end, 10);
            if (end == s + 1 || b < a || b >= MAX_CPUS)
                return -1;
            s = end;
        }
        for (long c = a; c <= b; c++)
            if (!set[c]) {
                set[c] = true;
                count++;
            }
        if (*s == ',') {
            s++;
            continue;
        }
        return *s == '\0' ? count : -1;
    }
}

/* ---- the parts ---- */

/* The SIMD flags reported, in this order (cpuinfo's spelling: x86 flags, arm64 Features). */
static const char *const isa_flags[] = {
    "sse4_2", "avx", "avx2", "fma", "f16c", "bmi2", "avx_vnni", "avx512f", "avx512dq",
    "avx512cd", "avx512bw", "avx512vl", "avx512ifma", "avx512vbmi", "avx512_vbmi2",
    "avx512_vnni", "avx512_bf16", "avx512_fp16", "avx512_bitalg", "avx512_vpopcntdq",
    "avx512_vp2intersect", "amx_tile", "amx_int8", "amx_bf16", "amx_fp16",
    "asimd", "asimddp", "asimdhp", "i8mm", "bf16", "sve", "sve2",
};
#define N_ISA_FLAGS (int)(sizeof isa_flags / sizeof isa_flags[0])

static bool has_word(const char *list, const char *word)
{
    size_t w = strlen(word);
    for (const char *p = list; (p = strstr(p, word)) != NULL; p += w)
        if ((p == list || p[-1] == ' ' || p[-1] == '\t') &&
            (p[w] == '\0' || p[w] == ' ' || p[w] == '\t'))
            return true;
    return false;
}

static void isa_features(const char *flags, char *out, size_t n)
{
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < N_ISA_FLAGS; i++)
        if (has_word(flags, isa_flags[i])) {
            int w = snprintf(out + used, n - used, "%s%s", used ? " " : "", isa_flags[i]);
            if (w < 0 || (size_t)w >= n - used)
                break;
            used += (size_t)w;
        }
}

/* arm64 parts (implementer 0x41, "CPU part") named in the model string and the name. */
static const struct {
    int part;
    const char *name;
} arm_parts[] = {
    { 0xd03, "Cortex-A53" }, { 0xd04, "Cortex-A35" }, { 0xd05, "Cortex-A55" },
    { 0xd07, "Cortex-A57" }, { 0xd08, "Cortex-A72" }, { 0xd09, "Cortex-A73" },
    { 0xd0a, "Cortex-A75" }, { 0xd0b, "Cortex-A76" }, { 0xd0c, "Neoverse-N1" },
    { 0xd0d, "Cortex-A77" }, { 0xd40, "Neoverse-V1" }, { 0xd41, "Cortex-A78" },
    { 0xd46, "Cortex-A510" }, { 0xd47, "Cortex-A710" }, { 0xd49, "Neoverse-N2" },
    { 0xd4f, "Neoverse-V2" }, { 0xd80, "Cortex-A520" }, { 0xd81, "Cortex-A720" },
};

static void read_cpu(const char *cpuinfo, machine_info *m)
{
    char v[1024];
    m->cpu_family = m->cpu_model_number = m->cpu_stepping = -1;
    if (kv_value(cpuinfo, "vendor_id", v, sizeof v)) {
        set_str(m->cpu_vendor, sizeof m->cpu_vendor, v);
        if (kv_value(cpuinfo, "cpu family", v, sizeof v))
            m->cpu_family = (int)to_ll(v, -1, 0);
        if (kv_value(cpuinfo, "model", v, sizeof v))
            m->cpu_model_number = (int)to_ll(v, -1, 0);
        if (kv_value(cpuinfo, "stepping", v, sizeof v))
            m->cpu_stepping = (int)to_ll(v, -1, 0);
        if (kv_value(cpuinfo, "model name", v, sizeof v))
            set_str(m->cpu_model, sizeof m->cpu_model, v);
    } else if (kv_value(cpuinfo, "CPU implementer", v, sizeof v)) {
        long long impl = to_ll(v, -1, 0);
        snprintf(m->cpu_vendor, sizeof m->cpu_vendor, impl == 0x41 ? "arm" : "arm-0x%llx",
                 impl);
        if (kv_value(cpuinfo, "CPU architecture", v, sizeof v))
            m->cpu_family = (int)to_ll(v, -1, 0);
        if (kv_value(cpuinfo, "CPU part", v, sizeof v))
            m->cpu_model_number = (int)to_ll(v, -1, 0);
        if (kv_value(cpuinfo, "CPU revision", v, sizeof v))
            m->cpu_stepping = (int)to_ll(v, -1, 0);
        if (kv_value(cpuinfo, "model name", v, sizeof v))
            set_str(m->cpu_model, sizeof m->cpu_model, v);
        for (size_t i = 0; !m->cpu_model[0] && impl == 0x41 &&
                           i < sizeof arm_parts / sizeof arm_parts[0]; i++)
            if (arm_parts[i].part == m->cpu_model_number)
                snprintf(m->cpu_model, sizeof m->cpu_model, "ARM %s", arm_parts[i].name);
        if (!m->cpu_model[0])
            snprintf(m->cpu_model, sizeof m->cpu_model, "%s part 0x%x", m->cpu_vendor,
                     m->cpu_model_number);
    }
    if (kv_value(cpuinfo, "flags", v, sizeof v) || kv_value(cpuinfo, "Features", v, sizeof v))
        isa_features(v, m->isa_features, sizeof m->isa_features);
    if (kv_value(cpuinfo, "cpu MHz", v, sizeof v))
        m->mhz = atof(v);
}

/* Sockets and physical cores among the CPUs in set (distinct package / core id pairs);
 * *sockets 0 when the topology files are absent (cores then = CPUs). */
static void count_cores(const char *root, const bool *set, int ncpus, int *sockets, int *cores)
{
    int pairs[MAX_CPUS][2], pk_seen[MAX_CPUS];
    int np = 0, npk = 0;
    bool topo = true;
    for (int c = 0; c < MAX_CPUS && topo; c++) {
        if (!set[c])
            continue;
        char rel[128], pk[32], core[32];
        snprintf(rel, sizeof rel, "sys/devices/system/cpu/cpu%d/topology/physical_package_id", c);
        if (read_line(root, rel, pk, sizeof pk) != 0) {
            topo = false;
            break;
        }
        snprintf(rel, sizeof rel, "sys/devices/system/cpu/cpu%d/topology/core_id", c);
        if (read_line(root, rel, core, sizeof core) != 0) {
            topo = false;
            break;
        }
        int p = (int)to_ll(pk, -1, 10), k = (int)to_ll(core, -1, 10);
        bool dup = false;
        for (int i = 0; i < np && !dup; i++)
            dup = pairs[i][0] == p && pairs[i][1] == k;
        if (!dup) {
            pairs[np][0] = p;
            pairs[np][1] = k;
            np++;
        }
        dup = false;
        for (int i = 0; i < npk && !dup; i++)
            dup = pk_seen[i] == p;
        if (!dup)
            pk_seen[npk++] = p;
    }
    if (!topo) {
        *sockets = 0;
        *cores = ncpus;
        return;
    }
    *sockets = npk;
    *cores = np;
}

static void read_caches(const char *root, machine_info *m)
{
    m->ncaches = 0;
    bool set[MAX_CPUS];
    for (int i = 0; i < 16 && m->ncaches < MACHINE_MAX_CACHES; i++) {
        char base[96], rel[160], type[32], level[16], size[32], shared[1024];
        snprintf(base, sizeof base, "sys/devices/system/cpu/cpu0/cache/index%d", i);
        snprintf(rel, sizeof rel, "%s/type", base);
        if (read_line(root, rel, type, sizeof type) != 0)
            break;
        snprintf(rel, sizeof rel, "%s/level", base);
        read_line(root, rel, level, sizeof level);
        snprintf(rel, sizeof rel, "%s/size", base);
        read_line(root, rel, size, sizeof size);
        snprintf(rel, sizeof rel, "%s/shared_cpu_list", base);
        read_line(root, rel, shared, sizeof shared);
        if (strcmp(type, "Data") != 0 && strcmp(type, "Instruction") != 0 &&
            strcmp(type, "Unified") != 0)
            continue;
        char *end;
        long long bytes = strtoll(size, &end, 10);
        if (*end == 'K')
            bytes *= 1024;
        else if (*end == 'M')
            bytes *= 1024 * 1024;
        else if (*end == 'G')
            bytes *= 1024LL * 1024 * 1024;
        int sharing = cpulist_parse(shared, set);
        machine_cache *c = &m->caches[m->ncaches++];
        c->level = atoi(level);
        set_str(c->type, sizeof c->type, type);
        c->size_bytes = bytes;
        c->num_sharing = sharing > 0 ? sharing : 1;
    }
}

static void read_id(const char *root, machine_info *m)
{
    static const char *const files[] = { "etc/machine-id", "var/lib/dbus/machine-id",
                                         "sys/class/dmi/id/product_uuid" };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char line[256], salted[sizeof ID_SALT + sizeof line];
        if (read_line(root, files[i], line, sizeof line) != 0 || !line[0])
            continue;
        int len = snprintf(salted, sizeof salted, "%s%s", ID_SALT, line);
        sha256_hex(salted, (size_t)len, m->id);
        snprintf(m->id_source, sizeof m->id_source, "/%s", files[i]);
        return;
    }
    snprintf(m->id, sizeof m->id, "unknown");
    snprintf(m->id_source, sizeof m->id_source, "none");
}

bench_status machine_read(const char *root, const char *isa_path, machine_info *m,
                          bench_error *e)
{
    memset(m, 0, sizeof *m);
    char *cpuinfo = read_text(root, "proc/cpuinfo");
    if (!cpuinfo) {
        char path[PATH_MAX];
        root_path(root, "proc/cpuinfo", path, sizeof path);
        return bench_fail(e, BENCH_ERR_SYSTEM, "machine: cannot read %s: %s", path,
                          strerror(errno));
    }
    read_cpu(cpuinfo, m);

    bool online[MAX_CPUS], allowed[MAX_CPUS];
    char line[1024];
    int n = -1;
    if (read_line(root, "sys/devices/system/cpu/online", line, sizeof line) == 0)
        n = cpulist_parse(line, online);
    if (n <= 0) { /* no sysfs: CPUs 0..k-1 for the k "processor" lines of cpuinfo */
        memset(online, 0, sizeof online);
        n = 0;
        for (const char *p = cpuinfo; p && *p && n < MAX_CPUS;) {
            if (strncmp(p, "processor", 9) == 0 && (p[9] == ' ' || p[9] == '\t' || p[9] == ':'))
                online[n++] = true;
            p = strchr(p, '\n');
            p = p ? p + 1 : NULL;
        }
    }
    free(cpuinfo);
    m->threads = n;
    count_cores(root, online, n, &m->sockets, &m->cores);

    /* Affinity as the kernel reports it (a Slurm task's or taskset's CPUs); when absent,
     * every online CPU. */
    char *status = read_text(root, "proc/self/status");
    if (!status || !kv_value(status, "Cpus_allowed_list", line, sizeof line) ||
        cpulist_parse(line, allowed) < 0)
        memcpy(allowed, online, sizeof allowed);
    free(status);
    int both = 0;
    for (int c = 0; c < MAX_CPUS; c++) {
        allowed[c] = allowed[c] && online[c];
        both += allowed[c];
    }
    m->threads_allowed = both;
    int sk;
    count_cores(root, allowed, both, &sk, &m->cores_allowed);
    /* The allowed CPUs as a list again ("0-1,4"). */
    size_t used = 0;
    for (int c = 0; c < MAX_CPUS && used < sizeof m->cpus_allowed; c++) {
        if (!allowed[c] || (c > 0 && allowed[c - 1]))
            continue;
        int d = c;
        while (d + 1 < MAX_CPUS && allowed[d + 1])
            d++;
        int w = d > c ? snprintf(m->cpus_allowed + used, sizeof m->cpus_allowed - used,
                                 "%s%d-%d", used ? "," : "", c, d)
                      : snprintf(m->cpus_allowed + used, sizeof m->cpus_allowed - used,
                                 "%s%d", used ? "," : "", c);
        if (w > 0)
            used += (size_t)w;
    }

    read_caches(root, m);

    char *meminfo = read_text(root, "proc/meminfo");
    if (meminfo && kv_value(meminfo, "MemTotal", line, sizeof line))
        m->memory_bytes = strtoll(line, NULL, 10) * 1024;
    free(meminfo);
    read_line(root, "proc/sys/kernel/osrelease", m->kernel, sizeof m->kernel);
    read_line(root, "proc/sys/kernel/hostname", m->hostname, sizeof m->hostname);
    read_line(root, "sys/devices/system/cpu/cpu0/cpufreq/scaling_governor", m->governor,
              sizeof m->governor);
    read_id(root, m);
    snprintf(m->isa_path, sizeof m->isa_path, "%s", isa_path ? isa_path : "");
    machine_default_name(m, m->name, sizeof m->name);
    snprintf(m->name_source, sizeof m->name_source, "cpu");
    return BENCH_OK;
}

/* ---- names ---- */

/* Microarchitectures of Intel family 6 models (client and server parts by CPUID model). */
static const struct {
    int model;
    const char *uarch;
} intel_models[] = {
    { 0x3c, "haswell" },     { 0x3f, "haswell" },       { 0x45, "haswell" },
    { 0x46, "haswell" },     { 0x3d, "broadwell" },     { 0x47, "broadwell" },
    { 0x4f, "broadwell" },   { 0x56, "broadwell" },     { 0x4e, "skylake" },
    { 0x5e, "skylake" },     { 0x55, "skylake" },       { 0x8e, "kabylake" },
    { 0x9e, "kabylake" },    { 0xa5, "cometlake" },     { 0xa6, "cometlake" },
    { 0x66, "cannonlake" },  { 0x7d, "icelake" },       { 0x7e, "icelake" },
    { 0x6a, "icelake" },     { 0x6c, "icelake" },       { 0x8c, "tigerlake" },
    { 0x8d, "tigerlake" },   { 0xa7, "rocketlake" },    { 0x97, "alderlake" },
    { 0x9a, "alderlake" },   { 0xbe, "alderlake" },     { 0xb7, "raptorlake" },
    { 0xba, "raptorlake" },  { 0xbf, "raptorlake" },    { 0xaa, "meteorlake" },
    { 0xac, "meteorlake" },  { 0xc5, "arrowlake" },     { 0xc6, "arrowlake" },
    { 0xbd, "lunarlake" },   { 0x8f, "sapphirerapids" }, { 0xcf, "emeraldrapids" },
    { 0xad, "graniterapids" }, { 0xae, "graniterapids" }, { 0xaf, "sierraforest" },
};

/* A Xeon's generation from its ISA features: server parts run in virtual machines whose
 * CPUID model is often not the host's, while their feature flags are. NULL: no AVX-512. */
static const char *xeon_uarch(const machine_info *m)
{
    const char *f = m->isa_features;
    if (has_word(f, "amx_fp16"))
        return "graniterapids";
    if (has_word(f, "amx_tile"))
        return m->cpu_model_number == 0xcf ? "emeraldrapids" : "sapphirerapids";
    if (has_word(f, "avx512_bf16"))
        return "cooperlake";
    if (has_word(f, "avx512_vbmi2"))
        return "icelake";
    if (has_word(f, "avx512_vnni"))
        return "cascadelake";
    if (has_word(f, "avx512f"))
        return "skylake";
    return NULL;
}

/* AMD Zen generations by family and model. */
static const char *amd_uarch(int family, int model)
{
    switch (family) {
    case 0x17: return model < 0x30 ? "zen" : "zen2";
    case 0x19:
        if (model < 0x10 || (model >= 0x20 && model < 0x60))
            return "zen3";
        return "zen4";
    case 0x1a: return "zen5";
    default: return NULL;
    }
}

/* Appends word to out as "-word" pieces of [a-z0-9]. */
static void name_append(char *out, size_t n, const char *word)
{
    size_t len = strlen(out);
    bool dash = len > 0;
    for (const char *p = word; *p && len + 1 < n; p++) {
        char c = (char)tolower((unsigned char)*p);
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            if (dash && len + 2 < n) {
                out[len++] = '-';
                dash = false;
            }
            if (len + 1 < n)
                out[len++] = c;
        } else if (len > 0) {
            dash = true;
        }
    }
    out[len] = '\0';
}

void machine_default_name(const machine_info *m, char *out, size_t n)
{
    static const char *const brands[] = { "xeon", "epyc", "threadripper", "ryzen", "core",
                                          "atom", "pentium", "celeron", "opteron" };
    char lower[sizeof m->cpu_model];
    size_t i = 0;
    for (; m->cpu_model[i] && i + 1 < sizeof lower; i++)
        lower[i] = (char)tolower((unsigned char)m->cpu_model[i]);
    lower[i] = '\0';

    const char *brand = NULL, *uarch = NULL;
    char arm[32] = "";
    for (size_t b = 0; b < sizeof brands / sizeof brands[0] && !brand; b++)
        if (has_word(lower, brands[b]) || strstr(lower, brands[b]))
            brand = brands[b];
    bool intel = strcmp(m->cpu_vendor, "GenuineIntel") == 0;
    bool amd = strcmp(m->cpu_vendor, "AuthenticAMD") == 0;
    if (intel) {
        if (brand && strcmp(brand, "xeon") == 0)
            uarch = xeon_uarch(m);
        for (size_t k = 0; !uarch && m->cpu_family == 6 &&
                           k < sizeof intel_models / sizeof intel_models[0]; k++)
            if (intel_models[k].model == m->cpu_model_number)
                uarch = intel_models[k].uarch;
        if (!uarch && brand && strcmp(brand, "xeon") != 0)
            uarch = xeon_uarch(m);
        if (!brand)
            brand = "intel";
    } else if (amd) {
        uarch = amd_uarch(m->cpu_family, m->cpu_model_number);
        if (!brand)
            brand = "amd";
    } else if (strncmp(m->cpu_vendor, "arm", 3) == 0) {
        /* "ARM Cortex-A76" -> cortex, a76 */
        const char *s = strncmp(m->cpu_model, "ARM ", 4) == 0 ? m->cpu_model + 4 : "";
        const char *dash = strchr(s, '-');
        if (dash) {
            snprintf(arm, sizeof arm, "%.*s", (int)(dash - s), s);
            brand = arm;
            uarch = dash + 1;
        } else {
            brand = "arm";
        }
    } else {
        brand = "cpu";
    }
    out[0] = '\0';
    name_append(out, n, brand);
    if (uarch)
        name_append(out, n, uarch);
    char cores[32];
    snprintf(cores, sizeof cores, "%dc", m->cores > 0 ? m->cores : m->threads);
    name_append(out, n, cores);
    if (strlen(out) > MACHINE_NAME_MAX)
        out[MACHINE_NAME_MAX] = '\0';
    trim_end(out);
    size_t len = strlen(out);
    while (len && out[len - 1] == '-')
        out[--len] = '\0';
}

bench_status machine_name_check(const char *name, const char *origin, bench_error *e)
{
    size_t len = name ? strlen(name) : 0;
    const char *why = NULL;
    if (len == 0)
        why = "it is empty";
    else if (len > MACHINE_NAME_MAX)
        why = "it is longer than 63 characters";
    else if (name[0] == '-' || name[len - 1] == '-')
        why = "it starts or ends with '-'";
    for (size_t i = 0; !why && i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            why = "it has a character other than a-z, 0-9 and '-'";
    }
    if (why)
        return bench_fail(e, BENCH_ERR_INPUT,
                          "%s '%s': not a machine name: %s (expected 1 to %d lowercase "
                          "letters, digits and '-', e.g. pi5-lab)",
                          origin ? origin : "machine name", name ? name : "", why,
                          MACHINE_NAME_MAX);
    return BENCH_OK;
}

bench_status machine_choose_name(machine_info *m, const char *flag, bench_error *e)
{
    const char *env = getenv("ITERA_MACHINE");
    const char *name = flag ? flag : env;
    const char *origin = flag ? "--machine" : "ITERA_MACHINE";
    if (!name) {
        machine_default_name(m, m->name, sizeof m->name);
        snprintf(m->name_source, sizeof m->name_source, "cpu");
        return BENCH_OK;
    }
    bench_status s = machine_name_check(name, origin, e);
    if (s != BENCH_OK)
        return s;
    snprintf(m->name, sizeof m->name, "%s", name);
    snprintf(m->name_source, sizeof m->name_source, "%s", origin);
    return BENCH_OK;
}

/* ---- the field table ---- */

typedef enum field_kind { FK_STR, FK_INT, FK_I64, FK_CACHES } field_kind;

typedef struct field_def {
    const char *key;
    field_kind kind;
    size_t offset, size; /* FK_STR: the char array */
    bool identity;
} field_def;

#define FS(k, f, id) { k, FK_STR, offsetof(machine_info, f), sizeof(((machine_info *)0)->f), id }
#define FI(k, f, id) { k, FK_INT, offsetof(machine_info, f), 0, id }
static const field_def fields[MACHINE_F_COUNT] = {
    [MACHINE_F_NAME] = FS(CTX_MACHINE, name, false),
    [MACHINE_F_NAME_SOURCE] = FS(CTX_MACHINE_NAME_SOURCE, name_source, false),
    [MACHINE_F_ID] = FS(CTX_MACHINE_ID, id, true),
    [MACHINE_F_ID_SOURCE] = FS(CTX_MACHINE_ID_SOURCE, id_source, false),
    [MACHINE_F_CPU_MODEL] = FS(CTX_MACHINE_CPU_MODEL, cpu_model, true),
    [MACHINE_F_CPU_VENDOR] = FS(CTX_MACHINE_CPU_VENDOR, cpu_vendor, true),
    [MACHINE_F_CPU_FAMILY] = FI(CTX_MACHINE_CPU_FAMILY, cpu_family, true),
    [MACHINE_F_CPU_MODEL_NUMBER] = FI(CTX_MACHINE_CPU_MODEL_NUMBER, cpu_model_number, true),
    [MACHINE_F_CPU_STEPPING] = FI(CTX_MACHINE_CPU_STEPPING, cpu_stepping, true),
    [MACHINE_F_SOCKETS] = FI(CTX_MACHINE_SOCKETS, sockets, true),
    [MACHINE_F_CORES] = FI(CTX_MACHINE_CORES, cores, true),
    [MACHINE_F_THREADS] = FI(CTX_MACHINE_THREADS, threads, true),
    [MACHINE_F_CORES_ALLOWED] = FI(CTX_MACHINE_CORES_ALLOWED, cores_allowed, false),
    [MACHINE_F_THREADS_ALLOWED] = FI(CTX_MACHINE_THREADS_ALLOWED, threads_allowed, false),
    [MACHINE_F_CPUS_ALLOWED] = FS(CTX_MACHINE_CPUS_ALLOWED, cpus_allowed, false),
    [MACHINE_F_CACHES] = { CTX_MACHINE_CACHES, FK_CACHES, 0, 0, true },
    [MACHINE_F_ISA_FEATURES] = FS(CTX_MACHINE_ISA_FEATURES, isa_features, true),
    [MACHINE_F_ISA_PATH] = FS(CTX_MACHINE_ISA_PATH, isa_path, false),
    [MACHINE_F_MEMORY_BYTES] = { CTX_MACHINE_MEMORY_BYTES, FK_I64,
                                 offsetof(machine_info, memory_bytes), 0, true },
    [MACHINE_F_KERNEL] = FS(CTX_MACHINE_KERNEL, kernel, true),
    [MACHINE_F_HOSTNAME] = FS(CTX_MACHINE_HOSTNAME, hostname, false),
};

const char *machine_field_key(machine_field f)
{
    return (unsigned)f < MACHINE_F_COUNT ? fields[f].key : NULL;
}

bool machine_field_is_identity(machine_field f)
{
    return (unsigned)f < MACHINE_F_COUNT && fields[f].identity;
}

uint32_t machine_identity_mask(void)
{
    uint32_t mask = 0;
    for (int f = 0; f < MACHINE_F_COUNT; f++)
        if (fields[f].identity)
            mask |= 1u << f;
    return mask;
}

/* "48K", "2M", "105M", "1536K", "1G" (1024 powers), or plain bytes. */
static void fmt_size(long long b, char *out, size_t n)
{
    if (b > 0 && b % (1LL << 30) == 0)
        snprintf(out, n, "%lldG", b >> 30);
    else if (b > 0 && b % (1LL << 20) == 0)
        snprintf(out, n, "%lldM", b >> 20);
    else if (b > 0 && b % 1024 == 0)
        snprintf(out, n, "%lldK", b >> 10);
    else
        snprintf(out, n, "%lld", b);
}

static void caches_format(const machine_info *m, char *out, size_t n)
{
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < m->ncaches && used < n; i++) {
        const machine_cache *c = &m->caches[i];
        char sz[32];
        fmt_size(c->size_bytes, sz, sizeof sz);
        const char *t = strcmp(c->type, "Data") == 0          ? "d"
                        : strcmp(c->type, "Instruction") == 0 ? "i"
                                                              : "";
        int w = snprintf(out + used, n - used, "%sL%d%s:%s", used ? " " : "", c->level, t, sz);
        if (w > 0)
            used += (size_t)w;
    }
}

/* Parses caches_format's text back; false when it is not that form. */
static bool caches_parse(const char *s, machine_info *m)
{
    m->ncaches = 0;
    while (*s == ' ')
        s++;
    while (*s) {
        if (m->ncaches == MACHINE_MAX_CACHES || *s != 'L')
            return false;
        char *end;
        long level = strtol(s + 1, &end, 10);
        if (end == s + 1 || level < 1 || level > 9)
            return false;
        machine_cache *c = &m->caches[m->ncaches];
        const char *type = "Unified";
        if (*end == 'd' || *end == 'i') {
            type = *end == 'd' ? "Data" : "Instruction";
            end++;
        }
        if (*end != ':')
            return false;
        const char *num = end + 1;
        long long size = strtoll(num, &end, 10);
        if (end == num || size < 0)
            return false;
        if (*end == 'K')
            size <<= 10, end++;
        else if (*end == 'M')
            size <<= 20, end++;
        else if (*end == 'G')
            size <<= 30, end++;
        if (*end != ' ' && *end != '\0')
            return false;
        c->level = (int)level;
        set_str(c->type, sizeof c->type, type);
        c->size_bytes = size;
        c->num_sharing = 0; /* not in the text */
        m->ncaches++;
        s = end;
        while (*s == ' ')
            s++;
    }
    return true;
}

void machine_field_format(const machine_info *m, machine_field f, char *out, size_t n)
{
    out[0] = '\0';
    if ((unsigned)f >= MACHINE_F_COUNT)
        return;
    const field_def *d = &fields[f];
    const char *base = (const char *)m + d->offset;
    switch (d->kind) {
    case FK_STR: snprintf(out, n, "%s", base); break;
    case FK_INT: snprintf(out, n, "%d", *(const int *)base); break;
    case FK_I64: snprintf(out, n, "%lld", *(const long long *)base); break;
    case FK_CACHES: caches_format(m, out, n); break;
    }
}

void machine_to_context(const machine_info *m, json_t *ctx)
{
    char buf[1024];
    for (int f = 0; f < MACHINE_F_COUNT; f++) {
        machine_field_format(m, (machine_field)f, buf, sizeof buf);
        json_object_set_new(ctx, fields[f].key, json_string(buf));
    }
}

void machine_to_gb_context(const machine_info *m, json_t *ctx)
{
    json_object_set_new(ctx, CTX_HOST_NAME, json_string(m->hostname));
    json_object_set_new(ctx, CTX_NUM_CPUS, json_integer(m->threads));
    json_object_set_new(ctx, CTX_MHZ_PER_CPU, json_integer((json_int_t)(m->mhz + 0.5)));
    json_object_set_new(ctx, CTX_CPU_SCALING_ENABLED,
                        json_boolean(m->governor[0] && strcmp(m->governor, "performance") != 0));
    json_t *a = json_array();
    for (int i = 0; i < m->ncaches; i++)
        json_array_append_new(a, json_pack("{s:s, s:i, s:I, s:i}", "type", m->caches[i].type,
                                           "level", m->caches[i].level, "size",
                                           (json_int_t)m->caches[i].size_bytes, "num_sharing",
                                           m->caches[i].num_sharing));
    json_object_set_new(ctx, CTX_CACHES, a);
}

bench_status machine_from_context(const json_t *ctx, machine_info *m, bench_error *e)
{
    memset(m, 0, sizeof *m);
    m->cpu_family = m->cpu_model_number = m->cpu_stepping = -1;
    if (!json_is_object(ctx))
        return bench_fail(e, BENCH_ERR_INPUT, "no context object");
    for (int f = 0; f < MACHINE_F_COUNT; f++) {
        const field_def *d = &fields[f];
        const json_t *v = json_object_get(ctx, d->key);
        if (!v) {
            if (d->identity)
                return bench_fail(e, BENCH_ERR_INPUT,
                                  "no machine fingerprint: context key %s is absent (a file "
                                  "written before fingerprints; run it again)", d->key);
            continue;
        }
        if (!json_is_string(v))
            return bench_fail(e, BENCH_ERR_INPUT, "context key %s: expected a string", d->key);
        const char *s = json_string_value(v);
        char *base = (char *)m + d->offset;
        switch (d->kind) {
        case FK_STR:
            if (strlen(s) >= d->size)
                return bench_fail(e, BENCH_ERR_INPUT, "context key %s: longer than %zu "
                                  "characters", d->key, d->size - 1);
            memcpy(base, s, strlen(s) + 1);
            break;
        case FK_INT:
        case FK_I64: {
            long long x = to_ll(s, LLONG_MIN, 10);
            if (x == LLONG_MIN || (d->kind == FK_INT && (x < INT_MIN || x > INT_MAX)))
                return bench_fail(e, BENCH_ERR_INPUT, "context key %s: '%s' is not a whole "
                                  "number", d->key, s);
            if (d->kind == FK_INT)
                *(int *)base = (int)x;
            else
                *(long long *)base = x;
            break;
        }
        case FK_CACHES:
            if (!caches_parse(s, m))
                return bench_fail(e, BENCH_ERR_INPUT, "context key %s: '%s' is not a cache "
                                  "list like 'L1d:48K L1i:32K L2:2M L3:105M'", d->key, s);
            break;
        }
    }
    return BENCH_OK;
}

/* ---- comparison ---- */

static bool field_equal(const machine_info *a, const machine_info *b, int f)
{
    if (f == MACHINE_F_MEMORY_BYTES) {
        double x = (double)a->memory_bytes, y = (double)b->memory_bytes;
        double hi = x > y ? x : y;
        return fabs(x - y) <= 0.01 * hi;
    }
    char va[1024], vb[1024];
    machine_field_format(a, (machine_field)f, va, sizeof va);
    machine_field_format(b, (machine_field)f, vb, sizeof vb);
    return strcmp(va, vb) == 0;
}

uint32_t machine_diff(const machine_info *a, const machine_info *b)
{
    uint32_t mask = 0;
    for (int f = 0; f < MACHINE_F_COUNT; f++)
        if (!field_equal(a, b, f))
            mask |= 1u << f;
    return mask;
}

int machine_diff_describe(const machine_info *a, const machine_info *b, uint32_t mask,
                          char *out, size_t n)
{
    uint32_t d = machine_diff(a, b) & mask;
    int count = 0;
    size_t used = 0;
    if (n)
        out[0] = '\0';
    for (int f = 0; f < MACHINE_F_COUNT; f++) {
        if (!(d & (1u << f)))
            continue;
        count++;
        char va[512], vb[512];
        machine_field_format(a, (machine_field)f, va, sizeof va);
        machine_field_format(b, (machine_field)f, vb, sizeof vb);
        bool quote = fields[f].kind == FK_STR || fields[f].kind == FK_CACHES;
        int w = quote ? snprintf(out + used, n > used ? n - used : 0, "%s%s '%s' vs '%s'",
                                 used ? "; " : "", fields[f].key, va, vb)
                      : snprintf(out + used, n > used ? n - used : 0, "%s%s %s vs %s",
                                 used ? "; " : "", fields[f].key, va, vb);
        if (w > 0)
            used += (size_t)w;
        if (used >= n)
            used = n ? n - 1 : 0;
    }
    return count;
}

bool machine_same(const machine_info *a, const machine_info *b, char *why, size_t n)
{
    return machine_diff_describe(a, b, machine_identity_mask(), why, n) == 0;
}
