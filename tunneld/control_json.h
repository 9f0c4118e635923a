/* Small json-c builders shared by the control commands (control_*.c). */
#ifndef TUNNELD_CONTROL_JSON_H
#define TUNNELD_CONTROL_JSON_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "ipaddr.h"

void j_str(struct json_object *o, const char *key, const char *v); /* NULL: null */
void j_int(struct json_object *o, const char *key, int64_t v);
void j_bool(struct json_object *o, const char *key, bool v);
void j_null(struct json_object *o, const char *key);
void j_addr(struct json_object *o, const char *key, const struct ip_addr *a);
void j_sockaddr(struct json_object *o, const char *key, const struct sockaddr_storage *ss);
/* {"hex": "0x1a2b3c4d", "decimal": N} */
void j_spi(struct json_object *o, const char *key, uint32_t spi);
/* The reply envelope: {"ok": true, "result": r} (consumes r). */
struct json_object *j_ok(struct json_object *r);
struct json_object *j_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
