/* Internal to control_*.c: the show commands, each returning its `result` object. */
#ifndef TUNNELD_CONTROL_SHOW_H
#define TUNNELD_CONTROL_SHOW_H

#include <json-c/json.h>
#include <stdbool.h>

struct daemon;
struct peer;
struct ip_addr;

struct json_object *show_status(struct daemon *d);
struct json_object *show_isakmp(struct daemon *d);
/* only: NULL for every peer. */
struct json_object *show_ipsec(struct daemon *d, const struct ip_addr *only);
struct json_object *show_map(struct daemon *d);
struct json_object *show_tunnels(struct daemon *d);

/* A CHILD SA in use (not only retiring ones). */
bool peer_esp_up(const struct peer *p);

#endif
