/* A request's round trip: send, check "ok", print the result as text or JSON. */
#include <stdlib.h>

#include "tunnelctl.h"

struct ctl_options ctl_options = {
    .socket_path = CTL_DEFAULT_SOCKET,
    .timeout_s = CTL_DEFAULT_TIMEOUT_S,
};

struct json_object *ctl_request(const char *cmd)
{
    struct json_object *req = json_object_new_object();
    if (req)
        json_object_object_add(req, "cmd", json_object_new_string(cmd));
    return req;
}

void ctl_print_json(FILE *out, struct json_object *result)
{
    fprintf(out, "%s\n",
            json_object_to_json_string_ext(result, JSON_C_TO_STRING_PRETTY |
                                                       JSON_C_TO_STRING_SPACED |
                                                       JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* An ok:false reply: its error, and the file's errors when reload lists them. */
static void print_failure(struct json_object *reply)
{
    const char *error = ctl_str(reply, "error");
    ctl_error("%s", error ? error : "tunneld refused the command (no reason given)");
    for (size_t i = 0, n = ctl_array_len(reply, "errors"); i < n; i++) {
        struct json_object *e = ctl_array_at(reply, "errors", i);
        if (json_object_is_type(e, json_type_string))
            fprintf(stderr, "%s\n", json_object_get_string(e));
    }
}

int ctl_exec(struct json_object *request, ctl_printer *print)
{
    struct json_object *reply = NULL;
    char err[512];
    if (!request) {
        ctl_error("out of memory");
        return CTL_ERROR;
    }
    int rc =
        ctl_call(ctl_options.socket_path, ctl_options.timeout_s, request, &reply, err, sizeof(err));
    json_object_put(request);
    if (rc < 0) {
        ctl_error("%s", err);
        return CTL_ERROR;
    }
    struct json_object *ok = ctl_get(reply, "ok"), *result = ctl_get(reply, "result");
    if (!ok || !json_object_is_type(ok, json_type_boolean)) {
        ctl_error("bad reply from tunneld (no \"ok\")");
        rc = CTL_ERROR;
    } else if (!json_object_get_boolean(ok)) {
        print_failure(reply);
        rc = CTL_ERROR;
    } else if (!result || !json_object_is_type(result, json_type_object)) {
        ctl_error("bad reply from tunneld (no \"result\" object)");
        rc = CTL_ERROR;
    } else {
        if (ctl_options.json)
            ctl_print_json(stdout, result);
        else
            print(stdout, result);
        rc = fflush(stdout) == 0 ? CTL_OK : CTL_ERROR;
    }
    json_object_put(reply);
    return rc;
}
