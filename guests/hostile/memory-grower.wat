;; Asks for 4 GiB of linear memory, 64 MiB at a time, filling each new part so that it
;; is really used. At the lab's 1 GiB limit memory.grow answers -1, and the guest
;; exits with status 1 to say it was refused.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start") (local $old i32)
    (loop $again
      (local.set $old (memory.grow (i32.const 1024)))
      (if (i32.eq (local.get $old) (i32.const -1)) (then (call $exit (i32.const 1))))
      (memory.fill (i32.mul (local.get $old) (i32.const 65536)) (i32.const 1) (i32.const 67108864))
      (br_if $again (i32.lt_u (local.get $old) (i32.const 65535))))))
