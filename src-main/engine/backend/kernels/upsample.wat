;; Nearest-neighbour up-sampling by integer factors (UpSampling2D: ResizeNearestNeighbor) and its gradient
;; (ResizeNearestNeighborGrad; see resize.ts), NHWC, C a multiple of 4. Addresses are in bytes.
;;
;; Both walk the same loop nest: every pixel (b, y, x) of the small image [B, H, W, C], each of its fy×fx
;; copies in the large image [B, H·fy, W·fx, C], 4 channels at a time. The large image is walked in memory
;; order ($s); $p is at the small pixel's channels, which restart for every copy.
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

;; upGrad(dy, dx, B, H, W, C, fy, fx): dx[b, y, x, :] (zeroed by the caller) += the sum of the fy×fx block of
;; dy that was copied from it.
(func $upGrad (export "upGrad")
  (param $dy i32) (param $dx i32) (param $B i32) (param $H i32) (param $W i32) (param $C i32) (param $fy i32) (param $fx i32)
  (local $b i32) (local $y i32) (local $a i32) (local $x i32) (local $e i32) (local $c i32)
  (local $s i32) (local $rowStart i32) (local $px i32) (local $p i32) (local $cBytes i32)
  (local.set $cBytes (i32.mul (local.get $C) (i32.const 4)))
  (local.set $s (local.get $dy))
  (local.set $rowStart (local.get $dx))
  (local.set $b (i32.const 0))
  (block $b_end (loop $b_next
    (br_if $b_end (i32.ge_s (local.get $b) (local.get $B)))
    (local.set $y (i32.const 0))
    (block $y_end (loop $y_next
      (br_if $y_end (i32.ge_s (local.get $y) (local.get $H)))
      ;; $a: the copies of small row y
      (local.set $a (i32.const 0))
      (block $a_end (loop $a_next
        (br_if $a_end (i32.ge_s (local.get $a) (local.get $fy)))
        (local.set $px (local.get $rowStart))
        (local.set $x (i32.const 0))
        (block $x_end (loop $x_next
          (br_if $x_end (i32.ge_s (local.get $x) (local.get $W)))
          ;; $e: the copies of small pixel x in that row
          (local.set $e (i32.const 0))
          (block $e_end (loop $e_next
            (br_if $e_end (i32.ge_s (local.get $e) (local.get $fx)))
            (local.set $p (local.get $px))
            (local.set $c (i32.const 0))
            (block $c_end (loop $c_next
              (br_if $c_end (i32.ge_s (local.get $c) (local.get $cBytes)))
              ;; dx[p .. p+16) += dy[s .. s+16)
              (v128.store align=4 (local.get $p) (f32x4.add (v128.load align=4 (local.get $p)) (v128.load align=4 (local.get $s))))
              (local.set $p (i32.add (local.get $p) (i32.const 16)))
              (local.set $s (i32.add (local.get $s) (i32.const 16)))
              (local.set $c (i32.add (local.get $c) (i32.const 16)))
              (br $c_next)))
            (local.set $e (i32.add (local.get $e) (i32.const 1)))
            (br $e_next)))
          (local.set $px (i32.add (local.get $px) (local.get $cBytes)))
          (local.set $x (i32.add (local.get $x) (i32.const 1)))
          (br $x_next)))
        (local.set $a (i32.add (local.get $a) (i32.const 1)))
        (br $a_next)))
      (local.set $rowStart (i32.add (local.get $rowStart) (i32.mul (local.get $W) (local.get $cBytes))))
      (local.set $y (i32.add (local.get $y) (i32.const 1)))
      (br $y_next)))
    (local.set $b (i32.add (local.get $b) (i32.const 1)))
    (br $b_next))))

;; upFwd(x, out, B, H, W, C, fy, fx): out[b, y, x, :] = x[b, ⌊y/fy⌋, ⌊x/fx⌋, :].
(func $upFwd (export "upFwd")
  (param $x i32) (param $out i32) (param $B i32) (param $H i32) (param $W i32) (param $C i32) (param $fy i32) (param $fx i32)
  (local $b i32) (local $y i32) (local $a i32) (local $xx i32) (local $e i32) (local $c i32)
  (local $s i32) (local $rowStart i32) (local $px i32) (local $p i32) (local $cBytes i32)
  (local.set $cBytes (i32.mul (local.get $C) (i32.const 4)))
  (local.set $s (local.get $out))
  (local.set $rowStart (local.get $x))
  (local.set $b (i32.const 0))
  (block $b_end (loop $b_next
    (br_if $b_end (i32.ge_s (local.get $b) (local.get $B)))
    (local.set $y (i32.const 0))
    (block $y_end (loop $y_next
      (br_if $y_end (i32.ge_s (local.get $y) (local.get $H)))
      ;; $a: the copies of small row y
      (local.set $a (i32.const 0))
      (block $a_end (loop $a_next
        (br_if $a_end (i32.ge_s (local.get $a) (local.get $fy)))
        (local.set $px (local.get $rowStart))
        (local.set $xx (i32.const 0))
        (block $xx_end (loop $xx_next
          (br_if $xx_end (i32.ge_s (local.get $xx) (local.get $W)))
          ;; $e: the copies of small pixel xx in that row
          (local.set $e (i32.const 0))
          (block $e_end (loop $e_next
            (br_if $e_end (i32.ge_s (local.get $e) (local.get $fx)))
            (local.set $p (local.get $px))
            (local.set $c (i32.const 0))
            (block $c_end (loop $c_next
              (br_if $c_end (i32.ge_s (local.get $c) (local.get $cBytes)))
              ;; out[s .. s+16) = x[p .. p+16)
              (v128.store align=4 (local.get $s) (v128.load align=4 (local.get $p)))
              (local.set $p (i32.add (local.get $p) (i32.const 16)))
              (local.set $s (i32.add (local.get $s) (i32.const 16)))
              (local.set $c (i32.add (local.get $c) (i32.const 16)))
              (br $c_next)))
            (local.set $e (i32.add (local.get $e) (i32.const 1)))
            (br $e_next)))
          (local.set $px (i32.add (local.get $px) (local.get $cBytes)))
          (local.set $xx (i32.add (local.get $xx) (i32.const 1)))
          (br $xx_next)))
        (local.set $a (i32.add (local.get $a) (i32.const 1)))
        (br $a_next)))
      (local.set $rowStart (i32.add (local.get $rowStart) (i32.mul (local.get $W) (local.get $cBytes))))
      (local.set $y (i32.add (local.get $y) (i32.const 1)))
      (br $y_next)))
    (local.set $b (i32.add (local.get $b) (i32.const 1)))
    (br $b_next))))
