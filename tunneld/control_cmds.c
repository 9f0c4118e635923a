/*
 * The control socket's commands: a table from "cmd" to handler (docs/cli.md).
 * Shows live in control_show.c / control_ipsec.c; the commands that change
 * something (clear, reload, log-level) are here.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "control.h"
#include "control_json.h"
#include "control_show.h"
#include "daemon.h"

/* The request's "peer": absent (every peer), or an address that must name one. */
static int peer_arg(struct daemon *d, struct json_object *req, struct ip_addr *a, bool *given,
                    struct json_object **err)
{
    struct json_object *v;
    *given = json_object_object_get_ex(req, "peer", &v) && !json_object_is_type(v, json_type_null);
    if (!*given)
        return 0;
    const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
    if (!s || ip_addr_parse(s, a) < 0) {
        *err = j_error("peer: expected an IP address");
        return -1;
    }
    for (unsigned i = 0; i < d->n_peers; i++)
        if (ip_addr_cmp(a, &d->peers[i]->cfg.address) == 0)
            return 0;
    *err = j_error("no peer with address %s", s);
    return -1;
}

static struct json_object *cleared(const struct peer *p)
{
    struct json_object *o = json_object_new_object(), *spis = json_object_new_array();
    char hex[16];
    j_str(o, "peer", p->cfg.name);
    j_addr(o, "address", &p->cfg.address);
    for (unsigned i = 0; i < p->n_sa; i++) {
        snprintf(hex, sizeof(hex), "0x%08" PRIx32, p->sa[i].spi_in);
        json_object_array_add(spis, json_object_new_string(hex));
    }
    json_object_object_add(o, "spis_in", spis);
    return o;
}

enum clear_kind { CLEAR_CHILD, CLEAR_IKE, REKEY_IKE };

static int clear_one(struct daemon *d, struct peer *p, enum clear_kind k, ike_time_t now)
{
    switch (k) {
    case CLEAR_CHILD: return ike_rekey_child(d->ike, now, p->ike_id);
    case CLEAR_IKE: return ike_delete_ike(d->ike, now, p->ike_id);
    default: return ike_rekey_ike(d->ike, now, p->ike_id);
    }
}

/*
 * clear crypto sa: a CHILD rekey (new SPIs, old ones deleted); clear isakmp:
 * the IKE SA deleted, then re-initiated; rekey-ike: a new IKE SA in place.
 */
static struct json_object *clear(struct daemon *d, struct json_object *req, enum clear_kind k)
{
    static const char *const what[] = {"CHILD SA cleared", "IKE SA cleared", "IKE SA rekeyed"};
    struct ip_addr only;
    bool given;
    struct json_object *err = NULL;
    if (peer_arg(d, req, &only, &given, &err) < 0)
        return err;
    struct json_object *r = json_object_new_object(), *a = json_object_new_array();
    struct json_object *skipped = json_object_new_array();
    ike_time_t now = loop_now_ms();
    for (unsigned i = 0; i < d->n_peers; i++) {
        struct peer *p = d->peers[i];
        if (given && ip_addr_cmp(&only, &p->cfg.address) != 0)
            continue;
        struct ike_sa_info info;
        int rc = p->ike_id && ike_peer_sas(d->ike, p->ike_id, &info, 1) ? clear_one(d, p, k, now)
                                                                       : IKE_ERR_NOPEER;
        if (rc != IKE_OK) {
            /* Said, not hidden: an operator who cleared nothing must know why. */
            struct json_object *o = json_object_new_object();
            j_str(o, "peer", p->cfg.name);
            j_addr(o, "address", &p->cfg.address);
            j_str(o, "reason", rc == IKE_ERR_STATE ? "an exchange is in progress; try again"
                                                   : "no IKE SA established");
            json_object_array_add(skipped, o);
            continue;
        }
        json_object_array_add(a, cleared(p));
        log_msg(&d->log, LOG_L_NOTICE, p->cfg.name, "%s by the operator", what[k]);
        if (k == CLEAR_IKE)
            peer_reconnect_soon(p);
    }
    daemon_ike_drain(d);
    json_object_object_add(r, "cleared", a);
    json_object_object_add(r, "skipped", skipped);
    return j_ok(r);
}

static struct json_object *cmd_clear_sa(struct daemon *d, struct json_object *req)
{
    return clear(d, req, CLEAR_CHILD);
}

static struct json_object *cmd_clear_isakmp(struct daemon *d, struct json_object *req)
{
    return clear(d, req, CLEAR_IKE);
}

static struct json_object *cmd_rekey_ike(struct daemon *d, struct json_object *req)
{
    return clear(d, req, REKEY_IKE);
}

static struct json_object *cmd_reload(struct daemon *d, struct json_object *req)
{
    struct reload_result res;
    struct diag dg;
    struct errmsg e = {{0}};
    diag_init(&dg);
    struct json_object *out;
    if (daemon_reload(d, &res, &dg, &e) == 0) {
        struct json_object *r = json_object_new_object();
        j_int(r, "kept", res.kept);
        j_int(r, "stopped", res.stopped);
        j_int(r, "started", res.started);
        out = j_ok(r);
    } else {
        struct json_object *errs = json_object_new_array();
        char line[640];
        for (size_t i = 0; i < dg.n; i++) {
            snprintf(line, sizeof(line), "%s:%u:%u: %s", diag_file(&dg, &dg.v[i]), dg.v[i].line,
                     dg.v[i].col, dg.v[i].msg);
            json_object_array_add(errs, json_object_new_string(line));
        }
        if (e.text[0])
            json_object_array_add(errs, json_object_new_string(e.text));
        out = j_error("%s is invalid; the running configuration stays", d->opt.config_file);
        json_object_object_add(out, "errors", errs);
    }
    diag_free(&dg);
    return out;
}

static struct json_object *cmd_log_level(struct daemon *d, struct json_object *req)
{
    struct json_object *v;
    int lvl = json_object_object_get_ex(req, "level", &v) &&
                      json_object_is_type(v, json_type_string)
                  ? log_level_parse(json_object_get_string(v))
                  : -1;
    if (lvl < 0)
        return j_error("level: expected one of debug, info, notice, warning, err");
    d->log.level = (enum log_level)lvl;
    log_msg(&d->log, LOG_L_NOTICE, NULL, "log level %s", json_object_get_string(v));
    struct json_object *r = json_object_new_object();
    j_str(r, "level", json_object_get_string(v));
    return j_ok(r);
}

static struct json_object *cmd_ipsec(struct daemon *d, struct json_object *req)
{
    struct ip_addr only;
    bool given;
    struct json_object *err = NULL;
    if (peer_arg(d, req, &only, &given, &err) < 0)
        return err;
    return j_ok(show_ipsec(d, given ? &only : NULL));
}

static struct json_object *cmd_status(struct daemon *d, struct json_object *req)
{
    return j_ok(show_status(d));
}

static struct json_object *cmd_isakmp(struct daemon *d, struct json_object *req)
{
    return j_ok(show_isakmp(d));
}

static struct json_object *cmd_map(struct daemon *d, struct json_object *req)
{
    return j_ok(show_map(d));
}

static struct json_object *cmd_tunnels(struct daemon *d, struct json_object *req)
{
    return j_ok(show_tunnels(d));
}

static const struct {
    const char *name;
    struct json_object *(*fn)(struct daemon *d, struct json_object *req);
} commands[] = {
    {"status", cmd_status},         {"isakmp-sa", cmd_isakmp},
    {"ipsec-sa", cmd_ipsec},        {"crypto-map", cmd_map},
    {"tunnels", cmd_tunnels},       {"clear-sa", cmd_clear_sa},
    {"clear-isakmp", cmd_clear_isakmp}, {"rekey-ike", cmd_rekey_ike},
    {"reload", cmd_reload},
    {"log-level", cmd_log_level},
};

struct json_object *control_dispatch(struct daemon *d, struct json_object *req)
{
    struct json_object *v;
    if (!json_object_object_get_ex(req, "cmd", &v) || !json_object_is_type(v, json_type_string))
        return j_error("request without a \"cmd\" string");
    const char *cmd = json_object_get_string(v);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(cmd, commands[i].name) == 0)
            return commands[i].fn(d, req);
    return j_error("unknown command '%.64s'", cmd);
}
