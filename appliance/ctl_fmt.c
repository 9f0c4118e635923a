/* Text helpers for the printers: numbers that may be null, SPIs, durations, tables. */
#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tunnelctl.h"

const char *ctl_fmt_int(struct json_object *o, const char *key, char *buf, size_t len)
{
    int64_t v;
    if (!ctl_int(o, key, &v))
        return "-";
    snprintf(buf, len, "%" PRId64, v);
    return buf;
}

const char *ctl_fmt_spi_hex(const char *hex, char *buf, size_t len)
{
    const char *p = strncmp(hex, "0x", 2) == 0 || strncmp(hex, "0X", 2) == 0 ? hex + 2 : hex;
    size_t i = 0;
    if (len < 3)
        return "";
    memcpy(buf, "0x", 2);
    for (; p[i] && i + 3 < len; i++)
        buf[i + 2] = (char)toupper((unsigned char)p[i]);
    buf[i + 2] = '\0';
    return buf;
}

/* IOS prints SPIs as 0x followed by upper-case digits, the decimal in parentheses. */
const char *ctl_fmt_spi(struct json_object *spi, char *buf, size_t len)
{
    const char *hex = ctl_str(spi, "hex");
    int64_t dec;
    bool has_dec = ctl_int(spi, "decimal", &dec);
    char digits[32];
    if (!hex && !has_dec)
        return "-";
    if (hex)
        ctl_fmt_spi_hex(hex, digits, sizeof(digits));
    else
        snprintf(digits, sizeof(digits), "0x%08" PRIX64, (uint64_t)dec);
    if (has_dec)
        snprintf(buf, len, "%s(%" PRId64 ")", digits, dec);
    else
        snprintf(buf, len, "%s", digits);
    return buf;
}

const char *ctl_fmt_duration(int64_t s, char *buf, size_t len)
{
    if (s < 0)
        s = 0;
    int64_t d = s / 86400, h = s / 3600 % 24, m = s / 60 % 60, sec = s % 60;
    if (d)
        snprintf(buf, len, "%" PRId64 "d %" PRId64 "h %" PRId64 "m %" PRId64 "s", d, h, m, sec);
    else if (h)
        snprintf(buf, len, "%" PRId64 "h %" PRId64 "m %" PRId64 "s", h, m, sec);
    else if (m)
        snprintf(buf, len, "%" PRId64 "m %" PRId64 "s", m, sec);
    else
        snprintf(buf, len, "%" PRId64 "s", sec);
    return buf;
}

void ctl_table_init(struct ctl_table *t, size_t cols)
{
    *t = (struct ctl_table){.cols = cols < CTL_TABLE_MAX_COLS ? cols : CTL_TABLE_MAX_COLS};
}

int ctl_table_row(struct ctl_table *t, const char *const cells[])
{
    if (t->rows == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 8;
        char **bigger = realloc(t->cells, cap * t->cols * sizeof(*bigger));
        if (!bigger)
            return -1;
        t->cells = bigger;
        t->cap = cap;
    }
    char **row = t->cells + t->rows * t->cols;
    for (size_t c = 0; c < t->cols; c++) {
        row[c] = strdup(cells[c] ? cells[c] : "-");
        if (!row[c]) {
            while (c--)
                free(row[c]);
            return -1;
        }
    }
    t->rows++;
    return 0;
}

void ctl_table_print(FILE *out, const struct ctl_table *t)
{
    size_t width[CTL_TABLE_MAX_COLS] = {0};
    for (size_t r = 0; r < t->rows; r++)
        for (size_t c = 0; c < t->cols; c++) {
            size_t n = strlen(t->cells[r * t->cols + c]);
            width[c] = n > width[c] ? n : width[c];
        }
    for (size_t r = 0; r < t->rows; r++) {
        for (size_t c = 0; c < t->cols; c++) {
            const char *cell = t->cells[r * t->cols + c];
            if (c + 1 == t->cols)
                fprintf(out, "%s\n", cell);
            else
                fprintf(out, "%-*s  ", (int)width[c], cell);
        }
    }
}

void ctl_table_free(struct ctl_table *t)
{
    for (size_t i = 0; i < t->rows * t->cols; i++)
        free(t->cells[i]);
    free(t->cells);
    *t = (struct ctl_table){0};
}
