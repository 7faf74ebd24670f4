;; Asleep in one host call: poll_oneoff on a relative monotonic clock an hour away.
;; No epoch reaches a guest inside a host call; the lab's kill at the deadline does.
(module
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    ;; one subscription at 0: tag 0 (clock), clock id 1 (monotonic), timeout in ns
    (i32.store8 (i32.const 8) (i32.const 0))
    (i32.store (i32.const 16) (i32.const 1))
    (i64.store (i32.const 24) (i64.const 3600000000000))
    (drop (call $poll (i32.const 0) (i32.const 64) (i32.const 1) (i32.const 128)))))
