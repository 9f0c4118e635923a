#include "log.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

static const char *const names[] = {
    [LOG_L_ERR] = "err",   [LOG_L_WARNING] = "warning", [LOG_L_NOTICE] = "notice",
    [LOG_L_INFO] = "info", [LOG_L_DEBUG] = "debug",
};

static const int priorities[] = {
    [LOG_L_ERR] = LOG_ERR,   [LOG_L_WARNING] = LOG_WARNING, [LOG_L_NOTICE] = LOG_NOTICE,
    [LOG_L_INFO] = LOG_INFO, [LOG_L_DEBUG] = LOG_DEBUG,
};

void log_init(struct logger *lg, enum log_level level, bool use_syslog)
{
    *lg = (struct logger){.level = level, .syslog = use_syslog};
    /* systemd sets it for a service whose stderr is the journal (systemd.exec(5)). */
    lg->journal = !use_syslog && getenv("JOURNAL_STREAM") != NULL;
    if (use_syslog)
        openlog("tunneld", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

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
    if (lg->syslog) {
        syslog(priorities[lvl], "%s", line + strlen("tunneld: "));
        return;
    }
    FILE *out = lg->out ? lg->out : stderr;
    char prio[8] = "";
    if (lg->journal)
        snprintf(prio, sizeof(prio), "<%d>", priorities[lvl]);
    fprintf(out, "%s%s\n", prio, line); /* stderr is unbuffered: one call, one write */
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
