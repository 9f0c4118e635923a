/*
 * The control socket tunnelctl talks to (docs/cli.md): a UNIX stream
 * socket, one JSON request line and one JSON reply per connection. Clients
 * are served from the event loop without ever blocking it: reads and
 * writes are non-blocking, and a client too slow for its deadline is cut.
 */
#ifndef TUNNELD_CONTROL_H
#define TUNNELD_CONTROL_H

#include <json-c/json.h>

#include "errmsg.h"

#define CONTROL_DEFAULT_PATH "/run/tunneld/control"

struct daemon;
struct control;

/* group: NULL for root only (0600); else 0660 with that group. */
int control_open(struct daemon *d, const char *path, const char *group, struct control **out,
                 struct errmsg *e);
void control_close(struct control *c);

/* control_cmds.c: one request object in, the reply object out (caller puts it). */
struct json_object *control_dispatch(struct daemon *d, struct json_object *req);

#endif
