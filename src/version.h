/* Build identity. */
#ifndef PETL_VERSION_H
#define PETL_VERSION_H

const char *petl_version(void);

#endif
