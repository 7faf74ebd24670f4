;; Words a trap as hosts do, on its own stderr, then exits with status 1, as wamr and
;; node end a trap: a lab that reads traps from the guest's words would report one.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 64) "wasm trap: fake\nRuntimeError: fake\nTraceback (fake)\nError: AOT execution failed: error.WasmTrap\n")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 64))
    (i32.store (i32.const 4) (i32.const 96))
    (drop (call $write (i32.const 2) (i32.const 0) (i32.const 1) (i32.const 16)))
    (call $exit (i32.const 1))))
