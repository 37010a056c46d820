"""Allow-list profiles that know only what the workload needs: the runtime
must make no system call after the filter that such a profile refuses
(runc and crun run these). Two kinds: an old Docker-style allow list with
an errno default (no close_range, clone3, openat2, faccessat2, pidfd_*...),
and a kill default that allows only what busybox needs to start and exit,
which proves execve is the only call husk makes after loading the filter."""

import os
import select
import signal
import socket
import time

import pytest
from conftest import husk_only

SIGSYS_EXIT = 128 + signal.SIGSYS
ARCHES = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]

# The unconditional allow list of Docker 19.03's default profile (2019),
# before close_range, clone3, openat2, faccessat2, pidfd_*, epoll_pwait2,
# rseq and io_uring were added to it; plus its x86-64 extras.
DOCKER_2019 = """accept accept4 access adjtimex alarm bind brk capget capset chdir chmod
chown chown32 clock_adjtime clock_adjtime64 clock_getres clock_getres_time64 clock_gettime
clock_gettime64 clock_nanosleep clock_nanosleep_time64 close connect copy_file_range creat dup
dup2 dup3 epoll_create epoll_create1 epoll_ctl epoll_ctl_old epoll_pwait epoll_wait
epoll_wait_old eventfd eventfd2 execve execveat exit exit_group faccessat fadvise64
fadvise64_64 fallocate fanotify_mark fchdir fchmod fchmodat fchown fchown32 fchownat fcntl
fcntl64 fdatasync fgetxattr flistxattr flock fork fremovexattr fsetxattr fstat fstat64
fstatat64 fstatfs fstatfs64 fsync ftruncate ftruncate64 futex futex_time64 futimesat getcpu
getcwd getdents getdents64 getegid getegid32 geteuid geteuid32 getgid getgid32 getgroups
getgroups32 getitimer getpeername getpgid getpgrp getpid getppid getpriority getrandom
getresgid getresgid32 getresuid getresuid32 getrlimit get_robust_list getrusage getsid
getsockname getsockopt get_thread_area gettid gettimeofday getuid getuid32 getxattr
inotify_add_watch inotify_init inotify_init1 inotify_rm_watch io_cancel ioctl io_destroy
io_getevents io_pgetevents io_pgetevents_time64 ioprio_get ioprio_set io_setup io_submit ipc
kill lchown lchown32 lgetxattr link linkat listen listxattr llistxattr _llseek lremovexattr
lseek lsetxattr lstat lstat64 madvise memfd_create mincore mkdir mkdirat mknod mknodat mlock
mlock2 mlockall mmap mmap2 mprotect mq_getsetattr mq_notify mq_open mq_timedreceive
mq_timedreceive_time64 mq_timedsend mq_timedsend_time64 mq_unlink mremap msgctl msgget msgrcv
msgsnd msync munlock munlockall munmap nanosleep newfstatat _newselect open openat pause pipe
pipe2 poll ppoll ppoll_time64 prctl pread64 preadv preadv2 prlimit64 pselect6
pselect6_time64 pwrite64 pwritev pwritev2 read readahead readlink readlinkat readv recv
recvfrom recvmmsg recvmmsg_time64 recvmsg remap_file_pages removexattr rename renameat
renameat2 restart_syscall rmdir rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo
rt_sigreturn rt_sigsuspend rt_sigtimedwait rt_sigtimedwait_time64 rt_tgsigqueueinfo
sched_getaffinity sched_getattr sched_getparam sched_get_priority_max sched_get_priority_min
sched_getscheduler sched_rr_get_interval sched_rr_get_interval_time64 sched_setaffinity
sched_setattr sched_setparam sched_setscheduler sched_yield seccomp select semctl semget
semop semtimedop semtimedop_time64 send sendfile sendfile64 sendmmsg sendmsg sendto
setfsgid setfsgid32 setfsuid setfsuid32 setgid setgid32 setgroups setgroups32 setitimer
setpgid setpriority setregid setregid32 setresgid setresgid32 setresuid setresuid32 setreuid
setreuid32 setrlimit set_robust_list setsid setsockopt set_thread_area set_tid_address
setuid setuid32 setxattr shmat shmctl shmdt shmget shutdown sigaltstack signalfd signalfd4
sigprocmask sigreturn socket socketcall socketpair splice stat stat64 statfs statfs64 statx
symlink symlinkat sync sync_file_range syncfs sysinfo tee tgkill time timer_create
timer_delete timerfd_create timerfd_gettime timerfd_gettime64 timerfd_settime
timerfd_settime64 timer_getoverrun timer_gettime timer_gettime64 timer_settime
timer_settime64 times tkill truncate truncate64 ugetrlimit umask uname unlink unlinkat utime
utimensat utimensat_time64 utimes vfork vmsplice wait4 waitid waitpid write writev
arch_prctl modify_ldt""".split()

# clone without namespace flags, as Docker's profile allows it.
CLONE_NS_MASK = 2114060288
CLONE_RULE = {"names": ["clone"], "action": "SCMP_ACT_ALLOW",
              "args": [{"index": 0, "value": CLONE_NS_MASK, "valueTwo": 0,
                        "op": "SCMP_CMP_MASKED_EQ"}]}

# What a static busybox (glibc) needs to start, sleep and exit; no call the
# runtime itself makes before exec (write, close, openat, rt_sigprocmask,
# close_range, sendmsg, capset...) is here.
BUSYBOX_ONLY = """execve brk arch_prctl set_tid_address set_robust_list rseq prlimit64
readlink getrandom mprotect mmap munmap prctl getuid geteuid uname futex clock_nanosleep
nanosleep exit exit_group""".split()


def docker_2019():
    return {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1, "architectures": ARCHES,
            "syscalls": [{"names": DOCKER_2019, "action": "SCMP_ACT_ALLOW"}, CLONE_RULE]}


def busybox_only(default):
    return {"defaultAction": default, "architectures": ARCHES,
            "syscalls": [{"names": BUSYBOX_ONLY, "action": "SCMP_ACT_ALLOW"}]}


def add_caps(bundle, *caps):
    for k in ("bounding", "effective", "permitted"):
        bundle.process["capabilities"][k] += list(caps)


NNP = pytest.mark.parametrize("nnp", [True, False], ids=["nnp", "no-nnp"])


@NNP
def test_docker_2019_run(rt, bundle, nnp):
    bundle.process["noNewPrivileges"] = nnp
    bundle.linux["seccomp"] = docker_2019()
    bundle.set_args("/bin/sh", "-c", "echo hello; /bin/probe syscall keyctl")
    r = rt.run(bundle)
    assert r.rc == 0, r
    assert r.out.splitlines()[0] == "hello"
    assert r.lines()[-1] == {"keyctl": 1}  # the profile is in force


@NNP
def test_docker_2019_create_start_exec(rt, bundle, nnp):
    bundle.process["noNewPrivileges"] = nnp
    bundle.linux["seccomp"] = docker_2019()
    cid, _ = rt.start_detached(bundle, "/bin/sleep", "60")
    r = rt.cmd("exec", cid, "/bin/sh", "-c", "echo from-exec")
    assert r.rc == 0, r
    assert r.out.strip() == "from-exec"
    r = rt.cmd("exec", cid, "/bin/probe", "syscall", "keyctl")
    assert r.rc == 0, r
    assert r.lines()[0] == {"keyctl": 1}


def test_docker_2019_exec_with_tty(rt, bundle, tmp_path):
    bundle.linux["seccomp"] = docker_2019()
    cid, _ = rt.start_detached(bundle, "/bin/sleep", "60")
    path = str(tmp_path / "console.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as srv:
        srv.bind(path)
        srv.listen(1)
        srv.settimeout(10)
        p = rt.cmd_files_bg(cid, "exec", "--detach", "--tty", "--console-socket", path, cid,
                            "/bin/sh", "-c", "test -t 0 && echo tty-ok", tag="-exec")
        try:
            conn, _ = srv.accept()
        except TimeoutError:
            raise AssertionError(f"no pty received: {rt.finish_files(p)}")
        with conn:
            _, fds, _, _ = socket.recv_fds(conn, 4096, 1)
    out = b""
    deadline = time.monotonic() + 10
    try:
        while b"tty-ok" not in out and time.monotonic() < deadline:
            if select.select([fds[0]], [], [], 0.1)[0]:
                try:
                    out += os.read(fds[0], 4096)
                except OSError:  # EIO: the slave is closed
                    break
    finally:
        os.close(fds[0])
    r = rt.finish_files(p)
    assert r.rc == 0, r
    assert b"tty-ok" in out


# A kill default that busybox barely survives: runc's and crun's own calls
# after their filter would be killed; husk's only one is execve.
@husk_only
@pytest.mark.parametrize("default", ["SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS"])
def test_kill_default_busybox_only_run(rt, bundle, default):
    bundle.linux["seccomp"] = busybox_only(default)
    bundle.set_args("/bin/true")
    r = rt.run(bundle)
    assert r.rc == 0, r
    # and the filter holds: anything else kills
    bundle.set_args("/bin/echo", "x")
    r = rt.run(bundle)
    assert r.rc == SIGSYS_EXIT, r


@husk_only
def test_kill_default_busybox_only_with_cap_sys_admin(rt, bundle):
    # without no_new_privs, a process that keeps CAP_SYS_ADMIN may load the
    # filter itself just before execve
    bundle.process["noNewPrivileges"] = False
    add_caps(bundle, "CAP_SYS_ADMIN")
    bundle.linux["seccomp"] = busybox_only("SCMP_ACT_KILL_PROCESS")
    bundle.set_args("/bin/true")
    r = rt.run(bundle)
    assert r.rc == 0, r


@husk_only
def test_kill_default_busybox_only_create_start_exec(rt, bundle):
    bundle.linux["seccomp"] = busybox_only("SCMP_ACT_KILL_PROCESS")
    cid, pid = rt.start_detached(bundle, "/bin/sleep", "60")
    assert rt.state(cid)["status"] == "running"
    r = rt.cmd("exec", cid, "/bin/true")
    assert r.rc == 0, r
    r = rt.cmd("exec", cid, "/bin/false")
    assert r.rc == 1, r
    assert rt.state(cid)["status"] == "running"


@husk_only
def test_kill_default_without_nnp_or_cap_fails_create_cleanly(rt, bundle):
    # the filter must go on before the capabilities are dropped, and the
    # runtime's calls after it are refused: create fails, nothing is left
    bundle.process["noNewPrivileges"] = False
    bundle.linux["seccomp"] = busybox_only("SCMP_ACT_KILL_PROCESS")
    r = rt.create(bundle)
    assert r.rc != 0, r
    assert "signal" in r.err, r
    rt.assert_nothing_left()
