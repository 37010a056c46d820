/* A fresh state root under /tmp for a cmocka group: `root` names it (not
 * yet created, as husk finds it on a new host), make_root and remove_root
 * are the group's setup and teardown. */
#pragma once
#include <stdio.h>
#include <stdlib.h>

static char base[64], root[80];

static int make_root(void **state)
{
	(void)state;
	snprintf(base, sizeof(base), "/tmp/husk-unit-root.XXXXXX");
	if (!mkdtemp(base))
		return -1;
	snprintf(root, sizeof(root), "%s/root", base);
	return 0;
}

static int remove_root(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	return system(cmd) == 0 ? 0 : -1;
}
