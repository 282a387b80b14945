/*
 * report_stub.c: TEMPORARY stand-ins for `itera-bench report` and `itera-bench compare`
 * until bench/report.c and bench/compare.c (issue 6, another branch) land. DELETE this
 * file at that merge (the link fails with duplicate symbols until it is deleted).
 */
#include <stdio.h>

/* As declared in bench/report.h and bench/compare.h (not in this branch yet). */
int report_main(int argc, char **argv);
int compare_main(int argc, char **argv);

int report_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "itera-bench report: not built yet (bench/report.c, issue 6)\n");
    return 2;
}

int compare_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "itera-bench compare: not built yet (bench/compare.c, issue 6)\n");
    return 2;
}
