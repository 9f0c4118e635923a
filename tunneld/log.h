/*
 * tunneld's log: one line per event on stderr (systemd's journal takes it
 * from there), "tunneld: LEVEL: PEER: message". The threshold lives in the
 * daemon's context, not in a global. Never pass a secret to these.
 */
#ifndef TUNNELD_LOG_H
#define TUNNELD_LOG_H

#include <stdbool.h>
#include <stdio.h>

enum log_level { LOG_L_ERR, LOG_L_WARNING, LOG_L_NOTICE, LOG_L_INFO, LOG_L_DEBUG };

struct logger {
    enum log_level level; /* lines above it are dropped */
    FILE *out;            /* NULL: stderr */
    bool syslog;          /* to syslog(3) instead (LOG_DAEMON) */
    bool journal;         /* stderr is systemd's journal: "<N>" priority prefixes */
};

/* journal from $JOURNAL_STREAM; syslog opened when asked. */
void log_init(struct logger *lg, enum log_level level, bool use_syslog);

/* peer may be NULL for lines about the daemon as a whole. */
void log_msg(const struct logger *lg, enum log_level lvl, const char *peer, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* "debug" .. "err" (also "warn", "error"); -1 when unknown. */
int log_level_parse(const char *s);

#endif
