/* Scope-bound cleanup helpers (GNU cleanup attribute): error paths release
 * fds, memory and streams without goto ladders. */
#pragma once
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void husk_freep(void *p)
{
	free(*(void **)p);
}

static inline void husk_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}

static inline void husk_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

static inline void husk_closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

#define _cleanup_free_	   __attribute__((cleanup(husk_freep)))
#define _cleanup_close_	   __attribute__((cleanup(husk_closep)))
#define _cleanup_fclose_   __attribute__((cleanup(husk_fclosep)))
#define _cleanup_closedir_ __attribute__((cleanup(husk_closedirp)))

/* Hand ownership out of a cleanup-guarded variable. */
#define HUSK_STEAL_FD(fd)                                                                          \
	({                                                                                         \
		int _tmp = (fd);                                                                   \
		(fd) = -1;                                                                         \
		_tmp;                                                                              \
	})
#define HUSK_STEAL_PTR(p)                                                                          \
	({                                                                                         \
		__typeof__(p) _tmp = (p);                                                          \
		(p) = NULL;                                                                        \
		_tmp;                                                                              \
	})

#define HUSK_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
