#include "cli.h"
int cmd_profile(int argc, char **argv) { (void)argc; (void)argv; return 2; }
