;; Row sums for Sum over all leading axes (bias gradients; see sum.ts). Addresses are in bytes.
;;
;; Module fields: scripts/build-wasm-kernels.mjs places them after the memory import (env.memory).
;; Loops: `for (i = FROM; i < END; i += STEP) BODY` is always written
;;   (local.set $i FROM)
;;   (block $i_end (loop $i_next
;;     (br_if $i_end (i32.ge_s (local.get $i) END))
;;     BODY
;;     (local.set $i (i32.add (local.get $i) (i32.const STEP)))
;;     (br $i_next)))
;; Tensors are only 4-byte aligned, so every v128 access says align=4.

;; sumRows(x, out, R, C): out[0 .. C) = Σ_{r < R} x[r, 0 .. C) in float32, C a multiple of 4. The caller sums
;; blocks of rows and adds the blocks up in float64.
(func $sumRows (export "sumRows")
  (param $x i32) (param $out i32) (param $R i32) (param $C i32)
  (local $r i32) (local $c i32) (local $cBytes i32) (local $xp i32) (local $op i32)
  (local.set $cBytes (i32.mul (local.get $C) (i32.const 4)))
  (local.set $c (i32.const 0))
  (block $c_end (loop $c_next
    (br_if $c_end (i32.ge_s (local.get $c) (local.get $cBytes)))
    (v128.store align=4 (i32.add (local.get $out) (local.get $c)) (v128.const i32x4 0 0 0 0))
    (local.set $c (i32.add (local.get $c) (i32.const 16)))
    (br $c_next)))
  (local.set $xp (local.get $x))
  (local.set $r (i32.const 0))
  (block $r_end (loop $r_next
    (br_if $r_end (i32.ge_s (local.get $r) (local.get $R)))
    (local.set $op (local.get $out))
    (local.set $c (i32.const 0))
    (block $c_end (loop $c_next
      (br_if $c_end (i32.ge_s (local.get $c) (local.get $cBytes)))
      ;; out[op .. op+16) += x[xp .. xp+16)
      (v128.store align=4 (local.get $op) (f32x4.add (v128.load align=4 (local.get $op)) (v128.load align=4 (local.get $xp))))
      (local.set $op (i32.add (local.get $op) (i32.const 16)))
      (local.set $xp (i32.add (local.get $xp) (i32.const 16)))
      (local.set $c (i32.add (local.get $c) (i32.const 16)))
      (br $c_next)))
    (local.set $r (i32.add (local.get $r) (i32.const 1)))
    (br $r_next))))
