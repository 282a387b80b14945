/*
 * rheader.c: file, machine and group headers of the report (see rheader.h).
 */
#include "rheader.h"

#include <stdio.h>
#include <string.h>

#include "numfmt.h"
#include "schema.h"

#define NR(x) ((x) ? (x) : "not recorded")

static void row(sbuf *md, const char *what, const char *text)
{
    char cell[4096];
    md_cell(cell, sizeof cell, text);
    sb_printf(md, "| %s | %s |\n", what, cell);
}

void header_file(sbuf *md, const rset *s, int fi)
{
    const rfile *rf = &s->files[fi];
    const gb_file *f = &rf->gb;
    char b[40][512];
    int k = 0;
#define VAL(key) gb_ctx(f, (key), b[k++], sizeof b[0])
    const char *prof = VAL(CTX_PROFILE), *thr = VAL(CTX_THREADS), *cpus = VAL(CTX_WORKER_CPUS),
               *emu = VAL(CTX_EMULATED), *host = VAL(CTX_HOST_NAME), *cpu = VAL(CTX_CPU_MODEL),
               *ncpu = VAL(CTX_NUM_CPUS), *mhz = VAL(CTX_MHZ_PER_CPU), *topo = VAL(CTX_TOPOLOGY),
               *isa = VAL(CTX_ISA), *ctr = VAL(CTX_COUNTERS), *peak = VAL(CTX_PEAK_GFLOPS),
               *peakd = VAL(CTX_PEAK), *suspect = VAL(CTX_PEAK_SUSPECT), *model = VAL(CTX_MODEL),
               *git = VAL(CTX_GIT), *cc = VAL(CTX_COMPILER), *bt = VAL(CTX_LIBRARY_BUILD_TYPE),
               *date = VAL(CTX_DATE), *peer = VAL(CTX_PEER), *mname = VAL(CTX_MACHINE),
               *mid = VAL(CTX_MACHINE_ID), *mcpu = VAL(CTX_MACHINE_CPU_MODEL),
               *cpub = VAL(CTX_CPU_UTIL_BASIS), *filter = VAL(CTX_FILTER), *missing = VAL(CTX_MISSING_CELLS);
#undef VAL
    if (mcpu)
        cpu = mcpu; /* itera_cpu_model: files written before the machine fingerprint */
    char cell[4096];
    sb_printf(md, "### [%d] `%s`\n\n| | |\n| --- | --- |\n", rf->num, f->path);
    snprintf(cell, sizeof cell, "%s, %s worker thread(s) on CPUs %s; emulated: %s", rf->platform, NR(thr),
             NR(cpus), emu && strcmp(emu, "true") == 0 ? "**yes**" : NR(emu));
    row(md, "Platform", cell);
    row(md, "Profile", NR(prof));
    if (filter && filter[0]) {
        snprintf(cell, sizeof cell, "--benchmark_filter=%s: a part of the profile (%s selected cells "
                 "missing)", filter, NR(missing));
        row(md, "Filter", cell);
    }
    if (mname)
        snprintf(cell, sizeof cell, "%s (id %.12s); host %s; CPU %s; %s CPUs at %s MHz", mname, NR(mid),
                 NR(host), NR(cpu), NR(ncpu), NR(mhz));
    else
        snprintf(cell, sizeof cell, "no fingerprint; host %s; CPU %s; %s CPUs at %s MHz", NR(host),
                 NR(cpu), NR(ncpu), NR(mhz));
    row(md, "Machine", cell);
    row(md, "Topology", NR(topo));
    row(md, "ISA path", NR(isa));
    row(md, "Counters", NR(ctr));
    if (peakd)
        snprintf(cell, sizeof cell, "%s%s%s", peakd, suspect && strcmp(suspect, "none") != 0 ? "; **" : "",
                 suspect && strcmp(suspect, "none") != 0 ? suspect : "");
    else
        snprintf(cell, sizeof cell, "%s GFLOP/s%s", NR(peak),
                 peak ? " (an older probe: more threads than cores could inflate it)" : "");
    if (suspect && strcmp(suspect, "none") != 0)
        snprintf(cell + strlen(cell), sizeof cell - strlen(cell), "**");
    row(md, "Peak (measured)", cell);
    if (cpub)
        row(md, "CPU usage", cpub);
    row(md, "Model", NR(model));
    snprintf(cell, sizeof cell, "git %s; compiler %s; Google Benchmark library build: %s", NR(git),
             NR(cc), NR(bt));
    row(md, "Build", cell);
    row(md, "Date", NR(date));
    if (peer)
        row(md, "Peer", peer);
    int failed = 0;
    for (int i = 0; i < f->n_cells; i++)
        failed += f->cells[i].error;
    sb_printf(md, "| Benchmarks | %d (%d failed) |\n\n", f->n_cells, failed);
    for (int i = 0; i < f->n_cells; i++)
        if (f->cells[i].error) {
            md_cell(cell, sizeof cell, f->cells[i].error_message ? f->cells[i].error_message : "(no message)");
            sb_printf(md, "- failed: `%s`: %s\n", f->cells[i].run_name, cell);
        }
    if (failed)
        sb_puts(md, "\n");
}

void header_machine(sbuf *md, const rset *s, int mi)
{
    const rmachine *mc = &s->machines[mi];
    if (!mc->fingerprint) {
        const rfile *f = &s->files[mc->files[0]];
        char b1[256], b2[256];
        sb_printf(md,
                  "**No machine fingerprint**: [%d] `%s` was written before results carried one "
                  "(host %s, CPU %s). It is shown on its own, as it may come from any machine; run "
                  "it again to place it among its machine's results.\n\n",
                  f->num, f->gb.path, NR(gb_ctx(&f->gb, CTX_HOST_NAME, b1, sizeof b1)),
                  NR(gb_ctx(&f->gb, CTX_CPU_MODEL, b2, sizeof b2)));
        return;
    }
    const machine_info *m = &mc->m;
    char cell[2048], caches[512];
    sb_puts(md, "| | |\n| --- | --- |\n");
    snprintf(cell, sizeof cell, "%s (name from %s; id %.12s… from %s)", mc->name,
             m->name_source[0] ? m->name_source : "?", m->id, m->id_source[0] ? m->id_source : "?");
    row(md, "Machine", cell);
    snprintf(cell, sizeof cell, "%s (%s, family %d, model %d, stepping %d)", m->cpu_model, m->cpu_vendor,
             m->cpu_family, m->cpu_model_number, m->cpu_stepping);
    row(md, "CPU", cell);
    snprintf(cell, sizeof cell, "%d socket%s, %d cores, %d threads", m->sockets, m->sockets == 1 ? "" : "s",
             m->cores, m->threads);
    row(md, "Cores", cell);
    machine_field_format(m, MACHINE_F_CACHES, caches, sizeof caches);
    row(md, "Caches", caches);
    snprintf(cell, sizeof cell, "%s; the engine's path %s", m->isa_features, m->isa_path[0] ? m->isa_path : "?");
    row(md, "ISA", cell);
    snprintf(cell, sizeof cell, "%.1f GiB", (double)m->memory_bytes / (1024.0 * 1024 * 1024));
    row(md, "Memory", cell);
    row(md, "Kernel", m->kernel);
    size_t len = 0;
    cell[0] = '\0';
    for (int k = 0; k < mc->n_files && len + 12 < sizeof cell; k++)
        len += (size_t)snprintf(cell + len, sizeof cell - len, "%s[%d]", k ? ", " : "",
                                s->files[mc->files[k]].num);
    row(md, "Result files", cell);
    sb_puts(md, "\n");
}

void header_group(sbuf *md, const rset *s, const rgroup *g)
{
    sb_printf(md, "<a id=\"%s\"></a>\n\n### Run: model %s; build %s\n\n", g->anchor, g->model_label,
              g->build_label);
    sb_puts(md, "From ");
    for (int k = 0; k < g->n_files; k++)
        sb_printf(md, "%s[%d]", k ? ", " : "", s->files[g->files[k]].num);
    sb_printf(md, ": one machine, model and build, so its tables may combine these files.");
    if (g->n_overlap)
        sb_printf(md, " %d cell%s held by more than one of them: each table shows the newest run "
                      "(the context's date) and names the file it came from.",
                  g->n_overlap, g->n_overlap == 1 ? " is" : "s are");
    sb_puts(md, "\n\n");
}

void index_machines(sbuf *md, const rset *s)
{
    sb_puts(md, "| Machine | CPU | Cores | Platforms | Models | Result files |\n"
                "| --- | --- | ---: | --- | --- | --- |\n");
    for (int mi = 0; mi < s->n_machines; mi++) {
        const rmachine *mc = &s->machines[mi];
        char cpu[512], plats[1024] = "", models[2048] = "", files[1024] = "", cores[64];
        if (mc->fingerprint) {
            md_cell(cpu, sizeof cpu, mc->m.cpu_model);
            snprintf(cores, sizeof cores, "%d", mc->m.cores);
        } else {
            snprintf(cpu, sizeof cpu, "no fingerprint");
            snprintf(cores, sizeof cores, "?");
        }
        size_t pl = 0, ml = 0, fl = 0;
        for (int i = 0; i < mc->n_secs && pl + 80 < sizeof plats; i++) {
            const rsection *sec = &mc->secs[i];
            pl += (size_t)snprintf(plats + pl, sizeof plats - pl, "%s[%s%s](%s/README.md#%s)", i ? ", " : "",
                                   sec->platform, sec->emulated ? " (emulated)" : "", mc->slug, sec->slug);
            for (int gi = 0; gi < sec->n_groups + sec->n_peers; gi++) {
                const rgroup *g = gi < sec->n_groups ? &sec->groups[gi] : &sec->peers[gi - sec->n_groups];
                char lab[300];
                md_cell(lab, sizeof lab, g->model_label);
                if (!strstr(models, lab) && ml + strlen(lab) + 4 < sizeof models)
                    ml += (size_t)snprintf(models + ml, sizeof models - ml, "%s%s", ml ? "; " : "", lab);
            }
        }
        for (int k = 0; k < mc->n_files && fl + 12 < sizeof files; k++)
            fl += (size_t)snprintf(files + fl, sizeof files - fl, "%s[%d]", k ? ", " : "",
                                   s->files[mc->files[k]].num);
        sb_printf(md, "| [%s](%s/README.md) | %s | %s | %s | %s | %s |\n", mc->name, mc->slug, cpu, cores,
                  plats, models, files);
    }
    sb_puts(md, "\n");
}

void index_files(sbuf *md, const rset *s)
{
    sb_puts(md, "| | File | Machine | Platform | Profile | Model | Build | Date |\n"
                "| ---: | --- | --- | --- | --- | --- | --- | --- |\n");
    for (int i = 0; i < s->n_files; i++) {
        const rfile *f = &s->files[i];
        const rmachine *mc = &s->machines[f->machine];
        char b[256], path[1100], prof[256], model[300], build[300];
        md_cell(path, sizeof path, f->gb.path);
        md_cell(prof, sizeof prof, NR(gb_ctx(&f->gb, CTX_PROFILE, b, sizeof b)));
        md_cell(model, sizeof model, f->id.model_label);
        const rsection *sec = &mc->secs[f->section];
        const rgroup *g = f->group < sec->n_groups ? &sec->groups[f->group]
                                                   : &sec->peers[f->group - sec->n_groups];
        md_cell(build, sizeof build, g ? g->build_label : "?");
        sb_printf(md, "| [%d] | `%s` | [%s](%s/README.md) | %s%s | %s | %s | %s | %s |\n", f->num, path,
                  mc->name, mc->slug, f->platform, f->emulated ? " (emulated)" : "", prof, model, build,
                  f->date[0] ? f->date : "not recorded");
    }
    sb_puts(md, "\n");
}
