/* Build identity, from CMake's project version. */
#include "common.h"

#include "version.h"

const char *petl_version(void)
{
    return PETL_VERSION;
}
