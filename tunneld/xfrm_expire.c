#include "xfrm_expire.h"

#include <arpa/inet.h>
#include <linux/xfrm.h>
#include <netinet/in.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "netlink.h"

static int on_msg(struct nl_msg *msg, void *arg)
{
    struct xfrm_expire *x = arg;
    struct nlmsghdr *h = nlmsg_hdr(msg);
    if (h->nlmsg_type != XFRM_MSG_EXPIRE || nlmsg_datalen(h) < (int)sizeof(struct xfrm_user_expire))
        return NL_SKIP;
    const struct xfrm_user_expire *ue = nlmsg_data(h);
    if (ue->state.id.proto == IPPROTO_ESP)
        x->fn(x->arg, ue->state.reqid, ntohl(ue->state.id.spi), ue->hard != 0);
    return NL_OK;
}

int xfrm_expire_open(struct xfrm_expire *x, xfrm_expire_fn fn, void *arg, struct errmsg *e)
{
    *x = (struct xfrm_expire){.fn = fn, .arg = arg};
    struct nl_sock *s = nl_socket_alloc();
    int err = -NLE_NOMEM;
    if (!s)
        return nlh_err(e, err, "netlink", "xfrm expire events");
    /* Multicast: no request of ours to match sequence numbers against. */
    nl_socket_disable_seq_check(s);
    nl_socket_modify_cb(s, NL_CB_VALID, NL_CB_CUSTOM, on_msg, x);
    if ((err = nl_connect(s, NETLINK_XFRM)) < 0 ||
        (err = nl_socket_add_memberships(s, XFRMNLGRP_EXPIRE, 0)) < 0 ||
        (err = nl_socket_set_nonblocking(s)) < 0) {
        nl_socket_free(s);
        return nlh_err(e, err, "netlink", "xfrm expire events");
    }
    x->sk = s;
    return 0;
}

int xfrm_expire_fd(const struct xfrm_expire *x)
{
    return nl_socket_get_fd(x->sk);
}

void xfrm_expire_read(struct xfrm_expire *x)
{
    /* Non-blocking: returns once the socket is empty (-NLE_AGAIN). */
    while (nl_recvmsgs_default(x->sk) >= 0)
        ;
}

void xfrm_expire_close(struct xfrm_expire *x)
{
    if (x->sk)
        nl_socket_free(x->sk);
    x->sk = NULL;
}
