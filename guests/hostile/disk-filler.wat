;; Fills its first preopen: 120 files of 16 MiB each (1.9 GB in all), 64 KiB a write.
;; Each file stays under the lab's per-file cap; the run's total is what must stop it.
(module
  (import "wasi_snapshot_preview1" "path_open"
    (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $close (param i32) (result i32)))
  (memory (export "memory") 2)
  ;; 0: iovec; 16: nwritten; 32: opened fd; 64: name "fNNN"; 1024: 64 KiB of bytes
  (func (export "_start") (local $f i32) (local $w i32)
    (memory.fill (i32.const 1024) (i32.const 120) (i32.const 65536))
    (i32.store (i32.const 0) (i32.const 1024))
    (i32.store (i32.const 4) (i32.const 65536))
    (i32.store8 (i32.const 64) (i32.const 102))
    (loop $file
      (i32.store8 (i32.const 65) (i32.add (i32.const 48) (i32.div_u (local.get $f) (i32.const 100))))
      (i32.store8 (i32.const 66) (i32.add (i32.const 48) (i32.rem_u (i32.div_u (local.get $f) (i32.const 10)) (i32.const 10))))
      (i32.store8 (i32.const 67) (i32.add (i32.const 48) (i32.rem_u (local.get $f) (i32.const 10))))
      (if (i32.eqz (call $open (i32.const 3) (i32.const 0) (i32.const 64) (i32.const 4) (i32.const 9)
                     (i64.const 0x40) (i64.const 0) (i32.const 0) (i32.const 32)))
        (then
          (local.set $w (i32.const 0))
          (loop $chunk
            (drop (call $write (i32.load (i32.const 32)) (i32.const 0) (i32.const 1) (i32.const 16)))
            (br_if $chunk (i32.lt_u (local.tee $w (i32.add (local.get $w) (i32.const 1))) (i32.const 256))))
          (drop (call $close (i32.load (i32.const 32))))))
      (br_if $file (i32.lt_u (local.tee $f (i32.add (local.get $f) (i32.const 1))) (i32.const 120))))))
