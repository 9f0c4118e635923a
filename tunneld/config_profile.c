/*
 * Profiles: named sets of IKE/ESP/DPD/OSPF settings (profiles/NAME.yaml),
 * looked up along a search path, loaded once per config_load, checked on
 * their own, then merged under each peer's overrides.
 */
#include <dirent.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_int.h"
#include "proposal.h"
#include "suggest.h"

void profile_set_free(struct profile_set *ps)
{
    for (unsigned i = 0; i < ps->n; i++) {
        if (!ps->v[i])
            continue;
        layer_free(&ps->v[i]->src.layer);
        ytree_free(&ps->v[i]->tree);
        free(ps->v[i]);
    }
    free(ps->v);
    ps->v = NULL;
    ps->n = 0;
}

/* The first dir/NAME.yaml along the search path that exists. */
static char *find_profile(const char *search, const char *name)
{
    char *copy = strdup(search), *save = NULL, *found = NULL;
    for (char *dir = copy ? strtok_r(copy, ":", &save) : NULL; dir && !found;
         dir = strtok_r(NULL, ":", &save)) {
        char *path;
        if (asprintf(&path, "%s/%s.yaml", dir, name) < 0)
            break;
        if (access(path, F_OK) == 0)
            found = path;
        else
            free(path);
    }
    free(copy);
    return found;
}

#define MAX_LISTED 256

/* Adds dir's NAME.yaml names to names[]; *n counts them. */
static void list_dir(const char *dir, char **names, size_t *n)
{
    DIR *dh = opendir(dir);
    for (struct dirent *e; dh && (e = readdir(dh)) && *n < MAX_LISTED;) {
        size_t len = strlen(e->d_name);
        if (len <= 5 || len > 5 + CFG_NAME_MAX || strcmp(e->d_name + len - 5, ".yaml") != 0)
            continue;
        if ((names[*n] = strndup(e->d_name, len - 5)))
            (*n)++;
    }
    if (dh)
        closedir(dh);
}

/* The profile name on the search path closest to a misspelt one, or NULL. */
static char *closest_profile(const char *search, const char *name)
{
    char *names[MAX_LISTED + 1], *copy = strdup(search), *save = NULL, *best = NULL;
    size_t n = 0;
    for (char *dir = copy ? strtok_r(copy, ":", &save) : NULL; dir;
         dir = strtok_r(NULL, ":", &save))
        list_dir(dir, names, &n);
    names[n] = NULL;
    const char *s = suggest(name, (const char *const *)names);
    /* "cisco-ios" for "cisco-ios-ikev1": profile names grow suffixes that edits cannot bridge. */
    for (size_t i = 0; !s && strlen(name) >= 3 && i < n; i++)
        if (strncmp(names[i], name, strlen(name)) == 0)
            s = names[i];
    if (s)
        best = strdup(s);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(copy);
    return best;
}

static bool name_matches_file(const char *path, const char *name)
{
    char *copy = strdup(path);
    if (!copy)
        return true;
    const char *base = basename(copy);
    size_t len = strlen(name);
    bool ok = strncmp(base, name, len) == 0 && strcmp(base + len, ".yaml") == 0;
    free(copy);
    return ok;
}

int profile_from_tree(struct profile *p, struct diag *d)
{
    size_t before = diag_count(d);
    const char *path = p->tree.file;
    struct pctx pc = {.d = d, .t = &p->tree, .profile = true};
    p->src.layer.file = path;
    if (!p->tree.root)
        diag_add(d, path, 1, 1, "empty file: expected a profile (name, ike, esp, ...)");
    else if (walk_map(&pc, &profile_file_table, "the profile", p->tree.root, p->tree.root,
                      &p->src) == 0 &&
             !name_matches_file(path, p->src.name.v))
        diag_add(d, path, p->src.name.at.line, p->src.name.at.col,
                 "name: profile '%s' must be in a file called %s.yaml", p->src.name.v,
                 p->src.name.v);
    snprintf(p->name, sizeof(p->name), "%s", p->src.name.v);
    if (diag_count(d) == before) {
        struct cfg_peer check;
        memset(&check, 0, sizeof(check));
        resolve_peer(p, NULL, &check, d);
    }
    p->broken = diag_count(d) != before;
    return p->broken ? -1 : 0;
}

static struct profile *cache_add(struct profile_set *ps, const char *name)
{
    struct profile **nv = realloc(ps->v, (ps->n + 1) * sizeof(*nv));
    if (!nv)
        return NULL;
    ps->v = nv;
    struct profile *p = calloc(1, sizeof(*p));
    if (p)
        snprintf(p->name, sizeof(p->name), "%s", name);
    ps->v[ps->n++] = p;
    return p;
}

static void report_unknown(const struct profile_set *ps, const char *name, struct pctx *pc,
                           const struct cfg_mark *ref, bool implicit)
{
    char *s = closest_profile(ps->search, name);
    if (s)
        diag_add(pc->d, pc->t->file, ref->line, ref->col,
                 "unknown profile '%s' (did you mean '%s'?)", name, s);
    else
        diag_add(pc->d, pc->t->file, ref->line, ref->col,
                 "unknown profile '%s' (%sno %s.yaml in %s)", name,
                 implicit ? "the default when site.profile is not given; " : "", name, ps->search);
    free(s);
}

struct profile *profile_get(struct profile_set *ps, const char *name, struct pctx *pc,
                            const struct cfg_mark *ref, bool implicit)
{
    for (unsigned i = 0; i < ps->n; i++)
        if (ps->v[i] && strcmp(ps->v[i]->name, name) == 0)
            return ps->v[i];
    char *path = find_profile(ps->search, name);
    if (!path) {
        report_unknown(ps, name, pc, ref, implicit);
        return NULL;
    }
    struct profile *p = cache_add(ps, name);
    if (!p)
        diag_add(pc->d, pc->t->file, ref->line, ref->col, "out of memory");
    else if (ytree_load(path, &p->tree, pc->d) < 0)
        p->broken = true;
    else
        profile_from_tree(p, pc->d);
    /* The name the file claims may differ; cache it under the one asked for. */
    if (p)
        snprintf(p->name, sizeof(p->name), "%s", name);
    free(path);
    return p;
}
