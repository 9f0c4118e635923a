#include "control_json.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>

void j_str(struct json_object *o, const char *key, const char *v)
{
    json_object_object_add(o, key, v ? json_object_new_string(v) : NULL);
}

void j_int(struct json_object *o, const char *key, int64_t v)
{
    json_object_object_add(o, key, json_object_new_int64(v));
}

void j_bool(struct json_object *o, const char *key, bool v)
{
    json_object_object_add(o, key, json_object_new_boolean(v));
}

void j_null(struct json_object *o, const char *key)
{
    json_object_object_add(o, key, NULL);
}

void j_addr(struct json_object *o, const char *key, const struct ip_addr *a)
{
    char s[IP_ADDR_STRLEN];
    ip_addr_str(a, s, sizeof(s));
    j_str(o, key, s);
}

void j_sockaddr(struct json_object *o, const char *key, const struct sockaddr_storage *ss)
{
    char s[INET6_ADDRSTRLEN] = "";
    if (ss->ss_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, s, sizeof(s));
    else if (ss->ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, s, sizeof(s));
    j_str(o, key, s[0] ? s : NULL);
}

void j_spi(struct json_object *o, const char *key, uint32_t spi)
{
    char hex[16];
    struct json_object *v = json_object_new_object();
    snprintf(hex, sizeof(hex), "0x%08x", spi);
    j_str(v, "hex", hex);
    j_int(v, "decimal", spi);
    json_object_object_add(o, key, v);
}

struct json_object *j_ok(struct json_object *r)
{
    struct json_object *o = json_object_new_object();
    j_bool(o, "ok", true);
    json_object_object_add(o, "result", r);
    return o;
}

struct json_object *j_error(const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    struct json_object *o = json_object_new_object();
    j_bool(o, "ok", false);
    j_str(o, "error", msg);
    return o;
}
