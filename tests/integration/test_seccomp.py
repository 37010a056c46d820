"""linux.seccomp: actions, errno values, argument filters, unknown names."""

import signal

import pytest

SIGSYS_EXIT = 128 + signal.SIGSYS


def profile(*rules, default="SCMP_ACT_ALLOW", **extra):
    p = {"defaultAction": default,
         "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
         "syscalls": list(rules)}
    p.update(extra)
    return p


def rule(names, action, **kw):
    r = {"names": names if isinstance(names, list) else [names], "action": action}
    r.update(kw)
    return r


def test_no_profile_no_filter(rt, bundle):
    out = rt.probe(bundle, "caps")
    assert out["seccomp"] == 0


def test_filter_is_installed(rt, bundle):
    bundle.linux["seccomp"] = profile(rule("keyctl", "SCMP_ACT_ERRNO"))
    out = rt.probe(bundle, "caps")
    assert out["seccomp"] == 2
    assert out["seccomp_filters"] >= 1


@pytest.mark.parametrize("errno", [1, 38, 95, 122])
def test_errno_action_with_chosen_errno(rt, bundle, errno):
    bundle.linux["seccomp"] = profile(rule(["keyctl", "add_key"], "SCMP_ACT_ERRNO",
                                           errnoRet=errno))
    out = rt.probe(bundle, "syscall", "keyctl", "add_key", "getpid")
    assert out == {"keyctl": errno, "add_key": errno, "getpid": 0}


def test_errno_action_default_is_eperm(rt, bundle):
    bundle.linux["seccomp"] = profile(rule("keyctl", "SCMP_ACT_ERRNO"))
    assert rt.probe(bundle, "syscall", "keyctl")["keyctl"] == 1


@pytest.mark.parametrize("action", ["SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
                                    "SCMP_ACT_KILL_THREAD"])
def test_kill_action(rt, bundle, action):
    bundle.linux["seccomp"] = profile(rule("getpriority", action))
    bundle.set_args("/bin/probe", "syscall", "getpriority")
    r = rt.run(bundle)
    assert r.rc == SIGSYS_EXIT, r
    assert r.out == ""


def test_deny_list_leaves_the_rest(rt, bundle):
    bundle.linux["seccomp"] = profile(
        rule(["mknod", "mknodat"], "SCMP_ACT_ERRNO", errnoRet=13),
        rule(["chroot"], "SCMP_ACT_ERRNO", errnoRet=14))
    s = ["CAP_MKNOD", "CAP_SYS_CHROOT"]
    bundle.process["capabilities"] = {"bounding": s, "permitted": s, "effective": s}
    out = rt.probe(bundle, "syscall", "mknod", "chroot", "uname", "getpid")
    assert out == {"mknod": 13, "chroot": 14, "uname": 0, "getpid": 0}


def test_argument_equal(rt, bundle):
    bundle.linux["seccomp"] = profile(rule(
        "personality", "SCMP_ACT_ERRNO", errnoRet=33,
        args=[{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]))
    out = rt.probe(bundle, "syscall", "personality:8", "personality:0", "personality")
    assert out == {"personality:8": 33, "personality:0": 0, "personality": 0}


def test_argument_greater_than(rt, bundle):
    bundle.linux["seccomp"] = profile(rule(
        "dup3", "SCMP_ACT_ERRNO", errnoRet=34,
        args=[{"index": 1, "value": 100, "op": "SCMP_CMP_GT"}]))
    out = rt.probe(bundle, "syscall", "dup3:50", "dup3:200")
    assert out == {"dup3:50": 0, "dup3:200": 34}


def test_argument_masked_equal(rt, bundle):
    # deny unshare when CLONE_NEWUSER (0x10000000) is among the flags
    bundle.linux["seccomp"] = profile(rule(
        "unshare", "SCMP_ACT_ERRNO", errnoRet=35,
        args=[{"index": 0, "value": 0x10000000, "valueTwo": 0x10000000,
               "op": "SCMP_CMP_MASKED_EQ"}]))
    out = rt.probe(bundle, "syscall", "unshare-user", "unshare")
    assert out == {"unshare-user": 35, "unshare": 0}


def test_two_args_must_both_match(rt, bundle):
    # kill(self, 0) is denied only for signal 0 AND ... the pid argument > 0
    bundle.linux["seccomp"] = profile(rule(
        "kill", "SCMP_ACT_ERRNO", errnoRet=36,
        args=[{"index": 0, "value": 0, "op": "SCMP_CMP_GT"},
              {"index": 1, "value": 0, "op": "SCMP_CMP_EQ"}]))
    out = rt.probe(bundle, "syscall", "kill:0", "kill:28")  # SIGWINCH is ignored
    assert out == {"kill:0": 36, "kill:28": 0}


def test_unknown_syscall_names_are_ignored(rt, bundle):
    bundle.linux["seccomp"] = profile(rule(["keyctl", "no_such_syscall_at_all"],
                                           "SCMP_ACT_ERRNO", errnoRet=42))
    out = rt.probe(bundle, "syscall", "keyctl", "getpid")
    assert out == {"keyctl": 42, "getpid": 0}


def test_filter_applies_without_no_new_privileges(rt, bundle):
    # the process has no CAP_SYS_ADMIN: the runtime must load the filter first
    bundle.process["noNewPrivileges"] = False
    bundle.linux["seccomp"] = profile(rule("keyctl", "SCMP_ACT_ERRNO", errnoRet=42))
    out = rt.probe(bundle, "syscall", "keyctl", "+", "caps")
    assert out[0]["keyctl"] == 42
    assert out[1]["no_new_privs"] == 0


def test_filter_applies_to_non_root_user(rt, bundle):
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    bundle.linux["seccomp"] = profile(rule("keyctl", "SCMP_ACT_ERRNO", errnoRet=42))
    assert rt.probe(bundle, "syscall", "keyctl")["keyctl"] == 42


def test_filter_is_inherited_by_children(rt, bundle):
    bundle.linux["seccomp"] = profile(rule("keyctl", "SCMP_ACT_ERRNO", errnoRet=42))
    bundle.set_args("/bin/sh", "-c", "/bin/probe syscall keyctl")
    r = rt.run(bundle)
    assert r.rc == 0, r
    assert r.lines()[0]["keyctl"] == 42


# What a static probe, busybox and a runtime's last steps before exec need.
ALLOW = """read write writev readv open openat close stat fstat lstat newfstatat statx poll lseek
mmap mprotect munmap brk rt_sigaction rt_sigprocmask rt_sigreturn ioctl pread64 access pipe
pipe2 select sched_yield madvise dup dup2 dup3 nanosleep clock_nanosleep getpid getppid
socket connect sendto recvfrom exit exit_group wait4 kill uname fcntl flock fsync getcwd chdir
fchdir readlink readlinkat getuid getgid geteuid getegid setuid setgid setgroups getgroups
setresuid setresgid getresuid getresgid capget capset prctl arch_prctl gettid futex
set_tid_address set_robust_list get_robust_list rseq prlimit64 getrlimit setrlimit getrandom
execve execveat clone clone3 fork vfork sigaltstack tgkill tkill epoll_create1 epoll_ctl
epoll_pwait epoll_wait getdents64 umask close_range faccessat faccessat2 sysinfo times
gettimeofday clock_gettime getpgrp setsid getsid setpgid getpriority sched_getaffinity
mincore restart_syscall statfs fstatfs sendmsg recvmsg socketpair waitid""".split()


def test_default_errno_with_allow_list(rt, bundle):
    bundle.linux["seccomp"] = profile({"names": ALLOW, "action": "SCMP_ACT_ALLOW"},
                                      default="SCMP_ACT_ERRNO", defaultErrnoRet=95)
    out = rt.probe(bundle, "syscall", "getpid", "keyctl", "personality", "chroot")
    assert out == {"getpid": 0, "keyctl": 95, "personality": 95, "chroot": 95}


def test_unknown_action_fails(rt, bundle):
    bundle.linux["seccomp"] = profile(rule("keyctl", "SCMP_ACT_BOGUS"))
    r = rt.run(bundle)
    assert r.rc != 0
    rt.assert_nothing_left()


def test_unknown_architecture_fails(rt, bundle):
    bundle.linux["seccomp"] = profile(rule("keyctl", "SCMP_ACT_ERRNO"))
    bundle.linux["seccomp"]["architectures"] = ["SCMP_ARCH_NOPE"]
    r = rt.run(bundle)
    assert r.rc != 0
    rt.assert_nothing_left()
