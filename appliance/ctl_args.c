/* Command words and their arguments: prefixes, `peer ADDR`, usage errors (exit 2). */
#include <arpa/inet.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>

#include "tunnelctl.h"

int ctl_match_word(const char *arg, const char *const words[])
{
    size_t len = strlen(arg);
    int found = -1;
    if (len == 0)
        return -1;
    for (int i = 0; words[i]; i++) {
        if (strcasecmp(words[i], arg) == 0)
            return i;
        if (strncasecmp(words[i], arg, len) == 0)
            found = found == -1 ? i : -2;
    }
    return found;
}

void ctl_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("tunnelctl: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int ctl_usage(const char *usage, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("tunnelctl: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    if (usage)
        fprintf(stderr, "usage: tunnelctl %s\n", usage);
    return CTL_USAGE;
}

int ctl_no_args(int argc, char *argv[], const char *usage)
{
    if (argc > 1)
        return ctl_usage(usage, "unexpected argument '%s'", argv[1]);
    return CTL_OK;
}

static bool is_address(const char *s)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

int ctl_parse_peer(int argc, char *argv[], const char *usage, const char **peer)
{
    static const char *const keywords[] = {"peer", NULL};
    *peer = NULL;
    if (argc <= 1)
        return CTL_OK;
    if (ctl_match_word(argv[1], keywords) != 0)
        return ctl_usage(usage, "unexpected argument '%s'", argv[1]);
    if (argc < 3)
        return ctl_usage(usage, "peer: missing the peer's address");
    if (!is_address(argv[2]))
        return ctl_usage(usage, "peer: '%s' is not an IPv4 or IPv6 address", argv[2]);
    if (argc > 3)
        return ctl_usage(usage, "unexpected argument '%s'", argv[3]);
    *peer = argv[2];
    return CTL_OK;
}
