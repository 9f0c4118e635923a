/*
 * Running a helper program (vtysh, nft): argv only, no shell; stdout and
 * stderr captured; bounded in time, so a hung helper cannot hang tunneld.
 */
#ifndef TUNNELD_SUBPROC_H
#define TUNNELD_SUBPROC_H

#include <stddef.h>

#include "errmsg.h"

/*
 * Runs argv[0] (a full path) with stdin from /dev/null. 0 and *status (as
 * from waitpid) once it exited, out holding the first outlen-1 bytes it
 * wrote; -1 when it could not start or outlived timeout_ms (then killed).
 */
int subproc_run(const char *const *argv, unsigned timeout_ms, char *out, size_t outlen,
              int *status, struct errmsg *e);

#endif
