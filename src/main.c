/* Command-line entry point: subcommand dispatch and exit codes. */
#include "common.h"

#include "version.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "version") == 0) {
        printf("patitas-etl %s\n", petl_version());
        return 0;
    }
    fprintf(stderr, "usage: patitas-etl <command>\n");
    return 2;
}
