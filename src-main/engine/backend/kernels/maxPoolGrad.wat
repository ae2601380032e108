;; The gradient of max pooling (MaxPoolGrad; see maxPoolGrad.ts), NHWC, four channels at a time (C a multiple of 4).
;; dy is routed to the *first* maximum of every window in row-major window order (the cpu backend's tie rule:
;; relu outputs tie often): a strict f32x4.gt keeps the earlier element on ties. Addresses are in bytes.
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

;; maxPoolGrad(x, dy, dx, B, H, W, C, OH, OW, FH, FW, SH, SW, pt, pl): any window, stride and padding.
;; dx (zeroed by the caller) += dy[b, oy, ox, c] at the first maximum of window (oy, ox) of x, per channel.
;; Two passes over each window: the first finds the maximum and its index k in the window ($idx, per lane;
;; -1 while only -inf or NaN was seen), the second adds dy to the lanes whose index is the current k.
(func $maxPoolGrad (export "maxPoolGrad")
  (param $x i32) (param $dy i32) (param $dx i32) (param $B i32) (param $H i32) (param $W i32) (param $C i32)
  (param $OH i32) (param $OW i32) (param $FH i32) (param $FW i32) (param $SH i32) (param $SW i32)
  (param $pt i32) (param $pl i32)
  (local $b i32) (local $oy i32) (local $ox i32) (local $c i32) (local $y i32) (local $xx i32)
  (local $yLo i32) (local $yHi i32) (local $xLo i32) (local $xHi i32) (local $k i32)
  (local $rowBytes i32) (local $pixBytes i32) (local $cBytes i32) (local $gp i32) (local $p i32) (local $t i32)
  (local $best v128) (local $idx v128) (local $v v128) (local $g v128) (local $gt v128)
  (local.set $pixBytes (i32.mul (local.get $C) (i32.const 4)))
  (local.set $rowBytes (i32.mul (local.get $W) (local.get $pixBytes)))
  (local.set $gp (local.get $dy))
  (local.set $b (i32.const 0))
  (block $b_end (loop $b_next
    (br_if $b_end (i32.ge_s (local.get $b) (local.get $B)))
    (local.set $oy (i32.const 0))
    (block $oy_end (loop $oy_next
      (br_if $oy_end (i32.ge_s (local.get $oy) (local.get $OH)))
      ;; window rows [yLo, yHi) = [oy·SH − pt, oy·SH − pt + FH) ∩ [0, H)
      (local.set $t (i32.sub (i32.mul (local.get $oy) (local.get $SH)) (local.get $pt)))
      (local.set $yLo (select (local.get $t) (i32.const 0) (i32.gt_s (local.get $t) (i32.const 0))))
      (local.set $t (i32.add (local.get $t) (local.get $FH)))
      (local.set $yHi (select (local.get $t) (local.get $H) (i32.lt_s (local.get $t) (local.get $H))))
      (local.set $ox (i32.const 0))
      (block $ox_end (loop $ox_next
        (br_if $ox_end (i32.ge_s (local.get $ox) (local.get $OW)))
        ;; window columns [xLo, xHi) = [ox·SW − pl, ox·SW − pl + FW) ∩ [0, W)
        (local.set $t (i32.sub (i32.mul (local.get $ox) (local.get $SW)) (local.get $pl)))
        (local.set $xLo (select (local.get $t) (i32.const 0) (i32.gt_s (local.get $t) (i32.const 0))))
        (local.set $t (i32.add (local.get $t) (local.get $FW)))
        (local.set $xHi (select (local.get $t) (local.get $W) (i32.lt_s (local.get $t) (local.get $W))))
        (local.set $cBytes (i32.mul (local.get $C) (i32.const 4)))
        ;; $c: byte offset of the 4 channels done now
        (local.set $c (i32.const 0))
        (block $c_end (loop $c_next
          (br_if $c_end (i32.ge_s (local.get $c) (local.get $cBytes)))
          ;; pass 1: best value and its index k in the window, per lane
          (local.set $best (v128.const f32x4 -inf -inf -inf -inf))
          (local.set $idx (i32x4.splat (i32.const -1)))
          (local.set $k (i32.const 0))
          (local.set $y (local.get $yLo))
          (block $y_end (loop $y_next
            (br_if $y_end (i32.ge_s (local.get $y) (local.get $yHi)))
            (local.set $xx (local.get $xLo))
            (block $xx_end (loop $xx_next
              (br_if $xx_end (i32.ge_s (local.get $xx) (local.get $xHi)))
              ;; v = x[b, y, xx, c .. c+4)
              (local.set $v (v128.load align=4 (i32.add (local.get $x)
                (i32.add (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $H)) (local.get $y)) (local.get $rowBytes))
                                  (i32.mul (local.get $xx) (local.get $pixBytes)))
                         (local.get $c)))))
              (local.set $gt (f32x4.gt (local.get $v) (local.get $best)))
              (local.set $best (v128.bitselect (local.get $v) (local.get $best) (local.get $gt)))
              (local.set $idx (v128.bitselect (i32x4.splat (local.get $k)) (local.get $idx) (local.get $gt)))
              (local.set $k (i32.add (local.get $k) (i32.const 1)))
              (local.set $xx (i32.add (local.get $xx) (i32.const 1)))
              (br $xx_next)))
            (local.set $y (i32.add (local.get $y) (i32.const 1)))
            (br $y_next)))
          ;; pass 2: dx[b, y, xx, c .. c+4) += dy in the lanes whose maximum is the k-th element of the window
          (local.set $g (v128.load align=4 (local.get $gp)))
          (local.set $k (i32.const 0))
          (local.set $y (local.get $yLo))
          (block $y_end (loop $y_next
            (br_if $y_end (i32.ge_s (local.get $y) (local.get $yHi)))
            (local.set $xx (local.get $xLo))
            (block $xx_end (loop $xx_next
              (br_if $xx_end (i32.ge_s (local.get $xx) (local.get $xHi)))
              (local.set $p (i32.add (local.get $dx)
                (i32.add (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $H)) (local.get $y)) (local.get $rowBytes))
                                  (i32.mul (local.get $xx) (local.get $pixBytes)))
                         (local.get $c))))
              (v128.store align=4 (local.get $p)
                (f32x4.add (v128.load align=4 (local.get $p))
                           (v128.and (local.get $g) (i32x4.eq (local.get $idx) (i32x4.splat (local.get $k))))))
              (local.set $k (i32.add (local.get $k) (i32.const 1)))
              (local.set $xx (i32.add (local.get $xx) (i32.const 1)))
              (br $xx_next)))
            (local.set $y (i32.add (local.get $y) (i32.const 1)))
            (br $y_next)))
          (local.set $gp (i32.add (local.get $gp) (i32.const 16)))
          (local.set $c (i32.add (local.get $c) (i32.const 16)))
          (br $c_next)))
        (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
        (br $ox_next)))
      (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
      (br $oy_next)))
    (local.set $b (i32.add (local.get $b) (i32.const 1)))
    (br $b_next))))

;; maxPool2x2Grad(x, dy, dx, B, OH, OW, C): the common 2×2, stride 2, unpadded pooling whose windows tile the
;; input exactly (H = 2·OH, W = 2·OW). Every dx element is written once (no zeroing, no accumulation): dy in
;; the lanes where that element is the window's first maximum, 0 elsewhere.
(func $maxPool2x2Grad (export "maxPool2x2Grad")
  (param $x i32) (param $dy i32) (param $dx i32) (param $B i32) (param $OH i32) (param $OW i32) (param $C i32)
  (local $row i32) (local $ox i32) (local $c i32)
  (local $pixBytes i32) (local $rowBytes i32) (local $rows i32) (local $xp i32) (local $gp i32)
  (local $delta i32) (local $p i32) (local $q i32)
  (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $best v128) (local $g v128)
  (local $g0 v128) (local $g1 v128) (local $g2 v128) (local $g3 v128) (local $any v128)
  (local.set $pixBytes (i32.mul (local.get $C) (i32.const 4)))
  ;; one input row: W·C·4 bytes
  (local.set $rowBytes (i32.mul (i32.mul (local.get $OW) (i32.const 2)) (local.get $pixBytes)))
  ;; rows of windows: (b, oy) pairs
  (local.set $rows (i32.mul (local.get $B) (local.get $OH)))
  ;; dx address = x address + delta
  (local.set $delta (i32.sub (local.get $dx) (local.get $x)))
  (local.set $xp (local.get $x))
  (local.set $gp (local.get $dy))
  (local.set $row (i32.const 0))
  (block $row_end (loop $row_next
    (br_if $row_end (i32.ge_s (local.get $row) (local.get $rows)))
    ;; $xp: top-left pixel of window (row, ox)
    (local.set $ox (i32.const 0))
    (block $ox_end (loop $ox_next
      (br_if $ox_end (i32.ge_s (local.get $ox) (local.get $OW)))
      (local.set $p (local.get $xp))
      (local.set $c (i32.const 0))
      (block $c_end (loop $c_next
        (br_if $c_end (i32.ge_s (local.get $c) (local.get $pixBytes)))
        (local.set $q (local.get $p))
        ;; the window, in row-major order: a0 a1 / a2 a3
        (local.set $a0 (v128.load align=4 (local.get $q)))
        (local.set $a1 (v128.load align=4 (i32.add (local.get $q) (local.get $pixBytes))))
        (local.set $a2 (v128.load align=4 (i32.add (local.get $q) (local.get $rowBytes))))
        (local.set $a3 (v128.load align=4 (i32.add (i32.add (local.get $q) (local.get $rowBytes)) (local.get $pixBytes))))
        ;; gi: ai is a new strict maximum (the running maximum starts at -inf)
        (local.set $g0 (f32x4.gt (local.get $a0) (v128.const f32x4 -inf -inf -inf -inf)))
        (local.set $best (v128.bitselect (local.get $a0) (v128.const f32x4 -inf -inf -inf -inf) (local.get $g0)))
        (local.set $g1 (f32x4.gt (local.get $a1) (local.get $best)))
        (local.set $best (v128.bitselect (local.get $a1) (local.get $best) (local.get $g1)))
        (local.set $g2 (f32x4.gt (local.get $a2) (local.get $best)))
        (local.set $best (v128.bitselect (local.get $a2) (local.get $best) (local.get $g2)))
        (local.set $g3 (f32x4.gt (local.get $a3) (local.get $best)))
        (local.set $g (v128.load align=4 (local.get $gp)))
        ;; the winner: 3 if g3; 2 if g2 & !g3; 1 if g1 & !(g2|g3); 0 if g0 & !(g1|g2|g3)
        (v128.store align=4 (i32.add (i32.add (i32.add (local.get $q) (local.get $delta)) (local.get $rowBytes)) (local.get $pixBytes))
          (v128.and (local.get $g) (local.get $g3)))
        (local.set $any (local.get $g3))
        (v128.store align=4 (i32.add (i32.add (local.get $q) (local.get $delta)) (local.get $rowBytes))
          (v128.and (local.get $g) (v128.andnot (local.get $g2) (local.get $any))))
        (local.set $any (v128.or (local.get $any) (local.get $g2)))
        (v128.store align=4 (i32.add (i32.add (local.get $q) (local.get $delta)) (local.get $pixBytes))
          (v128.and (local.get $g) (v128.andnot (local.get $g1) (local.get $any))))
        (local.set $any (v128.or (local.get $any) (local.get $g1)))
        (v128.store align=4 (i32.add (local.get $q) (local.get $delta))
          (v128.and (local.get $g) (v128.andnot (local.get $g0) (local.get $any))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (local.set $gp (i32.add (local.get $gp) (i32.const 16)))
        (local.set $c (i32.add (local.get $c) (i32.const 16)))
        (br $c_next)))
      ;; next window: two pixels to the right
      (local.set $xp (i32.add (local.get $xp) (i32.mul (local.get $pixBytes) (i32.const 2))))
      (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
      (br $ox_next)))
    ;; skip the second input row of the windows just done
    (local.set $xp (i32.add (local.get $xp) (local.get $rowBytes)))
    (local.set $row (i32.add (local.get $row) (i32.const 1)))
    (br $row_next))))
