/* Lifecycle operations that act on a container's cgroup: update, pause,
 * resume, ps and events. Part of the runtime API next to runtime.h. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "husk/husk.h"
#include "runtime/runtime.h"
#include "spec/spec.h"
#include "util/err.h"
