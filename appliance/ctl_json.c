/* Reading reply fields. docs/cli.md: a field that does not apply is null, never absent;
 * an absent one (an older tunneld) reads the same as null. */
#include "tunnelctl.h"

struct json_object *ctl_get(struct json_object *o, const char *key)
{
    struct json_object *v = NULL;
    if (!o || !json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v))
        return NULL;
    return v;
}

const char *ctl_str(struct json_object *o, const char *key)
{
    struct json_object *v = ctl_get(o, key);
    return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

const char *ctl_str_or(struct json_object *o, const char *key, const char *fallback)
{
    const char *s = ctl_str(o, key);
    return s ? s : fallback;
}

bool ctl_int(struct json_object *o, const char *key, int64_t *v)
{
    struct json_object *j = ctl_get(o, key);
    if (!j || !(json_object_is_type(j, json_type_int) || json_object_is_type(j, json_type_double)))
        return false;
    *v = json_object_get_int64(j);
    return true;
}

int64_t ctl_int_or(struct json_object *o, const char *key, int64_t fallback)
{
    int64_t v;
    return ctl_int(o, key, &v) ? v : fallback;
}

bool ctl_bool(struct json_object *o, const char *key)
{
    struct json_object *j = ctl_get(o, key);
    return j && json_object_is_type(j, json_type_boolean) && json_object_get_boolean(j);
}

size_t ctl_array_len(struct json_object *o, const char *key)
{
    struct json_object *a = ctl_get(o, key);
    return a && json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

struct json_object *ctl_array_at(struct json_object *o, const char *key, size_t i)
{
    struct json_object *a = ctl_get(o, key);
    if (!a || !json_object_is_type(a, json_type_array) || i >= json_object_array_length(a))
        return NULL;
    return json_object_array_get_idx(a, i);
}
