;; Three memories, each grown to 1 GiB (the most one memory may have) and every byte of it
;; written: 3 GiB asked for, more than a scan may map.
(module
  (import "wasi:filesystem/preopens@0.2.0" "get-directories" (func $dirs (param i32)))
  (memory $m (export "memory") 1)
  (memory $b 1)
  (memory $c 1)
  (func (export "cabi_import_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
  (func (export "fd_prestat_get") (param i32 i32) (result i32)
    (drop (memory.grow $m (i32.const 16383)))
    (drop (memory.grow $b (i32.const 16383)))
    (drop (memory.grow $c (i32.const 16383)))
    (memory.fill $m (i32.const 0) (i32.const 1) (i32.mul (memory.size $m) (i32.const 65536)))
    (memory.fill $b (i32.const 0) (i32.const 1) (i32.mul (memory.size $b) (i32.const 65536)))
    (memory.fill $c (i32.const 0) (i32.const 1) (i32.mul (memory.size $c) (i32.const 65536)))
    (i32.const 8))
  (func (export "fd_prestat_dir_name") (param i32 i32 i32) (result i32) (i32.const 8)))
