/*
 * libFuzzer target: arbitrary datagrams into an IKEv1 initiator and
 * responder that share an ISAKMP SA and an IPsec SA, including well
 * protected Quick Mode and Informational messages with fuzzed payloads
 * (format in fuzz_ikev1_common.h). Every input starts from a fresh
 * deterministic handshake; everything is freed, so leaks are findings.
 */
#include "fuzz_ikev1_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t sealed[IKE_MSG_MAX + 512];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct h_pair p;
    uint32_t msgid = 0x01000000;
    fz1_setup(&p);
    if (h_start(&p, NULL) != 0)
        __builtin_trap();
    h_handshake(&p);
    while (size >= 3) {
        uint8_t mode = data[0] % 4;
        size_t n = (size_t)data[1] << 8 | data[2];
        data += 3;
        size -= 3;
        if (n > size)
            n = size;
        if (mode < 2) {
            h_deliver(&p, mode, data, n);
        } else if (n >= 1) {
            size_t len;
            fz1_seal(&p, mode == 2 ? IKEV1_EXCH_QUICK : IKEV1_EXCH_INFO, msgid++, data[0],
                     data + 1, n - 1, sealed, sizeof(sealed), &len);
            if (len)
                h_deliver(&p, 1, sealed, len);
        }
        data += n;
        size -= n;
        h_pump(&p);
    }
    p.filter = NULL;
    h_run(&p, p.now + 35000);       /* timers too: retransmissions, DPD, give-up */
    h_free(&p);
    return 0;
}
