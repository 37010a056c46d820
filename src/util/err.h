/* Error reporting for libhusk: an errno plus a message naming the step and
 * the object. Every fallible function takes a `struct husk_err *` and returns
 * a negative value on failure; callers add context with husk_err_prefix(). */
#pragma once
#include <stdarg.h>

#include "husk/husk.h" /* struct husk_err and its functions */
