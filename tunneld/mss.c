#include "mss.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "subproc.h"

#define NFT "/usr/sbin/nft"
#define NFT_TIMEOUT_MS 10000 /* the first call may load nf_tables */

/* One nft invocation, one transaction: the rules change all at once or not at all. */
static int nft(const char *what, const char *script, bool absent_ok, struct errmsg *e)
{
    const char *argv[] = {NFT, script, NULL};
    char out[512];
    int status = 0;
    if (subproc_run(argv, NFT_TIMEOUT_MS, out, sizeof(out), &status, e) < 0)
        return -1;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    if (absent_ok && strstr(out, "No such file or directory"))
        return 0;
    const char *why = strstr(out, "Error: ");
    why = why ? why : out;
    return errmsg_set(e, "%s: nft: %.*s", what, (int)strcspn(why, "\n"), *why ? why : "failed");
}

int mss_clamp_set(const char *ifname, unsigned mss, struct errmsg *e)
{
    char s[1024];
    /* Interface names are [A-Za-z0-9_.-] (config validation): safe inside quotes. */
    snprintf(s, sizeof(s),
             "add table inet tunneld; "
             "add chain inet tunneld mss-%s { type filter hook forward priority mangle; }; "
             "flush chain inet tunneld mss-%s; "
             "add rule inet tunneld mss-%s oifname \"%s\" tcp flags syn / syn,rst "
             "tcp option maxseg size > %u tcp option maxseg size set %u; "
             "add rule inet tunneld mss-%s iifname \"%s\" tcp flags syn / syn,rst "
             "tcp option maxseg size > %u tcp option maxseg size set %u",
             ifname, ifname, ifname, ifname, mss, mss, ifname, ifname, mss, mss);
    char what[64];
    snprintf(what, sizeof(what), "MSS clamp on %s", ifname);
    return nft(what, s, false, e);
}

int mss_clamp_clear(const char *ifname, struct errmsg *e)
{
    char s[128];
    snprintf(s, sizeof(s), "delete chain inet tunneld mss-%s", ifname);
    return nft("MSS clamp removal", s, true, e);
}

int mss_clamp_flush(struct errmsg *e)
{
    return nft("MSS clamp clean-up", "delete table inet tunneld", true, e);
}
