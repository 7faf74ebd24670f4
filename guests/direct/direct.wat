;; direct: a component of our own, no adapter. It asks the WASIp2 host for its preopens
;; (wasi:filesystem/preopens.get-directories) and hands the list straight back out as
;; its own export, so the lab reads exactly what the host gives: every directory's name,
;; in the host's order. The adapter asks the very same function.
;;
;; A component cannot re-export an imported function as it is in wasmtime, so the call
;; goes through a core module: the import is lowered into it and its answer lifted back.
(component
  (import "wasi:filesystem/types@0.2.0" (instance $types (export "descriptor" (type (sub resource)))))
  (alias export $types "descriptor" (type $descriptor))
  (import "wasi:filesystem/preopens@0.2.0" (instance $preopens
    (alias outer 1 $descriptor (type $d))
    (export "get-directories" (func (result (list (tuple (own $d) string)))))))
  (alias export $preopens "get-directories" (func $get))

  ;; Memory and a bump allocator for the lowered list and its strings.
  (core module $heap
    (memory (export "memory") 1)
    (global $next (mut i32) (i32.const 64))
    (func (export "realloc") (param i32 i32) (param $align i32) (param $size i32) (result i32)
      (local $at i32) (local $end i32)
      (local.set $at (i32.and (i32.add (global.get $next) (i32.sub (local.get $align) (i32.const 1)))
                              (i32.sub (i32.const 0) (local.get $align))))
      (local.set $end (i32.add (local.get $at) (local.get $size)))
      (if (i32.gt_u (local.get $end) (i32.shl (memory.size) (i32.const 16)))
        (then (if (i32.eq (memory.grow (i32.add (i32.shr_u (i32.sub (local.get $end)
                                                                    (i32.shl (memory.size) (i32.const 16)))
                                                           (i32.const 16))
                                                (i32.const 1)))
                          (i32.const -1))
          (then unreachable))))
      (global.set $next (local.get $end))
      (local.get $at)))
  (core instance $heap (instantiate $heap))
  (alias core export $heap "memory" (core memory $memory))
  (alias core export $heap "realloc" (core func $realloc))
  (core func $get_lowered (canon lower (func $get) (memory $memory) (realloc $realloc)))

  ;; get-directories: call the host's, leave its (pointer, length) at offset 0, return it.
  (core module $main
    (import "host" "get-directories" (func $get (param i32)))
    (func (export "get-directories") (result i32)
      (call $get (i32.const 0))
      (i32.const 0)))
  (core instance $main (instantiate $main (with "host" (instance (export "get-directories" (func $get_lowered))))))
  (func $lifted (result (list (tuple (own $descriptor) string)))
    (canon lift (core func $main "get-directories") (memory $memory)))
  (export $exported "descriptor" (type $descriptor))
  (export "get-directories" (func $lifted) (func (result (list (tuple (own $exported) string)))))
)
