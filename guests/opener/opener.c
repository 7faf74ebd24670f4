/*
 * opener: how wasi-libc routes a path, and what opening it really reads.
 *
 * Output is one JSON object per line on stdout; byte strings are hex so that
 * every byte the guest saw survives the trip to the host unchanged.
 *
 * 1. The preopen table, asked the same way wasi-libc asks at start-up:
 *    {"kind":"prestat","fd":3,"errno":0,"name_len":2,"name_errno":0,"name_hex":"2f61"}
 *    ... ending with the first fd that does not answer 0:
 *    {"kind":"prestat","fd":8,"errno":8}
 * 2. For each argument PATH, the route of PATH/MARKER and the open:
 *    {"kind":"route","path_hex":..,"target_hex":..,"fd":3,"find_errno":0,
 *     "prefix_hex":..,"relative_hex":..,"open_errno":0,"content_hex":..}
 *    fd is -1 when wasi-libc finds no preopen for the path.
 *
 * Built with -DKEEP_OPEN it is the keeper: the same program, except that each
 * file it opens stays open until it exits, as a program holding its files does.
 * Through an adapter every open file takes a slot of the descriptor table the
 * preopens fill.
 *
 * Build: see guests/README.md (zig cc -target wasm32-wasi).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wasi/api.h>
#include <wasi/libc-find-relpath.h>

#define MAX_CONTENT 4096

static void put_hex(const char *key, const void *data, size_t len) {
    const unsigned char *bytes = data;
    printf(",\"%s\":\"", key);
    for (size_t i = 0; i < len; i++) {
        printf("%02x", bytes[i]);
    }
    putchar('"');
}

static void report_prestats(void) {
    for (__wasi_fd_t fd = 3; fd != 0; fd++) {
        __wasi_prestat_t prestat;
        __wasi_errno_t err = __wasi_fd_prestat_get(fd, &prestat);
        printf("{\"kind\":\"prestat\",\"fd\":%u,\"errno\":%u", (unsigned)fd, (unsigned)err);
        if (err != __WASI_ERRNO_SUCCESS) {
            printf("}\n");
            fflush(stdout);
            return;
        }
        size_t len = prestat.u.dir.pr_name_len;
        unsigned char *name = malloc(len + 1);
        __wasi_errno_t name_err = __wasi_fd_prestat_dir_name(fd, name, len);
        printf(",\"name_len\":%zu,\"name_errno\":%u", len, (unsigned)name_err);
        if (name_err == __WASI_ERRNO_SUCCESS) {
            put_hex("name_hex", name, len);
        }
        printf("}\n");
        fflush(stdout);
        free(name);
    }
}

static void report_route(const char *dir) {
    size_t n = strlen(dir);
    char *target = malloc(n + sizeof("/MARKER"));
    size_t t = n;
    memcpy(target, dir, n);
    if (n > 0 && dir[n - 1] != '/') {
        target[t++] = '/';
    }
    memcpy(target + t, "MARKER", sizeof("MARKER"));

    printf("{\"kind\":\"route\"");
    put_hex("path_hex", dir, n);
    put_hex("target_hex", target, strlen(target));

    /* The buffer is only used when chdir is linked in; this program never is. */
    size_t rel_cap = strlen(target) + 2;
    char *rel_buf = malloc(rel_cap);
    char *relative = rel_buf;
    const char *prefix = NULL;
    errno = 0;
    int fd = __wasilibc_find_relpath(target, &prefix, &relative, rel_cap);
    printf(",\"fd\":%d,\"find_errno\":%d", fd, fd < 0 ? errno : 0);
    if (fd >= 0) {
        put_hex("prefix_hex", prefix, strlen(prefix));
        put_hex("relative_hex", relative, strlen(relative));
    }

    errno = 0;
    int file = open(target, O_RDONLY);
    if (file < 0) {
        printf(",\"open_errno\":%d", errno);
    } else {
        static char content[MAX_CONTENT];
        ssize_t got = read(file, content, sizeof content);
        if (got < 0) {
            printf(",\"open_errno\":0,\"read_errno\":%d", errno);
        } else {
            printf(",\"open_errno\":0");
            put_hex("content_hex", content, (size_t)got);
        }
#ifndef KEEP_OPEN
        close(file);
#endif
    }
    printf("}\n");
    fflush(stdout);
    free(rel_buf);
    free(target);
}

int main(int argc, char **argv) {
    report_prestats();
    for (int i = 1; i < argc; i++) {
        report_route(argv[i]);
    }
    return 0;
}
