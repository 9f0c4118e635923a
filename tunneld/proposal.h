/*
 * Proposal strings in strongSwan's syntax, which network engineers already
 * know: algorithm names joined by '-', e.g. "aes256gcm16-prfsha384-ecp384"
 * (IKE) or "aes256-sha256-modp2048" (ESP). One string is one struct
 * ike_suite, ready for ikecore; the rules here are the security defaults
 * (legacy algorithms only in legacy profiles, no AEAD in IKEv1 phase 1).
 */
#ifndef TUNNELD_PROPOSAL_H
#define TUNNELD_PROPOSAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ikecore.h"

enum proposal_kind { PROPOSAL_IKE, PROPOSAL_ESP };

struct proposal_rules {
    enum proposal_kind kind;
    uint8_t ike_version; /* 1 or 2: what IKE proposals may hold */
    bool legacy;         /* 3DES, MODP-1024, SHA-1 in IKEv2 IKE SAs */
    bool pfs;            /* ESP: a DH group is required; without PFS it is ignored */
    bool esn;            /* ESP: extended sequence numbers unless "noesn" */
};

struct proposal_error {
    size_t offset; /* byte offset in the string of the offending name */
    char msg[192]; /* a sentence; names the algorithm, never other config */
};

#define PROPOSAL_MAX_LEN 128

/* 0 and *out filled, or -1 and *err. */
int proposal_parse(const char *s, const struct proposal_rules *r, struct ike_suite *out,
                   struct proposal_error *err);

/* "ecp384", "modp2048", "x25519"...; "none" for 0. */
const char *proposal_dh_name(uint16_t group);

/* The canonical string for a suite ("aes256gcm16-prfsha384-ecp384"). */
void proposal_format(const struct ike_suite *s, enum proposal_kind kind, char *buf, size_t len);

#endif
