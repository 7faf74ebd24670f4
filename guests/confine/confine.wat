;; confine: does the host keep a guest inside its preopen? From fd 3 (the first
;; preopen) it creates a file four ways, each a path_open with O_CREAT and the right
;; to write, then writes 8 bytes to what it opened:
;;   inside    confine-inside         the control: a file in the preopen itself
;;   dotdot    ../escaped-dotdot      out through `..`
;;   absolute  argv[1]                an absolute host path (the lab gives one under its
;;                                    run root, beside the preopen's directory)
;;   symlink   link/escaped-symlink   after path_symlink makes `link -> ..` in fd 3
;; One JSON line per attempt, as the probe prints them (byte strings in hex):
;;   {"kind":"escape","attempt":"dotdot","path_hex":"2e2e2f...","errno":76}
;;   {"kind":"escape","attempt":"inside","path_hex":"...","errno":0,"write_errno":0,"written":8}
;; errno 0 is success; the symlink line also says what path_symlink answered
;; ("symlink_errno"). What the guest is told is secondary: the lab looks at its disk.
;; Every pointer given to the host is above address 0 (a host may refuse a null
;; pointer). Compiled from this text at run time with wasmtime.wat2wasm.
(module
  (import "wasi_snapshot_preview1" "args_sizes_get"
    (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get"
    (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_symlink"
    (func $path_symlink (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close"
    (func $fd_close (param i32) (result i32)))

  ;; Layout: 64 iovec, 80 nwritten, 84 opened fd, 88 argc, 92 argv buffer size,
  ;; 96..112 digit scratch, 256 text (each string ends in a NUL), 1024 argv pointers
  ;; (at most 64), 16384 the output line, 32768 the argv buffer (at most 4096 bytes).
  (memory (export "memory") 1)
  (global $out (mut i32) (i32.const 16384))

  (data (i32.const 256) "{\"kind\":\"escape\",\"attempt\":\"\00")
  (data (i32.const 304) "\",\"path_hex\":\"\00")
  (data (i32.const 336) "\",\"symlink_errno\":\00")
  (data (i32.const 368) "\",\"errno\":\00")
  (data (i32.const 384) ",\"errno\":\00")
  (data (i32.const 400) ",\"write_errno\":\00")
  (data (i32.const 432) ",\"written\":\00")
  (data (i32.const 448) "}\n\00")
  (data (i32.const 464) "0123456789abcdef")
  (data (i32.const 512) "inside\00")
  (data (i32.const 528) "dotdot\00")
  (data (i32.const 544) "absolute\00")
  (data (i32.const 560) "symlink\00")
  (data (i32.const 576) "confine-inside\00")
  (data (i32.const 608) "../escaped-dotdot\00")
  (data (i32.const 640) "link/escaped-symlink\00")
  (data (i32.const 672) "link\00")
  (data (i32.const 688) "..\00")
  (data (i32.const 704) "escaped\n")  ;; what each opened file is given: 8 bytes

  (func $strlen (param $p i32) (result i32)
    (local $n i32)
    (block $done
      (loop $each
        (br_if $done (i32.eqz (i32.load8_u (i32.add (local.get $p) (local.get $n)))))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $each)))
    (local.get $n))

  (func $emit (param $src i32) (param $len i32)
    (memory.copy (global.get $out) (local.get $src) (local.get $len))
    (global.set $out (i32.add (global.get $out) (local.get $len))))

  (func $emit_str (param $src i32)
    (call $emit (local.get $src) (call $strlen (local.get $src))))

  (func $emit_u32 (param $n i32)
    (local $p i32)
    ;; digits are written backwards into 96..112, then copied out
    (local.set $p (i32.const 112))
    (loop $digits
      (local.set $p (i32.sub (local.get $p) (i32.const 1)))
      (i32.store8 (local.get $p)
        (i32.add (i32.const 48) (i32.rem_u (local.get $n) (i32.const 10))))
      (local.set $n (i32.div_u (local.get $n) (i32.const 10)))
      (br_if $digits (local.get $n)))
    (call $emit (local.get $p) (i32.sub (i32.const 112) (local.get $p))))

  (func $emit_hex (param $src i32) (param $len i32)
    (local $i i32) (local $b i32)
    (block $done
      (loop $bytes
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (local.set $b (i32.load8_u (i32.add (local.get $src) (local.get $i))))
        (i32.store8 (global.get $out)
          (i32.load8_u (i32.add (i32.const 464) (i32.shr_u (local.get $b) (i32.const 4)))))
        (i32.store8 (i32.add (global.get $out) (i32.const 1))
          (i32.load8_u (i32.add (i32.const 464) (i32.and (local.get $b) (i32.const 15)))))
        (global.set $out (i32.add (global.get $out) (i32.const 2)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $bytes))))

  ;; Write the line built at 16384..$out to stdout, then start a new one.
  (func $flush
    (local $ptr i32) (local $left i32)
    (local.set $ptr (i32.const 16384))
    (local.set $left (i32.sub (global.get $out) (i32.const 16384)))
    (block $done
      (loop $write
        (br_if $done (i32.eqz (local.get $left)))
        (i32.store (i32.const 64) (local.get $ptr))
        (i32.store (i32.const 68) (local.get $left))
        (br_if $done (call $fd_write (i32.const 1) (i32.const 64) (i32.const 1) (i32.const 80)))
        (br_if $done (i32.eqz (i32.load (i32.const 80))))
        (local.set $ptr (i32.add (local.get $ptr) (i32.load (i32.const 80))))
        (local.set $left (i32.sub (local.get $left) (i32.load (i32.const 80))))
        (br $write)))
    (global.set $out (i32.const 16384)))

  ;; One attempt: open $path (of $len bytes) under fd 3 with O_CREAT and the right to
  ;; write, write 8 bytes to it and close it, and print the line; $symlink_errno >= 0 is
  ;; printed too (the symlink attempt).
  (func $attempt (param $name i32) (param $path i32) (param $len i32) (param $symlink_errno i32)
    (local $err i32) (local $werr i32)
    (local.set $err
      (call $path_open
        (i32.const 3)       ;; the first preopen
        (i32.const 1)       ;; dirflags: follow symlinks, as wasi-libc's open() does
        (local.get $path) (local.get $len)
        (i32.const 1)       ;; oflags: O_CREAT
        (i64.const 64)      ;; rights: fd_write
        (i64.const 0)
        (i32.const 0)       ;; fdflags
        (i32.const 84)))
    (call $emit_str (i32.const 256))
    (call $emit_str (local.get $name))
    (call $emit_str (i32.const 304))
    (call $emit_hex (local.get $path) (local.get $len))
    (if (i32.ge_s (local.get $symlink_errno) (i32.const 0))
      (then
        (call $emit_str (i32.const 336))
        (call $emit_u32 (local.get $symlink_errno))
        (call $emit_str (i32.const 384)))
      (else (call $emit_str (i32.const 368))))
    (call $emit_u32 (local.get $err))
    (if (i32.eqz (local.get $err))
      (then
        (i32.store (i32.const 64) (i32.const 704))
        (i32.store (i32.const 68) (i32.const 8))
        (i32.store (i32.const 80) (i32.const 0))
        (local.set $werr
          (call $fd_write (i32.load (i32.const 84)) (i32.const 64) (i32.const 1) (i32.const 80)))
        (call $emit_str (i32.const 400))
        (call $emit_u32 (local.get $werr))
        (call $emit_str (i32.const 432))
        (call $emit_u32 (if (result i32) (local.get $werr) (then (i32.const 0)) (else (i32.load (i32.const 80)))))
        (drop (call $fd_close (i32.load (i32.const 84))))))
    (call $emit_str (i32.const 448))
    (call $flush))

  (func (export "_start")
    (local $absolute i32) (local $absolute_len i32)
    ;; argv[1], the absolute path; an empty path if there is none (or too much argv)
    (local.set $absolute (i32.const 688))
    (if (i32.eqz (call $args_sizes_get (i32.const 88) (i32.const 92)))
      (then
        (if (i32.and
              (i32.and (i32.ge_u (i32.load (i32.const 88)) (i32.const 2))
                       (i32.le_u (i32.load (i32.const 88)) (i32.const 64)))
              (i32.le_u (i32.load (i32.const 92)) (i32.const 4096)))
          (then
            (if (i32.eqz (call $args_get (i32.const 1024) (i32.const 32768)))
              (then
                (local.set $absolute (i32.load (i32.const 1028)))
                (local.set $absolute_len (call $strlen (local.get $absolute)))))))))
    (call $attempt (i32.const 512) (i32.const 576) (i32.const 14) (i32.const -1))
    (call $attempt (i32.const 528) (i32.const 608) (i32.const 17) (i32.const -1))
    (call $attempt (i32.const 544) (local.get $absolute) (local.get $absolute_len) (i32.const -1))
    (call $attempt (i32.const 560) (i32.const 640) (i32.const 20)
      (call $path_symlink (i32.const 688) (i32.const 2) (i32.const 3) (i32.const 672) (i32.const 4))))
)
