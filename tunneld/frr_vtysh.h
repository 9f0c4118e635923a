/* Internal to frr.c: one vtysh invocation. */
#ifndef TUNNELD_FRR_VTYSH_H
#define TUNNELD_FRR_VTYSH_H

#include "frr.h"

/* Runs `vtysh [-N ps] -c cmd ...`; out gets stdout+stderr (NUL-terminated). */
int vtysh_run(const struct frr_vtysh *v, const char *const *cmds, size_t n, char *out,
              size_t outlen, struct errmsg *e);

#endif
