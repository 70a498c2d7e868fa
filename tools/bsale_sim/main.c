/* Placeholder until the simulator lands. */
#include "common.h"

#include <stdio.h>

int main(void)
{
    puts("bsale-sim: not built yet");
    return 1;
}
