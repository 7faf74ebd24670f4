;; Tries to write outside its preopens. For each argument after the first (argv[2], ...),
;; from fd 3 (the first preopen): (1) opens the argument itself with O_CREAT|O_TRUNC
;; (an absolute path, or one climbing with ..) and writes "planted"; (2) makes a symlink
;; "lN" in fd 3 pointing at the argument, and opens that with O_CREAT|O_TRUNC. A host that
;; keeps its guests in refuses each open; the lab's Landlock holds one that does not.
(module
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $sizes (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open"
    (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_symlink" (func $symlink (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $close (param i32) (result i32)))
  (memory (export "memory") 2)
  (data (i32.const 96) "planted\n")
  ;; 0: iovec; 16: nwritten; 32: opened fd; 48: argc; 52: buffer size; 64: link name "lN"
  ;; 256: argv pointers (at most 64); 1024: argument bytes
  (func $strlen (param $p i32) (result i32) (local $n i32)
    (block $done (loop $next
      (br_if $done (i32.eqz (i32.load8_u (i32.add (local.get $p) (local.get $n)))))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $next)))
    (local.get $n))
  (func $plant (param $p i32) (param $n i32)
    (if (i32.eqz (call $open (i32.const 3) (i32.const 1) (local.get $p) (local.get $n) (i32.const 9)
                   (i64.const 0x40) (i64.const 0) (i32.const 0) (i32.const 32)))
      (then
        (i32.store (i32.const 0) (i32.const 96))
        (i32.store (i32.const 4) (i32.const 8))
        (drop (call $write (i32.load (i32.const 32)) (i32.const 0) (i32.const 1) (i32.const 16)))
        (drop (call $close (i32.load (i32.const 32)))))))
  (func (export "_start") (local $i i32) (local $argc i32) (local $p i32)
    (drop (call $sizes (i32.const 48) (i32.const 52)))
    (local.set $argc (i32.load (i32.const 48)))
    (if (i32.gt_u (local.get $argc) (i32.const 64)) (then (local.set $argc (i32.const 64))))
    (if (i32.gt_u (i32.load (i32.const 52)) (i32.const 120000)) (then return))
    (drop (call $args (i32.const 256) (i32.const 1024)))
    (local.set $i (i32.const 2))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $argc)))
      (local.set $p (i32.load (i32.add (i32.const 256) (i32.mul (local.get $i) (i32.const 4)))))
      (call $plant (local.get $p) (call $strlen (local.get $p)))
      (i32.store8 (i32.const 64) (i32.const 108))
      (i32.store8 (i32.const 65) (i32.add (i32.const 48) (local.get $i)))
      (drop (call $symlink (local.get $p) (call $strlen (local.get $p)) (i32.const 3) (i32.const 64) (i32.const 2)))
      (call $plant (i32.const 64) (i32.const 2))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next))))
  )
