#include "xfrm.h"

#include <linux/udp.h>
#include <linux/xfrm.h>
#include <netinet/in.h>
#include <netlink/errno.h>
#include <netlink/xfrm/lifetime.h>
#include <netlink/xfrm/sa.h>
#include <netlink/xfrm/selector.h>
#include <netlink/xfrm/sp.h>
#include <netlink/xfrm/template.h>
#include <stdio.h>

#include "netlink.h"

#define GRE_PROTO 47
#define REPLAY_WINDOW 32 /* anti-replay always on (RFC 4303 §3.4.3 default) */

/* The kernel's crypto names for our ESP transforms. */
static const char *encr_name(uint16_t encr)
{
    switch (encr) {
    case IKE_ENCR_AES_CBC: return "cbc(aes)";
    case IKE_ENCR_AES_GCM_16: return "rfc4106(gcm(aes))";
    case IKE_ENCR_3DES: return "cbc(des3_ede)";
    default: return NULL;
    }
}

/* Name and truncated ICV bits (RFC 4868 §2.3, RFC 2404). */
static const char *integ_name(uint16_t integ, unsigned *trunc_bits)
{
    switch (integ) {
    case IKE_INTEG_HMAC_SHA1_96: *trunc_bits = 96; return "hmac(sha1)";
    case IKE_INTEG_HMAC_SHA2_256_128: *trunc_bits = 128; return "hmac(sha256)";
    case IKE_INTEG_HMAC_SHA2_384_192: *trunc_bits = 192; return "hmac(sha384)";
    case IKE_INTEG_HMAC_SHA2_512_256: *trunc_bits = 256; return "hmac(sha512)";
    default: return NULL;
    }
}

static void addr_str(const struct sockaddr_storage *ss, char *buf, size_t len)
{
    struct nl_addr *a = nlh_addr(ss);
    if (!a) {
        snprintf(buf, len, "?");
        return;
    }
    nl_addr2str(a, buf, len);
    nl_addr_put(a);
}

/* A selector for GRE from src to dst, host addresses. */
static struct xfrmnl_sel *gre_selector(const struct sockaddr_storage *src,
                                       const struct sockaddr_storage *dst)
{
    struct xfrmnl_sel *sel = xfrmnl_sel_alloc();
    struct nl_addr *s = nlh_addr(src), *d = nlh_addr(dst);
    if (!sel || !s || !d)
        goto fail;
    unsigned plen = src->ss_family == AF_INET ? 32 : 128;
    xfrmnl_sel_set_family(sel, src->ss_family);
    xfrmnl_sel_set_saddr(sel, s);
    xfrmnl_sel_set_daddr(sel, d);
    xfrmnl_sel_set_prefixlen_s(sel, plen);
    xfrmnl_sel_set_prefixlen_d(sel, plen);
    xfrmnl_sel_set_proto(sel, GRE_PROTO);
    nl_addr_put(s);
    nl_addr_put(d);
    return sel;
fail:
    if (s)
        nl_addr_put(s);
    if (d)
        nl_addr_put(d);
    if (sel)
        xfrmnl_sel_put(sel);
    return NULL;
}

/*
 * Without ESN the 32-bit sequence number must not wrap (RFC 4303 3.3.3):
 * the kernel then refuses to send. A soft packet limit this far before the
 * end makes it say so (XFRM_MSG_EXPIRE) while there is time to rekey.
 */
#define SEQ_SOFT_LIMIT (0xffffffffull - (1ull << 24))

/* The kernel takes 0 as a limit of zero, not "none": unset limits are XFRM_INF. */
static struct xfrmnl_ltime_cfg *lifetime(uint64_t soft_b, uint64_t hard_b,
                                         uint64_t soft_s, uint64_t hard_s, uint64_t soft_p)
{
    struct xfrmnl_ltime_cfg *lt = xfrmnl_ltime_cfg_alloc();
    if (!lt)
        return NULL;
    xfrmnl_ltime_cfg_set_soft_bytelimit(lt, soft_b ? soft_b : XFRM_INF);
    xfrmnl_ltime_cfg_set_hard_bytelimit(lt, hard_b ? hard_b : XFRM_INF);
    xfrmnl_ltime_cfg_set_soft_packetlimit(lt, soft_p ? soft_p : XFRM_INF);
    xfrmnl_ltime_cfg_set_hard_packetlimit(lt, XFRM_INF);
    xfrmnl_ltime_cfg_set_soft_addexpires(lt, soft_s);
    xfrmnl_ltime_cfg_set_hard_addexpires(lt, hard_s);
    xfrmnl_ltime_cfg_set_soft_useexpires(lt, 0);
    xfrmnl_ltime_cfg_set_hard_useexpires(lt, 0);
    return lt;
}

static struct xfrmnl_user_tmpl *esp_template(const struct sockaddr_storage *src,
                                             const struct sockaddr_storage *dst, uint32_t reqid)
{
    struct xfrmnl_user_tmpl *t = xfrmnl_user_tmpl_alloc();
    struct nl_addr *s = nlh_addr(src), *d = nlh_addr(dst);
    if (!t || !s || !d) {
        if (t)
            xfrmnl_user_tmpl_free(t);
        t = NULL;
        goto out;
    }
    xfrmnl_user_tmpl_set_family(t, dst->ss_family);
    xfrmnl_user_tmpl_set_saddr(t, s);
    xfrmnl_user_tmpl_set_daddr(t, d);
    xfrmnl_user_tmpl_set_proto(t, IPPROTO_ESP);
    xfrmnl_user_tmpl_set_mode(t, XFRM_MODE_TRANSPORT);
    xfrmnl_user_tmpl_set_reqid(t, reqid);
    xfrmnl_user_tmpl_set_aalgos(t, ~0u);
    xfrmnl_user_tmpl_set_ealgos(t, ~0u);
    xfrmnl_user_tmpl_set_calgos(t, ~0u);
out:
    if (s)
        nl_addr_put(s);
    if (d)
        nl_addr_put(d);
    return t;
}

/* src/dst in the direction of the packets the policy matches. */
static struct xfrmnl_sp *gre_policy(const struct xfrm_gre_policy *p, enum xfrm_dir dir,
                                    bool with_template)
{
    const struct sockaddr_storage *src = dir == XFRM_DIR_OUT ? &p->local : &p->remote;
    const struct sockaddr_storage *dst = dir == XFRM_DIR_OUT ? &p->remote : &p->local;
    struct xfrmnl_sp *sp = xfrmnl_sp_alloc();
    struct xfrmnl_sel *sel = gre_selector(src, dst);
    struct xfrmnl_ltime_cfg *lt = lifetime(0, 0, 0, 0, 0);
    struct xfrmnl_user_tmpl *t = with_template ? esp_template(src, dst, p->reqid) : NULL;
    if (!sp || !sel || !lt || (with_template && !t))
        goto fail;
    xfrmnl_sp_set_sel(sp, sel);
    xfrmnl_sp_set_lifetime_cfg(sp, lt);
    xfrmnl_sp_set_dir(sp, dir == XFRM_DIR_OUT ? XFRM_POLICY_OUT : XFRM_POLICY_IN);
    xfrmnl_sp_set_action(sp, XFRM_POLICY_ALLOW);
    xfrmnl_sp_set_priority(sp, p->priority);
    xfrmnl_sp_set_share(sp, XFRM_SHARE_ANY);
    if (t)
        xfrmnl_sp_add_usertemplate(sp, t); /* sp owns it now */
    xfrmnl_sel_put(sel);
    xfrmnl_ltime_cfg_put(lt);
    return sp;
fail:
    if (t)
        xfrmnl_user_tmpl_free(t);
    if (lt)
        xfrmnl_ltime_cfg_put(lt);
    if (sel)
        xfrmnl_sel_put(sel);
    if (sp)
        xfrmnl_sp_put(sp);
    return NULL;
}

static int policy_op(struct nl_sock *x, const struct xfrm_gre_policy *p, enum xfrm_dir dir,
                     bool add, struct errmsg *e)
{
    char src[64], dst[64], what[160];
    addr_str(&p->local, src, sizeof(src));
    addr_str(&p->remote, dst, sizeof(dst));
    snprintf(what, sizeof(what), "%s gre %s %s %s", dir == XFRM_DIR_OUT ? "out" : "in",
             src, dir == XFRM_DIR_OUT ? "->" : "<-", dst);
    struct xfrmnl_sp *sp = gre_policy(p, dir, add);
    if (!sp)
        return errmsg_set(e, "XFRM policy %s: out of memory", what);
    /* Update, not add: re-installing after a crash or reload must not fail on EEXIST. */
    int err = add ? xfrmnl_sp_update(x, sp, 0) : xfrmnl_sp_delete(x, sp, 0);
    xfrmnl_sp_put(sp);
    if (!add && (err == -NLE_OBJ_NOTFOUND || err == -NLE_NOADDR))
        return 0;
    return err < 0 ? nlh_err(e, err, add ? "XFRM policy" : "XFRM policy remove", what) : 0;
}

int xfrm_policy_install(struct nl_sock *x, const struct xfrm_gre_policy *p, struct errmsg *e)
{
    if (policy_op(x, p, XFRM_DIR_OUT, true, e) < 0)
        return -1;
    if (policy_op(x, p, XFRM_DIR_IN, true, e) < 0) {
        policy_op(x, p, XFRM_DIR_OUT, false, NULL);
        return -1;
    }
    return 0;
}

int xfrm_policy_remove(struct nl_sock *x, const struct xfrm_gre_policy *p, struct errmsg *e)
{
    int rc_out = policy_op(x, p, XFRM_DIR_OUT, false, e);
    int rc_in = policy_op(x, p, XFRM_DIR_IN, false, rc_out < 0 ? NULL : e);
    return rc_out < 0 || rc_in < 0 ? -1 : 0;
}

static int set_algorithms(struct xfrmnl_sa *sa, const struct ike_child_sa *c, enum xfrm_dir dir)
{
    const uint8_t *ek = dir == XFRM_DIR_IN ? c->encr_key_in : c->encr_key_out;
    const uint8_t *ik = dir == XFRM_DIR_IN ? c->integ_key_in : c->integ_key_out;
    const char *ename = encr_name(c->suite.encr);
    if (!ename)
        return -1;
    if (c->suite.encr == IKE_ENCR_AES_GCM_16) /* key bits include the 4-byte salt (RFC 4106 §8.1) */
        return xfrmnl_sa_set_aead_params(sa, ename, c->encr_key_len * 8, 128, (const char *)ek);
    if (xfrmnl_sa_set_crypto_params(sa, ename, c->encr_key_len * 8, (const char *)ek) < 0)
        return -1;
    unsigned trunc = 0;
    const char *iname = integ_name(c->suite.integ, &trunc);
    if (!iname)
        return -1;
    return xfrmnl_sa_set_auth_params(sa, iname, c->integ_key_len * 8, trunc, (const char *)ik);
}

static int set_replay(struct xfrmnl_sa *sa, const struct ike_child_sa *c)
{
    if (!c->suite.esn)
        return xfrmnl_sa_set_replay_window(sa, REPLAY_WINDOW);
    /* ESN needs the replay_esn attribute; its window is a bitmap of 32-bit words. */
    unsigned bmp[REPLAY_WINDOW / 32] = {0};
    xfrmnl_sa_set_flags(sa, XFRM_STATE_ESN);
    return xfrmnl_sa_set_replay_state_esn(sa, 0, 0, 0, 0, REPLAY_WINDOW, REPLAY_WINDOW / 32, bmp);
}

void xfrm_encap_ports(enum xfrm_dir dir, uint16_t ours, uint16_t theirs, uint16_t *sport,
                      uint16_t *dport)
{
    *sport = dir == XFRM_DIR_OUT ? ours : theirs;
    *dport = dir == XFRM_DIR_OUT ? theirs : ours;
}

/*
 * The original address (NAT-OA) is the peer's as we see it: the kernel uses
 * it only to fix up TCP/UDP checksums in transport mode, and GRE has none
 * over the addresses.
 */
static int set_encap(struct xfrmnl_sa *sa, const struct ike_child_sa *c, enum xfrm_dir dir)
{
    if (!c->udp_encap)
        return 0;
    uint16_t sport, dport;
    xfrm_encap_ports(dir, c->encap_sport, c->encap_dport, &sport, &dport);
    struct nl_addr *oa = nlh_addr(&c->remote);
    if (!oa)
        return -1;
    int err = xfrmnl_sa_set_encap_tmpl(sa, UDP_ENCAP_ESPINUDP, sport, dport, oa);
    nl_addr_put(oa);
    return err;
}

/* libnl takes SPIs and encap ports in host order and converts them itself. */
static struct xfrmnl_sa *child_state(const struct ike_child_sa *c, enum xfrm_dir dir)
{
    const struct sockaddr_storage *src = dir == XFRM_DIR_OUT ? &c->local : &c->remote;
    const struct sockaddr_storage *dst = dir == XFRM_DIR_OUT ? &c->remote : &c->local;
    struct xfrmnl_sa *sa = xfrmnl_sa_alloc();
    struct xfrmnl_sel *sel = gre_selector(src, dst);
    struct nl_addr *s = nlh_addr(src), *d = nlh_addr(dst);
    struct xfrmnl_ltime_cfg *lt = lifetime(c->lifetime_soft_kb * 1024, c->lifetime_hard_kb * 1024,
                                           c->lifetime_soft_s, c->lifetime_hard_s,
                                           c->suite.esn ? 0 : SEQ_SOFT_LIMIT);
    bool ok = sa && sel && s && d && lt;
    if (ok) {
        xfrmnl_sa_set_family(sa, dst->ss_family);
        xfrmnl_sa_set_saddr(sa, s);
        xfrmnl_sa_set_daddr(sa, d);
        xfrmnl_sa_set_proto(sa, IPPROTO_ESP);
        xfrmnl_sa_set_spi(sa, dir == XFRM_DIR_IN ? c->spi_in : c->spi_out);
        xfrmnl_sa_set_mode(sa, XFRM_MODE_TRANSPORT);
        xfrmnl_sa_set_reqid(sa, c->reqid);
        xfrmnl_sa_set_sel(sa, sel);
        xfrmnl_sa_set_lifetime_cfg(sa, lt);
        ok = set_algorithms(sa, c, dir) >= 0 && set_replay(sa, c) >= 0 &&
             set_encap(sa, c, dir) >= 0;
    }
    if (sel)
        xfrmnl_sel_put(sel);
    if (lt)
        xfrmnl_ltime_cfg_put(lt);
    if (s)
        nl_addr_put(s);
    if (d)
        nl_addr_put(d);
    if (!ok && sa) {
        xfrmnl_sa_put(sa);
        sa = NULL;
    }
    return sa;
}

int xfrm_state_add(struct nl_sock *x, const struct ike_child_sa *c, enum xfrm_dir dir,
                   struct errmsg *e)
{
    uint32_t spi = dir == XFRM_DIR_IN ? c->spi_in : c->spi_out;
    char what[48];
    snprintf(what, sizeof(what), "%s spi 0x%08x", dir == XFRM_DIR_IN ? "in" : "out", spi);
    struct xfrmnl_sa *sa = child_state(c, dir);
    if (!sa)
        return errmsg_set(e, "XFRM state %s: unsupported transform or out of memory", what);
    int err = xfrmnl_sa_add(x, sa, NLM_F_CREATE | NLM_F_EXCL);
    /* libnl copied the keys into its own object; it frees, we cannot wipe them there. */
    xfrmnl_sa_put(sa);
    return err < 0 ? nlh_err(e, err, "XFRM state", what) : 0;
}

int xfrm_state_set_encap(struct nl_sock *x, const struct sockaddr_storage *dst, uint32_t spi,
                         uint16_t sport, uint16_t dport, struct errmsg *e)
{
    char what[64];
    snprintf(what, sizeof(what), "spi 0x%08x (UDP %u -> %u)", spi, sport, dport);
    struct nl_addr *d = nlh_addr(dst), *oa = NULL;
    struct xfrmnl_sa *sa = NULL;
    if (!d)
        return errmsg_set(e, "XFRM state %s: out of memory", what);
    int err = xfrmnl_sa_get_kernel(x, d, spi, IPPROTO_ESP, 0, 0, &sa);
    nl_addr_put(d);
    if (err < 0)
        return nlh_err(e, err, "XFRM state", what);
    unsigned type = 0, cur_s = 0, cur_d = 0;
    if (xfrmnl_sa_get_encap_tmpl(sa, &type, &cur_s, &cur_d, &oa) < 0) {
        xfrmnl_sa_put(sa);
        return errmsg_set(e, "XFRM state %s: not UDP-encapsulated", what);
    }
    if (cur_s != sport || cur_d != dport) {
        err = oa ? xfrmnl_sa_set_encap_tmpl(sa, type, sport, dport, oa) : -NLE_NOMEM;
        if (err >= 0)
            err = xfrmnl_sa_update(x, sa, 0);
    }
    if (oa)
        nl_addr_put(oa);
    /* As in xfrm_state_add: the keys are in libnl's object, which frees them unwiped. */
    xfrmnl_sa_put(sa);
    return err < 0 ? nlh_err(e, err, "XFRM state update", what) : 0;
}

int xfrm_state_remove(struct nl_sock *x, const struct sockaddr_storage *dst, uint32_t spi,
                      struct errmsg *e)
{
    char what[48];
    snprintf(what, sizeof(what), "spi 0x%08x", spi);
    struct xfrmnl_sa *sa = xfrmnl_sa_alloc();
    struct nl_addr *d = nlh_addr(dst);
    int err = -NLE_NOMEM;
    if (sa && d) {
        xfrmnl_sa_set_daddr(sa, d);
        xfrmnl_sa_set_family(sa, dst->ss_family);
        xfrmnl_sa_set_proto(sa, IPPROTO_ESP);
        xfrmnl_sa_set_spi(sa, spi);
        err = xfrmnl_sa_delete(x, sa, 0);
    }
    if (d)
        nl_addr_put(d);
    if (sa)
        xfrmnl_sa_put(sa);
    if (err == -NLE_OBJ_NOTFOUND || err == -NLE_NOADDR)
        return 0;
    return err < 0 ? nlh_err(e, err, "XFRM state remove", what) : 0;
}

struct flush {
    struct nl_sock *x;
    uint32_t lo, hi;
    unsigned removed;
    int err;
};

static bool in_range(const struct flush *f, int reqid)
{
    return reqid >= 0 && (uint32_t)reqid >= f->lo && (uint32_t)reqid <= f->hi;
}

static void flush_sa(struct nl_object *obj, void *arg)
{
    struct flush *f = arg;
    struct xfrmnl_sa *sa = (struct xfrmnl_sa *)obj;
    if (!in_range(f, xfrmnl_sa_get_reqid(sa)))
        return;
    int err = xfrmnl_sa_delete(f->x, sa, 0);
    if (err < 0 && err != -NLE_OBJ_NOTFOUND)
        f->err = err;
    else
        f->removed++;
}

static void flush_sp(struct nl_object *obj, void *arg)
{
    struct flush *f = arg;
    struct xfrmnl_sp *sp = (struct xfrmnl_sp *)obj;
    struct xfrmnl_user_tmpl *t =
        xfrmnl_sp_get_nusertemplates(sp) > 0 ? xfrmnl_sp_usertemplate_n(sp, 0) : NULL;
    if (!t || !in_range(f, xfrmnl_user_tmpl_get_reqid(t)))
        return;
    int err = xfrmnl_sp_delete(f->x, sp, 0);
    if (err < 0 && err != -NLE_OBJ_NOTFOUND)
        f->err = err;
    else
        f->removed++;
}

int xfrm_flush_reqids(struct nl_sock *x, uint32_t lo, uint32_t hi, unsigned *removed,
                      struct errmsg *e)
{
    struct flush f = {.x = x, .lo = lo, .hi = hi};
    struct nl_cache *c = NULL;
    int err = xfrmnl_sa_alloc_cache(x, &c);
    if (err < 0)
        return nlh_err(e, err, "XFRM state list", "");
    nl_cache_foreach(c, flush_sa, &f);
    nl_cache_free(c);
    if ((err = xfrmnl_sp_alloc_cache(x, &c)) < 0)
        return nlh_err(e, err, "XFRM policy list", "");
    nl_cache_foreach(c, flush_sp, &f);
    nl_cache_free(c);
    *removed = f.removed;
    return f.err < 0 ? nlh_err(e, f.err, "XFRM flush", "leftover reqids") : 0;
}

int xfrm_state_stats(struct nl_sock *x, const struct sockaddr_storage *dst, uint32_t spi,
                     struct xfrm_state_stats *out, struct errmsg *e)
{
    char what[48];
    snprintf(what, sizeof(what), "spi 0x%08x", spi);
    struct nl_addr *d = nlh_addr(dst);
    struct xfrmnl_sa *sa = NULL;
    if (!d)
        return errmsg_set(e, "XFRM state %s: out of memory", what);
    int err = xfrmnl_sa_get_kernel(x, d, spi, IPPROTO_ESP, 0, 0, &sa);
    nl_addr_put(d);
    if (err < 0)
        return nlh_err(e, err, "XFRM state", what);
    unsigned long long bytes = 0, packets = 0, add = 0, use = 0, rw = 0, replay = 0, integ = 0;
    xfrmnl_sa_get_curlifetime(sa, &bytes, &packets, &add, &use);
    xfrmnl_sa_get_stats(sa, &rw, &replay, &integ);
    *out = (struct xfrm_state_stats){.bytes = bytes, .packets = packets, .add_time = add,
                                     .replay = replay, .integrity_failed = integ,
                                     .hard_bytes = XFRM_INF, .hard_add_s = XFRM_INF};
    int win = xfrmnl_sa_get_replay_window(sa);
    out->replay_window = win > 0 ? (unsigned)win : 0;
    struct xfrmnl_ltime_cfg *lt = xfrmnl_sa_get_lifetime_cfg(sa);
    if (lt) {
        out->hard_bytes = xfrmnl_ltime_cfg_get_hard_bytelimit(lt);
        out->hard_add_s = xfrmnl_ltime_cfg_get_hard_addexpires(lt);
    }
    xfrmnl_sa_put(sa);
    return 0;
}
