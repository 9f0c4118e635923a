/*
 * tunneld/config*.c as a whole. Fixtures carry their expectations:
 *   tests/data/config/bad/NAME.yaml   first lines "# expect: [FILE:]LINE:COL: message", one per
 *                                     error, in the order tunneld prints them; all must match
 *   tests/data/config/good/NAME.yaml  must pass
 * Directives in either: "# mode: 0644" (the copy's mode; default 0600, since git keeps
 * no modes and an inline PSK needs 0600) and "# with-file: NAME MODE [TEXT]" (a file
 * created beside the copy, e.g. a PSK file). Each fixture is copied to a fresh temp dir;
 * messages have that dir replaced by $DIR and the profile search path by $PROFILES.
 * The last tests run the binary ($TUNNELD) the way an admin would.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "unit.h"

#define MAX_FIXTURES 256
#define MAX_EXPECT 16
#define LINE 1024

extern char **environ;

static const char *data_dir, *tunneld_bin;
static char profile_path[2 * PATH_MAX];
static char *bad[MAX_FIXTURES], *good[MAX_FIXTURES];
static unsigned n_bad, n_good;

struct fixture {
    char dir[64];
    char path[PATH_MAX];
    char expect[MAX_EXPECT][LINE];
    unsigned n_expect;
};

/* ---- files ---- */

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s: %s", path, strerror(errno));
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n + 4096 + 1 > cap)
            buf = realloc(buf, cap = cap * 2 + 4096 + 1);
        size_t got = fread(buf + n, 1, 4096, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

static void spill(const char *path, const char *text, size_t len, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_msg(fd >= 0, "cannot create %s", path);
    ck_assert(write(fd, text, len) == (ssize_t)len);
    ck_assert_int_eq(fchmod(fd, mode), 0);
    close(fd);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(p);
}

static void rm_tree(const char *dir)
{
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* "NAME MODE [TEXT]": a file beside the fixture, in a subdirectory if NAME has one. */
static void with_file(const struct fixture *fx, const char *spec)
{
    char name[256], path[PATH_MAX + 256], dir[PATH_MAX + 256];
    unsigned mode;
    int used = 0;
    ck_assert(sscanf(spec, "%255s %o %n", name, &mode, &used) == 2);
    snprintf(path, sizeof(path), "%s/%s", fx->dir, name);
    snprintf(dir, sizeof(dir), "%s", path);
    mkdir(dirname(dir), 0700);
    const char *text = spec + used;
    char body[LINE];
    snprintf(body, sizeof(body), "%s%s", text, *text ? "\n" : "");
    spill(path, body, strlen(body), (mode_t)mode);
}

/* Copies src into a fresh temp dir, following its directives; collects its expectations. */
static void fixture_make(const char *src, struct fixture *fx)
{
    size_t len;
    char *text = slurp(src, &len), *save = NULL, *copy = strdup(text), *base = strdup(src);
    unsigned mode = 0600;
    memset(fx, 0, sizeof(*fx));
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/tunneld-config-XXXXXX");
    ck_assert(mkdtemp(fx->dir) != NULL);
    snprintf(fx->path, sizeof(fx->path), "%s/%s", fx->dir, basename(base));
    for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        if (strncmp(l, "# expect: ", 10) == 0 && fx->n_expect < MAX_EXPECT)
            snprintf(fx->expect[fx->n_expect++], LINE, "%s", l + 10);
        else if (strncmp(l, "# mode: ", 8) == 0)
            ck_assert(sscanf(l + 8, "%o", &mode) == 1);
        else if (strncmp(l, "# with-file: ", 13) == 0)
            with_file(fx, l + 13);
    }
    spill(fx->path, text, len, (mode_t)mode);
    free(text);
    free(copy);
    free(base);
}

/* ---- errors as the fixtures write them ---- */

static void replace_all(char *s, size_t cap, const char *what, const char *with)
{
    char out[LINE];
    size_t n = 0, wl = strlen(what);
    for (const char *p = s; *p && n + 1 < sizeof(out);) {
        if (wl && strncmp(p, what, wl) == 0) {
            n += (size_t)snprintf(out + n, sizeof(out) - n, "%s", with);
            p += wl;
        } else {
            out[n++] = *p++;
        }
    }
    out[n < sizeof(out) ? n : sizeof(out) - 1] = '\0';
    snprintf(s, cap, "%s", out);
}

static void entry_text(const struct diag *d, size_t i, const struct fixture *fx, char *buf)
{
    const struct diag_entry *e = &d->v[i];
    const char *file = diag_file(d, e);
    char prefix[256] = "", *copy = strdup(file);
    if (strcmp(file, fx->path) != 0)
        snprintf(prefix, sizeof(prefix), "%.200s:", basename(copy));
    snprintf(buf, LINE, "%s%u:%u: %s", prefix, e->line, e->col, e->msg);
    replace_all(buf, LINE, fx->dir, "$DIR");
    replace_all(buf, LINE, profile_path, "$PROFILES");
    free(copy);
}

static int check_fixture(const struct fixture *fx, struct diag *d)
{
    bool is_profile;
    diag_init(d);
    int r = config_check_file(fx->path, profile_path, d, &is_profile, NULL);
    diag_sort(d);
    return r;
}

START_TEST(bad_file)
{
    struct fixture fx;
    struct diag d;
    char got[LINE] = "";
    fixture_make(bad[_i], &fx);
    ck_assert_msg(fx.n_expect > 0, "%s: no '# expect:' line", bad[_i]);
    int r = check_fixture(&fx, &d);
    for (size_t i = 0; i < d.n || i < fx.n_expect; i++) {
        if (i < d.n)
            entry_text(&d, i, &fx, got);
        ck_assert_msg(i < d.n, "%s: missing error: %s", bad[_i], fx.expect[i]);
        ck_assert_msg(i < fx.n_expect, "%s: unexpected error: %s", bad[_i], got);
        ck_assert_msg(strcmp(got, fx.expect[i]) == 0, "%s:\n  want %s\n  got  %s", bad[_i],
                      fx.expect[i], got);
    }
    ck_assert_int_eq(r, -1);
    diag_free(&d);
    rm_tree(fx.dir);
}
END_TEST

START_TEST(good_file)
{
    struct fixture fx;
    struct diag d;
    char got[LINE] = "";
    fixture_make(good[_i], &fx);
    int r = check_fixture(&fx, &d);
    if (d.n)
        entry_text(&d, 0, &fx, got);
    ck_assert_msg(r == 0 && d.n == 0, "%s: %s", good[_i], got);
    diag_free(&d);
    rm_tree(fx.dir);
}
END_TEST

/* ---- resolved values ---- */

static struct tunneld_config *load_good(const char *name, struct fixture *fx)
{
    char src[PATH_MAX];
    struct tunneld_config *c = NULL;
    struct diag d;
    snprintf(src, sizeof(src), "%s/config/good/%s", data_dir, name);
    fixture_make(src, fx);
    diag_init(&d);
    int r = config_load(fx->path, profile_path, &c, &d);
    ck_assert_msg(r == 0 && c, "%s: %s", name, d.n ? d.v[0].msg : "?");
    diag_free(&d);
    return c;
}

static const struct cfg_peer *peer(const struct tunneld_config *c, const char *name)
{
    for (unsigned i = 0; i < c->n_peers; i++)
        if (strcmp(c->peers[i].name, name) == 0)
            return &c->peers[i];
    ck_abort_msg("no peer %s", name);
    return NULL;
}

static void assert_suite(const struct ike_suite *s, unsigned encr, unsigned bits, unsigned prf,
                         unsigned integ, unsigned dh)
{
    ck_assert_uint_eq(s->encr, encr);
    ck_assert_uint_eq(s->key_bits, bits);
    ck_assert_uint_eq(s->prf, prf);
    ck_assert_uint_eq(s->integ, integ);
    ck_assert_uint_eq(s->dh, dh);
}

START_TEST(minimal_takes_the_default_profile)
{
    struct fixture fx;
    struct tunneld_config *c = load_good("minimal.yaml", &fx);
    const struct cfg_peer *p = peer(c, "hq");
    ck_assert_str_eq(c->site.name, "branch1");
    ck_assert(c->site.wan_is_addr);
    ck_assert_uint_eq(c->site.n_lan, 1);
    ck_assert_str_eq(p->profile, "default");
    ck_assert_uint_eq(p->ike_version, 2);
    ck_assert(!p->aggressive);
    ck_assert_uint_eq(p->n_ike, 3);
    assert_suite(&p->ike[0], IKE_ENCR_AES_GCM_16, 256, IKE_PRF_HMAC_SHA2_384, 0, IKE_DH_ECP_384);
    assert_suite(&p->ike[1], IKE_ENCR_AES_GCM_16, 256, IKE_PRF_HMAC_SHA2_256, 0, IKE_DH_CURVE25519);
    ck_assert_uint_eq(p->n_esp, 3);
    assert_suite(&p->esp[0], IKE_ENCR_AES_GCM_16, 256, 0, 0, IKE_DH_ECP_384);
    ck_assert(p->pfs && !p->esp[0].esn);
    ck_assert_uint_eq(p->ike_lifetime_s, 86400);
    ck_assert_uint_eq(p->esp_lifetime_s, 3600);
    ck_assert_uint_eq(p->esp_lifetime_kb, 0);
    ck_assert_uint_eq(p->dpd_s, 30);
    ck_assert_uint_eq(p->ospf_hello, 10);
    ck_assert_uint_eq(p->ospf_dead, 40);
    ck_assert_uint_eq(p->psk_len, strlen("correct-horse-battery-staple-42"));
    ck_assert(memcmp(p->psk, "correct-horse-battery-staple-42", p->psk_len) == 0);
    ck_assert_uint_eq(p->local_id.type, 0);
    /* Worked with Python's hashlib: SHA-256("tunneld-pair-v1" 192.0.2.1 198.51.100.1). */
    ck_assert_str_eq(p->tunnel.ifname, "gre-hq");
    ck_assert(p->tunnel.derived);
    ck_assert_uint_eq(p->tunnel.key, 966106345u);
    ck_assert_uint_eq(p->tunnel.inner_net, 0xa9fed63eu); /* 169.254.214.62 */
    ck_assert_uint_eq(ip_addr_v4(&p->tunnel.inner_local), 0xa9fed63eu);
    ck_assert_uint_eq(ip_addr_v4(&p->tunnel.inner_remote), 0xa9fed63fu);
    config_free(c);
    rm_tree(fx.dir);
}
END_TEST

START_TEST(peer_overrides_win)
{
    struct fixture fx;
    struct tunneld_config *c = load_good("overrides.yaml", &fx);
    const struct cfg_peer *hq = peer(c, "hq"), *cisco = peer(c, "cisco"), *old = peer(c, "old");
    ck_assert_uint_eq(c->site.ospf_area, 17);
    ck_assert_str_eq(hq->profile, "minimal");
    ck_assert_uint_eq(hq->ike_lifetime_s, 8 * 3600);
    ck_assert_uint_eq(hq->esp_lifetime_s, 1800);
    ck_assert_uint_eq(hq->esp_lifetime_kb, 1048576);
    ck_assert(!hq->pfs);
    assert_suite(&hq->esp[0], IKE_ENCR_AES_GCM_16, 128, 0, 0, IKE_DH_NONE); /* no PFS: no group */
    ck_assert(hq->esp[0].esn);
    ck_assert_uint_eq(hq->dpd_s, 0);
    ck_assert_uint_eq(hq->ospf_hello, 5);
    ck_assert_uint_eq(hq->ospf_dead, 20);
    ck_assert_uint_eq(hq->local_id.type, IKE_ID_FQDN);
    ck_assert_uint_eq(hq->local_id.len, strlen("branch1.example.net"));
    ck_assert(memcmp(hq->local_id.data, "branch1.example.net", hq->local_id.len) == 0);
    ck_assert_uint_eq(hq->remote_id.type, IKE_ID_KEY_ID);
    ck_assert_uint_eq(cisco->ike_version, 1);
    ck_assert_uint_eq(cisco->n_ike, 1);
    assert_suite(&cisco->ike[0], IKE_ENCR_AES_CBC, 128, IKE_PRF_HMAC_SHA1, IKE_INTEG_HMAC_SHA1_96,
                 IKE_DH_MODP_2048);
    ck_assert_uint_eq(cisco->esp_lifetime_kb, 4608000);
    ck_assert_uint_eq(cisco->remote_id.type, IKE_ID_IPV4_ADDR);
    ck_assert_str_eq(cisco->tunnel.ifname, "tun-cisco");
    ck_assert(cisco->tunnel.key_given && cisco->tunnel.inner_given);
    ck_assert_uint_eq(cisco->tunnel.key, 1234);
    ck_assert_uint_eq(cisco->tunnel.inner_net, 0xa9fe0a00u);
    ck_assert_uint_eq(cisco->tunnel.mtu, 1400);
    assert_suite(&old->esp[0], IKE_ENCR_3DES, 0, 0, IKE_INTEG_HMAC_SHA1_96, IKE_DH_MODP_1024);
    ck_assert(old->esp[1].esn && !old->esp[0].esn);
    config_free(c);
    rm_tree(fx.dir);
}
END_TEST

START_TEST(aggressive_only_when_allowed)
{
    struct fixture fx;
    struct tunneld_config *c = load_good("ikev1-aggressive.yaml", &fx);
    ck_assert(peer(c, "hq")->aggressive);
    ck_assert(peer(c, "dc")->aggressive);
    ck_assert_uint_eq(peer(c, "dc")->local_id.type, IKE_ID_FQDN);
    config_free(c);
    rm_tree(fx.dir);
}
END_TEST

START_TEST(wan_interface_derives_later)
{
    struct fixture fx;
    struct tunneld_config *c = load_good("psk-file.yaml", &fx);
    struct diag d;
    struct ip_addr wan;
    const struct cfg_peer *p = peer(c, "hq");
    ck_assert(!c->site.wan_is_addr);
    ck_assert_str_eq(c->site.wan_ifname, "eth0");
    ck_assert(!p->tunnel.derived);
    ck_assert_uint_eq(p->psk_len, strlen("a-perfectly-long-enough-key-1234"));
    /* What the daemon does once eth0 has an address: the same values as minimal.yaml. */
    ip_addr_parse("192.0.2.1", &wan);
    diag_init(&d);
    ck_assert_int_eq(config_derive(c, &wan, &d), 0);
    ck_assert(p->tunnel.derived);
    ck_assert_uint_eq(p->tunnel.key, 966106345u);
    diag_free(&d);
    config_free(c);
    rm_tree(fx.dir);
}
END_TEST

/*
 * A spoke behind a NAT and its hub: the spoke's WAN is private, so only the
 * identities can agree; with ike.local-id the NAT's address they do.
 */
START_TEST(nat_pair_derives_alike_and_keeps_alive)
{
    struct fixture fs, fh;
    struct tunneld_config *spoke = load_good("nat-spoke.yaml", &fs);
    struct tunneld_config *hub = load_good("nat-hub.yaml", &fh);
    const struct cfg_peer *s = peer(spoke, "hq"), *h = peer(hub, "branch7");
    ck_assert(s->tunnel.derived && h->tunnel.derived);
    ck_assert_uint_eq(s->tunnel.key, h->tunnel.key);
    ck_assert_uint_eq(s->tunnel.inner_net, h->tunnel.inner_net);
    ck_assert_int_eq(ip_addr_cmp(&s->tunnel.inner_local, &h->tunnel.inner_remote), 0);
    ck_assert_int_eq(ip_addr_cmp(&s->tunnel.inner_remote, &h->tunnel.inner_local), 0);
    /* Python: SHA-256("tunneld-pair-v1" 198.51.100.1 203.0.113.7), the hub the lower. */
    ck_assert_uint_eq(h->tunnel.key, 1643651703u);
    ck_assert_uint_eq(ip_addr_v4(&h->tunnel.inner_local), 0xa9feb902u);
    /* nat-keepalive: the profile's (25), the peer's (0: off, 30s), the default (20). */
    ck_assert_uint_eq(s->nat_keepalive_s, 25);
    ck_assert_uint_eq(peer(spoke, "dc")->nat_keepalive_s, 0);
    ck_assert_uint_eq(h->nat_keepalive_s, 30);
    ck_assert_uint_eq(s->dpd_s, 10);
    config_free(spoke);
    config_free(hub);
    rm_tree(fs.dir);
    rm_tree(fh.dir);
    struct fixture fx;
    struct tunneld_config *c = load_good("minimal.yaml", &fx);
    ck_assert_uint_eq(peer(c, "hq")->nat_keepalive_s, 20);
    config_free(c);
    rm_tree(fx.dir);
}
END_TEST

/* ---- the binary ---- */

struct run {
    int status;
    char out[16384], err[16384];
};

static void read_back(const char *path, char *buf, size_t cap)
{
    size_t len;
    char *s = slurp(path, &len);
    snprintf(buf, cap, "%s", s);
    free(s);
    unlink(path);
}

/* Runs $TUNNELD with args (NULL-terminated), capturing both streams. */
static void run_tunneld(struct run *r, const char *const *args)
{
    char *argv[32], out[] = "/tmp/tunneld-out-XXXXXX", err[] = "/tmp/tunneld-err-XXXXXX";
    int fo = mkstemp(out), fe = mkstemp(err), n = 0;
    posix_spawn_file_actions_t fa;
    pid_t pid;
    argv[n++] = (char *)tunneld_bin;
    for (; args[n - 1] && n < 31; n++)
        argv[n] = (char *)args[n - 1];
    argv[n] = NULL;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fo, 1);
    posix_spawn_file_actions_adddup2(&fa, fe, 2);
    ck_assert_msg(posix_spawn(&pid, tunneld_bin, &fa, NULL, argv, environ) == 0, "cannot run %s",
                  tunneld_bin);
    posix_spawn_file_actions_destroy(&fa);
    ck_assert(waitpid(pid, &r->status, 0) == pid);
    r->status = WIFEXITED(r->status) ? WEXITSTATUS(r->status) : -1;
    close(fo);
    close(fe);
    read_back(out, r->out, sizeof(r->out));
    read_back(err, r->err, sizeof(r->err));
}

static const char *repo_path(const char *rel, char *buf, size_t len)
{
    snprintf(buf, len, "%s/../../%s", data_dir, rel);
    return buf;
}

/* The doc's yaml blocks each open with "# docs/examples/X.yaml" or "# profiles/X.yaml" and
 * must be exactly that file: what the doc shows is what the next test checks. */
START_TEST(doc_blocks_are_the_checked_files)
{
    char path[PATH_MAX], file[PATH_MAX];
    char *doc = slurp(repo_path("docs/config.md", path, sizeof(path)), NULL);
    unsigned blocks = 0;
    for (char *p = strstr(doc, "\n```yaml\n"); p; p = strstr(p, "\n```yaml\n")) {
        p += strlen("\n```yaml\n");
        char *end = strstr(p, "```\n");
        ck_assert(end != NULL);
        char name[256] = "";
        ck_assert_msg(sscanf(p, "# %255s", name) == 1 && strchr(name, '/'),
                      "a yaml block in docs/config.md does not open with '# <path>': %.60s", p);
        if (name[strlen(name) - 1] == ':')
            name[strlen(name) - 1] = '\0';
        char *want = slurp(repo_path(name, file, sizeof(file)), NULL);
        ck_assert_msg(strncmp(want, p, (size_t)(end - p)) == 0 && want[end - p] == '\0',
                      "docs/config.md's block for %s differs from the file", name);
        free(want);
        blocks++;
        p = end;
    }
    ck_assert_uint_ge(blocks, 5);
    free(doc);
}
END_TEST

/* Copies docs/examples into a temp dir at 0600 (git keeps no modes) and checks them all. */
START_TEST(doc_examples_pass_check)
{
    char dir[] = "/tmp/tunneld-examples-XXXXXX", src[PATH_MAX], path[PATH_MAX + 300];
    const char *args[40] = {"--check", "--profiles", profile_path};
    int n = 3;
    ck_assert(mkdtemp(dir) != NULL);
    DIR *dh = opendir(repo_path("docs/examples", src, sizeof(src)));
    ck_assert(dh != NULL);
    char names[32][PATH_MAX + 300];
    for (struct dirent *e; (e = readdir(dh)) && n < 35;) {
        if (e->d_name[0] == '.')
            continue;
        size_t len;
        snprintf(path, sizeof(path), "%s/%s", src, e->d_name);
        char *text = slurp(path, &len);
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        spill(path, text, len, 0600);
        free(text);
        if (strstr(e->d_name, ".yaml")) {
            snprintf(names[n - 3], sizeof(names[0]), "%s", path);
            args[n] = names[n - 3];
            n++;
        }
    }
    closedir(dh);
    ck_assert_int_ge(n - 3, 4);
    struct run r;
    run_tunneld(&r, args);
    ck_assert_msg(r.status == 0, "examples fail --check:\n%s", r.err);
    rm_tree(dir);
}
END_TEST

START_TEST(profiles_pass_check)
{
    char src[PATH_MAX], path[PATH_MAX + 300];
    DIR *dh = opendir(repo_path("profiles", src, sizeof(src)));
    unsigned seen = 0;
    ck_assert(dh != NULL);
    for (struct dirent *e; (e = readdir(dh));) {
        if (!strstr(e->d_name, ".yaml"))
            continue;
        snprintf(path, sizeof(path), "%s/%s", src, e->d_name);
        const char *args[] = {"--check", path, NULL};
        struct run r;
        run_tunneld(&r, args);
        ck_assert_msg(r.status == 0 && strstr(r.out, "ok (profile)"), "%s:\n%s", path, r.err);
        seen++;
    }
    closedir(dh);
    ck_assert_uint_ge(seen, 9);
}
END_TEST

/* --print says what the daemon will use, keepalive included. */
START_TEST(print_shows_nat_keepalive)
{
    char src[PATH_MAX];
    struct fixture fx;
    struct run r;
    snprintf(src, sizeof(src), "%s/config/good/nat-spoke.yaml", data_dir);
    fixture_make(src, &fx);
    const char *args[] = {"--check", "--print", "--profiles", profile_path, fx.path, NULL};
    run_tunneld(&r, args);
    ck_assert_msg(r.status == 0, "%s", r.err);
    ck_assert_msg(strstr(r.out, "  dpd 10 s, nat-keepalive 25 s, ospf hello 10 s, dead 40 s\n"),
                  "%s", r.out);
    ck_assert_msg(strstr(r.out, "  dpd 30 s, nat-keepalive off, ospf hello"), "%s", r.out);
    ck_assert_msg(strstr(r.out, ", GRE key 1643651703, 169.254.185.2/31 (ours 169.254.185.3, "
                                "theirs 169.254.185.2)"),
                  "%s", r.out);
    rm_tree(fx.dir);
}
END_TEST

static void fixture_text(struct fixture *fx, const char *name, const char *text, mode_t mode)
{
    memset(fx, 0, sizeof(*fx));
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/tunneld-config-XXXXXX");
    ck_assert(mkdtemp(fx->dir) != NULL);
    snprintf(fx->path, sizeof(fx->path), "%s/%s", fx->dir, name);
    spill(fx->path, text, strlen(text), mode);
}

#define SECRET "Sw0rdf1sh-Sw0rdf1" /* 17 characters: too short, so every run has a PSK error */
static const char site_with_typo[] = "site:\n  name: b1\n  wan: eth0\n  lann: [10.1.0.0/24]\n"
                                     "peers:\n  hq:\n    address: 198.51.100.1\n"
                                     "    psk: \"correct-horse-battery-staple-42\"\n";

START_TEST(typo_gives_position_and_exit_1)
{
    struct fixture fx;
    struct run r;
    char want[PATH_MAX + 64];
    fixture_text(&fx, "sites.yaml", site_with_typo, 0600);
    const char *args[] = {"--check", "--profiles", profile_path, fx.path, NULL};
    run_tunneld(&r, args);
    ck_assert_int_eq(r.status, 1);
    snprintf(want, sizeof(want), "%s:4:3: unknown key 'lann' (did you mean 'lan'?)\n", fx.path);
    ck_assert_msg(strstr(r.err, want) != NULL, "stderr:\n%s", r.err);
    rm_tree(fx.dir);
}
END_TEST

/* The 0600 rule, through the binary: the same file passes at 0600 and fails at 0640. */
START_TEST(inline_psk_needs_0600)
{
    struct fixture fx;
    struct run r;
    char fixed[sizeof(site_with_typo)];
    snprintf(fixed, sizeof(fixed), "%s", site_with_typo);
    memcpy(strstr(fixed, "lann: "), "lan:  ", 6);
    fixture_text(&fx, "sites.yaml", fixed, 0600);
    const char *args[] = {"--check", "--profiles", profile_path, fx.path, NULL};
    run_tunneld(&r, args);
    ck_assert_msg(r.status == 0, "%s", r.err);
    chmod(fx.path, 0640);
    run_tunneld(&r, args);
    ck_assert_int_eq(r.status, 1);
    ck_assert(strstr(r.err, ":8:10: inline PSK in a file readable by group/other (chmod 600 ") !=
              NULL);
    rm_tree(fx.dir);
}
END_TEST

/* Bad PSKs of every kind, inline and in files, with --print: the key never shows. */
START_TEST(psk_never_printed)
{
    struct fixture fx;
    struct run r;
    char text[1024], pskfile[PATH_MAX + 16], good_site[PATH_MAX + 16];
    snprintf(text, sizeof(text),
             "site: {name: b1, wan: 192.0.2.1, lan: 10.1.0.0/24}\npeers:\n"
             "  hq: {address: 198.51.100.1, psk: \"%s\"}\n"
             "  dc: {address: 198.51.100.2, psk: \"file:dc.psk\"}\n"
             "  xx: {address: 198.51.100.3, pks: \"%s\"}\n",
             SECRET, SECRET);
    fixture_text(&fx, "sites.yaml", text, 0644);
    snprintf(pskfile, sizeof(pskfile), "%s/dc.psk", fx.dir);
    spill(pskfile, SECRET "\n", strlen(SECRET) + 1, 0644);
    snprintf(good_site, sizeof(good_site), "%s/good.yaml", fx.dir);
    snprintf(text, sizeof(text),
             "site: {name: b1, wan: 192.0.2.1, lan: 10.1.0.0/24}\npeers:\n"
             "  hq: {address: 198.51.100.1, psk: \"%s%s\"}\n",
             SECRET, SECRET);
    spill(good_site, text, strlen(text), 0600);
    const char *args[] = {"--check", "--print", "--profiles", profile_path,
                          fx.path,   good_site, NULL};
    run_tunneld(&r, args);
    ck_assert_int_eq(r.status, 1);
    ck_assert_msg(strstr(r.err, "too short") && strstr(r.err, "readable by group/other"), "%s",
                  r.err);
    ck_assert_msg(strstr(r.out, "peer hq:") != NULL, "--print printed nothing: %s", r.out);
    ck_assert_msg(!strstr(r.err, SECRET) && !strstr(r.out, SECRET), "the PSK was printed:\n%s%s",
                  r.out, r.err);
    ck_assert(!strstr(r.err, "Sw0rd") && !strstr(r.out, "Sw0rd"));
    rm_tree(fx.dir);
}
END_TEST

START_TEST(missing_default_profile)
{
    struct fixture fx;
    struct run r;
    fixture_text(&fx, "sites.yaml",
                 "site: {name: b1, wan: eth0, lan: 10.1.0.0/24}\npeers:\n"
                 "  hq: {address: 198.51.100.1, psk: file:/dev/null}\n",
                 0644);
    const char *args[] = {"--check", "--profiles", "/nonexistent", fx.path, NULL};
    run_tunneld(&r, args);
    ck_assert_int_eq(r.status, 1);
    ck_assert_msg(strstr(r.err, ":1:14: unknown profile 'default' (the default when site.profile "
                                "is not given; no default.yaml in /nonexistent)\n"),
                  "%s", r.err);
    ck_assert_msg(strstr(r.err, ":3:36: psk: PSK file /dev/null is not a regular file\n"), "%s",
                  r.err);
    rm_tree(fx.dir);
}
END_TEST

START_TEST(usage_and_daemon_mode)
{
    struct run r;
    const char *none[] = {NULL}, *daemon[] = {"-c", "/nonexistent/sites.yaml", NULL},
               *check_nothing[] = {"--check", NULL},
               *check_passive[] = {"--check", "--passive", "x.yaml", NULL},
               *bad_level[] = {"-c", "x.yaml", "--log-level", "loud", NULL};
    run_tunneld(&r, none);
    ck_assert_int_eq(r.status, 2);
    run_tunneld(&r, check_nothing);
    ck_assert_int_eq(r.status, 2);
    run_tunneld(&r, check_passive);
    ck_assert_int_eq(r.status, 2);
    run_tunneld(&r, bad_level);
    ck_assert_int_eq(r.status, 2);
    /* A daemon whose file cannot be read says which and exits 1, before touching anything. */
    run_tunneld(&r, daemon);
    ck_assert_int_eq(r.status, 1);
    ck_assert_msg(strstr(r.err, "tunneld: err: /nonexistent/sites.yaml") != NULL, "%s", r.err);
}
END_TEST

/* ---- suite ---- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static unsigned list_yaml(const char *sub, char **out)
{
    char dir[PATH_MAX];
    unsigned n = 0;
    snprintf(dir, sizeof(dir), "%s/config/%s", data_dir, sub);
    DIR *dh = opendir(dir);
    for (struct dirent *e; dh && (e = readdir(dh)) && n < MAX_FIXTURES;) {
        size_t len = strlen(e->d_name);
        if (len > 5 && strcmp(e->d_name + len - 5, ".yaml") == 0 &&
            asprintf(&out[n], "%s/%s", dir, e->d_name) > 0)
            n++;
    }
    if (dh)
        closedir(dh);
    qsort(out, n, sizeof(out[0]), cmp_str);
    return n;
}

int main(void)
{
    data_dir = getenv("TEST_DATA") ? getenv("TEST_DATA") : "tests/data";
    tunneld_bin = getenv("TUNNELD") ? getenv("TUNNELD") : "tunneld/tunneld";
    snprintf(profile_path, sizeof(profile_path), "%s/config/profiles:%s/../../profiles", data_dir,
             data_dir);
    n_bad = list_yaml("bad", bad);
    n_good = list_yaml("good", good);

    Suite *s = suite_create("config");
    TCase *files = tcase_create("fixtures"), *values = tcase_create("resolved"),
          *cli = tcase_create("binary");
    tcase_add_loop_test(files, bad_file, 0, (int)n_bad);
    tcase_add_loop_test(files, good_file, 0, (int)n_good);
    tcase_add_test(values, minimal_takes_the_default_profile);
    tcase_add_test(values, peer_overrides_win);
    tcase_add_test(values, aggressive_only_when_allowed);
    tcase_add_test(values, wan_interface_derives_later);
    tcase_add_test(values, nat_pair_derives_alike_and_keeps_alive);
    tcase_add_test(cli, doc_blocks_are_the_checked_files);
    tcase_add_test(cli, doc_examples_pass_check);
    tcase_add_test(cli, profiles_pass_check);
    tcase_add_test(cli, typo_gives_position_and_exit_1);
    tcase_add_test(cli, inline_psk_needs_0600);
    tcase_add_test(cli, psk_never_printed);
    tcase_add_test(cli, missing_default_profile);
    tcase_add_test(cli, usage_and_daemon_mode);
    tcase_add_test(cli, print_shows_nat_keepalive);
    tcase_set_timeout(cli, 30);
    suite_add_tcase(s, files);
    suite_add_tcase(s, values);
    suite_add_tcase(s, cli);
    int r = unit_run(s);
    for (unsigned i = 0; i < n_bad; i++)
        free(bad[i]);
    for (unsigned i = 0; i < n_good; i++)
        free(good[i]);
    printf("config: %u bad fixtures, %u good\n", n_bad, n_good);
    return r;
}
