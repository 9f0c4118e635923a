/*
 * libFuzzer target: arbitrary datagrams into an initiator and a responder
 * that share an established IKE SA, including well-sealed SK payloads with
 * fuzzed contents (format in fuzz_common.h). Every input starts from a fresh
 * deterministic handshake; everything is freed, so leaks are findings.
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t sealed[IKE_MSG_MAX + 512];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t exch[] = {IKEV2_IKE_AUTH, IKEV2_CREATE_CHILD_SA, IKEV2_INFORMATIONAL,
                                   IKEV2_INFORMATIONAL};
    struct h_pair p;
    fz_setup(&p);
    if (h_start(&p, NULL) != 0)
        __builtin_trap();
    h_handshake(&p);
    while (size >= 3) {
        uint8_t mode = data[0] % 6;
        size_t n = (size_t)data[1] << 8 | data[2];
        data += 3;
        size -= 3;
        if (n > size)
            n = size;
        if (mode < 2) {
            h_deliver(&p, mode, data, n);
        } else if (n >= 1) {
            size_t len;
            fz_seal(&p, exch[mode - 2], mode == 5, data[0], data + 1, n - 1, sealed,
                    sizeof(sealed), &len);
            if (len)
                h_deliver(&p, 1, sealed, len);
        }
        data += n;
        size -= n;
        h_pump(&p);
    }
    p.filter = NULL;
    h_run(&p, p.now + 35000);       /* timers too: retransmissions until give-up, liveness */
    h_free(&p);
    return 0;
}
