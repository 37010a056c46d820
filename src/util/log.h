/* Runtime log: libhusk never writes to the terminal; it writes to the log
 * sink the CLI configured (--log FILE, --log-format text|json), which is
 * stderr only when the CLI chose it. Format matches runc's: text lines
 * `time="..." level=... msg="..."` or JSON `{"level":..,"msg":..,"time":..}`. */
#pragma once
#include <stdbool.h>

enum husk_log_level { HUSK_LOG_ERROR, HUSK_LOG_WARN, HUSK_LOG_INFO, HUSK_LOG_DEBUG };

/* fd < 0 disables logging. debug enables HUSK_LOG_DEBUG. */
void husk_log_setup(int fd, bool json, bool debug);
int husk_log_fd(void);
bool husk_log_json(void);
void husk_log(enum husk_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define husk_debug(...) husk_log(HUSK_LOG_DEBUG, __VA_ARGS__)
#define husk_warn(...)	husk_log(HUSK_LOG_WARN, __VA_ARGS__)
