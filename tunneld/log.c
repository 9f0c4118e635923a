#include "log.h"

#include <stdarg.h>
#include <string.h>

static const char *const names[] = {
    [LOG_L_ERR] = "err",   [LOG_L_WARNING] = "warning", [LOG_L_NOTICE] = "notice",
    [LOG_L_INFO] = "info", [LOG_L_DEBUG] = "debug",
};

void log_msg(const struct logger *lg, enum log_level lvl, const char *peer, const char *fmt, ...)
{
    if (lvl > lg->level)
        return;
    /* One buffer, one write: lines from a daemon and its children do not interleave. */
    char line[1024];
    int n = snprintf(line, sizeof(line), "tunneld: %s: %s%s", names[lvl], peer ? peer : "",
                     peer ? ": " : "");
    va_list ap;
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < sizeof(line))
        vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    va_end(ap);
    FILE *out = lg->out ? lg->out : stderr;
    fprintf(out, "%s\n", line);
    fflush(out);
}

int log_level_parse(const char *s)
{
    for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(s, names[i]) == 0)
            return (int)i;
    if (strcmp(s, "warn") == 0)
        return LOG_L_WARNING;
    if (strcmp(s, "error") == 0)
        return LOG_L_ERR;
    return -1;
}
