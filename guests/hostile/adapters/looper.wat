;; An adapter-shaped module whose fd_prestat_get calls an import the scanner serves
;; (get-stdout), for ever: little fuel per call, so only the wall clock stops it.
(module
  (import "wasi:filesystem/preopens@0.2.0" "get-directories" (func $dirs (param i32)))
  (import "wasi:cli/stdout@0.2.0" "get-stdout" (func $stdout (result i32)))
  (memory (export "memory") 1)
  (func (export "cabi_import_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
  (func (export "fd_prestat_get") (param i32 i32) (result i32)
    (loop $again (drop (call $stdout)) (br $again))
    (i32.const 8))
  (func (export "fd_prestat_dir_name") (param i32 i32 i32) (result i32) (i32.const 8)))
