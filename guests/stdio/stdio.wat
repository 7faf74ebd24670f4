;; stdio: what fd_prestat_get answers for a descriptor that is open but is not a
;; preopened directory: stdin, stdout and stderr (fds 0, 1, 2). One JSON line each,
;; as the probe prints them:
;;   {"kind":"prestat","fd":1,"errno":8}
;; The WASI spec's answer is EBADF (8): "not a preopen". Every pointer given to the
;; host is above address 0 (a host may refuse a null pointer). Compiled with wat2wasm.
(module
  (import "wasi_snapshot_preview1" "fd_prestat_get"
    (func $fd_prestat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  ;; Layout: 64 iovec, 80 nwritten, 96 prestat, 256 text, 512 the line.
  (memory (export "memory") 1)
  (data (i32.const 256) "{\"kind\":\"prestat\",\"fd\":")  ;; 23 bytes
  (data (i32.const 288) ",\"errno\":")                     ;; 9
  (data (i32.const 304) "}\n")                             ;; 2

  ;; Write n (0..99) as decimal digits at $at; return the position after them.
  (func $digits (param $at i32) (param $n i32) (result i32)
    (if (i32.ge_u (local.get $n) (i32.const 10))
      (then
        (i32.store8 (local.get $at) (i32.add (i32.const 48) (i32.div_u (local.get $n) (i32.const 10))))
        (local.set $at (i32.add (local.get $at) (i32.const 1)))))
    (i32.store8 (local.get $at) (i32.add (i32.const 48) (i32.rem_u (local.get $n) (i32.const 10))))
    (i32.add (local.get $at) (i32.const 1)))

  (func (export "_start")
    (local $fd i32) (local $end i32)
    (loop $each
      (memory.copy (i32.const 512) (i32.const 256) (i32.const 23))
      (local.set $end (call $digits (i32.const 535) (local.get $fd)))
      (memory.copy (local.get $end) (i32.const 288) (i32.const 9))
      (local.set $end (call $digits (i32.add (local.get $end) (i32.const 9))
                                    (call $fd_prestat_get (local.get $fd) (i32.const 96))))
      (memory.copy (local.get $end) (i32.const 304) (i32.const 2))
      (i32.store (i32.const 64) (i32.const 512))
      (i32.store (i32.const 68) (i32.sub (i32.add (local.get $end) (i32.const 2)) (i32.const 512)))
      (drop (call $fd_write (i32.const 1) (i32.const 64) (i32.const 1) (i32.const 80)))
      (local.set $fd (i32.add (local.get $fd) (i32.const 1)))
      (br_if $each (i32.lt_u (local.get $fd) (i32.const 3)))))
)
