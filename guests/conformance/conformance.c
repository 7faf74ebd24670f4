/*
 * conformance: a preopen test that checks itself, as wasi-testsuite's tests do: it
 * prints one line per expectation that fails and exits 0 only if every one holds.
 *
 * Arguments: the guest paths the host was asked to preopen, in that order (fd 3 on),
 * optionally after "--hosts". Each preopen's directory holds a file MARKER whose content
 * is "preopen-<i>", i its position in the list.
 *
 * For each position i, fd 3 + i:
 *   prestat  fd_prestat_get(fd) answers a directory whose name is as long as name i
 *   name     fd_prestat_dir_name(fd) gives exactly name i
 *   through  MARKER opened through the fd itself (path_open) reads preopen-<i>
 *   route    <name>/MARKER opened by its path, as a program opens a file (wasi-libc picks
 *            the preopen by the names it was told at start-up), reads the MARKER of a
 *            preopen given that name; checked for names that start with '/' and that no
 *            other name given extends into <name>/MARKER
 * and after them:
 *   end      fd_prestat_get(3 + n) answers EBADF: no preopen past the ones given
 * With "--hosts", what a WASIp1 host may get wrong on its own:
 *   stdio    fds 0, 1 and 2 are not preopens (fd_prestat_get answers EBADF)
 *   missing  a file that is not there, opened through fd 3, answers ENOENT
 *   escape   ../MARKER opened through fd 3 is refused
 *
 * Build: see guests/README.md (zig cc -target wasm32-wasi).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wasi/api.h>

#define MAX_CONTENT 256

static int failed = 0;

static void fail(const char *check, unsigned fd, const char *what) {
    printf("%s fd %u: %s\n", check, fd, what);
    failed = 1;
}

/* The bytes of a file opened through `dir` itself, no routing by names; 0 or an errno. */
static __wasi_errno_t read_at(__wasi_fd_t dir, const char *path, char *out, size_t cap, size_t *got) {
    __wasi_fd_t file;
    __wasi_errno_t err = __wasi_path_open(dir, 0, path, 0, __WASI_RIGHTS_FD_READ, 0, 0, &file);
    if (err != __WASI_ERRNO_SUCCESS) return err;
    __wasi_iovec_t vec = {(uint8_t *)out, cap};
    err = __wasi_fd_read(file, &vec, 1, got);
    (void)__wasi_fd_close(file);
    return err;
}

/* The bytes of a file opened by its path, as a program opens it; 0 or an errno. */
static int read_path(const char *path, char *out, size_t cap, size_t *got) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return errno;
    ssize_t n = read(fd, out, cap);
    int err = n < 0 ? errno : 0;
    close(fd);
    *got = n < 0 ? 0 : (size_t)n;
    return err;
}

static int is_marker(const char *content, size_t len, int index) {
    char want[32];
    int n = snprintf(want, sizeof want, "preopen-%d", index);
    return (size_t)n == len && memcmp(content, want, len) == 0;
}

int main(int argc, char **argv) {
    int first = 1, hosts = 0;
    if (argc > 1 && strcmp(argv[1], "--hosts") == 0) {
        hosts = 1;
        first = 2;
    }
    int count = argc - first;
    char **names = argv + first;
    char line[512], content[MAX_CONTENT];
    size_t got;

    for (int i = 0; i < count; i++) {
        __wasi_fd_t fd = 3 + i;
        size_t want = strlen(names[i]);
        __wasi_prestat_t prestat;
        __wasi_errno_t err = __wasi_fd_prestat_get(fd, &prestat);
        if (err != __WASI_ERRNO_SUCCESS) {
            snprintf(line, sizeof line, "fd_prestat_get answered errno %u, want a directory named \"%s\"",
                     (unsigned)err, names[i]);
            fail("prestat", fd, line);
        } else if (prestat.tag != __WASI_PREOPENTYPE_DIR || prestat.u.dir.pr_name_len != want) {
            snprintf(line, sizeof line, "a name of %zu bytes, want %zu (\"%s\")",
                     (size_t)prestat.u.dir.pr_name_len, want, names[i]);
            fail("prestat", fd, line);
        } else {
            char *told = calloc(want + 1, 1);
            err = __wasi_fd_prestat_dir_name(fd, (uint8_t *)told, want);
            if (err != __WASI_ERRNO_SUCCESS) {
                snprintf(line, sizeof line, "fd_prestat_dir_name answered errno %u", (unsigned)err);
                fail("name", fd, line);
            } else if (memcmp(told, names[i], want) != 0) {
                snprintf(line, sizeof line, "told \"%.*s\", want \"%s\"", (int)want, told, names[i]);
                fail("name", fd, line);
            }
            free(told);
        }

        err = read_at(fd, "MARKER", content, sizeof content, &got);
        if (err != __WASI_ERRNO_SUCCESS) {
            snprintf(line, sizeof line, "MARKER through the fd: errno %u, want preopen-%d", (unsigned)err, i);
            fail("through", fd, line);
        } else if (!is_marker(content, got, i)) {
            snprintf(line, sizeof line, "MARKER through the fd read \"%.*s\", want preopen-%d", (int)got, content, i);
            fail("through", fd, line);
        }

        if (names[i][0] != '/') continue;
        char *path = malloc(want + 8);
        memcpy(path, names[i], want);
        memcpy(path + want, "/MARKER", 8);
        int extended = 0;
        for (int k = 0; k < count; k++) {
            size_t other = strlen(names[k]);
            if (other > want && strncmp(path, names[k], other) == 0) extended = 1;
        }
        if (!extended) {
            int opened = read_path(path, content, sizeof content, &got);
            int right = 0;
            for (int j = 0; j < count && opened == 0; j++) {
                if (strcmp(names[j], names[i]) == 0 && is_marker(content, got, j)) right = 1;
            }
            if (opened != 0) {
                snprintf(line, sizeof line, "%s: %s, want preopen-%d", path, strerror(opened), i);
                fail("route", fd, line);
            } else if (!right) {
                snprintf(line, sizeof line, "%s read \"%.*s\", want preopen-%d", path, (int)got, content, i);
                fail("route", fd, line);
            }
        }
        free(path);
    }

    __wasi_prestat_t past;
    __wasi_errno_t end = __wasi_fd_prestat_get(3 + count, &past);
    if (end != __WASI_ERRNO_BADF) {
        snprintf(line, sizeof line, "fd_prestat_get answered errno %u, want EBADF (%d preopens given)",
                 (unsigned)end, count);
        fail("end", 3 + count, line);
    }

    if (hosts) {
        for (__wasi_fd_t fd = 0; fd < 3; fd++) {
            __wasi_prestat_t stdio;
            __wasi_errno_t err = __wasi_fd_prestat_get(fd, &stdio);
            if (err != __WASI_ERRNO_BADF) {
                snprintf(line, sizeof line, "fd_prestat_get answered errno %u, want EBADF", (unsigned)err);
                fail("stdio", fd, line);
            }
        }
        if (count > 0) {
            __wasi_errno_t err = read_at(3, "NO-SUCH-FILE", content, sizeof content, &got);
            if (err != __WASI_ERRNO_NOENT) {
                snprintf(line, sizeof line, "NO-SUCH-FILE through the fd: errno %u, want ENOENT (%u)",
                         (unsigned)err, (unsigned)__WASI_ERRNO_NOENT);
                fail("missing", 3, line);
            }
            err = read_at(3, "../MARKER", content, sizeof content, &got);
            if (err == __WASI_ERRNO_SUCCESS) {
                snprintf(line, sizeof line, "../MARKER through the fd read \"%.*s\", want a refusal", (int)got, content);
                fail("escape", 3, line);
            }
        }
    }
    return failed;
}
