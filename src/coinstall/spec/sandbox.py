"""Confinement of the spec parse worker (:mod:`coinstall.spec.read`): librpm expands the macros
of a spec, and a spec's macros can ask it to run a shell (``%(...)``, ``%{uncompress:}``) or Lua
with side effects (``os.execute``, ``io.open(..., "w")``).  specfile's sanitizer removes the
forms it recognises, but librpm expands text recursively (``%global p %%(...)`` then ``%{p}``,
``%{expand:%{pct}(...)}``): a filter over the text cannot be complete.  So the worker is made
unable to do harm whatever librpm is asked, by :func:`confine`, before it reads any spec:

* its standard input and output are ``/dev/null`` and its standard error a private memory file
  (a macro printing cannot write into coinstall's report or diff), and every other inherited
  file descriptor is closed but the two pipes to its parent;
* it is killed (``SIGKILL``) when its parent dies (``PR_SET_PDEATHSIG``, prctl(2), set after
  the change of user, which clears it): a ``coinstall spec`` killed mid-parse (a timeout, a
  CI job cancelled) leaves no worker behind, still expanding a macro bomb;
* it works in ``/`` (nothing relative to the user's directory), dumps no core, may add at most
  :data:`MEMORY_BYTES` to its address space, and when it runs
  as root it becomes ``nobody`` (no supplementary groups): what it can read is what any user
  can, not ``/etc/shadow``;
* a seccomp filter (libseccomp, through ctypes: Debian's ``libseccomp2`` is on every machine
  that has systemd; its Python binding is not packaged for pyenv's interpreters) makes these
  system calls fail with ``EPERM``: ``execve``/``execveat``, ``fork``/``vfork``, ``clone``
  without ``CLONE_THREAD`` (``clone3`` fails with ``ENOSYS`` so that libc falls back to
  ``clone``), ``open``/``openat`` with a write access mode, ``O_CREAT`` or ``O_TRUNC``
  (``creat``, ``openat2``, ``open_by_handle_at`` always), every call that changes the file
  system (unlink, rename, link, mkdir, chmod, chown, truncate, mknod, xattrs, times, mount),
  sockets, signals to another process, ``ptrace`` and the calls that could get round the
  filter (``io_uring``, ``bpf``, ``userfaultfd``, namespaces).  The filter cannot be lifted
  (``PR_SET_NO_NEW_PRIVS`` and seccomp are for the life of the process), and system calls of
  another ABI (i386 ``int 0x80``, x32) kill the process (libseccomp's default).

A worker that cannot be confined (no libseccomp, a kernel without seccomp) parses nothing:
:class:`SandboxError` is its answer to every spec, so the spec is one error line, never parsed
with its macros free to run.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import pwd
import resource
import signal
from collections.abc import Callable
from typing import Any

#: Address space the worker may add to what it maps when it is confined (a macro bomb, Lua
#: reading ``/dev/zero``, fails there: librpm then exits, and the spec is one error line).
#: Measured: every spec of the corpus lints and ports (alt, epel, suse) with the same output
#: under an 8 MB limit; a 4 MB spec (:data:`coinstall.spec.read.MAX_SPEC_BYTES`: 81,000
#: changelog lines) lints and ports under a 160 MB one.  A bomb reaches this limit
#: after expanding about 256 MB (librpm expands ~40 MB/s), not 1 GB as with the limit before.
MEMORY_BYTES = 256 * 1024 * 1024

#: The soname of libseccomp 2 (Debian's ``libseccomp2``).
LIBSECCOMP = "libseccomp.so.2"

# libseccomp's seccomp.h: actions and comparison operators
_ACT_ALLOW = 0x7FFF0000
_CMP_NE = 1
_CMP_MASKED_EQ = 7
_CLONE_THREAD = 0x00010000
# <asm-generic/fcntl.h> (x86_64 and every other Linux architecture but alpha, parisc, sparc)
_O_ACCMODE = 0o3
_O_CREAT = 0o100
_O_TRUNC = 0o1000


def _act_errno(code: int) -> int:
    return 0x00050000 | (code & 0xFFFF)  # SCMP_ACT_ERRNO(code)


#: Calls that always fail with EPERM in the worker (a name the kernel or libseccomp does not
#: know on this architecture is skipped).
DENIED = (
    "execve",
    "execveat",
    "fork",
    "vfork",
    "creat",
    "open_by_handle_at",
    "name_to_handle_at",
    "unlink",
    "unlinkat",
    "rename",
    "renameat",
    "renameat2",
    "link",
    "linkat",
    "symlink",
    "symlinkat",
    "mkdir",
    "mkdirat",
    "rmdir",
    "mknod",
    "mknodat",
    "chmod",
    "fchmod",
    "fchmodat",
    "chown",
    "fchown",
    "lchown",
    "fchownat",
    "truncate",
    "setxattr",
    "lsetxattr",
    "fsetxattr",
    "removexattr",
    "lremovexattr",
    "fremovexattr",
    "utime",
    "utimes",
    "utimensat",
    "futimesat",
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "swapon",
    "swapoff",
    "socket",
    "socketpair",
    "connect",
    "bind",
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "rt_sigqueueinfo",
    "rt_tgsigqueueinfo",
    "pidfd_open",
    "pidfd_send_signal",
    "pidfd_getfd",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "unshare",
    "setns",
    "keyctl",
    "add_key",
    "request_key",
    "init_module",
    "finit_module",
    "delete_module",
    "kexec_load",
    "kexec_file_load",
    "reboot",
    "acct",
    "fanotify_init",
    "personality",
    "setuid",
    "setgid",
    "setreuid",
    "setregid",
    "setresuid",
    "setresgid",
    "setgroups",
    "capset",
    "sethostname",
    "setdomainname",
    "settimeofday",
    "clock_settime",
    "adjtimex",
    "clock_adjtime",
    "memfd_secret",
)
#: Calls that fail with ENOSYS (libc then uses the call the filter can inspect).
ABSENT = ("clone3", "openat2")


class SandboxError(Exception):
    """The worker could not be confined (the message says which step failed)."""


class _ArgCmp(ctypes.Structure):
    """``struct scmp_arg_cmp`` of seccomp.h."""

    _fields_ = [
        ("arg", ctypes.c_uint),
        ("op", ctypes.c_int),
        ("datum_a", ctypes.c_uint64),
        ("datum_b", ctypes.c_uint64),
    ]


def _seccomp(pid: int) -> None:
    """Install the filter described in the module docstring (``pid``: this process, the
    only target of ``kill``/``tkill``/``tgkill`` left allowed, for ``abort()``)."""
    try:
        lib = ctypes.CDLL(LIBSECCOMP, use_errno=True)
    except OSError as exc:
        raise SandboxError(f"cannot load {LIBSECCOMP}: {exc}") from None
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_syscall_resolve_name.restype = ctypes.c_int
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_rule_add_array.restype = ctypes.c_int
    lib.seccomp_rule_add_array.argtypes = [
        ctypes.c_void_p,
        ctypes.c_uint32,
        ctypes.c_int,
        ctypes.c_uint,
        ctypes.POINTER(_ArgCmp),
    ]
    lib.seccomp_load.restype = ctypes.c_int
    lib.seccomp_load.argtypes = [ctypes.c_void_p]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    ctx = lib.seccomp_init(_ACT_ALLOW)
    if not ctx:
        raise SandboxError("seccomp_init failed")
    eperm = _act_errno(errno.EPERM)

    def rule(action: int, name: str, *cmps: tuple[int, int, int, int]) -> None:
        nr = lib.seccomp_syscall_resolve_name(name.encode())
        if nr < 0:  # not a call of this architecture (open on aarch64, ...)
            return
        arr = (_ArgCmp * max(1, len(cmps)))(*[_ArgCmp(*c) for c in cmps])
        rc = lib.seccomp_rule_add_array(ctx, action, nr, len(cmps), arr)
        if rc < 0:
            raise SandboxError(f"seccomp rule for {name}: {os.strerror(-rc)}")

    try:
        for name in DENIED:
            rule(eperm, name)
        for name in ABSENT:
            rule(_act_errno(errno.ENOSYS), name)
        # a new process (clone without CLONE_THREAD): a thread may still start
        rule(eperm, "clone", (0, _CMP_MASKED_EQ, _CLONE_THREAD, 0))
        # opening for writing, creating or truncating: one rule per condition (a rule's
        # comparisons are ANDed)
        for name, flags_arg in (("open", 1), ("openat", 2)):
            for mask, value in (
                (_O_ACCMODE, 1),
                (_O_ACCMODE, 2),
                (_O_ACCMODE, 3),
                (_O_CREAT, _O_CREAT),
                (_O_TRUNC, _O_TRUNC),
            ):
                rule(eperm, name, (flags_arg, _CMP_MASKED_EQ, mask, value))
        # signals: to itself only (abort() raises SIGABRT with tgkill)
        for name in ("kill", "tkill", "tgkill"):
            rule(eperm, name, (0, _CMP_NE, pid, 0))
        rc = lib.seccomp_load(ctx)  # sets PR_SET_NO_NEW_PRIVS first (SCMP_FLTATR_CTL_NNP)
        if rc < 0:
            raise SandboxError(f"seccomp_load: {os.strerror(-rc)}")
    finally:
        lib.seccomp_release(ctx)


def _drop_root() -> None:
    """As root: become ``nobody`` (uid and gid from the password file, 65534 without one),
    with no supplementary group; checked afterwards (a setuid that failed silently would
    leave root)."""
    if os.geteuid() != 0:
        return
    try:
        pw = pwd.getpwnam("nobody")
        uid, gid = pw.pw_uid, pw.pw_gid
    except KeyError:
        uid = gid = 65534
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    if os.getresuid() != (uid, uid, uid) or os.getgroups():
        raise SandboxError("could not give up root")


#: prctl(2) option: the signal sent to this process when its parent dies (linux/prctl.h).
_PR_SET_PDEATHSIG = 1


def _die_with(parent: int) -> None:
    """Be killed when ``parent`` dies (``PR_SET_PDEATHSIG``); exit at once when it has already
    died (then this process was re-parented before the call and the signal would never come).

    Raises:
        OSError: prctl(2) refused.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"prctl(PR_SET_PDEATHSIG): {os.strerror(err)}")
    if os.getppid() != parent:
        os._exit(1)


def confine(keep: tuple[int, ...]) -> int:
    """Confine this (worker) process: see the module docstring.  ``keep``: the descriptors
    that stay open (the pipes to the parent).  Returns the descriptor of the memory file that
    is now standard error (:func:`coinstall.spec.read._capture` reads librpm's messages
    from it).

    Raises:
        SandboxError: a step failed; the process is then not fit to parse a spec.
    """
    try:
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(null, 1)
        os.close(null)
        err = os.memfd_create("coinstall-spec-stderr", 0)
        os.dup2(err, 2)
        os.close(err)
        ordered = sorted(keep)
        os.closerange(3, ordered[0])
        for a, b in zip(ordered, [*ordered[1:], os.sysconf("SC_OPEN_MAX")], strict=True):
            os.closerange(a + 1, b)
        os.chdir("/")
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        parent = os.getppid()
        _drop_root()
        _die_with(parent)
        resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))
        # memory: what the process maps now (the interpreter, librpm) plus MEMORY_BYTES
        with open("/proc/self/status", "rb") as f:
            vm = next((int(ln.split()[1]) * 1024 for ln in f if ln.startswith(b"VmSize:")), 0)
        resource.setrlimit(resource.RLIMIT_AS, (vm + MEMORY_BYTES, vm + MEMORY_BYTES))
        _seccomp(os.getpid())
    except OSError as exc:
        raise SandboxError(f"cannot confine the parse worker: {exc}") from None
    return 2


def probe() -> dict[str, Any]:
    """What a confined process can do, asked from a forked child: ``write`` (create a file),
    ``exec`` (``/bin/true``), ``fork``, ``read`` (``/etc/os-release``), ``rpm-shell`` and
    ``rpm-lua`` (librpm's ``%(...)`` and Lua's ``io.open(..., "w")``), ``uid``.  For the tests
    and ``docs/spec.md``'s claims."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        out: dict[str, Any] = {}
        try:
            os.close(r)
            import rpm  # before: the standard library may be unreadable to nobody

            confine((w,))
            out["uid"] = os.getuid()
            target = f"/tmp/coinstall-sandbox-probe-{os.getpid()}"

            def create() -> None:
                with open(target, "w"):
                    pass

            checks: list[tuple[str, Callable[[], object]]] = [
                ("write", create),
                ("exec", lambda: os.execv("/bin/true", ["true"])),
                ("fork", lambda: os.fork() or None),
                ("read", lambda: os.close(os.open("/etc/os-release", os.O_RDONLY))),
            ]
            for what, fn in checks:
                try:
                    fn()
                    out[what] = "ok"
                except OSError as exc:
                    out[what] = f"denied: {exc.strerror}"
            for what, macro in (
                ("rpm-shell", "%(echo ran)"),
                (
                    "rpm-lua",
                    '%{lua:local f, e = io.open("' + target + '", "w") '
                    'print(tostring(f) .. " " .. tostring(e))}',
                ),
            ):
                try:
                    out[what] = rpm.expandMacro(macro)
                except rpm.error as exc:
                    out[what] = f"error: {exc}"
            out["created"] = os.path.exists(target)
        except BaseException as exc:  # reported to the caller
            out["error"] = repr(exc)
        finally:
            os.write(w, json.dumps(out).encode())
            os._exit(0)
    os.close(w)
    data = b""
    while chunk := os.read(r, 65536):
        data += chunk
    os.close(r)
    os.waitpid(pid, 0)
    result: dict[str, Any] = json.loads(data)
    return result
