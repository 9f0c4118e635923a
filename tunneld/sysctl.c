#include "sysctl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int path_of(const char *key, char *path, size_t len)
{
    int n = snprintf(path, len, "/proc/sys/%s", key);
    return n > 0 && (size_t)n < len && !strstr(key, "..") ? 0 : -1;
}

int sysctl_write(const char *key, const char *value, struct errmsg *e)
{
    char path[256];
    if (path_of(key, path, sizeof(path)) < 0)
        return errmsg_set(e, "sysctl %s: bad key", key);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return errmsg_set(e, "sysctl %s: %s", key, strerror(errno));
    size_t n = strlen(value);
    ssize_t w = write(fd, value, n);
    int err = errno;
    close(fd);
    if (w != (ssize_t)n)
        return errmsg_set(e, "sysctl %s = %s: %s", key, value, w < 0 ? strerror(err) : "short write");
    return 0;
}

int sysctl_read(const char *key, char *value, unsigned len, struct errmsg *e)
{
    char path[256];
    if (len == 0 || path_of(key, path, sizeof(path)) < 0)
        return errmsg_set(e, "sysctl %s: bad key", key);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errmsg_set(e, "sysctl %s: %s", key, strerror(errno));
    ssize_t r = read(fd, value, len - 1);
    int err = errno;
    close(fd);
    if (r < 0)
        return errmsg_set(e, "sysctl %s: %s", key, strerror(err));
    value[r] = 0;
    value[strcspn(value, "\n")] = 0;
    return 0;
}

int sysctl_tunnel(const char *ifname, struct errmsg *e)
{
    char key[96];
    if (sysctl_write("net/ipv4/ip_forward", "1", e) < 0)
        return -1;
    snprintf(key, sizeof(key), "net/ipv4/conf/%s/rp_filter", ifname);
    /* The kernel uses max(all, interface): loose here is loose unless 'all' is strict. */
    if (sysctl_write(key, "2", e) < 0)
        return -1;
    char all[8];
    if (sysctl_read("net/ipv4/conf/all/rp_filter", all, sizeof(all), e) < 0)
        return -1;
    return strcmp(all, "1") == 0 ? sysctl_write("net/ipv4/conf/all/rp_filter", "2", e) : 0;
}
