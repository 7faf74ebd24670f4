;; A WASIp1 library (a "reactor": no _start, an _initialize instead) that calls the
;; preopen functions. Composed with a build's reactor adapter it gives a component of
;; the shape ComponentizeJS and other library toolchains ship, for `scan` and `repair`.
(module
  (import "wasi_snapshot_preview1" "fd_prestat_get" (func (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_dir_name" (func (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_initialize")))
