"""What the lab makes of each difference a WASIp1 host shows (``host_matrix``): a host bug,
an API limit or allowed by the spec, and why, read in the host's source at the version
pinned in ``runs.wasip1_hosts``. A difference with no judgement here shows as unexplained."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Verdict = Literal["same", "host bug", "API limit", "allowed by the spec", "unexplained", "failed"]
VERDICTS: tuple[Verdict, ...] = ("same", "allowed by the spec", "API limit", "host bug", "unexplained", "failed")
"""Every verdict a cell can have, mildest first; ``failed``: the host trapped or crashed."""


@dataclass(frozen=True)
class Known:
    """A difference the lab has read up and judged."""

    verdict: Verdict
    why: str
    source: str


_SPEC = "https://github.com/WebAssembly/WASI/blob/wasi-0.1/legacy/preview1/docs.md"
_ANY_ERRNO = ("the preview1 spec names no errno for a descriptor that is not a preopen (`fd_prestat_get`: "
              "\"Return a description of the given preopened file descriptor\"), and wasi-libc asks only from fd 3 "
              "on, stopping at EBADF, so no program built on it sees this")
_SAYS_PREOPEN = ("it answers 0 (success) for stdin, stdout and stderr, describing each as a preopened directory; "
                 "the spec's call describes preopened descriptors only (wasi-libc never asks below fd 3)")
_BENEATH = ("a guest created a file outside its preopen, where only the directories it was given should be reachable: "
            "WASI's capability model resolves every path beneath the directory it is opened from, refusing `..` past "
            "it, absolute paths and symlinks that lead out (the model wasi-filesystem spells out, path-resolution.md; "
            "wasmtime answers EPERM, uvwasi ENOTCAPABLE). ")
_PATH_RESOLUTION = "https://github.com/WebAssembly/wasi-filesystem/blob/main/path-resolution.md"
_DIR_READ = ("opening a directory through `path_open` succeeds as on wasmtime, and `fd_read` on it then answers {}, "
             "where wasmtime answers EBADF (8); the preview1 spec's `fd_read` (\"Read from a file descriptor\") names "
             "no errno for a directory, so a program can count on an error there, not on which")
_EISDIR = "EISDIR (31), as Linux's read(2) does"
_COWASM = "https://github.com/sagemathinc/cowasm/blob/cd512732d002f6e5447143c963dbc59950908266/core/wasi-js/src/wasi.ts"
_WASM_UTIL = "https://github.com/toyobayashi/wasm-util/blob/a43fae714cea577748ec5d2b389573373ca7cd4c/src/wasi"
KNOWN: dict[tuple[str, str], Known] = {
    ("node-wasi", "non-directory fd"): Known("allowed by the spec", "uvwasi answers EINVAL (28); " + _ANY_ERRNO,
                                             "https://github.com/nodejs/uvwasi/blob/main/src/uvwasi.c"),
    ("wasm-util", "non-directory fd"): Known(
        "allowed by the spec", "it answers EINVAL (28) for an fd that is not a preopen; " + _ANY_ERRNO,
        "npm @tybys/wasm-util 0.10.5, lib/cjs/wasi/preview1.js, fd_prestat_get"),
    ("wasm-util", "address 0"): Known(
        "host bug", "it refuses a pointer at address 0 with EINVAL (fd_write's iovec array, fd_prestat_get's "
        "result), though address 0 is an ordinary address of linear memory: a guest whose data sits there cannot "
        "print", "npm @tybys/wasm-util 0.10.5, lib/cjs/wasi/preview1.js, fd_write and fd_prestat_get"),
    ("browser-wasi-shim", "non-directory fd"): Known(
        "allowed by the spec", "its base descriptor class answers ENOTSUP (58); " + _ANY_ERRNO,
        "https://github.com/bjorn3/browser_wasi_shim/blob/v0.4.2/src/fd.ts"),
    ("wasmer-wasi", "names"): Known(
        "allowed by the spec", "it opens a virtual root, `/`, as fd 3 before the configured directories and tells "
        "each of them its name without the leading `/` (`/a` is told `a`); wasi-libc still finds `/a/MARKER` by "
        "name, but a program that takes fd 3 for its first directory gets the root. The spec leaves both the "
        "names and the numbering to the host", "https://github.com/wasmerio/wasmer/tree/v3.0.2/lib/wasi/src/fs"),
    ("wasmer-wasi", "reads"): Known(
        "allowed by the spec", "a path under no preopen (`./x/MARKER`, where natively the open fails with ENOENT) "
        "fails with ENOTCAPABLE (76): it falls to the virtual root, which refuses it", _SPEC),
    ("wasmer-wasi", "missing file"): Known(
        "allowed by the spec", "the same path, under no preopen, answers ENOTCAPABLE (76) where wasmtime says "
        "ENOENT (44)", _SPEC),
    ("wasmer-wasi", "non-directory fd"): Known("host bug", _SAYS_PREOPEN, "https://github.com/wasmerio/wasmer-js"),
    ("wasi-js", "non-directory fd"): Known(
        "host bug", _SAYS_PREOPEN + " (its own comment there: \"this is definitely completely wrong unless "
        "preopens=/\")", "npm wasi-js 1.7.3, dist/wasi.js, fd_prestat_get"),
    ("runno", "reads"): Known(
        "host bug", "it looks a path up as a literal string, `.` components included: `./MARKER` under the "
        "preopen `.` is not found (wasmtime reads it), and a path it cannot find answers ENOTCAPABLE (76)",
        "npm @runno/wasi 0.10.0, "
        "dist/main.js, the drive's open"),
    ("runno", "missing file"): Known(
        "host bug", "a file that is not there answers ENOTCAPABLE (76), not ENOENT (44): a program that creates "
        "a file when it finds none (errno == ENOENT) takes it for a refusal", "npm @runno/wasi 0.10.0, dist/main.js, "
        "the drive's open"),
    ("wasi-js", "confinement"): Known(
        "host bug", _BENEATH + "Its path_open joins the guest's path to the preopen's folder with node's "
        "`path.resolve` and opens what comes out: the two checks that refused a result outside the preopen are "
        "commented out (\"I don't know why the original code blocked .., but that breaks applications\"), so `..` "
        "walks out, an absolute path replaces the preopen's folder, and path_symlink writes whatever target the "
        "guest gives, which the kernel then follows. A guest can create files wherever the user running it can "
        "write.", f"{_COWASM}#L1456-L1470 (path_open) and #L1614 (path_symlink); npm wasi-js 1.7.3, dist/wasi.js "
        "lines 1025-1037 and 1128; " + _PATH_RESOLUTION),
    ("wasm-util", "confinement"): Known(
        "host bug", _BENEATH + "It resolves every path by joining it to the preopen's real folder (its own copy of "
        "`path.resolve`) and opens the result with node's fs, with nothing to keep it beneath: an absolute path is "
        "opened as given, and a symlink the guest makes with path_symlink (only an absolute target is refused) is "
        "followed by the kernel. `..` is worse than unchecked: the copy of node's normalizer looks for the first `/` "
        "where node looks for the last, so each `..` keeps only the first folder of the joined path "
        "(`<preopen>/../x` becomes `/dev/x` under the lab's `/dev/shm`, `/home/user/project/a/../b` becomes "
        "`/home/b`): outside the run's folder, where the lab's Landlock refuses it (EACCES, what the guest is told "
        "here); with no Landlock the file is made there.",
        f"{_WASM_UTIL}/path.ts#L33 (normalizeString), {_WASM_UTIL}/preview1.ts#L141 (resolvePathSync), #L1218 "
        "(path_open), #L1450 (path_symlink), at 0.10.0; npm @tybys/wasm-util 0.10.5, lib/cjs/wasi/path.js line 170 "
        "and preview1.js lines 140-152, 1291-1307, 1489-1508; " + _PATH_RESOLUTION),
    ("wamr", "confinement"): Known(
        "host bug", _BENEATH + "It refuses `..` and absolute paths (ENOTCAPABLE), but lets the guest make a symlink "
        "to `..` inside its preopen and then follows it: `link/escaped-symlink` is created in the folder above "
        "the preopen. Judged from the runs: the WASIp1 code of the pinned release (cataggar/wamr 3.0.0-dev.14, a "
        "Zig rewrite of WAMR) is not in any snapshot the lab could read.",
        "https://github.com/cataggar/wamr; " + _PATH_RESOLUTION),
    ("wasmer-wasi", "directory read"): Known(
        "allowed by the spec", _DIR_READ.format(_EISDIR + ": its fd_read answers Isdir for a directory or its root"),
        "https://github.com/wasmerio/wasmer/blob/v3.0.2/lib/wasi/src/syscalls/mod.rs (fd_read: `Kind::Dir { .. } | "
        "Kind::Root { .. } => return Ok(Errno::Isdir)`); " + _SPEC),
    ("wasi-js", "directory read"): Known(
        "allowed by the spec", _DIR_READ.format(_EISDIR + ": node's `fs.readSync` throws it and the host passes it on"),
        "npm wasi-js 1.7.3, dist/wasi.js, fd_read (line 617); " + _SPEC),
    ("pywasm", "directory read"): Known(
        "allowed by the spec", _DIR_READ.format(_EISDIR + ": its fd_read asks `help_idir` before it reads"),
        "https://github.com/mohanson/pywasm/blob/v2.2.3/pywasm/wasi.py (fd_read); " + _SPEC),
    ("wamr", "directory read"): Known(
        "allowed by the spec", _DIR_READ.format("EINVAL (28) (Linux's read(2) answers EISDIR)") +
        " (judged from the runs: the pinned release's WASIp1 code is not in any snapshot the lab could read)",
        "https://github.com/cataggar/wamr; " + _SPEC),
    ("runno", "directory read"): Known(
        "API limit", "it has a single preopen, `/`, whatever the list, and the lab puts each directory's files under "
        "its guest path there: `/a`'s MARKER file and the preopen `/a/MARKER`'s directory are one path, so the open "
        "reads the file and this list never reaches a directory on it", "npm @runno/wasi 0.10.0, dist/main.js"),
    ("pywasm", "names"): Known(
        "allowed by the spec", "it keeps its preopens in a dict keyed by `os.path.normpath` of the name, so it tells "
        "`./x` as `x`, `/a/` as `/a`, the empty name as `.`, and a name given twice once",
        "https://github.com/mohanson/pywasm/blob/v2.2.3/pywasm/wasi.py"),
    ("pywasm", "order"): Known(
        "allowed by the spec", "it numbers its preopens in sorted order of their names, not in the order given: "
        "fd 3 is the first name alphabetically", "https://github.com/mohanson/pywasm/blob/v2.2.3/pywasm/wasi.py"),
    ("pywasm", "reads"): Known(
        "host bug", "it lays the command-line arguments out by their length in characters, not bytes (`args_get` "
        "writes each NUL there), so a non-ASCII argument reaches the guest cut short (`/中文` arrives as 3 bytes of "
        "its 7) and the open fails",
        "https://github.com/mohanson/pywasm/blob/v2.2.3/pywasm/wasi.py"),
    ("pywasm", "non-directory fd"): Known("host bug", _SAYS_PREOPEN,
                                          "https://github.com/mohanson/pywasm/blob/v2.2.3/pywasm/wasi.py"),
}
"""(host, check) -> the judgement of a difference, read in the host's source (the version
pinned here). A difference the runs show where none is known is shown as unexplained;
one that only a list the host's API cannot express shows is an API limit."""
