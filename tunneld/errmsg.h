/*
 * A sentence explaining why a call failed, filled where the failure is
 * decided and logged once by whoever gives up. Never holds secrets.
 */
#ifndef TUNNELD_ERRMSG_H
#define TUNNELD_ERRMSG_H

#include <stddef.h>

struct errmsg {
    char text[256];
};

/* Formats into e (if non-NULL) and returns -1, so callers can `return errmsg_set(...)`. */
int errmsg_set(struct errmsg *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
