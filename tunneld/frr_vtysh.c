/* Running vtysh: argv only (no shell), output captured, bounded in time. */
#include "frr_vtysh.h"

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "subproc.h"

#define VTYSH_MAX_ARGS 64

static int build_argv(const struct frr_vtysh *v, const char *const *cmds, size_t n,
                      const char **argv)
{
    size_t i = 0;
    argv[i++] = v->path ? v->path : "/usr/bin/vtysh";
    if (v->pathspace) {
        argv[i++] = "-N";
        argv[i++] = v->pathspace;
    }
    if (i + 2 * n + 1 > VTYSH_MAX_ARGS)
        return -1;
    for (size_t k = 0; k < n; k++) {
        argv[i++] = "-c";
        argv[i++] = cmds[k];
    }
    argv[i] = NULL;
    return 0;
}

int vtysh_run(const struct frr_vtysh *v, const char *const *cmds, size_t n, char *out,
              size_t outlen, struct errmsg *e)
{
    const char *argv[VTYSH_MAX_ARGS];
    int status = 0;
    if (build_argv(v, cmds, n, argv) < 0)
        return errmsg_set(e, "vtysh: too many commands (%zu)", n);
    /*
     * No ospfd socket, no FRR to talk to: say so at once instead of running
     * vtysh, which takes seconds to find out and would hold the event loop.
     */
    char vty[160];
    snprintf(vty, sizeof(vty), "/var/run/frr/%s%sospfd.vty", v->pathspace ? v->pathspace : "",
             v->pathspace ? "/" : "");
    if (access(vty, F_OK) < 0)
        return errmsg_set(e, "FRR's ospfd is not running (no %s)", vty);
    unsigned timeout = v->timeout_ms ? v->timeout_ms : 10000;
    if (subproc_run(argv, timeout, out, outlen, &status, e) < 0)
        return -1;
    /* vtysh exits 0 even for some rejected lines; FRR marks those with "% ". */
    const char *pct = strstr(out, "% ");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || pct) {
        const char *why = pct ? pct : out;
        return errmsg_set(e, "vtysh: %.*s", (int)strcspn(why, "\n"), *why ? why : "failed");
    }
    return 0;
}
