/*
 * tunneld: the site supervisor. `--check` validates site files and
 * profiles; `-c FILE` runs the daemon (daemon.c) in the foreground.
 */
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "config_print.h"
#include "daemon.h"
#include "diag.h"

#define SYSTEM_PROFILES "/etc/tunneld/profiles:/usr/share/tunneld/profiles"

enum { EXIT_INVALID = 1, EXIT_USAGE = 2 };

struct options {
    bool check, print;
    const char *daemon_file;
    char *profiles; /* the search path; owned */
    const char *frr_pathspace;
    const char *control, *control_group;
    bool passive, use_syslog;
    int level;
};

static void usage(FILE *out)
{
    fprintf(
        out,
        "usage: tunneld --check [--print] [--profiles DIR[:DIR...]] FILE...\n"
        "       tunneld -c FILE [--profiles DIR[:DIR...]] [--frr-pathspace NAME] [--passive]\n"
        "               [--log-level debug|info|notice|warning|err]\n"
        "               [--control PATH] [--control-group GROUP] [--syslog]\n"
        "\n"
        "  --check       validate site files or profiles; errors as FILE:LINE:COL: message\n"
        "  --print       with --check: show each site's resolved peers (never the PSKs)\n"
        "  -c FILE       run the daemon for this site file, in the foreground, logging to stderr;\n"
        "                SIGHUP re-reads FILE, SIGTERM removes every tunnel and exits\n"
        "  --frr-pathspace  talk to the FRR instance started with -N NAME (vtysh -N NAME)\n"
        "  --passive     never initiate IKE; only answer the peers\n"
        "  --log-level   what to log (default: info)\n"
        "  --control     the control socket tunnelctl talks to (default /run/tunneld/control)\n"
        "  --control-group  also let this group use it (mode 0660; default: root only)\n"
        "  --syslog      log to syslog (daemon facility) instead of stderr; under systemd,\n"
        "                stderr goes to the journal with each line's priority\n"
        "  --profiles    where profiles/NAME.yaml are looked up (default: $TUNNELD_PROFILES,\n"
        "                else " SYSTEM_PROFILES ")\n");
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/*
 * A binary run from a source tree (tunneld/tunneld beside tunneld/main.c)
 * uses that tree's profiles/ first, so checks in a checkout need no flags.
 */
static char *default_profiles(void)
{
    char exe[PATH_MAX], *out = NULL;
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = '\0';
        const char *dir = dirname(exe);
        char main_c[PATH_MAX + 16], tree[PATH_MAX + 16];
        snprintf(main_c, sizeof(main_c), "%s/main.c", dir);
        snprintf(tree, sizeof(tree), "%s/../profiles", dir);
        if (access(main_c, F_OK) == 0 && is_dir(tree) &&
            asprintf(&out, "%s:%s", tree, SYSTEM_PROFILES) < 0)
            out = NULL;
    }
    return out ? out : strdup(SYSTEM_PROFILES);
}

static int parse_options(int argc, char *argv[], struct options *o)
{
    static const struct option longopts[] = {
        {"check", no_argument, NULL, 'k'},
        {"print", no_argument, NULL, 'p'},
        {"profiles", required_argument, NULL, 'P'},
        {"help", no_argument, NULL, 'h'},
        {"frr-pathspace", required_argument, NULL, 'F'},
        {"passive", no_argument, NULL, 'A'},
        {"log-level", required_argument, NULL, 'L'},
        {"control", required_argument, NULL, 'S'},
        {"control-group", required_argument, NULL, 'G'},
        {"syslog", no_argument, NULL, 'Y'},
        {NULL, 0, NULL, 0},
    };
    const char *profiles = getenv("TUNNELD_PROFILES");
    int ch;
    while ((ch = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'k': o->check = true; break;
        case 'p': o->print = true; break;
        case 'P': profiles = optarg; break;
        case 'c': o->daemon_file = optarg; break;
        case 'F': o->frr_pathspace = optarg; break;
        case 'A': o->passive = true; break;
        case 'S': o->control = optarg; break;
        case 'G': o->control_group = optarg; break;
        case 'Y': o->use_syslog = true; break;
        case 'L':
            if ((o->level = log_level_parse(optarg)) < 0)
                return -1;
            break;
        case 'h': usage(stdout); exit(0);
        default: return -1;
        }
    }
    bool daemon_only = o->frr_pathspace || o->passive || o->level != LOG_L_INFO || o->control ||
                       o->control_group || o->use_syslog;
    if (o->check == !!o->daemon_file || (o->check && optind >= argc) ||
        (!o->check && optind < argc) || (o->print && !o->check) || (o->check && daemon_only))
        return -1;
    o->profiles = profiles && *profiles ? strdup(profiles) : default_profiles();
    return o->profiles ? 0 : -1;
}

static int check_one(const char *file, const struct options *o)
{
    struct diag d;
    struct tunneld_config *c = NULL;
    bool is_profile;
    diag_init(&d);
    int r = config_check_file(file, o->profiles, &d, &is_profile, o->print ? &c : NULL);
    diag_sort(&d);
    diag_print(&d, stderr);
    if (r == 0 && diag_count(&d) == 0) {
        printf("%s: ok (%s)\n", file, is_profile ? "profile" : "site file");
        if (c)
            config_print(stdout, c);
    }
    int bad = r < 0 || diag_count(&d) > 0;
    config_free(c);
    diag_free(&d);
    return bad;
}

int main(int argc, char *argv[])
{
    struct options o = {.level = LOG_L_INFO};
    if (parse_options(argc, argv, &o) < 0) {
        usage(stderr);
        return EXIT_USAGE;
    }
    int bad = 0;
    if (o.daemon_file) {
        struct daemon_options d = {.config_file = o.daemon_file, .profiles = o.profiles,
                                   .frr_pathspace = o.frr_pathspace, .passive = o.passive,
                                   .level = (enum log_level)o.level,
                                   .control_path = o.control,
                                   .control_group = o.control_group,
                                   .use_syslog = o.use_syslog};
        bad = daemon_run(&d);
    }
    for (int i = optind; o.check && i < argc; i++)
        bad |= check_one(argv[i], &o);
    free(o.profiles);
    return bad ? EXIT_INVALID : EXIT_SUCCESS;
}
