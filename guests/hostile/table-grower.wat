;; Asks for a table of 10^9 references (8 GB). At the lab's 1,000,000 elements table.grow
;; answers -1, and the guest exits with status 1 to say it was refused.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (table 0 funcref)
  (memory (export "memory") 1)
  (func (export "_start")
    (call $exit (i32.eq (table.grow (ref.null func) (i32.const 1000000000)) (i32.const -1)))))
