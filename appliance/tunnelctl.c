/*
 * tunnelctl: options, the table of command words, dispatch, help.
 * Every word may be shortened to an unambiguous prefix (`sh cry ips sa`).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tunnelctl.h"

struct ctl_word {
    const char *word;
    const struct ctl_word *sub; /* the next words, ending with word == NULL */
    ctl_cmd_fn *cmd;            /* when the command ends at this word */
    const char *args, *help;
};

static int cmd_help(int argc, char *argv[]);

static const struct ctl_word show_crypto_isakmp[] = {
    {"sa", NULL, cmd_show_isakmp_sa, "", "IKE SAs"},
    {NULL, NULL, NULL, NULL, NULL},
};
static const struct ctl_word show_crypto_ipsec[] = {
    {"sa", NULL, cmd_show_ipsec_sa, "[peer ADDR]", "ESP SAs with the kernel's counters"},
    {NULL, NULL, NULL, NULL, NULL},
};
static const struct ctl_word show_crypto[] = {
    {"isakmp", show_crypto_isakmp, NULL, NULL, NULL},
    {"ipsec", show_crypto_ipsec, NULL, NULL, NULL},
    {"map", NULL, cmd_show_crypto_map, "", "the configured policy per peer"},
    {NULL, NULL, NULL, NULL, NULL},
};
static const struct ctl_word show[] = {
    {"crypto", show_crypto, NULL, NULL, NULL},
    {"tunnels", NULL, cmd_show_tunnels, "", "GRE links and their OSPF neighbour"},
    {"status", NULL, cmd_show_status, "", "one screen: daemon, config, peers"},
    {NULL, NULL, NULL, NULL, NULL},
};
static const struct ctl_word clear_crypto[] = {
    {"sa", NULL, cmd_clear_crypto_sa, "[peer ADDR]", "new ESP SAs (the IKE SA stays)"},
    {"isakmp", NULL, cmd_clear_crypto_isakmp, "[peer ADDR]",
     "IKE SA and its ESP SAs down; re-negotiated"},
    {NULL, NULL, NULL, NULL, NULL},
};
static const struct ctl_word clear[] = {
    {"crypto", clear_crypto, NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};
static const struct ctl_word commands[] = {
    {"show", show, NULL, NULL, NULL},
    {"clear", clear, NULL, NULL, NULL},
    {"reload", NULL, cmd_reload, "", "re-read the site file (errors come back)"},
    {"log-level", NULL, cmd_log_level, "debug|info|notice|warning|err", "what tunneld logs"},
    {"help", NULL, cmd_help, "", "this list"},
    {NULL, NULL, NULL, NULL, NULL},
};

/* Every command under level, one a line, each with its phrase, arguments and purpose. */
static void print_commands(FILE *out, const struct ctl_word *level, const char *prefix)
{
    for (; level->word; level++) {
        char phrase[128];
        snprintf(phrase, sizeof(phrase), "%s%s%s", prefix, *prefix ? " " : "", level->word);
        if (level->cmd) {
            char line[192];
            snprintf(line, sizeof(line), "%s%s%s", phrase, *level->args ? " " : "", level->args);
            fprintf(out, "  %-42s %s\n", line, level->help);
        }
        if (level->sub)
            print_commands(out, level->sub, phrase);
    }
}

static void usage(FILE *out)
{
    fprintf(out, "usage: tunnelctl [--json] [--socket PATH] [--timeout SECONDS] COMMAND...\n\n");
    print_commands(out, commands, "");
    fprintf(out,
            "\nEvery word may be shortened to an unambiguous prefix: tunnelctl sh cry ips sa.\n"
            "  --json            print the reply's result as JSON\n"
            "  --socket PATH     tunneld's control socket (default $TUNNELD_SOCKET, "
            "else " CTL_DEFAULT_SOCKET ")\n"
            "  --timeout SECONDS how long to wait for the reply (default %d)\n",
            CTL_DEFAULT_TIMEOUT_S);
}

static int cmd_help(int argc, char *argv[])
{
    int rc = ctl_no_args(argc, argv, "help");
    if (rc == CTL_OK)
        usage(stdout);
    return rc;
}

/* The words of level that begin with prefix ("" for all), joined by commas. */
static void join_words(const struct ctl_word *level, const char *prefix, char *buf, size_t len)
{
    size_t used = 0, n_prefix = strlen(prefix);
    buf[0] = '\0';
    for (; level->word; level++) {
        if (strncasecmp(level->word, prefix, n_prefix) != 0)
            continue;
        int n = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", level->word);
        if (n < 0 || (size_t)n >= len - used)
            break;
        used += (size_t)n;
    }
}

static int word_error(const struct ctl_word *level, const char *arg, const char *phrase, int match)
{
    char words[256];
    join_words(level, match == -2 ? arg : "", words, sizeof(words));
    if (match == -2)
        return ctl_usage(NULL, "ambiguous command '%s%s%s': %s", phrase, *phrase ? " " : "", arg,
                         words);
    if (*phrase)
        return ctl_usage(NULL, "unknown command '%s %s' (after '%s': %s)", phrase, arg, phrase,
                         words);
    return ctl_usage(NULL, "unknown command '%s' (commands: %s; see tunnelctl help)", arg, words);
}

/* Walks the words down the table; the rest of argv are the command's arguments. */
static int dispatch(int argc, char *argv[])
{
    const struct ctl_word *level = commands, *hit = NULL;
    char phrase[128] = "";
    int i = 0;
    for (; level && i < argc; i++) {
        const char *names[16];
        size_t n = 0;
        for (; level[n].word && n < 15; n++)
            names[n] = level[n].word;
        names[n] = NULL;
        int m = ctl_match_word(argv[i], names);
        if (m < 0)
            return word_error(level, argv[i], phrase, m);
        hit = &level[m];
        size_t used = strlen(phrase);
        snprintf(phrase + used, sizeof(phrase) - used, "%s%s", used ? " " : "", hit->word);
        level = hit->sub;
    }
    if (!hit->cmd) {
        ctl_usage(NULL, "incomplete command '%s'; one of:", phrase);
        print_commands(stderr, hit->sub, phrase);
        return CTL_USAGE;
    }
    return hit->cmd(argc - i + 1, argv + i - 1);
}

static int parse_timeout(const char *s)
{
    char *end;
    long v = strtol(s, &end, 10);
    return *s && !*end && v > 0 && v <= 3600 ? (int)v : -1;
}

/* Options may stand anywhere on the line; what is left are the command's words, in *words. */
static int parse_options(int argc, char *argv[], char **words, int *n_words)
{
    const char *env = getenv("TUNNELD_SOCKET");
    bool options_done = false;
    if (env && *env)
        ctl_options.socket_path = env;
    *n_words = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *value = NULL;
        if (options_done || a[0] != '-' || a[1] == '\0') {
            words[(*n_words)++] = argv[i];
            continue;
        }
        if (strcmp(a, "--") == 0) {
            options_done = true;
        } else if (strcmp(a, "--json") == 0) {
            ctl_options.json = true;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            exit(CTL_OK);
        } else if (strncmp(a, "--socket", 8) == 0 && (a[8] == '\0' || a[8] == '=')) {
            value = a[8] == '=' ? a + 9 : (i + 1 < argc ? argv[++i] : NULL);
            if (!value || !*value)
                return ctl_usage(NULL, "--socket needs a path");
            ctl_options.socket_path = value;
        } else if (strncmp(a, "--timeout", 9) == 0 && (a[9] == '\0' || a[9] == '=')) {
            value = a[9] == '=' ? a + 10 : (i + 1 < argc ? argv[++i] : NULL);
            if (!value || (ctl_options.timeout_s = parse_timeout(value)) < 0)
                return ctl_usage(NULL, "--timeout needs a number of seconds from 1 to 3600");
        } else {
            return ctl_usage(NULL, "unknown option '%s' (see tunnelctl --help)", a);
        }
    }
    words[*n_words] = NULL;
    return CTL_OK;
}

int main(int argc, char *argv[])
{
    char **words = calloc((size_t)argc + 1, sizeof(*words));
    int n_words, rc;
    if (!words) {
        ctl_error("out of memory");
        return CTL_ERROR;
    }
    rc = parse_options(argc, argv, words, &n_words);
    if (rc == CTL_OK && n_words == 0) {
        usage(stderr);
        rc = CTL_USAGE;
    } else if (rc == CTL_OK) {
        rc = dispatch(n_words, words);
    }
    free(words);
    return rc;
}
