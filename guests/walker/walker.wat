;; walker: every fd from 3 to 133, asked twice, whatever the answers before.
;;
;; wasi-libc's preopen scan stops at the first fd that does not answer 0; this
;; guest goes on. For each fd it asks fd_prestat_get (and fd_prestat_dir_name for
;; exactly name_len bytes when that answered 0), then, whatever prestat said,
;; opens MARKER relative to that fd itself (path_open, no libc, no routing by
;; names) and reads up to 256 bytes of it. One JSON object per fd:
;;   {"kind":"walk","fd":4,"errno":8,"open_errno":0,"content_hex":"..."}
;;   {"kind":"walk","fd":5,"errno":0,"name_len":2,"name_errno":0,"name_hex":"2f62","open_errno":0,"content_hex":"..."}
;; open_errno is the errno of the open (0: opened), read_errno that of the read.
;; fd 133 is past the adapter's descriptor table (128 entries, stdio included)
;; and past every list the lab draws (up to 130 preopens: fds 3 to 132).
;; Compiled from this text at run time with wasmtime.wat2wasm.
(module
  (import "wasi_snapshot_preview1" "fd_prestat_get"
    (func $fd_prestat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_dir_name"
    (func $fd_prestat_dir_name (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read"
    (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close"
    (func $fd_close (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))

  ;; Layout: 0 iovec, 16 prestat, 32 nwritten, 40 opened fd, 44 bytes read,
  ;; 48 read iovec, 64 digit scratch, 256 text, 512 "MARKER", 768 file content
  ;; (256 bytes), then the work area from 4096 as in the probe: the output line,
  ;; its hex, and the name buffer; a name too big for it gets pages of its own
  ;; from memory.grow (the adapter grows this same memory for its own state).
  (memory (export "memory") 1)
  (global $line (mut i32) (i32.const 4096))
  (global $area_end (mut i32) (i32.const 65536))
  (global $out (mut i32) (i32.const 4096))
  (global $name_buf (mut i32) (i32.const 0))

  (data (i32.const 256) "{\"kind\":\"walk\",\"fd\":")          ;; 20 bytes
  (data (i32.const 288) ",\"errno\":")                          ;; 9
  (data (i32.const 304) ",\"name_len\":")                       ;; 12
  (data (i32.const 320) ",\"name_errno\":")                     ;; 14
  (data (i32.const 336) ",\"name_hex\":\"")                     ;; 13
  (data (i32.const 352) "}\n")                                  ;; 2
  (data (i32.const 360) "\"")                                   ;; 1
  (data (i32.const 368) ",\"open_errno\":")                     ;; 14
  (data (i32.const 384) ",\"read_errno\":")                     ;; 14
  (data (i32.const 400) ",\"content_hex\":\"")                  ;; 16
  (data (i32.const 416) "0123456789abcdef")
  (data (i32.const 512) "MARKER")                               ;; 6

  (func $emit (param $src i32) (param $len i32)
    (memory.copy (global.get $out) (local.get $src) (local.get $len))
    (global.set $out (i32.add (global.get $out) (local.get $len))))

  (func $emit_u32 (param $n i32)
    (local $p i32)
    (local.set $p (i32.const 80))
    (loop $digits
      (local.set $p (i32.sub (local.get $p) (i32.const 1)))
      (i32.store8 (local.get $p)
        (i32.add (i32.const 48) (i32.rem_u (local.get $n) (i32.const 10))))
      (local.set $n (i32.div_u (local.get $n) (i32.const 10)))
      (br_if $digits (local.get $n)))
    (call $emit (local.get $p) (i32.sub (i32.const 80) (local.get $p))))

  (func $emit_hex (param $src i32) (param $len i32)
    (local $i i32) (local $b i32)
    (block $done
      (loop $bytes
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (local.set $b (i32.load8_u (i32.add (local.get $src) (local.get $i))))
        (i32.store8 (global.get $out)
          (i32.load8_u (i32.add (i32.const 416) (i32.shr_u (local.get $b) (i32.const 4)))))
        (i32.store8 (i32.add (global.get $out) (i32.const 1))
          (i32.load8_u (i32.add (i32.const 416) (i32.and (local.get $b) (i32.const 15)))))
        (global.set $out (i32.add (global.get $out) (i32.const 2)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $bytes))))

  (func $flush
    (local $ptr i32) (local $left i32)
    (local.set $ptr (global.get $line))
    (local.set $left (i32.sub (global.get $out) (global.get $line)))
    (block $done
      (loop $write
        (br_if $done (i32.eqz (local.get $left)))
        (i32.store (i32.const 0) (local.get $ptr))
        (i32.store (i32.const 4)
          (select (i32.const 4096) (local.get $left)
            (i32.gt_u (local.get $left) (i32.const 4096))))
        (br_if $done (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 32)))
        (local.set $ptr (i32.add (local.get $ptr) (i32.load (i32.const 32))))
        (local.set $left (i32.sub (local.get $left) (i32.load (i32.const 32))))
        (br $write)))
    (global.set $out (global.get $line)))

  (func $reserve (param $len i32)
    (local $need i32) (local $pages i32) (local $start i32) (local $used i32)
    ;; 1024 for the line's fixed parts and the content's hex, 2 * len for the name's hex, len for the name
    (local.set $need (i32.add (i32.const 1024) (i32.mul (local.get $len) (i32.const 3))))
    (if (i32.gt_u (i32.add (global.get $line) (local.get $need)) (global.get $area_end))
      (then
        (local.set $pages (i32.add (i32.const 1) (i32.shr_u (local.get $need) (i32.const 16))))
        (local.set $start (memory.grow (local.get $pages)))
        (if (i32.eq (local.get $start) (i32.const -1)) (then unreachable))
        (local.set $start (i32.shl (local.get $start) (i32.const 16)))
        (local.set $used (i32.sub (global.get $out) (global.get $line)))
        (memory.copy (local.get $start) (global.get $line) (local.get $used))
        (global.set $line (local.get $start))
        (global.set $out (i32.add (local.get $start) (local.get $used)))
        (global.set $area_end
          (i32.add (local.get $start) (i32.shl (local.get $pages) (i32.const 16))))))
    (global.set $name_buf
      (i32.add (global.get $line)
        (i32.add (i32.const 1024) (i32.mul (local.get $len) (i32.const 2))))))

  ;; Open MARKER through $fd itself and read it; append what happened to the line.
  (func $open_marker (param $fd i32)
    (local $err i32) (local $file i32)
    ;; rights: fd_read (bit 1); oflags, fdflags, dirflags 0
    (local.set $err
      (call $path_open (local.get $fd) (i32.const 0) (i32.const 512) (i32.const 6)
        (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 40)))
    (call $emit (i32.const 368) (i32.const 14))
    (call $emit_u32 (local.get $err))
    (if (local.get $err) (then (return)))
    (local.set $file (i32.load (i32.const 40)))
    (i32.store (i32.const 48) (i32.const 768))
    (i32.store (i32.const 52) (i32.const 256))
    (local.set $err (call $fd_read (local.get $file) (i32.const 48) (i32.const 1) (i32.const 44)))
    (if (local.get $err)
      (then
        (call $emit (i32.const 384) (i32.const 14))
        (call $emit_u32 (local.get $err)))
      (else
        (call $emit (i32.const 400) (i32.const 16))
        (call $emit_hex (i32.const 768) (i32.load (i32.const 44)))
        (call $emit (i32.const 360) (i32.const 1))))
    (drop (call $fd_close (local.get $file))))

  (func (export "_start")
    (local $fd i32) (local $err i32) (local $len i32) (local $name_err i32)
    (local.set $fd (i32.const 3))
    (loop $next
      (call $reserve (i32.const 0))
      (call $emit (i32.const 256) (i32.const 20))
      (call $emit_u32 (local.get $fd))
      (call $emit (i32.const 288) (i32.const 9))
      (local.set $err (call $fd_prestat_get (local.get $fd) (i32.const 16)))
      (call $emit_u32 (local.get $err))
      (if (i32.eqz (local.get $err))
        (then
          (local.set $len (i32.load (i32.const 20)))
          (call $reserve (local.get $len))
          (call $emit (i32.const 304) (i32.const 12))
          (call $emit_u32 (local.get $len))
          (local.set $name_err
            (call $fd_prestat_dir_name (local.get $fd) (global.get $name_buf) (local.get $len)))
          (call $emit (i32.const 320) (i32.const 14))
          (call $emit_u32 (local.get $name_err))
          (if (i32.eqz (local.get $name_err))
            (then
              (call $emit (i32.const 336) (i32.const 13))
              (call $emit_hex (global.get $name_buf) (local.get $len))
              (call $emit (i32.const 360) (i32.const 1))))))
      (call $open_marker (local.get $fd))
      (call $emit (i32.const 352) (i32.const 2))
      (call $flush)
      (local.set $fd (i32.add (local.get $fd) (i32.const 1)))
      (br_if $next (i32.le_u (local.get $fd) (i32.const 133)))))
)
