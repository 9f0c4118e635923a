/*
 * tunneld's main context: the one place that holds mutable state. One event
 * loop owns the IKE sockets, the ikecore context, the netlink sockets and
 * the peers; everything runs to completion on that loop.
 */
#ifndef TUNNELD_DAEMON_H
#define TUNNELD_DAEMON_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "frr.h"
#include "gre.h"
#include "ike_socket.h"
#include "ikecore.h"
#include "log.h"
#include "loop.h"
#include "netlink.h"
#include "wan.h"
#include "xfrm.h"
#include "xfrm_expire.h"

/* Every reqid tunneld uses lies here, so a restart can find a crashed run's leftovers. */
#define REQID_BASE 0x7d000000u
#define REQID_LAST 0x7dffffffu

struct daemon_options {
    const char *config_file;
    const char *profiles;      /* search path */
    const char *frr_pathspace; /* vtysh -N; NULL: the system's FRR */
    bool passive;              /* respond only; never initiate */
    enum log_level level;
    const char *control_path;  /* NULL: CONTROL_DEFAULT_PATH */
    const char *control_group; /* NULL: root only */
    bool use_syslog;           /* log to syslog(3), not stderr */
};

#define PEER_MAX_SAS 6

/* One CHILD SA in the kernel: both directions, by SPI. */
struct peer_sa {
    uint32_t spi_in, spi_out;
    uint64_t retire_at; /* 0: in use; else removed then (replaced by a rekey) */
    struct ike_suite suite;
    bool udp_encap;
    uint16_t encap_sport, encap_dport; /* ours, the peer's as we see it (NAT-T; host order) */
    bool out_installed; /* a rekey's outbound state goes in after OUT_DELAY_MS */
};

/*
 * A rekey's outbound state, held back until the peer can decrypt it
 * (peer_sa.c). Two at once when rekeys cross (RFC 7296 §2.8.1), each with
 * its own time.
 */
#define PEER_MAX_OUT_PENDING 2
struct peer_out_pending {
    struct ike_child_sa sa; /* keys: wiped once installed or dropped */
    uint64_t due;           /* installed then at the latest */
};

struct daemon;

struct peer {
    struct cfg_peer cfg;
    struct daemon *d;
    uint32_t reqid;
    uint32_t ike_id; /* ikecore's peer id; 0: not added */
    struct sockaddr_storage local, remote;
    struct gre_link gre;
    struct xfrm_gre_policy pol;
    char inner_prefix[IP_PREFIX_STRLEN]; /* the /31, for FRR */
    char area[16];         /* OSPF area, dotted: as added, so it is removed the same */
    bool gre_up, policy_up, frr_up, frr_warned;
    struct peer_sa sa[PEER_MAX_SAS];
    unsigned n_sa;
    struct loop_timer retire_timer; /* the earliest retire_at */
    struct loop_timer out_timer;    /* the earliest out_pending[].due */
    struct peer_out_pending out_pending[PEER_MAX_OUT_PENDING]; /* oldest first */
    unsigned n_out_pending;
    struct loop_timer retry_timer;  /* re-initiate after a failure, with back-off */
    unsigned retry_s;
    bool reconnect; /* clear crypto isakmp: initiate again once the old SA is down */
    struct loop_timer restart_timer; /* the peer came back from another address: start afresh */
};

struct daemon {
    struct daemon_options opt;
    struct logger log;
    struct tunneld_config *cfg;
    struct wan wan;
    struct loop *loop;
    struct nl_handles nl;
    struct ike_sockets sock;
    struct ike_ctx *ike;
    struct loop_timer ike_timer;  /* ikecore's next deadline */
    struct loop_timer frr_timer;  /* retries FRR configuration that failed */
    struct frr_vtysh frr;
    struct peer **peers;
    unsigned n_peers;
    uint32_t next_reqid;
    bool lans_in_frr, lans_warned;
    struct control *ctl;
    struct xfrm_expire expire;   /* the kernel's soft/hard limit events */
    uint64_t started_ms;   /* loop_now_ms() at start */
    int64_t loaded_unix;   /* wall clock of the last successful (re)load */
    uint8_t rxbuf[65536];
};

/* Runs until SIGTERM/SIGINT; 0 after a clean stop, 1 when start-up failed. */
int daemon_run(const struct daemon_options *opt);

/* peer.c: one peer's kernel objects, FRR lines and IKE peer. */
struct peer *peer_new(struct daemon *d, const struct cfg_peer *cfg);
int peer_start(struct peer *p);
void peer_stop(struct peer *p);
void peer_free(struct peer *p);
struct peer *peer_by_ike_id(struct daemon *d, uint32_t ike_id);
/* Re-initiate after a failure, unless passive: 5 s doubling to 60 s. */
void peer_schedule_retry(struct peer *p);
/* Re-initiate as soon as the IKE SA being deleted is down (the operator cleared it). */
void peer_reconnect_soon(struct peer *p);
/* An IKE SA of p went down: re-initiate as the reason and the operator say. */
void peer_ike_down(struct peer *p, enum ike_reason why);
/* FRR configuration of the tunnel; retried by the daemon until it succeeds. */
int peer_frr_add(struct peer *p);
/* An IKE SA is up, behind a NAT or not: the GRE MTU makes room for ESP's UDP header or not. */
void peer_nat_mtu(struct peer *p, bool nat);
/* Stop and start the peer from the loop (not from inside an ikecore event). */
void peer_restart_soon(struct peer *p);

/* peer_sa.c: the CHILD SAs of a peer in the kernel. */
/* Inbound now; outbound now or, for a rekey (delay_out), once the peer can decrypt it. */
int peer_sa_install(struct peer *p, const struct ike_child_sa *sa, bool delay_out);
void peer_sa_retire(struct peer *p, uint32_t spi_in, uint32_t grace_ms);
/* CHILD_DOWN(REPLACED): a held-back newer outbound SA goes in now, spi_in retires. */
void peer_sa_replaced(struct peer *p, uint32_t spi_in, uint32_t grace_ms);
/* CHILD_SWITCH: a rekey's old SA is deleted on both sides; held-back outbound SAs go in now. */
void peer_sa_switch(struct peer *p, uint32_t old_spi_in);
void peer_sa_remove(struct peer *p, uint32_t spi_in);
void peer_sa_remove_all(struct peer *p);
/* The kernel says a state of p reached a byte/packet limit: rekey (hard: it is gone). */
void peer_sa_expired(struct peer *p, uint32_t spi, bool hard);
/* The peer's NAT mapping moved to a new port: every UDP-encapsulated state follows (host order). */
void peer_sa_encap_move(struct peer *p, uint16_t ours, uint16_t theirs);

/* ike_events.c: everything ikecore says, drained after every call into it. */
void daemon_ike_drain(struct daemon *d);

/* reload.c: SIGHUP, and tunnelctl reload. */
struct reload_result {
    unsigned kept, stopped, started;
};
/* 0 and *r; -1 when the file is invalid: why in dg (positions) or e, and nothing changed. */
int daemon_reload(struct daemon *d, struct reload_result *r, struct diag *dg, struct errmsg *e);

/* daemon.c */
/* Loads, checks and resolves the WAN of the config file; errors are logged and left in dg / e. */
int daemon_config_load(struct daemon *d, struct tunneld_config **out, struct wan *w,
                       struct diag *dg, struct errmsg *e);
void daemon_frr_retry_arm(struct daemon *d);
int daemon_peers_start(struct daemon *d);  /* one peer per d->cfg peer */
int daemon_peer_add(struct daemon *d, const struct cfg_peer *cfg); /* lists and starts it */
void daemon_peer_drop(struct daemon *d, unsigned i); /* stops, frees, unlists */
int daemon_lans(struct daemon *d, const struct tunneld_config *c, bool add);

#endif
