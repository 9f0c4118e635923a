/* The resolved config as text, for `tunneld --check --print`. PSKs never appear. */
#ifndef TUNNELD_CONFIG_PRINT_H
#define TUNNELD_CONFIG_PRINT_H

#include <stdio.h>

#include "config.h"

void config_print(FILE *out, const struct tunneld_config *c);

#endif
