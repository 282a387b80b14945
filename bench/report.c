/*
 * report.c: `itera-bench report` (see report.h): its options, and the documents it writes
 * from the grouped results (rgroup.h) with the tables of rtables.h:
 *
 *   DIR/README.md             the index: the machines, the edge-platforms table across them,
 *                             the result files
 *   DIR/<machine>/README.md   one machine: its fingerprint, its own edge table, then per
 *                             platform and per run (model + build) every table
 *   DIR/<machine>/<run>/   the .dat files and images of a run's charts
 *
 * The same files (in any order) give byte-identical markdown; nothing reads the clock or
 * the environment except the gnuplot check, whose outcome the markdown states.
 */
#include "report.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gnuplot.h"
#include "itera.h"
#include "rgroup.h"
#include "rheader.h"
#include "rtables.h"
#include "sbuf.h"

#define INDEX_EDGE_FOLDER "all-machines"
#define MACHINE_EDGE_FOLDER "all-platforms"

static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: itera-bench report [options] FILE.json... [-o DIR]\n"
            "\n"
            "Renders markdown tables and gnuplot charts from Google Benchmark result files\n"
            "written by `itera-bench run` (and the peers, scripts/peer_*.py):\n"
            "  DIR/README.md            an index: the machines, the edge-platforms table across\n"
            "                           them, the result files\n"
            "  DIR/<machine>/README.md  per machine, then platform, then run (one model and one\n"
            "                           build): kernel comparison, sequence length, operation\n"
            "                           profile, quantization and its accuracy, decode, threads\n"
            "No table combines cells of different machines, models or builds, except the\n"
            "edge-platforms table, whose rows name theirs (and which says so when they differ).\n"
            "Where several files hold a cell, the newest run is shown and named. Figures are\n"
            "medians with their interquartile range and n. The same files give byte-identical\n"
            "markdown.\n"
            "\n"
            "options:\n"
            "  -o, --out DIR        output folder (default reports)\n"
            "  --machine NAME       render only that machine's report (DIR/<machine>/README.md;\n"
            "                       the index is not rewritten)\n"
            "  --templates DIR      gnuplot templates <chart>.gp (default reports)\n"
            "  --gnuplot PROG       gnuplot program (default gnuplot; ITERA_GNUPLOT overrides)\n"
            "  --no-charts          write the .dat files but draw no charts\n"
            "  --strict             exit 1 when a table has no results or an image is missing\n"
            "  -h, --help           this text\n"
            "exit status: 0 done, 1 --strict check failed, 2 bad usage or input\n");
}

/* Writes md to DIR/<docdir>/README.md atomically, last, and only when every file written
 * so far (the charts and .dat files it links) was: after a failure the folder keeps its
 * previous README.md (every other file is whole: old or new). */
static void write_doc(rctx *r, const sbuf *md, const char *docdir, char *path, size_t n)
{
    char dir[1200];
    snprintf(dir, sizeof dir, "%s%s%s", r->outdir, docdir[0] ? "/" : "", docdir);
    snprintf(path, n, "%s/README.md", dir);
    if (r->write_errors) {
        r->docs_kept++;
        return;
    }
    if (mkdir_p(dir) != 0) {
        char msg[1400];
        snprintf(msg, sizeof msg, "%s: cannot create the folder: %s", dir, strerror(errno));
        report_write_failed(r, msg);
        return;
    }
    if (md->oom) {
        report_write_failed(r, "out of memory writing the markdown");
        return;
    }
    itera_error err;
    if (itera_write_file(path, md->p ? md->p : "", md->n, &err) != ITERA_OK)
        report_write_failed(r, err.msg);
}

static void charts_line(sbuf *md, const gp *g)
{
    if (g->ok)
        sb_printf(md, "Charts: gnuplot, %s terminal; their data are the `.dat` files beside them.\n\n",
                  g->term);
    else
        sb_printf(md, "**Charts were skipped**: %s. The tables are complete; each chart's data is "
                      "still written as a `.dat` file.\n\n",
                  g->why);
}

static const char *plural(int n)
{
    return n == 1 ? "" : "s";
}

/* DIR/<machine>/README.md */
static void machine_doc(rctx *r, int mi, char *path, size_t n)
{
    const rset *s = r->set;
    const rmachine *mc = &s->machines[mi];
    sbuf md = {0};
    r->md = &md;
    r->docdir = mc->slug;
    sb_printf(&md, "# Machine: %s\n\n", mc->name);
    sb_printf(&md,
              "[All machines](../README.md). Rendered by `itera-bench report` from the result files "
              "of this machine (listed at the end, as [n]); every number below is a field of those "
              "files or a ratio of two, named under each table. Figures are medians over the "
              "repetitions, with their interquartile range and n beside every figure a speed-up or "
              "a ranking is read from.\n\n");
    charts_line(&md, r->gp);
    header_machine(&md, s, mi);
    sb_puts(&md, "Platforms: ");
    for (int i = 0; i < mc->n_secs; i++)
        sb_printf(&md, "%s[%s%s](#%s)", i ? ", " : "", mc->secs[i].platform,
                  mc->secs[i].emulated ? " (emulated)" : "", mc->secs[i].slug);
    sb_puts(&md, ".\n\n## Edge platforms on this machine\n\n");
    int one = mi;
    table_edge(r, &one, 1, MACHINE_EDGE_FOLDER, false);

    const rtable_def *defs;
    int ndefs = report_group_tables(&defs);
    for (int si = 0; si < mc->n_secs; si++) {
        const rsection *sec = &mc->secs[si];
        sb_printf(&md, "<a id=\"%s\"></a>\n\n## Platform: %s%s\n\n", sec->slug, sec->platform,
                  sec->emulated ? " (emulated)" : "");
        if (sec->emulated)
            sb_printf(&md,
                      "**Emulated**: these runs used the platform's thread count on fewer cores than "
                      "it has (see `itera_worker_cpus` in the file header); they do not measure a "
                      "real %s machine.\n\n",
                      sec->platform);
        const char *sep = "";
        if (sec->threads > 0) {
            sb_printf(&md, "Platform threads: %d.", sec->threads);
            sep = " ";
        }
        if (sec->n_groups > 1) {
            sb_printf(&md, "%sRuns of %d models or builds on this platform, each with its own tables (no "
                           "table combines them): ",
                      sep, sec->n_groups);
            sep = " ";
            for (int gi = 0; gi < sec->n_groups; gi++)
                sb_printf(&md, "%s[model %s; build %s](#%s)", gi ? ", " : "", sec->groups[gi].model_label,
                          sec->groups[gi].build_label, sec->groups[gi].anchor);
            sb_puts(&md, ".");
        }
        if (sec->n_peers) {
            sb_printf(&md, "%sPeer run%s: ", sep, plural(sec->n_peers));
            for (int p = 0; p < sec->n_peers; p++) {
                const rgroup *pg = &sec->peers[p];
                for (int k = 0; k < pg->n_files; k++)
                    sb_printf(&md, "%s[%d]", p || k ? ", " : "", s->files[pg->files[k]].num);
                sb_printf(&md, " (model %s)", pg->model_label);
            }
            sb_puts(&md, ": shown beside the engine's run of the same model.");
        }
        sb_puts(&md, "\n\n");
        if (sec->n_groups == 0)
            sb_puts(&md, "No engine runs on this platform: only the peers' files above.\n\n");
        for (int gi = 0; gi < sec->n_groups; gi++) {
            const rgroup *g = &sec->groups[gi];
            header_group(&md, s, g);
            for (int t = 0; t < ndefs; t++) {
                sb_printf(&md, "#### %s\n\n", defs[t].title);
                defs[t].render(r, g);
            }
        }
    }
    sb_puts(&md, "## Result files\n\n");
    for (int k = 0; k < mc->n_files; k++)
        header_file(&md, s, mc->files[k]);
    write_doc(r, &md, mc->slug, path, n);
    sb_free(&md);
    r->md = NULL;
}

/* DIR/README.md */
static void index_doc(rctx *r, char *path, size_t n)
{
    const rset *s = r->set;
    sbuf md = {0};
    r->md = &md;
    r->docdir = "";
    sb_puts(&md, "# itera-bench report\n\n");
    sb_printf(&md,
              "Rendered by `itera-bench report` from %d result file%s of %d machine%s (listed at the "
              "end, as [n]). Each machine has its own report; no table combines cells of different "
              "machines, models or builds, except the edge-platforms table below, whose rows name "
              "their machine, model and build. Every number is a field of those files or a ratio "
              "of two, named under each table; figures are medians over the repetitions, with "
              "their interquartile range and n.\n\n",
              s->n_files, plural(s->n_files), s->n_machines, plural(s->n_machines));
    charts_line(&md, r->gp);
    sb_puts(&md, "## Machines\n\n");
    index_machines(&md, s);
    sb_puts(&md, "## Edge platforms\n\n");
    int *all = malloc((size_t)(s->n_machines > 0 ? s->n_machines : 1) * sizeof *all);
    if (!all) {
        report_write_failed(r, "out of memory");
        sb_free(&md);
        return;
    }
    for (int m = 0; m < s->n_machines; m++)
        all[m] = m;
    table_edge(r, all, s->n_machines, INDEX_EDGE_FOLDER, true);
    free(all);
    sb_puts(&md, "## Result files\n\n");
    index_files(&md, s);
    write_doc(r, &md, "", path, n);
    sb_free(&md);
    r->md = NULL;
}

bench_status report_main(int argc, char **argv)
{
    const char *outdir = "reports", *tpldir = "reports", *machine = NULL;
    const char *gnuplot = getenv("ITERA_GNUPLOT") ? getenv("ITERA_GNUPLOT") : "gnuplot";
    bool no_charts = false, strict = false;
    const char **paths = calloc((size_t)argc + 1, sizeof *paths);
    int np = 0;
    if (!paths) {
        fprintf(stderr, "report: out of memory\n");
        return BENCH_ERR_NOMEM;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            free(paths);
            return BENCH_OK;
        } else if (strcmp(a, "-o") == 0 || strcmp(a, "--out") == 0 || strcmp(a, "--templates") == 0 ||
                   strcmp(a, "--gnuplot") == 0 || strcmp(a, "--machine") == 0) {
            if (i + 1 >= argc || !argv[i + 1][0]) {
                fprintf(stderr, "report: %s needs a value\n", a);
                free(paths);
                return BENCH_ERR_INPUT;
            }
            const char *v = argv[++i];
            if (strcmp(a, "-o") == 0 || strcmp(a, "--out") == 0)
                outdir = v;
            else if (strcmp(a, "--templates") == 0)
                tpldir = v;
            else if (strcmp(a, "--machine") == 0)
                machine = v;
            else
                gnuplot = v;
        } else if (strcmp(a, "--no-charts") == 0) {
            no_charts = true;
        } else if (strcmp(a, "--strict") == 0) {
            strict = true;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "report: unknown option '%s' (see itera-bench report --help)\n", a);
            free(paths);
            return BENCH_ERR_INPUT;
        } else {
            paths[np++] = a;
        }
    }
    if (np == 0) {
        fprintf(stderr, "report: no result files given; usage: itera-bench report FILE.json... [-o DIR]\n");
        free(paths);
        return BENCH_ERR_INPUT;
    }
    rset set;
    bench_error err;
    bench_status rc = rset_load(&set, paths, np, &err);
    free(paths);
    if (rc != BENCH_OK) {
        fprintf(stderr, "report: %s\n", err.msg);
        return rc;
    }
    int only = -1, n_only = 0;
    if (machine) {
        for (int m = 0; m < set.n_machines; m++)
            if (strcmp(set.machines[m].name, machine) == 0 || strcmp(set.machines[m].slug, machine) == 0) {
                only = only < 0 ? m : only;
                n_only++;
            }
        if (n_only == 0) {
            fprintf(stderr, "report: --machine %s: none of the %d result file%s is of that machine; "
                            "their machines:", machine, set.n_files, plural(set.n_files));
            for (int m = 0; m < set.n_machines; m++)
                fprintf(stderr, "%s %s", m ? "," : "", set.machines[m].name);
            fprintf(stderr, "\n");
            rset_free(&set);
            return BENCH_ERR_INPUT;
        }
    }
    if (mkdir_p(outdir) != 0) {
        fprintf(stderr, "report: cannot create output folder %s: %s\n", outdir, strerror(errno));
        rset_free(&set);
        return BENCH_ERR_IO;
    }
    char oldlog[1100];
    snprintf(oldlog, sizeof oldlog, "%s/gnuplot.log", outdir);
    remove(oldlog); /* this run's messages only */
    gp g;
    const char *const *tpls;
    int ntpl = report_chart_templates(&tpls);
    gp_check(&g, gnuplot, tpldir, outdir, tpls, ntpl, no_charts);
    rctx r = {.set = &set, .outdir = outdir, .docdir = "", .gp = &g};

    char path[1400] = "", first[1400] = "";
    int docs = 0, secs = 0;
    for (int m = 0; m < set.n_machines; m++) {
        bool chosen = !machine || strcmp(set.machines[m].name, machine) == 0 ||
                      strcmp(set.machines[m].slug, machine) == 0;
        if (!chosen)
            continue;
        machine_doc(&r, m, path, sizeof path);
        if (!docs++)
            snprintf(first, sizeof first, "%s", path);
        secs += set.machines[m].n_secs;
    }
    if (!machine)
        index_doc(&r, first, sizeof first);
    gp_done(&g);
    if (r.write_errors) {
        fprintf(stderr, "report: %d file%s could not be written (see above); %d README.md file%s in %s "
                        "not replaced\n",
                r.write_errors, plural(r.write_errors), r.docs_kept, plural(r.docs_kept), outdir);
        rset_free(&set);
        return BENCH_ERR_IO;
    }
    printf("report: %s (%d file%s, %d machine%s, %d platform section%s)%s%s\n", first, set.n_files,
           plural(set.n_files), machine ? n_only : set.n_machines, plural(machine ? n_only : set.n_machines),
           secs, plural(secs), machine ? "; the index is not rewritten (make report renders all)" : "",
           g.ok ? "" : "; charts skipped");
    if (!g.ok)
        fprintf(stderr, "report: charts skipped: %s\n", g.why);
    rc = BENCH_OK;
    if (strict && (r.empty_tables || r.missing_images || !g.ok)) {
        fprintf(stderr, "report: --strict: %d table%s without results, %d image%s missing%s\n",
                r.empty_tables, plural(r.empty_tables), r.missing_images, plural(r.missing_images),
                g.ok ? "" : ", charts skipped");
        rc = BENCH_ERR_FAILED;
    }
    rset_free(&set);
    return rc;
}
